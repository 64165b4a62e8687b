package eval

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestExprCheck protects expr checks: every documented variable is visible
// with the documented type and unit, missing measurements are nil and fail
// with a reason, and a false result names the expression.
func TestExprCheck(t *testing.T) {
	full := Sample{
		Text:         "Paris is the capital.",
		Reasoning:    "The user asks about France.",
		FinishReason: "stop",
		Usage:        &Usage{Prompt: 10, Completion: 50, Thinking: 30},
		Cost:         ptrF(0.002),
		Latency:      ptrDur(1500 * time.Millisecond),
		TTFT:         ptrDur(250 * time.Millisecond),
		TTFO:         ptrDur(time.Second),
		Vars:         map[string]any{"country": "France", "n": 3},
		ToolCalls:    []ToolCall{{ID: "c1", Name: "lookup", Arguments: json.RawMessage(`{"q": "Paris"}`)}},
	}
	rows := []checkRow{
		// Text and vars together.
		{name: "text and vars", check: `expr: text contains "Paris" && vars.country == "France"`, sample: full, pass: true},
		// Usage fields, including output = completion - thinking.
		{name: "usage", check: "expr: usage.thinking == 30 && usage.output == 20 && usage.prompt == 10 && usage.completion == 50", sample: full, pass: true},
		// Latency, ttft and ttfo are seconds as floats; cost is USD.
		{name: "timings and cost", check: "expr: latency == 1.5 && ttft == 0.25 && ttfo == 1.0 && cost < 0.01", sample: full, pass: true},
		// Reasoning, finishReason and tool calls with decoded arguments.
		{name: "reasoning and tools", check: `expr: reasoning startsWith "The" && finishReason == "stop" && toolCalls[0].arguments.q == "Paris" && len(toolCalls) == 1`, sample: full, pass: true},
		// Builtins are available.
		{name: "builtins", check: `expr: len(split(text, " ")) == 4 && upper(vars.country) == "FRANCE"`, sample: full, pass: true},
		// A false expression names itself.
		{name: "false", check: "expr: len(text) < 5", sample: full,
			reason: "expected the expression to be true; it was false: len(text) < 5"},
		// A missing measurement is nil, and using it fails with a reason.
		{name: "missing measurement", check: "expr: ttft < 1", sample: Sample{Text: "x"},
			reason: "expression failed: invalid operation: <nil> < int (nil for this sample: usage, cost, latency, ttft, ttfo)"},
		// Nil can be tested for explicitly.
		{name: "nil test", check: "expr: ttft == nil || ttft < 1", sample: Sample{Text: "x"}, pass: true},
	}
	runRows(t, context.Background(), rows)
}
