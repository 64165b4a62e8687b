package reports

import (
	"math"
	"math/rand/v2"
	"slices"
)

// McNemarExact returns the exact two-sided McNemar p-value for paired binary outcomes from
// the discordant counts b (base pass, head fail) and c (base fail, head pass): conditional on
// m = b+c, b ~ Binomial(m, ½) under no difference, and the p-value is
// min(1, 2·P(B <= min(b, c))). With no discordant pairs it is 1; negative counts give NaN.
func McNemarExact(b, c int) float64 {
	if b < 0 || c < 0 {
		return math.NaN()
	}
	m := b + c
	if m == 0 {
		return 1
	}
	tail := 0.0
	for j := range min(b, c) + 1 {
		tail += binomialPMF(j, m, 0.5)
	}
	return math.Min(1, 2*tail)
}

// SignFlipPValue enumerates every sign assignment up to signFlipExactMax non-zero
// differences; above it, it samples signFlipDraws random assignments.
const (
	signFlipExactMax = 20
	signFlipDraws    = 100000
)

// SignFlipPValue returns the two-sided p-value of the sign-flip permutation test on paired
// differences d, with the mean difference as the statistic: under no difference each d_i is
// as likely to have either sign, and the p-value is the share of sign assignments whose
// |mean| is at least the observed |mean|. Zero differences do not change under a flip and are
// dropped; with none left the p-value is 1. A NaN or infinite value in d gives NaN.
//
// With m <= 20 non-zero differences all 2^m assignments are counted exactly (meet in the
// middle: the sums of the two halves are tabulated and one is sorted, so the cost is about
// 2^(m/2)·log). With more, 100000 assignments are drawn from a PCG generator with a fixed
// seed, so the result is reproducible, and the p-value is (hits+1)/(draws+1), which counts the
// observed assignment and is never 0 (Phipson & Smyth 2010); its Monte Carlo standard error is
// at most 0.0016.
//
// Sums that differ from the observed one by less than 1e-9·Σ|d_i| count as ties (at least as
// extreme), so that rounding cannot drop an assignment with the same mean, as with pass rates
// like 1/3 + 1/3 + 1/3 against 1.
func SignFlipPValue(d []float64) float64 {
	var nz []float64
	scale := 0.0
	for _, x := range d {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return math.NaN()
		}
		if x != 0 {
			nz = append(nz, x)
			scale += math.Abs(x)
		}
	}
	if len(nz) == 0 {
		return 1
	}
	tol := 1e-9 * scale
	if len(nz) > signFlipExactMax {
		return signFlipMonteCarlo(nz, tol)
	}
	return signFlipExact(nz, tol)
}

// signFlipExact counts all 2^m sign assignments by meeting in the middle.
func signFlipExact(d []float64, tol float64) float64 {
	half := len(d) / 2
	left, right := signedSums(d[:half]), signedSums(d[half:])
	// Index 0 of each table is the all-plus assignment, i.e. the observed one; forming the
	// observed sum the same way as every other keeps it an exact tie with itself.
	threshold := math.Abs(left[0]+right[0]) - tol
	if threshold <= 0 {
		return 1
	}
	slices.Sort(right)
	hits := 0
	for _, l := range left {
		// right values r with l+r >= threshold, then those with l+r <= -threshold; the two sets
		// are disjoint because threshold > 0.
		i, _ := slices.BinarySearch(right, threshold-l)
		hits += len(right) - i
		j := upperBound(right, -threshold-l)
		hits += j
	}
	return float64(hits) / math.Ldexp(1, len(d))
}

// signedSums returns Σ ±d_i over all 2^len(d) sign choices; entry 0 takes every sign as +.
func signedSums(d []float64) []float64 {
	sums := make([]float64, 1, 1<<len(d))
	for _, x := range d {
		n := len(sums)
		for i := range n {
			sums = append(sums, sums[i]-x)
			sums[i] += x
		}
	}
	return sums
}

// upperBound returns the number of elements of the ascending slice xs that are <= v.
func upperBound(xs []float64, v float64) int {
	lo, hi := 0, len(xs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if xs[mid] <= v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// signFlipMonteCarlo estimates the sign-flip p-value from signFlipDraws seeded random sign
// assignments.
func signFlipMonteCarlo(d []float64, tol float64) float64 {
	observed := 0.0
	for _, x := range d {
		observed += x
	}
	threshold := math.Abs(observed) - tol
	if threshold <= 0 {
		return 1
	}
	// Signed sums of each group of 8 differences for all 256 sign patterns, so that one
	// random byte settles 8 signs with a single lookup.
	groups := make([][256]float64, (len(d)+7)/8)
	for g := range groups {
		for pattern := range 256 {
			sum := 0.0
			for j := 0; j < 8 && 8*g+j < len(d); j++ {
				if pattern>>j&1 == 1 {
					sum += d[8*g+j]
				} else {
					sum -= d[8*g+j]
				}
			}
			groups[g][pattern] = sum
		}
	}
	// A fixed seed: the same differences always give the same p-value.
	rng := rand.New(rand.NewPCG(0x70726f6d70746772, 0x69642d7369676e66))
	hits := 0
	for range signFlipDraws {
		sum := 0.0
		var bits uint64
		for g := range groups {
			if g%8 == 0 {
				bits = rng.Uint64()
			}
			sum += groups[g][bits&0xff]
			bits >>= 8
		}
		if math.Abs(sum) >= threshold {
			hits++
		}
	}
	return float64(hits+1) / float64(signFlipDraws+1)
}

// Holm returns Holm–Bonferroni adjusted p-values, in the order of p: with the m p-values
// sorted ascending, the i-th (1-based) is adjusted to max over j <= i of (m-j+1)·p_(j), capped
// at 1, so the adjusted values keep the order of the raw ones. Rejecting where the adjusted
// value is <= alpha controls the family-wise error rate at alpha. NaN entries (no test) stay
// NaN and are not counted in m.
func Holm(p []float64) []float64 {
	adj := make([]float64, len(p))
	order := make([]int, 0, len(p))
	for i, x := range p {
		if math.IsNaN(x) {
			adj[i] = math.NaN()
			continue
		}
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	m := len(order)
	running := 0.0
	for rank, i := range order {
		running = math.Max(running, math.Min(1, float64(m-rank)*p[i]))
		adj[i] = running
	}
	return adj
}
