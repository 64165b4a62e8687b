package eval

import "testing"

// TestCasePasses protects the case pass rules across a case's samples.
func TestCasePasses(t *testing.T) {
	rows := []struct {
		name      string
		rule      PassRule
		passed, n int
		want      bool
	}{
		// The zero rule is "all".
		{"default all pass", PassRule{}, 3, 3, true},
		{"default all fail", PassRule{}, 2, 3, false},
		{"all explicit", PassRule{Case: CaseAll}, 1, 1, true},
		// any: one passing sample is enough.
		{"any pass", PassRule{Case: CaseAny}, 1, 5, true},
		{"any fail", PassRule{Case: CaseAny}, 0, 5, false},
		// at least 2 of n.
		{"atLeast pass", PassRule{Case: CaseAtLeast, K: 2}, 2, 4, true},
		{"atLeast fail", PassRule{Case: CaseAtLeast, K: 2}, 1, 4, false},
		// Fewer samples than k can never pass.
		{"atLeast too few samples", PassRule{Case: CaseAtLeast, K: 3}, 2, 2, false},
		// fraction 0.8: 4 of 5 is exactly 0.8 and passes despite float rounding.
		{"fraction exact", PassRule{Case: CaseFraction, Fraction: 0.8}, 4, 5, true},
		{"fraction below", PassRule{Case: CaseFraction, Fraction: 0.8}, 3, 5, false},
		// 0.7 of 10 is 7 (0.7*10 = 7.000000000000001 in floating point).
		{"fraction rounding", PassRule{Case: CaseFraction, Fraction: 0.7}, 7, 10, true},
		{"fraction rounds up", PassRule{Case: CaseFraction, Fraction: 0.5}, 1, 3, false},
		// No samples: the case does not pass under any rule.
		{"no samples all", PassRule{}, 0, 0, false},
		{"no samples any", PassRule{Case: CaseAny}, 0, 0, false},
		// Nonsense counts and invalid rules never pass.
		{"passed above n", PassRule{}, 4, 3, false},
		{"unknown rule", PassRule{Case: "most"}, 3, 3, false},
		{"atLeast zero k", PassRule{Case: CaseAtLeast}, 3, 3, false},
	}
	for _, r := range rows {
		if got := r.rule.CasePasses(r.passed, r.n); got != r.want {
			t.Errorf("%s: %+v.CasePasses(%d, %d) = %v, want %v", r.name, r.rule, r.passed, r.n, got, r.want)
		}
	}
}

// TestPassRuleValidateAndString protects the messages the suite loader
// shows for bad rules and the labels reports print.
func TestPassRuleValidateAndString(t *testing.T) {
	rows := []struct {
		rule PassRule
		err  string
		str  string
	}{
		{PassRule{}, "", "all"},
		{PassRule{Case: CaseAny}, "", "any"},
		{PassRule{Case: CaseAtLeast, K: 2}, "", "at least 2"},
		{PassRule{Case: CaseFraction, Fraction: 0.8}, "", "at least 80%"},
		{PassRule{Case: CaseFraction, Fraction: 1.5}, "pass rule fraction must be greater than 0 and at most 1, got 1.5", ""},
		{PassRule{Case: CaseAtLeast}, "pass rule atLeast needs k of 1 or more, got 0", ""},
		{PassRule{Case: "most"}, `unknown case pass rule "most" (want all, any, atLeast or fraction)`, ""},
		{PassRule{Threshold: 2}, "pass threshold must be between 0 and 1, got 2", ""},
	}
	for _, r := range rows {
		err := r.rule.Validate()
		switch {
		case r.err == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", r.rule, err)
		case r.err != "" && (err == nil || err.Error() != r.err):
			t.Errorf("%+v: error %v, want %q", r.rule, err, r.err)
		}
		if r.str != "" && r.rule.String() != r.str {
			t.Errorf("%+v: String() = %q, want %q", r.rule, r.rule.String(), r.str)
		}
	}
}
