package reports

import (
	"math"
	"testing"
)

// TestConstantSampleCI pins the exact bound for a mean when every
// observation is equal: it must not collapse to a point, and it follows the
// Clopper-Pearson bound q = 1 - 0.025^(1/m) on the mass elsewhere in [a, b].
func TestConstantSampleCI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		c      float64
		m      int
		lo, hi float64
		ok     bool
	}{
		// 3 cases all -1: q = 1 - 0.025^(1/3) = 0.70760; hi = -1 + 2q.
		{"3 at the lower bound", -1, 3, -1, 0.41520, true},
		// 6 cases all -1: q = 0.45926; hi = -1 + 2q, below 0.
		{"6 at the lower bound", -1, 6, -1, -0.08148, true},
		// 12 cases all 0: symmetric, q = 0.26473.
		{"12 at zero", 0, 12, -0.26473, 0.26473, true},
		// One case at +0.5: q = 0.975; towards -1 by 1.5q, towards +1 by 0.5q.
		{"1 in the middle", 0.5, 1, 0.5 - 1.5*0.975, 0.5 + 0.5*0.975, true},
		// No observations: no interval.
		{"m = 0", 0, 0, math.NaN(), math.NaN(), false},
		// A value outside the bounds is a caller error.
		{"c out of range", 2, 5, math.NaN(), math.NaN(), false},
	} {
		lo, hi, ok := ConstantSampleCI(tc.c, tc.m, -1, 1, 0.95)
		if ok != tc.ok || !closeOrNaN(lo, tc.lo) || !closeOrNaN(hi, tc.hi) {
			t.Errorf("%s: [%v, %v] ok %v, want [%v, %v] ok %v", tc.name, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// TestMinAttainableP: 2·2^-m; 5 cases cannot reach 0.05, 6 can.
func TestMinAttainableP(t *testing.T) {
	for _, tc := range []struct {
		m    int
		want float64
	}{
		{1, 1},          // one case: both signs are equally extreme
		{3, 0.25},       // the first-time user's 3 cases
		{5, 0.0625},     // still not below 0.05
		{6, 0.03125},    // the first that can be significant
		{0, math.NaN()}, // no case, no test
	} {
		if got := MinAttainableP(tc.m); !closeOrNaN(got, tc.want) {
			t.Errorf("MinAttainableP(%d) = %v, want %v", tc.m, got, tc.want)
		}
	}
}

func closeOrNaN(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) < 1e-4
}
