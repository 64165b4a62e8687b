package reports

import "math"

// casePairedStats is the analysis of an event's rate when the two runs
// pair by case only (their seeds differ, so no sample has a partner): per
// case i with answers in both runs, d_i = head rate - base rate (each the
// share of the case's samples with the event in that run); the difference
// is the mean of the d_i with a 95% t interval over cases (the exact bound
// when they are all equal), and the p-value is the exact sign-flip test on
// the d_i, which is valid here too: with no change, the two runs' samples
// of a case come from the same distribution, so each d_i is symmetric
// about 0. The interval is widened to agree with the test, as with sample
// pairing. base and head are in the same case order.
func casePairedStats(base, head []CaseCount) paired {
	out := paired{baseRate: math.NaN(), headRate: math.NaN(), sd: math.NaN(), p: math.NaN(),
		diff: Interval{nan, nan, nan}, test: "sign-flip"}
	var baseSum, headSum float64
	for i := range base {
		b, h := base[i], head[i]
		if b.N == 0 || h.N == 0 {
			continue
		}
		br, hr := float64(b.Pass)/float64(b.N), float64(h.Pass)/float64(h.N)
		baseSum += br
		headSum += hr
		out.diffs = append(out.diffs, hr-br)
	}
	out.cases = len(out.diffs)
	if out.cases == 0 {
		out.test = ""
		return out
	}
	m := float64(out.cases)
	out.baseRate, out.headRate = baseSum/m, headSum/m
	out.diff, out.sd, out.zeroSpread = meanDiffInterval(out.diffs)
	out.p = SignFlipPValue(out.diffs)
	out.diff = agreeWithTest(out.diff, out.p)
	return out
}

// meanDiffInterval is the 95% interval of the mean of per-case differences
// in [-1, 1] (a paired t interval), their standard deviation (NaN for fewer
// than 2 cases), and whether the spread is zero: equal differences (up to
// rounding of rates like 1/3) would give a t interval of zero width, so the
// exact bound for that many equal values takes its place.
func meanDiffInterval(diffs []float64) (Interval, float64, bool) {
	mean, lo, hi, _ := PairedMeanCI(diffs, 1-Alpha)
	sd := math.NaN()
	if len(diffs) >= 2 {
		_, sd = meanAndSD(diffs)
	}
	zero := sd <= 1e-12
	if zero {
		lo, hi, _ = ConstantSampleCI(mean, len(diffs), -1, 1, 1-Alpha)
	}
	return Interval{Num(mean), Num(lo), Num(hi)}, sd, zero
}
