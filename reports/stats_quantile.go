package reports

import (
	"math"
	"slices"
)

// Quantile returns the p-quantile of xs by linear interpolation between order statistics,
// Hyndman–Fan type 7 (R's default): with the values sorted as x[0..n-1] and h = (n-1)·p,
// x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]). xs is not modified and need not be sorted. It returns
// NaN for an empty xs, p outside [0, 1], or any NaN in xs.
func Quantile(xs []float64, p float64) float64 {
	if len(xs) == 0 || math.IsNaN(p) || p < 0 || p > 1 {
		return math.NaN()
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	if math.IsNaN(sorted[0]) { // slices.Sort puts NaNs first
		return math.NaN()
	}
	h := float64(len(sorted)-1) * p
	i := int(math.Floor(h))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// QuantileCI returns a distribution-free confidence interval [x_(r), x_(s)] for the
// p-quantile of a continuous distribution from the ascending sample sorted (n values,
// 1-based order statistics). The coverage of [x_(r), x_(s)] is P(r <= B <= s-1) with
// B ~ Binomial(n, p), whatever the distribution; the function picks the pair with coverage
// >= conf that spans the fewest order statistics (s-r), breaking ties by the most even split
// of the two tail probabilities. The tails need not be equal: requiring each to be below
// (1-conf)/2 would cost far more samples in the extreme quantiles.
//
// ok is false when no such interval exists: even the widest, [x_(1), x_(n)], covers only
// 1 - p^n - (1-p)^n, so a p95 interval at 95% needs n >= 59 (0.95^59 = 0.0485) and a median
// interval needs n >= 6. It is also false for p or conf outside (0, 1). QuantileCI panics if
// sorted is not in ascending order, a caller's bug that would silently give a wrong interval.
func QuantileCI(sorted []float64, p, conf float64) (lo, hi float64, ok bool) {
	undef := math.NaN()
	n := len(sorted)
	if !(p > 0 && p < 1) || !(conf > 0 && conf < 1) || n < 2 {
		return undef, undef, false
	}
	if !slices.IsSorted(sorted) {
		panic("reports.QuantileCI: sample is not sorted in ascending order")
	}
	r, s, found := orderStatisticInterval(n, p, conf)
	if !found {
		return undef, undef, false
	}
	return sorted[r-1], sorted[s-1], true
}

// orderStatisticInterval finds the 1-based ranks r < s described in QuantileCI.
func orderStatisticInterval(n int, p, conf float64) (r, s int, found bool) {
	// cdf[j] = P(B <= j-1) = P(B < j), for j = 0..n+1.
	cdf := make([]float64, n+2)
	for j := 1; j <= n+1; j++ {
		cdf[j] = cdf[j-1] + binomialPMF(j-1, n, p)
	}
	total := cdf[n+1] // 1 up to rounding; used so the upper tail is not cancelled to below 0
	coverage := func(r, s int) float64 { return cdf[s] - cdf[r] }
	const slack = 1e-12 // rounding in the cumulative sums must not decide a boundary case
	bestWidth, bestImbalance := n, math.Inf(1)
	s = 2
	for rr := 1; rr < n; rr++ {
		// The smallest qualifying s never decreases as r grows, so one pass suffices.
		if s <= rr {
			s = rr + 1
		}
		for s <= n && coverage(rr, s) < conf-slack {
			s++
		}
		if s > n {
			break
		}
		width := s - rr
		imbalance := math.Abs(cdf[rr] - (total - cdf[s]))
		if width < bestWidth || (width == bestWidth && imbalance < bestImbalance) {
			r, bestWidth, bestImbalance, found = rr, width, imbalance, true
		}
	}
	if !found {
		return 0, 0, false
	}
	return r, r + bestWidth, true
}
