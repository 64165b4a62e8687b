package eval

import (
	"context"
	"testing"
	"time"
)

// TestMetadataChecks protects the response-metadata checks, including the
// reasons given when a measurement is missing.
func TestMetadataChecks(t *testing.T) {
	usage := &Usage{Prompt: 20, Completion: 500, Thinking: 420}
	rows := []checkRow{
		// finishReason: one reason or a set.
		{name: "finishReason pass", check: "finishReason: stop", sample: Sample{FinishReason: "stop"}, pass: true},
		{name: "finishReason set pass", check: "finishReason: [stop, tool_calls]", sample: Sample{FinishReason: "tool_calls"}, pass: true},
		{name: "finishReason fail", check: "finishReason: stop", sample: Sample{FinishReason: "length"},
			reason: `expected finishReason in ["stop"]; got "length"`},
		{name: "finishReason missing", check: "finishReason: [stop]", sample: Sample{},
			reason: `expected finishReason in ["stop"]; the API reported none`},

		// maxLatency: end-to-end latency.
		{name: "maxLatency pass", check: "maxLatency: 10s", sample: Sample{Latency: ptrDur(10 * time.Second)}, pass: true},
		{name: "maxLatency fail", check: "maxLatency: 500ms", sample: Sample{Latency: ptrDur(1234567 * time.Microsecond)},
			reason: "expected latency at most 500ms; got 1.235s"},
		{name: "maxLatency missing", check: "maxLatency: 10s", sample: Sample{},
			reason: "latency was not measured"},
		// maxTTFT needs streaming.
		{name: "maxTTFT pass", check: "maxTTFT: 1s", sample: Sample{TTFT: ptrDur(300 * time.Millisecond)}, pass: true},
		{name: "maxTTFT fail", check: "maxTTFT: 1s", sample: Sample{TTFT: ptrDur(1500 * time.Millisecond)},
			reason: "expected TTFT at most 1s; got 1.5s"},
		{name: "maxTTFT missing", check: "maxTTFT: 1s", sample: Sample{Latency: ptrDur(time.Second)},
			reason: "TTFT was not measured: it needs deliveryMethod: stream"},
		// maxTTFO: first visible text.
		{name: "maxTTFO pass", check: "maxTTFO: 2s", sample: Sample{TTFO: ptrDur(2 * time.Second)}, pass: true},
		{name: "maxTTFO fail", check: "maxTTFO: 2s", sample: Sample{TTFO: ptrDur(2001 * time.Millisecond)},
			reason: "expected TTFO at most 2s; got 2.001s"},
		{name: "maxTTFO missing", check: "maxTTFO: 2s", sample: Sample{},
			reason: "TTFO was not measured: it needs deliveryMethod: stream and a response with visible text"},

		// maxCost in USD.
		{name: "maxCost pass", check: "maxCost: 0.01", sample: Sample{Cost: ptrF(0.0042)}, pass: true},
		{name: "maxCost fail", check: "maxCost: 0.001", sample: Sample{Cost: ptrF(0.0042)},
			reason: "expected cost at most $0.001; got $0.0042"},
		{name: "maxCost missing", check: "maxCost: 0.001", sample: Sample{},
			reason: "cost was not reported: set includeCost: true or give the suite a pricing table"},

		// Thinking tokens, both bounds.
		{name: "maxThinkingTokens pass", check: "maxThinkingTokens: 420", sample: Sample{Usage: usage}, pass: true},
		{name: "maxThinkingTokens fail", check: "maxThinkingTokens: 400", sample: Sample{Usage: usage},
			reason: "expected at most 400 thinking tokens; got 420"},
		{name: "minThinkingTokens pass", check: "minThinkingTokens: 1", sample: Sample{Usage: usage}, pass: true},
		{name: "minThinkingTokens fail", check: "minThinkingTokens: 1000", sample: Sample{Usage: usage},
			reason: "expected at least 1000 thinking tokens; got 420"},
		{name: "thinking usage missing", check: "minThinkingTokens: 1", sample: Sample{},
			reason: "token usage was not reported: set includeUsage: true"},
		// maxOutputTokens counts visible tokens: completion minus thinking (500 - 420 = 80).
		{name: "maxOutputTokens pass", check: "maxOutputTokens: 80", sample: Sample{Usage: usage}, pass: true},
		{name: "maxOutputTokens fail", check: "maxOutputTokens: 79", sample: Sample{Usage: usage},
			reason: "expected at most 79 visible output tokens; got 80"},
	}
	runRows(t, context.Background(), rows)
}
