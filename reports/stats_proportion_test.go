package reports

import (
	"math"
	"testing"
)

// TestWilsonNewcombe protects the Wilson score interval against the published worked
// examples of Newcombe (1998), "Two-sided confidence intervals for the single proportion:
// comparison of seven methods", Statistics in Medicine 17:857–872, Table I, method 3 (score
// interval without continuity correction), given there to 4 decimals.
func TestWilsonNewcombe(t *testing.T) {
	tests := []struct {
		name   string
		k, n   int
		lo, hi float64
	}{
		// 81/263: a proportion near 0.3 with a large n.
		{"81 of 263", 81, 263, 0.2553, 0.3662},
		// 15/148: a small proportion.
		{"15 of 148", 15, 148, 0.0624, 0.1605},
		// 0/20: the lower bound is exactly 0 and the upper stays informative.
		{"0 of 20", 0, 20, 0.0000, 0.1611},
		// 1/29: one success; the interval is asymmetric around 1/29.
		{"1 of 29", 1, 29, 0.0061, 0.1718},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := Wilson(tt.k, tt.n, 1.959964)
			if math.Abs(lo-tt.lo) > 0.00005 || math.Abs(hi-tt.hi) > 0.00005 {
				t.Errorf("Wilson(%d, %d) = %.4f–%.4f, want %.4f–%.4f", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

// TestWilsonEdges protects the clamping to [0,1], the symmetry k ↔ n-k and the invalid
// inputs.
func TestWilsonEdges(t *testing.T) {
	// All successes: the upper bound is exactly 1, the mirror of 0/20.
	lo, hi := Wilson(20, 20, Z95)
	lo0, hi0 := Wilson(0, 20, Z95)
	if hi != 1 || lo0 != 0 || math.Abs(lo-(1-hi0)) > 1e-15 {
		t.Errorf("Wilson(20,20) = %v–%v and Wilson(0,20) = %v–%v; want mirror images clamped to [0,1]", lo, hi, lo0, hi0)
	}
	for _, c := range [][2]int{{0, 0}, {-1, 5}, {6, 5}} {
		if lo, hi := Wilson(c[0], c[1], Z95); !math.IsNaN(lo) || !math.IsNaN(hi) {
			t.Errorf("Wilson(%d, %d) = %v–%v, want NaNs", c[0], c[1], lo, hi)
		}
	}
}

// TestClusteredPassRate protects the case-clustered pass-rate interval: a Wilson interval
// with the t quantile on C-1 degrees of freedom and the effective size
// n_eff = rate(1-rate)/(s²/C), kept within [C-1, total samples], and n_eff = C when the
// spread says nothing (all cases equal, or rate 0 or 1).
func TestClusteredPassRate(t *testing.T) {
	w := func(rate, nEff float64, c int) [3]float64 {
		lo, hi := wilsonInterval(rate, nEff, StudentTQuantile(0.975, float64(c-1)))
		return [3]float64{rate, lo, hi}
	}
	tests := []struct {
		name  string
		cases []CaseCount
		want  [3]float64 // rate, lo, hi
	}{
		// One sample per case, 7 of 10: s² = 10/9·0.21, n_eff = 9 = C-1, t on 9 df.
		{"one sample per case", ones(7, 10), w(0.7, 9, 10)},
		// One sample per case, none pass: no spread, n_eff = C = 12.
		{"one sample per case, all fail", ones(0, 12), w(0, 12, 12)},
		// 4 cases × 10 samples with p_i = 1, ½, ½, 0: s²/C = (½/3)/4, n_eff = ¼/(1/24) = 6.
		{"effective size between bounds",
			[]CaseCount{{10, 10}, {5, 10}, {5, 10}, {0, 10}}, w(0.5, 6, 4)},
		// Every case 5/5 or 0/5: n_eff = C-1 = 9.
		{"perfectly correlated within case", correlated(10, 5), w(0.5, 9, 10)},
		// Every case 2/4: no spread between cases, n_eff = C = 5.
		{"no spread between cases", []CaseCount{{2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4}}, w(0.5, 5, 5)},
		// Unequal sizes 1/1 and 0/3: rate ½, s²/C = ¼, n_eff = 1 = C-1.
		{"unequal sample counts", []CaseCount{{1, 1}, {0, 3}}, w(0.5, 1, 2)},
		// Every case fails every sample: rate 0, n_eff = C = 3.
		{"all fail, several samples", []CaseCount{{0, 5}, {0, 5}, {0, 5}}, w(0, 3, 3)},
		// A case with no samples carries no information and is skipped: 3 of 4, n_eff = 3.
		{"empty case skipped", append(ones(3, 4), CaseCount{0, 0}), w(0.75, 3, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rate, lo, hi := ClusteredPassRate(tt.cases)
			got := [3]float64{rate, lo, hi}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-9 {
					t.Fatalf("ClusteredPassRate = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestClusteredPassRateWidensWithCorrelation protects the point of clustering: the same
// overall rate from the same number of samples must give a wider interval when samples
// within a case always agree than when they vary independently within each case.
func TestClusteredPassRateWidensWithCorrelation(t *testing.T) {
	_, clo, chi := ClusteredPassRate(correlated(10, 5))
	var mixed []CaseCount
	for i := range 10 {
		mixed = append(mixed, CaseCount{Pass: 2 + i%2, N: 5})
	}
	rate, ilo, ihi := ClusteredPassRate(mixed)
	if rate != 0.5 {
		t.Fatalf("mixed rate = %v, want 0.5", rate)
	}
	if chi-clo <= ihi-ilo {
		t.Errorf("correlated width %v <= independent width %v", chi-clo, ihi-ilo)
	}
}

// TestClusteredPassRateInvalid protects the NaN results for nothing to measure or bad counts.
func TestClusteredPassRateInvalid(t *testing.T) {
	for _, cases := range [][]CaseCount{nil, {{0, 0}}, {{3, 2}}, {{-1, 2}}} {
		if r, lo, hi := ClusteredPassRate(cases); !math.IsNaN(r) || !math.IsNaN(lo) || !math.IsNaN(hi) {
			t.Errorf("ClusteredPassRate(%v) = %v %v %v, want NaNs", cases, r, lo, hi)
		}
	}
}

// ones returns n single-sample cases of which the first k pass.
func ones(k, n int) []CaseCount {
	cs := make([]CaseCount, n)
	for i := range cs {
		cs[i].N = 1
		if i < k {
			cs[i].Pass = 1
		}
	}
	return cs
}

// correlated returns c cases of m samples each, half all-pass and half all-fail.
func correlated(c, m int) []CaseCount {
	cs := make([]CaseCount, c)
	for i := range cs {
		cs[i].N = m
		if i%2 == 0 {
			cs[i].Pass = m
		}
	}
	return cs
}

// TestPassAtK protects the Codex unbiased estimators against hand-computed values.
func TestPassAtK(t *testing.T) {
	tests := []struct {
		name    string
		n, c, k int
		atK     float64
		hatK    float64
	}{
		// k=1 is the plain fraction correct for both: 2/5.
		{"n=5 c=2 k=1", 5, 2, 1, 0.4, 0.4},
		// pass@2 = 1 - C(3,2)/C(5,2) = 1 - 3/10; pass^2 = C(2,2)/C(5,2) = 1/10.
		{"n=5 c=2 k=2", 5, 2, 2, 0.7, 0.1},
		// pass@5 = 1 - C(7,5)/C(10,5) = 1 - 21/252; pass^5 = 0 since only 3 are correct.
		{"n=10 c=3 k=5", 10, 3, 5, 1 - 21.0/252, 0},
		// Fewer than k incorrect samples: every k-subset holds a correct one, pass@k = 1;
		// pass^3 = C(4,3)/C(5,3) = 4/10.
		{"n=5 c=4 k=3", 5, 4, 3, 1, 0.4},
		// None correct: both zero.
		{"n=8 c=0 k=3", 8, 0, 3, 0, 0},
		// All correct: both one.
		{"n=8 c=8 k=8", 8, 8, 8, 1, 1},
		// k=n: pass@n is 1 iff any correct, pass^n is 1 iff all correct.
		{"n=6 c=1 k=6", 6, 1, 6, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PassAtK(tt.n, tt.c, tt.k); math.Abs(got-tt.atK) > 1e-14 {
				t.Errorf("PassAtK = %v, want %v", got, tt.atK)
			}
			if got := PassHatK(tt.n, tt.c, tt.k); math.Abs(got-tt.hatK) > 1e-14 {
				t.Errorf("PassHatK = %v, want %v", got, tt.hatK)
			}
		})
	}
	// The stable product must agree with the binomial-coefficient definition for large n,
	// where the coefficients themselves overflow float64.
	n, c, k := 2000, 37, 100
	want := 1 - math.Exp(logChoose(n-c, k)-logChoose(n, k))
	if got := PassAtK(n, c, k); math.Abs(got-want) > 1e-10 {
		t.Errorf("PassAtK(2000, 37, 100) = %v, want %v", got, want)
	}
	for _, bad := range [][3]int{{5, 2, 0}, {5, 2, 6}, {5, 6, 1}, {5, -1, 1}} {
		if !math.IsNaN(PassAtK(bad[0], bad[1], bad[2])) || !math.IsNaN(PassHatK(bad[0], bad[1], bad[2])) {
			t.Errorf("n,c,k = %v: want NaN", bad)
		}
	}
}
