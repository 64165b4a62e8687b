package reports

import (
	"math"
	"testing"
)

// TestMcNemarExact protects the exact McNemar p-value (two-sided binomial test with p = ½ on
// the discordant pairs).
func TestMcNemarExact(t *testing.T) {
	tests := []struct {
		name string
		b, c int
		want float64
	}{
		// Fagerland, Lydersen & Laake (2013), "The McNemar test for binary matched-pairs data:
		// mid-p and asymptotic are better than exact conditional", BMC Medical Research
		// Methodology 13:91, Table 1 (airway hyper-responsiveness before/after stem cell
		// transplantation in 21 children, Bentur et al.): discordant cells 1 and 7. Their exact
		// conditional p-value is 2·binomcdf(1, 8, 0.5); by hand 2·(1+8)/256 = 0.0703125.
		{"Fagerland 2013 Table 1", 1, 7, 18.0 / 256},
		// 12 discordant pairs split 2/10: 2·(C(12,0)+C(12,1)+C(12,2))/4096 = 2·79/4096.
		{"2 vs 10", 2, 10, 2 * 79.0 / 4096},
		// The order of b and c does not matter.
		{"10 vs 2", 10, 2, 2 * 79.0 / 4096},
		// 0 vs 5: the most extreme split of 5, 2/32.
		{"0 vs 5", 0, 5, 2.0 / 32},
		// An even split is as unremarkable as it gets: 2·P(B <= 3) > 1 is capped at 1.
		{"even split", 3, 3, 1},
		// No discordant pairs: no evidence either way.
		{"no discordant pairs", 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := McNemarExact(tt.b, tt.c); math.Abs(got-tt.want) > 1e-14 {
				t.Errorf("McNemarExact(%d, %d) = %.16g, want %.16g", tt.b, tt.c, got, tt.want)
			}
		})
	}
	// Large counts stay finite and agree with the regularized incomplete beta identity
	// P(B <= k) = I_{½}(m-k, k+1).
	b, c := 400, 480
	want := 2 * regIncBeta(float64(b+c-b), float64(b+1), 0.5, 0.5)
	if got := McNemarExact(b, c); math.Abs(got-want) > 1e-12 {
		t.Errorf("McNemarExact(400, 480) = %v, want %v", got, want)
	}
	if !math.IsNaN(McNemarExact(-1, 3)) {
		t.Error("McNemarExact(-1, 3): want NaN")
	}
}

// TestSignFlipExact protects the exact sign-flip permutation test against hand enumerations.
func TestSignFlipExact(t *testing.T) {
	tests := []struct {
		name string
		d    []float64
		want float64
	}{
		// Three equal positive differences: only +++ and --- reach |mean| = 1, 2 of 8.
		{"three ones", []float64{1, 1, 1}, 2.0 / 8},
		// Five equal differences: 2 of 32.
		{"five ones", []float64{1, 1, 1, 1, 1}, 2.0 / 32},
		// Zeros do not flip and are dropped: the same as three ones.
		{"zeros dropped", []float64{1, 0, 1, 0, 1}, 2.0 / 8},
		// Symmetric around zero: every assignment is at least as extreme as the observed 0.
		{"observed mean zero", []float64{1, -1}, 1},
		// ±3±1±1±1 against the observed 4: +3 with the three ±1 summing to >= 1 (4 ways) and -3
		// with them summing to <= -1 (4 ways), 8 of 16.
		{"mixed magnitudes", []float64{3, -1, 1, 1}, 8.0 / 16},
		// ±0.1±0.2±0.3±0.6 against 0.1+0.2-0.3+0.6 = 0.6: with +0.6 the rest must sum to >= 0
		// (0.6, 0.4, 0.2, and the two combinations ±(0.1+0.2-0.3) that are 0 only up to
		// rounding), mirrored with -0.6: 10 of 16. Without the tie tolerance rounding would
		// drop some of them.
		{"ties up to rounding", []float64{0.1, 0.2, -0.3, 0.6}, 10.0 / 16},
		// All differences zero: nothing to test.
		{"all zero", []float64{0, 0}, 1},
		// Nothing at all.
		{"empty", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SignFlipPValue(tt.d); math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("SignFlipPValue(%v) = %v, want %v", tt.d, got, tt.want)
			}
		})
	}
	if !math.IsNaN(SignFlipPValue([]float64{1, math.NaN()})) || !math.IsNaN(SignFlipPValue([]float64{1, math.Inf(-1)})) {
		t.Error("SignFlipPValue with a NaN or Inf: want NaN")
	}
}

