package eval

import (
	"context"
	"testing"
)

// TestCombinators protects not, anyOf and allOf verdicts, reasons and
// nesting.
func TestCombinators(t *testing.T) {
	rows := []checkRow{
		// not inverts.
		{name: "not pass", check: "not: {contains: Lyon}", sample: Sample{Text: "Paris"}, pass: true},
		{name: "not fail", check: "not: {contains: Paris}", sample: Sample{Text: "Paris"},
			reason: `expected contains "Paris" to fail; it passed`},
		// anyOf passes on the first passing check.
		{name: "anyOf pass", check: "anyOf: [{equals: Paris}, {contains: Paris}]", sample: Sample{Text: "It is Paris"}, pass: true},
		{name: "anyOf fail", check: "anyOf: [{equals: Paris}, {regex: '^P'}]", sample: Sample{Text: "Lyon"},
			reason: `none of 2 checks passed: (equals "Paris": expected to equal "Paris"; got "Lyon") (regex /^P/: expected to match /^P/; got "Lyon")`},
		// allOf names the first failing check.
		{name: "allOf pass", check: "allOf: [{contains: Paris}, {length: {max: 10}}]", sample: Sample{Text: "Paris"}, pass: true},
		{name: "allOf fail", check: "allOf: [{contains: Paris}, {length: {max: 3}}, {contains: x}]", sample: Sample{Text: "Paris"},
			reason: `check 2 of 3 failed: (length at most 3 characters: expected at most 3 characters; got 5)`},
		// Nesting: not inside anyOf inside allOf.
		{name: "nested pass", check: "allOf: [{anyOf: [{contains: x}, {not: {contains: Lyon}}]}, {startsWith: P}]", sample: Sample{Text: "Paris"}, pass: true},
		{name: "nested fail", check: "allOf: [{anyOf: [{contains: x}, {not: {contains: Paris}}]}]", sample: Sample{Text: "Paris"},
			reason: `check 1 of 1 failed: (anyOf(contains "x", not(contains "Paris")): none of 2 checks passed: (contains "x": expected to contain "x"; got "Paris") (not(contains "Paris"): expected contains "Paris" to fail; it passed))`},
	}
	runRows(t, context.Background(), rows)
}

// countingCheck counts its evaluations, to observe short-circuiting.
type countingCheck struct {
	pass bool
	n    *int
}

func (c countingCheck) Name() string { return "counting" }

func (c countingCheck) Eval(context.Context, Sample) Outcome {
	*c.n++
	return Outcome{Check: c.Name(), Pass: c.pass, JudgeCost: 0.5, JudgeTokens: 10}
}

// TestCombinatorShortCircuit protects the cost rule: anyOf stops at the
// first pass and allOf at the first failure, so a costly check placed last
// is not run needlessly, and judge spend of the checks that ran is summed.
func TestCombinatorShortCircuit(t *testing.T) {
	var n int
	anyOf := listCheck{any: true, checks: []Check{countingCheck{true, &n}, countingCheck{true, &n}}}
	o := anyOf.Eval(context.Background(), Sample{})
	if !o.Pass || n != 1 || o.JudgeCost != 0.5 || o.JudgeTokens != 10 {
		t.Errorf("anyOf: pass %v after %d evaluations, judge %v/%d; want pass after 1, 0.5/10", o.Pass, n, o.JudgeCost, o.JudgeTokens)
	}
	n = 0
	allOf := listCheck{checks: []Check{countingCheck{false, &n}, countingCheck{true, &n}}}
	if o := allOf.Eval(context.Background(), Sample{}); o.Pass || n != 1 {
		t.Errorf("allOf: pass %v after %d evaluations; want fail after 1", o.Pass, n)
	}
	n = 0
	both := listCheck{checks: []Check{countingCheck{true, &n}, countingCheck{true, &n}}}
	if o := both.Eval(context.Background(), Sample{}); !o.Pass || n != 2 || o.JudgeCost != 1 || o.JudgeTokens != 20 {
		t.Errorf("allOf all passing: %+v after %d evaluations; want pass, judge 1/20 after 2", o, n)
	}
}
