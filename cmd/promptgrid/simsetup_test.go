package main

import (
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/eval"
)

// TestSimScenariosMessages: a bad sim: entry is reported in the suite's
// terms (entry number and name, field path, what it should be, what it is),
// never with encoding/json's Go type names, and every bad entry is
// reported, not only the first; a good entry converts.
func TestSimScenariosMessages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		entry map[string]any
		want  string // "" = converts
	}{
		// The documented shape converts.
		{"valid", map[string]any{"name": "ok", "match": map[string]any{"contains": "x"}, "answer": "y",
			"pCorrect": map[string]any{"none": 0.5}, "ttft": map[string]any{"high": map[string]any{"mean": int64(250)}}}, ""},
		// A number where a mapping per thinking level goes.
		{"pCorrect number", map[string]any{"pCorrect": int64(1)},
			"sim entry 1: pCorrect must be a mapping from thinking level to a probability, e.g. {none: 0.6, high: 0.95}; got a number (1)"},
		// A string inside a map value: the path names the level.
		{"pCorrect string", map[string]any{"name": "n", "pCorrect": map[string]any{"low": "often"}},
			"sim entry 1 (n): pCorrect.low must be a probability between 0 and 1; got a string (often)"},
		// A nested misspelt key, which the JSON decoder would silently drop.
		{"match key", map[string]any{"match": map[string]any{"contain": "x"}},
			`sim entry 1: unknown key "match.contain" (want one of exact, regex, contains, image)`},
		// A key in another case, which the JSON decoder would silently accept.
		{"case", map[string]any{"Answer": "x"}, `sim entry 1: unknown key "Answer" (did you mean "answer"?)`},
		// The simulator's own checks, relabelled with the entry.
		{"bad regex", map[string]any{"name": "r", "match": map[string]any{"regex": "("}}, "sim entry 1 (r): match.regex: error parsing regexp"},
		{"unknown level", map[string]any{"pCorrect": map[string]any{"extreme": 1.0}}, `sim entry 1: pCorrect: unknown thinking level "extreme"`},
		// A list element of the wrong type.
		{"wrong list", map[string]any{"wrong": []any{int64(3)}}, "sim entry 1: wrong must be a list of strings (wrong answers), e.g. [Lyon]; got a list holding a number"},
	} {
		checkSimEntry(t, tc.name, tc.entry, tc.want)
	}
	// Two bad entries: both reported, numbered.
	_, err := simScenarios(&eval.Suite{Path: "s.yaml", Sim: []map[string]any{{"answer": "ok"}, {"wrong": "x"}, {"pCorrect": "y"}}})
	if err == nil || !strings.Contains(err.Error(), "s.yaml: 2 problems in sim:") || !strings.Contains(err.Error(), "sim entry 2: wrong") || !strings.Contains(err.Error(), "sim entry 3: pCorrect") {
		t.Errorf("two bad entries: %v", err)
	}
}

// checkSimEntry loads one sim entry and checks that it is accepted (want
// empty) or refused with an error containing want, never naming Go types.
func checkSimEntry(t *testing.T, name string, entry map[string]any, want string) {
	t.Helper()
	_, err := simScenarios(&eval.Suite{Path: "s.yaml", Sim: []map[string]any{entry}})
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v", name, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("%s: error %v\nwant it to contain %q", name, err, want)
	case err != nil && strings.Contains(err.Error(), "Go struct"):
		t.Errorf("%s: Go internals in %v", name, err)
	}
}
