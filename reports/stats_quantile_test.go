package reports

import (
	"math"
	"slices"
	"testing"
)

// TestQuantileType7 protects the percentile definition (DESIGN §5: linear interpolation,
// type 7) against values of R's quantile(x, p) worked by hand from h = (n-1)p.
func TestQuantileType7(t *testing.T) {
	oneToTen := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5} // 1..10, shuffled
	oneToTwenty := make([]float64, 20)
	for i := range oneToTwenty {
		oneToTwenty[i] = float64(20 - i)
	}
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		// quantile(1:10, 0.9): h = 8.1 → 9 + 0.1·(10-9) = 9.1.
		{"p90 of 1..10", oneToTen, 0.9, 9.1},
		// quantile(1:10, 0.25): h = 2.25 → 3 + 0.25 = 3.25.
		{"p25 of 1..10", oneToTen, 0.25, 3.25},
		// quantile(1:10, 0.5): h = 4.5 → 5.5, the ordinary median.
		{"median of 1..10", oneToTen, 0.5, 5.5},
		// quantile(1:20, 0.95): h = 18.05 → 19 + 0.05 = 19.05.
		{"p95 of 1..20", oneToTwenty, 0.95, 19.05},
		// quantile(c(1,3,7,15), 0.5): h = 1.5 → 3 + 0.5·4 = 5.
		{"median of uneven gaps", []float64{15, 1, 7, 3}, 0.5, 5},
		// quantile(c(1,3,7,15), 1/3): h = 1 exactly → 3, no interpolation.
		{"exact order statistic", []float64{15, 1, 7, 3}, 1.0 / 3, 3},
		// p = 0 and p = 1 are the minimum and maximum.
		{"minimum", []float64{4, -2, 9}, 0, -2},
		{"maximum", []float64{4, -2, 9}, 1, 9},
		// A single value is every quantile.
		{"single value", []float64{42}, 0.99, 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quantile(tt.xs, tt.p); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Quantile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
			}
		})
	}
	// The input must not be reordered.
	before := slices.Clone(oneToTen)
	Quantile(oneToTen, 0.5)
	if !slices.Equal(before, oneToTen) {
		t.Errorf("Quantile mutated its input: %v", oneToTen)
	}
	for _, bad := range []struct {
		xs []float64
		p  float64
	}{{nil, 0.5}, {[]float64{1}, -0.1}, {[]float64{1}, 1.1}, {[]float64{1, math.NaN()}, 0.5}} {
		if got := Quantile(bad.xs, bad.p); !math.IsNaN(got) {
			t.Errorf("Quantile(%v, %v) = %v, want NaN", bad.xs, bad.p, got)
		}
	}
}

// TestQuantileCI protects the "n too small" rule of DESIGN §5 and the choice of order
// statistics, against bounds derived by hand from the binomial distribution.
func TestQuantileCI(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		p      float64
		ok     bool
		lo, hi float64 // the 1-based ranks, since the sample is 1..n
	}{
		// p95 at n=58: even [x_(1), x_(58)] covers only 1 - 0.95^58 - 0.05^58 = 0.9489 < 0.95.
		{"p95 n=58 too small", 58, 0.95, false, 0, 0},
		// p95 at n=59: the full range covers 1 - 0.95^59 = 0.9515 >= 0.95, so an interval
		// exists. The upper end must stay x_(59) (dropping it loses P(B=58) = 0.1506), but the
		// lower end can rise to x_(50): P(B <= 49) = 0.00064, coverage 0.9509. x_(51) would lose
		// P(B <= 50) = 0.0025 in all, coverage 0.9490 < 0.95.
		{"p95 n=59 smallest", 59, 0.95, true, 50, 59},
		// Median at n=5: 1 - 2/32 = 0.9375 < 0.95.
		{"median n=5 too small", 5, 0.5, false, 0, 0},
		// Median at n=6: 1 - 2/64 = 0.96875.
		{"median n=6 smallest", 6, 0.5, true, 1, 6},
		// Median at n=10, the textbook [x_(2), x_(9)]: coverage 1 - 2·11/1024 = 0.9785; the
		// narrower candidates [x_(1),x_(8)], [x_(3),x_(10)] reach only 1 - 57/1024 = 0.944 and
		// [x_(2),x_(8)] only 1 - 67/1024 = 0.935.
		{"median n=10", 10, 0.5, true, 2, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, ok := QuantileCI(ranks(tt.n), tt.p, 0.95)
			if ok != tt.ok || (ok && (lo != tt.lo || hi != tt.hi)) {
				t.Errorf("QuantileCI(n=%d, p=%v) = %v, %v, %v; want %v, %v, %v", tt.n, tt.p, lo, hi, ok, tt.lo, tt.hi, tt.ok)
			}
		})
	}
}

// TestQuantileCIShortest protects the selection rule over many n and p against a brute-force
// search that computes each binomial coverage separately: the chosen pair must reach the
// confidence level, and no pair spanning fewer order statistics may reach it.
func TestQuantileCIShortest(t *testing.T) {
	for _, n := range []int{7, 20, 59, 60, 100, 250} {
		for _, p := range []float64{0.1, 0.5, 0.9, 0.95, 0.99} {
			lo, hi, ok := QuantileCI(ranks(n), p, 0.95)
			pmf := make([]float64, n+1)
			for j := range pmf {
				pmf[j] = math.Exp(logChoose(n, j) + float64(j)*math.Log(p) + float64(n-j)*math.Log(1-p))
			}
			bestWidth := n
			for r := 1; r < n; r++ {
				for s := r + 1; s <= n; s++ {
					cov := 0.0
					for j := r; j < s; j++ {
						cov += pmf[j]
					}
					if cov >= 0.95 && s-r < bestWidth {
						bestWidth = s - r
					}
				}
			}
			exists := bestWidth < n || 1-math.Pow(p, float64(n))-math.Pow(1-p, float64(n)) >= 0.95
			if ok != exists {
				t.Errorf("n=%d p=%v: ok=%v, brute force says exists=%v", n, p, ok, exists)
				continue
			}
			if ok && int(hi-lo) != bestWidth {
				t.Errorf("n=%d p=%v: chose [%v, %v], shortest span is %d", n, p, lo, hi, bestWidth)
			}
		}
	}
}

// TestQuantileCIInputs protects the rejection of meaningless requests and unsorted samples.
func TestQuantileCIInputs(t *testing.T) {
	for _, c := range []struct{ p, conf float64 }{{0, 0.95}, {1, 0.95}, {0.5, 0}, {0.5, 1}} {
		if _, _, ok := QuantileCI(ranks(100), c.p, c.conf); ok {
			t.Errorf("QuantileCI(p=%v, conf=%v) ok, want not ok", c.p, c.conf)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("QuantileCI on an unsorted sample did not panic")
		}
	}()
	QuantileCI([]float64{3, 1, 2, 4, 5, 6, 7}, 0.5, 0.9)
}

// ranks returns 1..n, so that order statistics equal their ranks.
func ranks(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	return xs
}
