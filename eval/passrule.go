package eval

import (
	"fmt"
	"math"
	"strconv"
)

// Case pass rules: how a case passes in a cell across its samples.
const (
	CaseAll      = "all"      // every sample passes (the default)
	CaseAny      = "any"      // at least one sample passes
	CaseAtLeast  = "atLeast"  // at least K samples pass
	CaseFraction = "fraction" // at least Fraction of the samples pass
)

// Validate reports a rule that cannot be applied: an unknown Case, K below
// 1, a Fraction outside (0, 1] or a Threshold outside [0, 1].
func (r PassRule) Validate() error {
	if r.Threshold < 0 || r.Threshold > 1 || math.IsNaN(r.Threshold) {
		return fmt.Errorf("pass threshold must be between 0 and 1, got %v", r.Threshold)
	}
	switch r.Case {
	case "", CaseAll, CaseAny:
	case CaseAtLeast:
		if r.K < 1 {
			return fmt.Errorf("pass rule atLeast needs k of 1 or more, got %d", r.K)
		}
	case CaseFraction:
		if !(r.Fraction > 0 && r.Fraction <= 1) {
			return fmt.Errorf("pass rule fraction must be greater than 0 and at most 1, got %v", r.Fraction)
		}
	default:
		return fmt.Errorf("unknown case pass rule %q (want all, any, atLeast or fraction)", r.Case)
	}
	return nil
}

// CasePasses applies the rule to a case's samples in one cell: passed of n
// samples passed. A case without samples does not pass; atLeast with fewer
// than K samples cannot pass. An invalid rule (see Validate) never passes.
func (r PassRule) CasePasses(passed, n int) bool {
	if n <= 0 || passed < 0 || passed > n || r.Validate() != nil {
		return false
	}
	switch r.Case {
	case CaseAny:
		return passed >= 1
	case CaseAtLeast:
		return passed >= r.K
	case CaseFraction:
		// The tolerance keeps 0.8 of 5 samples (4) from failing on 4 < 4.0000000001.
		return float64(passed) >= r.Fraction*float64(n)-1e-9
	}
	return passed == n
}

// String describes the rule for reports, e.g. "all", "at least 2",
// "at least 80%".
func (r PassRule) String() string {
	switch r.Case {
	case CaseAny:
		return "any"
	case CaseAtLeast:
		return "at least " + strconv.Itoa(r.K)
	case CaseFraction:
		return "at least " + strconv.FormatFloat(r.Fraction*100, 'f', -1, 64) + "%"
	}
	return "all"
}
