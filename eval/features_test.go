package eval

import (
	"strings"
	"testing"
	"time"
)

// TestIncludeDefaults checks that an included file gives defaults that the
// suite overrides key by key, with nested request mappings merged.
func TestIncludeDefaults(t *testing.T) {
	p := writeSuite(t, `name: n
include: shared/defaults.yaml
request: {settings: {temperature: 0.5}}
cases: [{id: a, prompt: hi}]
`, "shared/defaults.yaml", "model: moonshotai:kimi@k2.6\nrequest:\n  includeCost: true\n  settings: {maxTokens: 64, temperature: 1}\nlimits: {rate: 3, timeout: 30s}\n")
	s := mustLoad(t, p)
	st := s.Request["settings"].(map[string]any)
	if s.Model != DefaultModel || s.Request["includeCost"] != true || st["maxTokens"] != int64(64) || st["temperature"] != 0.5 {
		t.Errorf("model %q request %v", s.Model, s.Request)
	}
	if s.Limits.Rate != 3 || s.Limits.Timeout != 30*time.Second {
		t.Errorf("limits %+v", s.Limits)
	}
}

// TestFilter checks selection by id, tag and glob, and that a filter that
// selects nothing is an error.
func TestFilter(t *testing.T) {
	src := "name: n\nmodel: m\ncases:\n  - {id: cap-fr, tags: [geo], prompt: a}\n  - {id: cap-de, tags: [geo], prompt: b}\n  - {id: math, tags: [arith], prompt: c}\n"
	tests := []struct {
		expr string
		want string // kept ids, or "error"
	}{
		{"", "cap-fr cap-de math"},       // empty keeps all
		{"math", "math"},                 // by id
		{"geo", "cap-fr cap-de"},         // by tag
		{"cap-*", "cap-fr cap-de"},       // glob over ids
		{"arith, cap-fr", "cap-fr math"}, // comma-separated union, in suite order
		{"nothing", "error"},             // selects nothing
	}
	for _, tt := range tests {
		s := mustLoad(t, writeSuite(t, src))
		err := Filter(s, tt.expr)
		var got string
		if err != nil {
			got = "error"
		} else {
			var ids []string
			for _, c := range s.Cases {
				ids = append(ids, c.ID)
			}
			got = strings.Join(ids, " ")
		}
		if got != tt.want {
			t.Errorf("Filter(%q) = %s; want %s", tt.expr, got, tt.want)
		}
	}
}

// TestPassRules checks the pass rule forms and the per-case override that
// starts from the suite's rule.
func TestPassRules(t *testing.T) {
	s := mustLoad(t, writeSuite(t, `name: n
model: m
pass: {sample: {threshold: 0.8}, case: {fraction: 0.5}}
cases:
  - {id: a, prompt: x}
  - {id: b, prompt: y, pass: {case: {atLeast: 2}}}
  - {id: c, prompt: z, pass: {threshold: 0.5, case: any}}
`))
	if s.Pass != (PassRule{Threshold: 0.8, Case: "fraction", Fraction: 0.5}) {
		t.Errorf("suite rule %+v", s.Pass)
	}
	if s.Cases[0].Pass != nil {
		t.Errorf("case a has its own rule %+v", s.Cases[0].Pass)
	}
	if r := s.Cases[1].Pass; r == nil || *r != (PassRule{Threshold: 0.8, Case: "atLeast", K: 2}) {
		t.Errorf("case b rule %+v", r)
	}
	if r := s.Cases[2].Pass; r == nil || *r != (PassRule{Threshold: 0.5, Case: "any"}) {
		t.Errorf("case c rule %+v", r)
	}
}

// TestSystemPromptTooLong checks the 50,000 character limit on a rendered
// system prompt.
func TestSystemPromptTooLong(t *testing.T) {
	p := writeSuite(t, "name: n\nmodel: m\ncases:\n  - id: a\n    prompt: x\n    systemPrompt: \"{{.long}}\"\n    vars: {long: "+strings.Repeat("y", 50001)+"}\n")
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), ":6:19: systemPrompt is 50001 characters long once rendered; the maximum is 50,000") {
		t.Errorf("got %v", err)
	}
}
