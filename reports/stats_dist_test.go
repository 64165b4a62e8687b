package reports

import (
	"math"
	"testing"
)

// TestNormalQuantile protects the normal critical values every interval is built from.
func TestNormalQuantile(t *testing.T) {
	tests := []struct {
		name string
		p    float64
		want float64
		tol  float64
	}{
		// The 95% two-sided critical value; Z95 must agree with it.
		{"97.5th percentile", 0.975, Z95, 1e-12},
		// z_{0.8} = 0.8416212335729143, the 80% power term of the minimum detectable effect.
		{"80th percentile", 0.8, 0.8416212335729143, 1e-12},
		// The median is 0 by symmetry.
		{"median", 0.5, 0, 1e-15},
		// Lower tail mirrors the upper one.
		{"2.5th percentile", 0.025, -Z95, 1e-12},
		// A deep tail, where 1-2p cancellation would cost digits without the Halley step:
		// Φ⁻¹(1e-10) = -6.361340902404056.
		{"deep lower tail", 1e-10, -6.361340902404056, 1e-12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalQuantile(tt.p); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("NormalQuantile(%v) = %.16g, want %.16g", tt.p, got, tt.want)
			}
		})
	}
	// Round trip through the CDF across the range.
	for _, p := range []float64{1e-300, 1e-12, 0.001, 0.1, 0.3, 0.7, 0.9, 0.999, 1 - 1e-12} {
		if got := normalCDF(NormalQuantile(p)); math.Abs(got-p) > 1e-12*math.Max(p, 1e-300)+1e-15 {
			t.Errorf("normalCDF(NormalQuantile(%g)) = %g", p, got)
		}
	}
	if !math.IsInf(NormalQuantile(0), -1) || !math.IsInf(NormalQuantile(1), 1) || !math.IsNaN(NormalQuantile(1.5)) {
		t.Error("NormalQuantile edges: want -Inf at 0, +Inf at 1, NaN outside [0,1]")
	}
}

// TestStudentTQuantileTable protects the t critical values used by every paired interval,
// against printed table values (to the table's 3 decimals) and the 10-digit values R's
// qt() returns.
func TestStudentTQuantileTable(t *testing.T) {
	tests := []struct {
		name      string
		p, df     float64
		want      float64
		tolerance float64
	}{
		// Printed table: t_{0.975,1} = 12.706.
		{"table df=1", 0.975, 1, 12.706, 5e-4},
		// Printed table: t_{0.975,10} = 2.228.
		{"table df=10", 0.975, 10, 2.228, 5e-4},
		// Printed table: t_{0.975,30} = 2.042.
		{"table df=30", 0.975, 30, 2.042, 5e-4},
		// qt(0.975, 1) = tan(0.475π) = 12.70620473617471.
		{"df=1 exact", 0.975, 1, 12.70620473617471, 1e-9},
		// qt(0.975, 10) = 2.228138851986274.
		{"df=10 precise", 0.975, 10, 2.228138851986274, 1e-9},
		// qt(0.975, 30) = 2.042272456301238.
		{"df=30 precise", 0.975, 30, 2.042272456301238, 1e-9},
		// qt(0.995, 2) = 9.924843200918276 (closed form for df=2).
		{"df=2 closed form", 0.995, 2, 9.924843200918276, 1e-9},
		// qt(0.975, 3) = 3.182446305284263, the smallest df where the iterative solver is used.
		{"df=3 iterative", 0.975, 3, 3.182446305284263, 1e-9},
		// qt(0.8, 9) = 0.8834039 (table: 0.883), the power term for 10 pairs, to 1e-6.
		{"df=9 80%", 0.8, 9, 0.88340386, 1e-6},
		// Lower tail is the negative of the upper tail.
		{"lower tail df=10", 0.025, 10, -2.228138851986274, 1e-9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StudentTQuantile(tt.p, tt.df); math.Abs(got-tt.want) > tt.tolerance {
				t.Errorf("StudentTQuantile(%v, %v) = %.15g, want %.15g", tt.p, tt.df, got, tt.want)
			}
		})
	}
}

// TestStudentTQuantileInvertsCDF protects the general solver: for many df and p the quantile
// must reproduce p through the t CDF, and for huge df it must approach the normal quantile.
func TestStudentTQuantileInvertsCDF(t *testing.T) {
	for _, df := range []float64{1, 1.5, 2, 3, 4.5, 7, 19, 58, 300, 1e5} {
		for _, p := range []float64{1e-9, 0.001, 0.025, 0.2, 0.5, 0.6, 0.95, 0.999, 1 - 1e-9} {
			q := StudentTQuantile(p, df)
			var got float64
			if q >= 0 {
				got = 1 - studentTUpper(q, df)
			} else {
				got = studentTUpper(-q, df)
			}
			if math.Abs(got-p) > 1e-10*math.Min(p, 1-p)+1e-15 {
				t.Errorf("df=%v p=%v: quantile %v has CDF %v", df, p, q, got)
			}
		}
	}
	// With df → ∞ the t distribution becomes normal.
	if got, want := StudentTQuantile(0.975, 1e9), Z95; math.Abs(got-want) > 1e-8 {
		t.Errorf("StudentTQuantile(0.975, 1e9) = %v, want ≈ %v", got, want)
	}
	if got := StudentTQuantile(0.975, math.Inf(1)); got != NormalQuantile(0.975) {
		t.Errorf("StudentTQuantile(0.975, Inf) = %v, want the normal quantile", got)
	}
	if !math.IsNaN(StudentTQuantile(0.5, 0)) || !math.IsNaN(StudentTQuantile(-0.1, 5)) {
		t.Error("StudentTQuantile: want NaN for df <= 0 or p outside [0,1]")
	}
}

// TestStudentTUpperClosedForms checks the incomplete-beta tail against the closed-form t
// CDFs for df=1 (Cauchy) and df=2, independently of the quantile solver.
func TestStudentTUpperClosedForms(t *testing.T) {
	for _, x := range []float64{0, 0.1, 1, 2.5, 10, 1000} {
		cauchy := 0.5 - math.Atan(x)/math.Pi
		if got := studentTUpper(x, 1); math.Abs(got-cauchy) > 1e-14 {
			t.Errorf("df=1 upper(%v) = %v, want %v", x, got, cauchy)
		}
		two := 0.5 - x/(2*math.Sqrt(2+x*x))
		if got := studentTUpper(x, 2); math.Abs(got-two) > 1e-14 {
			t.Errorf("df=2 upper(%v) = %v, want %v", x, got, two)
		}
	}
}