// TestSignFlipAgainstBinomial protects both branches on ±1 differences, where the null
// distribution of the sum is 2K - m with K ~ Binomial(m, ½): exactly at m = 20 (the largest
// enumerated) and by seeded Monte Carlo at m = 25.
func TestSignFlipAgainstBinomial(t *testing.T) {
	tests := []struct {
		name      string
		plus, neg int
		tolerance float64
	}{
		// m = 20, 14 up and 6 down, observed sum 8: exact enumeration must match to rounding.
		{"exact branch m=20", 14, 6, 1e-15},
		// m = 25, 17 up and 8 down, observed sum 9: Monte Carlo with 100000 draws has a standard
		// error of about 0.0006 here; 0.003 is five of them, and the seed is fixed anyway.
		{"Monte Carlo branch m=25", 17, 8, 0.003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.plus + tt.neg
			d := make([]float64, 0, m)
			for i := range m {
				if i < tt.plus {
					d = append(d, 1)
				} else {
					d = append(d, -1)
				}
			}
			obs := tt.plus - tt.neg
			want := 0.0
			for k := range m + 1 {
				if s := 2*k - m; s >= obs || s <= -obs {
					want += binomialPMF(k, m, 0.5)
				}
			}
			got := SignFlipPValue(d)
			if math.Abs(got-want) > tt.tolerance {
				t.Errorf("SignFlipPValue = %v, want %v ± %v", got, want, tt.tolerance)
			}
			if got2 := SignFlipPValue(d); got2 != got {
				t.Errorf("not reproducible: %v then %v", got, got2)
			}
		})
	}
	// The Monte Carlo p-value is never 0: the observed assignment counts.
	extreme := make([]float64, 40)
	for i := range extreme {
		extreme[i] = 1
	}
	if got, want := SignFlipPValue(extreme), 1.0/(signFlipDraws+1); got != want {
		t.Errorf("SignFlipPValue(40 ones) = %v, want %v", got, want)
	}
}

// BenchmarkSignFlipPValue measures the exact test at its largest size, m = 20.
func BenchmarkSignFlipPValue(b *testing.B) {
	d := make([]float64, 20)
	for i := range d {
		d[i] = float64(i%7) - 2.5 + float64(i)/10
	}
	for b.Loop() {
		SignFlipPValue(d)
	}
}

// BenchmarkSignFlipPValueMonteCarlo measures the sampled test at m = 100 differences.
func BenchmarkSignFlipPValueMonteCarlo(b *testing.B) {
	d := make([]float64, 100)
	for i := range d {
		d[i] = float64(i%7) - 2.5 + float64(i)/100
	}
	for b.Loop() {
		SignFlipPValue(d)
	}
}

// TestHolm protects the Holm–Bonferroni adjustment: order preserved, monotone, capped at 1.
func TestHolm(t *testing.T) {
	tests := []struct {
		name string
		p    []float64
		want []float64
	}{
		// Sorted .005, .01, .03, .04 → ×4, ×3, ×2, ×1 = .02, .03, .06, .04; the running maximum
		// lifts the last to .06; back in input order (R's p.adjust(..., "holm")).
		{"textbook", []float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		// .5·2 = 1 and .6·1 = .6 raised to 1 by monotonicity.
		{"capped at one", []float64{0.6, 0.5}, []float64{1, 1}},
		// A single test is not adjusted.
		{"single", []float64{0.03}, []float64{0.03}},
		// A cell without a test (NaN) stays NaN and does not count toward m: m = 2 here.
		{"NaN skipped", []float64{0.02, math.NaN(), 0.04}, []float64{0.04, math.NaN(), 0.04}},
		// Nothing to adjust.
		{"empty", nil, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Holm(tt.p)
			if len(got) != len(tt.want) {
				t.Fatalf("Holm(%v) = %v, want %v", tt.p, got, tt.want)
			}
			for i := range got {
				if math.IsNaN(tt.want[i]) != math.IsNaN(got[i]) || math.Abs(got[i]-tt.want[i]) > 1e-15 {
					t.Fatalf("Holm(%v) = %v, want %v", tt.p, got, tt.want)
				}
			}
		})
	}
}
