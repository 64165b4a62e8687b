package reports

import "math"

// ConstantSampleCI returns a confidence interval at level conf for the mean of a variable
// bounded in [a, b] when all m observations equal c: the case where the t interval has zero
// width (sd = 0) and would claim the mean is known exactly.
//
// It is exact and distribution-free. Let q be the probability that the variable differs from
// c. Seeing m values equal to c has probability (1-q)^m, so the two-sided Clopper–Pearson
// bound for zero "other" outcomes in m trials, q_u = 1 - ((1-conf)/2)^(1/m), bounds q; the
// mean lies between c - q·(c-a) (the other mass all at a) and c + q·(b-c) (all at b). For
// paired pass-rate differences (a = -1, b = +1), 6 cases that all flipped from pass to fail
// give [-1, -0.081]; 3 give [-1, +0.415], which includes no change.
//
// ok is false and the bounds are NaN when m < 1, conf is outside (0, 1), a > b, or c is not
// in [a, b].
func ConstantSampleCI(c float64, m int, a, b, conf float64) (lo, hi float64, ok bool) {
	if m < 1 || !(conf > 0 && conf < 1) || !(a <= b) || !(c >= a && c <= b) {
		return math.NaN(), math.NaN(), false
	}
	q := 1 - math.Pow((1-conf)/2, 1/float64(m))
	return c - q*(c-a), c + q*(b-c), true
}

// MinAttainableP returns the smallest two-sided p-value the comparison's exact tests can
// give with m paired cases, whatever the data: 2·(1/2)^m, reached when every case moves the
// same way (McNemar with m discordant pairs; sign flip with m non-zero differences, where
// only the observed assignment and its mirror are as extreme). With 5 cases or fewer it is at
// least 0.0625, so no difference can be significant at 0.05. It is NaN when m < 1.
func MinAttainableP(m int) float64 {
	if m < 1 {
		return math.NaN()
	}
	return math.Min(1, math.Ldexp(1, 1-m))
}
