package reports

import "math"

// Wilson returns the Wilson score interval (without continuity correction) for k successes
// in n trials at normal critical value z (Z95 for 95%). The bounds are clamped to [0, 1].
// It returns NaNs when n <= 0 or k is outside [0, n].
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n <= 0 || k < 0 || k > n {
		return math.NaN(), math.NaN()
	}
	return wilsonInterval(float64(k)/float64(n), float64(n), z)
}

// wilsonInterval is the Wilson score interval for an observed proportion phat with (possibly
// effective, non-integer) sample size n.
func wilsonInterval(phat, n, z float64) (lo, hi float64) {
	z2 := z * z
	denom := 1 + z2/n
	center := (phat + z2/(2*n)) / denom
	half := z * math.Sqrt(phat*(1-phat)/n+z2/(4*n*n)) / denom
	return math.Max(0, center-half), math.Min(1, center+half)
}

// CaseCount is one case's tally in a cell: Pass of its N samples passed.
type CaseCount struct{ Pass, N int }

// ClusteredPassRate returns the pass rate of a cell with the case as the unit, and its 95%
// interval clustered by case.
//
// The rate is the mean over the C cases of p_i = Pass_i/N_i. Its variance is estimated over
// cases with the small-sample correction C/(C-1): v = Σ(p_i - rate)²/(C(C-1)), i.e. s²/C.
// v captures both the spread of true pass rates between cases and the sampling noise within
// them, so repeated samples of a case only narrow the interval as far as they disagree.
// The interval is a Wilson interval for the rate with the effective sample size
// n_eff = rate·(1-rate)/v and, in place of z, the Student t quantile with C-1 degrees of
// freedom (the variance is estimated from C cases; with 5 cases z understates the width).
//
// n_eff is capped at the total number of samples (the design in which every sample is an
// independent draw) and is never below C-1 (which the spread of values in [0, 1] cannot go
// below anyway). When the spread says nothing (every case shows the same p_i, or the rate is
// 0 or 1, so v = 0) n_eff is C: the Wilson interval of C independent cases, each counted
// once. Using the pooled count of samples there instead (the independence cap) would cover
// only 0.67 of the time with 5 cases of 10 samples whose cases either always pass or always
// fail, since then all 5 pass a third of the time. Wilson rather than a t interval on the mean keeps the bounds inside [0, 1] and
// well behaved near 0 and 1. With one case the t quantile is undefined and z is used.
//
// Measured coverage (TestClusteredPassRateCoverage, docs/metrics.md) is at least 0.93 for 5
// to 100 cases, 1 to 10 samples per case and per-case rates from equal to widely spread.
//
// Cases with N = 0 carry no information and are skipped. It returns NaNs when no case has a
// sample or any count is invalid (Pass < 0, N < 0 or Pass > N).
func ClusteredPassRate(cases []CaseCount) (rate, lo, hi float64) {
	undef := math.NaN()
	var sum float64
	c, total := 0, 0
	for _, cc := range cases {
		if cc.N < 0 || cc.Pass < 0 || cc.Pass > cc.N {
			return undef, undef, undef
		}
		if cc.N == 0 {
			continue
		}
		c++
		total += cc.N
		sum += float64(cc.Pass) / float64(cc.N)
	}
	if c == 0 {
		return undef, undef, undef
	}
	cf := float64(c)
	rate = sum / cf
	var ss float64
	for _, cc := range cases {
		if cc.N == 0 {
			continue
		}
		d := float64(cc.Pass)/float64(cc.N) - rate
		ss += d * d
	}
	crit := Z95
	if c > 1 {
		crit = StudentTQuantile(0.975, cf-1)
	}
	minEff, maxEff := math.Max(1, cf-1), float64(total)
	nEff := cf
	if pq := rate * (1 - rate); pq > 0 && c > 1 {
		if v := ss / (cf * (cf - 1)); v > 1e-15 {
			nEff = pq / v
		}
	}
	nEff = math.Min(math.Max(nEff, minEff), maxEff)
	lo, hi = wilsonInterval(rate, nEff, crit)
	return rate, lo, hi
}

// PassAtK is the unbiased estimator of pass@k of Chen et al. (2021), "Evaluating Large
// Language Models Trained on Code": with c of n samples correct, the probability that at least
// one of k samples drawn without replacement is correct, 1 - C(n-c, k)/C(n, k). It is computed
// as the paper's numerically stable product 1 - Π_{i=n-c+1}^{n} (1 - k/i). It returns NaN
// when k < 1, k > n (the estimator needs at least k samples) or c is outside [0, n].
func PassAtK(n, c, k int) float64 {
	if k < 1 || k > n || c < 0 || c > n {
		return math.NaN()
	}
	if n-c < k {
		return 1 // every draw of k must include a correct sample
	}
	prod := 1.0
	for i := n - c + 1; i <= n; i++ {
		prod *= 1 - float64(k)/float64(i)
	}
	return 1 - prod
}

// PassHatK is the unbiased estimator of pass^k, the probability that all k of k samples drawn
// without replacement are correct: C(c, k)/C(n, k), computed as Π_{i=0}^{k-1} (c-i)/(n-i).
// It returns NaN when k < 1, k > n or c is outside [0, n].
func PassHatK(n, c, k int) float64 {
	if k < 1 || k > n || c < 0 || c > n {
		return math.NaN()
	}
	if c < k {
		return 0
	}
	prod := 1.0
	for i := range k {
		prod *= float64(c-i) / float64(n-i)
	}
	return prod
}
