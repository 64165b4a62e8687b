package main

import (
	"testing"
)

// The keys of steps, wrong, search and codeInterpreter are known; errors
// in them name their path with list indexes in brackets.
func TestSimScenariosStepsAndBuiltins(t *testing.T) {
	call := func(name string) map[string]any {
		return map[string]any{"name": name, "arguments": map[string]any{"anyKey": map[string]any{"deep": int64(1)}}}
	}
	for _, tc := range []struct {
		name  string
		entry map[string]any
		want  string // "" = converts
	}{
		{"valid", map[string]any{"match": map[string]any{"contains": "x"}, "answer": "y",
			"steps": []any{
				map[string]any{"toolCall": call("lookup"), "pCorrect": map[string]any{"none": 0.2}, "wrong": map[string]any{"answer": "no"}},
				map[string]any{"toolCalls": []any{call("a"), call("b")}, "wrong": map[string]any{"toolCalls": []any{call("a")}}},
				map[string]any{"answer": "{results}"},
			},
			"search":          map[string]any{"query": "q", "result": "r", "pCorrect": map[string]any{"high": 1.0}, "latency": map[string]any{"mean": int64(300)}},
			"codeInterpreter": map[string]any{"code": "c", "output": "o", "latency": map[string]any{"mean": int64(200), "sd": int64(20)}}}, ""},
		{"step key", map[string]any{"steps": []any{map[string]any{"answer": "a"}, map[string]any{"tolCall": call("f")}}},
			`sim entry 1: unknown key "steps[1].tolCall" (want one of toolCall, toolCalls, answer, pCorrect, wrong)`},
		{"step case", map[string]any{"steps": []any{map[string]any{"ToolCalls": []any{}}}}, `unknown key "steps[0].ToolCalls" (did you mean "toolCalls"?)`},
		{"parallel call key", map[string]any{"steps": []any{map[string]any{"toolCalls": []any{call("f"), map[string]any{"nam": "g"}}}}},
			`unknown key "steps[0].toolCalls[1].nam" (want one of name, arguments)`},
		{"wrong key", map[string]any{"steps": []any{map[string]any{"answer": "a", "wrong": map[string]any{"text": "b"}}}},
			`unknown key "steps[0].wrong.text" (want one of toolCall, toolCalls, answer)`},
		{"search key", map[string]any{"search": map[string]any{"results": "r"}}, `unknown key "search.results" (want one of query, result, pCorrect, latency)`},
		{"code latency key", map[string]any{"codeInterpreter": map[string]any{"latency": map[string]any{"avg": int64(1)}}}, `unknown key "codeInterpreter.latency.avg" (want one of mean, sd)`},
		{"step answer type", map[string]any{"steps": []any{map[string]any{"answer": "a"}, map[string]any{"answer": int64(3)}}},
			"sim entry 1: steps[1].answer must be a string: the final answer at this step, {result} and {results} standing for tool results; got a number (3)"},
		{"step pCorrect type", map[string]any{"steps": []any{map[string]any{"answer": "a", "pCorrect": map[string]any{"low": "often"}}}},
			"steps[0].pCorrect.low must be a probability between 0 and 1; got a string (often)"},
		{"call name type", map[string]any{"steps": []any{map[string]any{"toolCalls": []any{map[string]any{"name": int64(1)}}}}},
			"steps[0].toolCalls[0].name must be a string; got a number (1)"},
		{"steps not a list", map[string]any{"steps": "x"}, "steps must be a list of steps"},
		{"step not a mapping", map[string]any{"steps": []any{"x"}}, "steps must be a list of steps"},
		{"search latency type", map[string]any{"search": map[string]any{"latency": int64(400)}}, "search.latency must be {mean, sd} in milliseconds"},
		{"no action", map[string]any{"steps": []any{map[string]any{"pCorrect": map[string]any{"none": 0.5}}}}, "sim entry 1: steps[0] needs exactly one of toolCall"},
		{"bad call name", map[string]any{"steps": []any{map[string]any{"toolCalls": []any{call("ok"), call("bad name")}}}}, `sim entry 1: steps[0].toolCalls[1].name "bad name" is not a valid tool name`},
		{"step probability", map[string]any{"steps": []any{map[string]any{"answer": "a", "pCorrect": map[string]any{"none": 2.0}}}}, "sim entry 1: steps[0].pCorrect[none] = 2 is not a probability"},
		{"search level", map[string]any{"search": map[string]any{"pCorrect": map[string]any{"max": 1.0}}}, `sim entry 1: search.pCorrect: unknown thinking level "max"`},
	} {
		checkSimEntry(t, tc.name, tc.entry, tc.want)
	}
}

// simCheckProblem maps a message's path to the dotted form SimPos.At takes.
func TestSimCheckProblemPaths(t *testing.T) {
	for msg, want := range map[string]string{
		"scenario 1: pCorrect[none] = 2 is not a probability":          "pCorrect.none",
		"scenario 1: match.regex: error parsing regexp":                "match.regex",
		`scenario 1: steps[1].toolCalls[0].name "x y" is not valid`:    "steps.1.toolCalls.0.name",
		"scenario 1: steps[0].pCorrect[high] = 2 is not a probability": "steps.0.pCorrect.high",
		"scenario 1: toolCall and steps exclude each other":            "toolCall",
	} {
		if got, _ := simCheckProblem(errString(msg), ""); got != want {
			t.Errorf("%q: path %q, want %q", msg, got, want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
