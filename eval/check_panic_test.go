package eval

import (
	"context"
	"strings"
	"testing"
)

// panicCheck is a check that panics, standing in for a check bug that an
// answer can trigger.
type panicCheck struct{}

func (panicCheck) Name() string                         { return "boom" }
func (panicCheck) Eval(context.Context, Sample) Outcome { panic("index out of range") }

// TestScoreRecoversPanics checks that a panicking check becomes that
// check's failure with the reason, and the other checks still run.
func TestScoreRecoversPanics(t *testing.T) {
	ok := compile(t, "contains: a")
	v := Score(context.Background(), Sample{Text: "a"}, []Check{panicCheck{}, ok}, PassRule{})
	if v.Pass || len(v.Outcomes) != 2 {
		t.Fatalf("verdict = %+v", v)
	}
	if o := v.Outcomes[0]; o.Pass || !strings.Contains(o.Reason, "check crashed") || !strings.Contains(o.Reason, "index out of range") {
		t.Errorf("panic outcome = %+v", o)
	}
	if !v.Outcomes[1].Pass {
		t.Errorf("second check = %+v", v.Outcomes[1])
	}
}

// TestExprMaxNodes checks that an expression past MaxExprNodes is refused
// when the suite loads.
func TestExprMaxNodes(t *testing.T) {
	src := "expr: '" + strings.Repeat("1 + ", MaxExprNodes) + "1 > 0'"
	if _, probs := CompileCheck(parseNode(t, src), "s.yaml"); len(probs) == 0 || !strings.Contains(probs[0].Msg, "expr does not compile") {
		t.Errorf("problems = %v", probs)
	}
}

// TestJSONPathArrayComparison is the filter that used to panic and kill a
// run: comparing arrays in a filter is defined by RFC 9535 (deep equality).
func TestJSONPathArrayComparison(t *testing.T) {
	chk := compile(t, "jsonPath: {path: '$[?(@.a == @.b)]', exists: true}")
	o := chk.Eval(context.Background(), Sample{Text: `[{"a": [1, 2], "b": [1, 2]}, {"a": [1], "b": [2]}]`})
	if !o.Pass {
		t.Errorf("outcome = %+v", o)
	}
}

// TestExprStringBound checks that nested replace() fails the check with
// a reason instead of allocating gigabytes, and that replace still works.
func TestExprStringBound(t *testing.T) {
	bomb := "replace(replace(replace(replace(replace(text, 'a', text), 'a', text), 'a', text), 'a', text), 'a', text) != ''"
	o := compile(t, "expr: \""+bomb+"\"").Eval(context.Background(), Sample{Text: strings.Repeat("a", 100)})
	if o.Pass || !strings.Contains(o.Reason, "more than the limit") {
		t.Errorf("bomb outcome = %+v", o)
	}
	if o := compile(t, `expr: "replace(text, 'a', 'b') == 'bb'"`).Eval(context.Background(), Sample{Text: "aa"}); !o.Pass {
		t.Errorf("replace outcome = %+v", o)
	}
	if o := compile(t, `expr: "repeat(text, 2) == 'abab'"`).Eval(context.Background(), Sample{Text: "ab"}); !o.Pass {
		t.Errorf("repeat outcome = %+v", o)
	}
}
