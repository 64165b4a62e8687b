package reports

import (
	"math"
	"testing"
)

// TestPairedMeanCI protects the t interval for the mean paired difference.
func TestPairedMeanCI(t *testing.T) {
	tests := []struct {
		name           string
		d              []float64
		conf           float64
		mean, lo, hi   float64
		ok             bool
		boundTolerance float64
	}{
		// 1..5: mean 3, sd √2.5, se √0.5, t_{0.975,4} = 2.776445; R's t.test(1:5) gives
		// 1.036757–4.963243.
		{"one to five", []float64{1, 2, 3, 4, 5}, 0.95, 3, 1.036757, 4.963243, true, 1e-6},
		// Two pairs 1 and 3: mean 2, sd √2, se 1, t_{0.975,1} = 12.706205.
		{"two pairs", []float64{3, 1}, 0.95, 2, 2 - 12.706205, 2 + 12.706205, true, 1e-6},
		// A 90% interval uses t_{0.95,4} = 2.131847: 3 ± 2.131847·√0.5.
		{"90 percent", []float64{1, 2, 3, 4, 5}, 0.90, 3, 3 - 1.507443, 3 + 1.507443, true, 1e-6},
		// Identical differences: zero width, but a valid interval.
		{"no spread", []float64{-0.5, -0.5, -0.5}, 0.95, -0.5, -0.5, -0.5, true, 0},
		// One pair: the mean exists but no spread can be estimated.
		{"one pair", []float64{0.7}, 0.95, 0.7, math.NaN(), math.NaN(), false, 0},
		// No pairs at all.
		{"empty", nil, 0.95, math.NaN(), math.NaN(), math.NaN(), false, 0},
		// A confidence level outside (0,1) is meaningless.
		{"bad conf", []float64{1, 2}, 1, 1.5, math.NaN(), math.NaN(), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mean, lo, hi, ok := PairedMeanCI(tt.d, tt.conf)
			if ok != tt.ok || !near(mean, tt.mean, 1e-12) || !near(lo, tt.lo, tt.boundTolerance) || !near(hi, tt.hi, tt.boundTolerance) {
				t.Errorf("PairedMeanCI = %v, %v, %v, %v; want %v, %v, %v, %v", mean, lo, hi, ok, tt.mean, tt.lo, tt.hi, tt.ok)
			}
		})
	}
}

// TestMinDetectableEffect protects the power rule: t-based for small m, converging on the
// normal formula (z_{0.975} + z_{0.8})·sd/√m for large m.
func TestMinDetectableEffect(t *testing.T) {
	tests := []struct {
		name string
		sd   float64
		m    int
		want float64
		tol  float64
	}{
		// m = 10: (t_{0.975,9} + t_{0.8,9})·1/√10 = (2.262157 + 0.883404)/3.162278.
		{"ten pairs", 1, 10, (2.262157 + 0.883404) / math.Sqrt(10), 1e-6},
		// m = 30, sd 0.4: (2.045230 + 0.854192)·0.4/√30.
		{"thirty pairs", 0.4, 30, (2.045230 + 0.854192) * 0.4 / math.Sqrt(30), 1e-6},
		// m = 1e6: the normal formula, 2.801585·sd/1000, to 1e-5 relative.
		{"large m", 2, 1000000, (Z95 + 0.8416212335729143) * 2 / 1000, 1e-8},
		// No spread: any true difference is detectable.
		{"zero sd", 0, 10, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MinDetectableEffect(tt.sd, tt.m); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("MinDetectableEffect(%v, %d) = %.9g, want %.9g", tt.sd, tt.m, got, tt.want)
			}
		})
	}
	if !math.IsNaN(MinDetectableEffect(1, 1)) || !math.IsNaN(MinDetectableEffect(-1, 10)) {
		t.Error("MinDetectableEffect: want NaN for m < 2 or negative sd")
	}
}

// TestGeoMeanRatio protects the ratio of geometric means and its log-scale t interval.
func TestGeoMeanRatio(t *testing.T) {
	e := math.E
	tests := []struct {
		name          string
		base, head    []float64
		ratio, lo, hi float64
		ok            bool
	}{
		// Every head value twice its base: ratio 2, no spread, zero-width interval.
		{"uniform doubling", []float64{100, 250, 40}, []float64{200, 500, 80}, 2, 2, 2, true},
		// Log ratios 1 and 3: mean 2, se 1, t_{0.975,1} = 12.706205; the interval is
		// exp(2 ± 12.706205), asymmetric on the ratio scale.
		{"two pairs", []float64{1, 1}, []float64{e, e * e * e}, e * e, math.Exp(2 - 12.706205), math.Exp(2 + 12.706205), true},
		// Log ratios ln 2 and ln ½ cancel: ratio 1 (a halving and a doubling).
		{"cancelling", []float64{1, 4}, []float64{2, 2}, 1, math.NaN(), math.NaN(), true},
		// One pair: ratio only.
		{"one pair", []float64{2}, []float64{3}, 1.5, math.NaN(), math.NaN(), false},
		// A zero latency has no logarithm.
		{"non-positive", []float64{1, 0}, []float64{1, 1}, math.NaN(), math.NaN(), math.NaN(), false},
		// Unpaired input.
		{"length mismatch", []float64{1, 2}, []float64{1}, math.NaN(), math.NaN(), math.NaN(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ratio, lo, hi, ok := GeoMeanRatio(tt.base, tt.head)
			if ok != tt.ok || !near(ratio, tt.ratio, 1e-12*math.Max(1, tt.ratio)) {
				t.Fatalf("GeoMeanRatio = %v, %v, %v, %v; want ratio %v, ok %v", ratio, lo, hi, ok, tt.ratio, tt.ok)
			}
			if math.IsNaN(tt.lo) { // bounds not pinned for this row, only their presence
				if ok && !(lo < ratio && ratio < hi) {
					t.Errorf("interval %v–%v does not surround %v", lo, hi, ratio)
				}
				return
			}
			if !near(lo, tt.lo, 1e-6*tt.lo) || !near(hi, tt.hi, 1e-6*tt.hi) {
				t.Errorf("GeoMeanRatio interval = %v–%v, want %v–%v", lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

// near reports whether got is within tol of want, treating two NaNs as equal.
func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}
