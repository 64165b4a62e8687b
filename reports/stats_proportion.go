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
// The rate is the mean over cases of p_i = Pass_i/N_i. The interval is a Wilson interval for
// that rate with an effective sample size n_eff = rate·(1-rate)/v, where
// v = Σ(p_i - rate)²/C² is the cluster-robust (sandwich) variance of the mean of the p_i over
// the C cases. v captures both the spread of true pass rates between cases and the sampling
// noise within them, so repeated samples of a case only narrow the interval as far as they
// actually disagree with each other.
//
// n_eff is then kept within [C, C²/Σ(1/N_i)]: the lower end is the design in which every
// case's samples are perfectly correlated (one informative draw per case; v can never exceed
// rate·(1-rate)/C, so this bound only guards rounding), the upper end is the design in which
// all samples are independent Bernoulli draws (design effect 1; with equal N_i it is the total
// number of samples). The upper bound stops the interval collapsing when, by chance, every
// case shows the same p_i, and it is also what is used when the rate is 0 or 1 (v = 0 and
// rate·(1-rate) = 0); there the lower bound C applies instead, the conservative choice. With
// one sample per case both bounds equal C and the result is exactly Wilson(ΣPass, C, Z95).
// Using Wilson rather than a t interval keeps the bounds inside [0, 1] and well behaved near
// 0 and 1.
//
// Cases with N = 0 carry no information and are skipped. It returns NaNs when no case has a
// sample or any count is invalid (Pass < 0, N < 0 or Pass > N).
func ClusteredPassRate(cases []CaseCount) (rate, lo, hi float64) {
	undef := math.NaN()
	var sum, invN float64
	c := 0
	for _, cc := range cases {
		if cc.N < 0 || cc.Pass < 0 || cc.Pass > cc.N {
			return undef, undef, undef
		}
		if cc.N == 0 {
			continue
		}
		c++
		sum += float64(cc.Pass) / float64(cc.N)
		invN += 1 / float64(cc.N)
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
	minEff, maxEff := cf, cf*cf/invN
	nEff := minEff
	if pq := rate * (1 - rate); pq > 0 {
		if v := ss / (cf * cf); v > 0 {
			nEff = pq / v
		} else {
			nEff = maxEff
		}
	}
	nEff = math.Min(math.Max(nEff, minEff), maxEff)
	lo, hi = wilsonInterval(rate, nEff, Z95)
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
