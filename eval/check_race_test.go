package eval

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// TestChecksConcurrentUse protects the runner's use of compiled checks from
// many goroutines at once: every check type is safe for concurrent Eval
// (run with -race) and gives the same outcome each time.
func TestChecksConcurrentUse(t *testing.T) {
	srcs := []string{
		"equals: x", "contains: [a, b]", "icontains: A", "notContains: z", "startsWith: a", "endsWith: b",
		"regex: {pattern: 'A', flags: i}", "notRegex: z", "length: {max: 100}", "wordCount: {min: 1}",
		"json: {fenced: true}", "jsonSchema: {type: object}", "jsonPath: {path: '$.a', equals: 1}",
		"finishReason: stop", "maxLatency: 1s", "maxTTFT: 1s", "maxTTFO: 1s", "maxCost: 1",
		"maxThinkingTokens: 10", "minThinkingTokens: 1", "maxOutputTokens: 10",
		"toolCall: {name: f, argumentsSchema: {required: [q]}}", "trajectory: {calls: [f], ordered: false}", "steps: {max: 2}",
		"expr: len(text) > 0 && usage.thinking > 0",
		"judge: r", "not: {contains: z}", "anyOf: [{contains: z}, {contains: a}]", "allOf: [{contains: a}]",
	}
	if len(srcs) != len(CheckTypes()) {
		t.Fatalf("%d sources for %d check types: add the new type here", len(srcs), len(CheckTypes()))
	}
	s := Sample{Text: "```json\n{\"a\": 1}\n```\nab", FinishReason: "stop", Usage: &Usage{Prompt: 1, Completion: 5, Thinking: 2},
		Cost: ptrF(0.1), Latency: ptrDur(time.Millisecond), TTFT: ptrDur(time.Millisecond), TTFO: ptrDur(time.Millisecond),
		ToolCalls: []ToolCall{{Name: "f", Arguments: json.RawMessage(`{"q": 1}`)}}}
	ctx := WithJudge(context.Background(), &syncJudge{})
	checks := make([]Check, len(srcs))
	want := make([]Outcome, len(srcs))
	for i, src := range srcs {
		checks[i] = compile(t, src)
		want[i] = checks[i].Eval(ctx, s)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i, c := range checks {
				if got := c.Eval(ctx, s); got != want[i] {
					t.Errorf("%s: concurrent outcome %+v, want %+v", srcs[i], got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

// syncJudge is a fixed judge safe for concurrent use.
type syncJudge struct{}

func (syncJudge) Judge(context.Context, JudgeRequest) (JudgeVerdict, error) {
	return JudgeVerdict{Score: 1, Reason: "ok"}, nil
}
