package reports

import "math"

// PairedMeanCI returns the mean of the paired differences d and its two-sided confidence
// interval at level conf (0.95 for 95%): mean ± t_{(1+conf)/2, m-1}·sd/√m, with sd the sample
// standard deviation (m-1 denominator). Zero differences are data here and are kept. ok is
// false, and lo and hi are NaN, when m < 2 (no spread can be estimated), conf is outside
// (0, 1) or d holds a NaN; mean is still the mean of d when it exists. When all differences
// are equal the interval has zero width.
func PairedMeanCI(d []float64, conf float64) (mean, lo, hi float64, ok bool) {
	undef := math.NaN()
	m := len(d)
	if m == 0 {
		return undef, undef, undef, false
	}
	mean, sd := meanAndSD(d)
	if m < 2 || !(conf > 0 && conf < 1) || math.IsNaN(mean) {
		return mean, undef, undef, false
	}
	half := StudentTQuantile((1+conf)/2, float64(m-1)) * sd / math.Sqrt(float64(m))
	return mean, mean - half, mean + half, true
}

// meanAndSD returns the mean and the sample standard deviation (m-1 denominator; NaN for a
// single value) in two passes, which avoids the cancellation of the one-pass formula.
func meanAndSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// MinDetectableEffect returns the smallest true mean paired difference that a two-sided test
// at alpha = 0.05 detects with 80% power, given the standard deviation sd of the paired
// differences and m pairs.
//
// It uses the t-based form (t_{0.975, m-1} + t_{0.80, m-1})·sd/√m rather than the normal
// (z_{0.975} + z_{0.80})·sd/√m = 2.8016·sd/√m: the comparison's interval is a t interval, and
// with the handfuls of cases suites usually have the normal form understates the effect
// needed (by 11% at m = 10, 3% at m = 30); for large m the two agree. It returns NaN when
// m < 2 or sd is negative or NaN.
func MinDetectableEffect(sd float64, m int) float64 {
	if m < 2 || !(sd >= 0) {
		return math.NaN()
	}
	df := float64(m - 1)
	return (StudentTQuantile(0.975, df) + StudentTQuantile(0.80, df)) * sd / math.Sqrt(float64(m))
}

// GeoMeanRatio returns the geometric-mean ratio head/base of paired positive values (such as
// latencies of the same trial in two runs), exp(mean of log(head_i/base_i)), with the 95%
// interval obtained by exponentiating the t interval of the mean log ratio. ok is false and
// the bounds are NaN with fewer than 2 pairs (the ratio is still given for a single pair);
// everything is NaN when the slices differ in length or are empty, or when any value is not a
// finite positive number.
func GeoMeanRatio(base, head []float64) (ratio, lo, hi float64, ok bool) {
	undef := math.NaN()
	if len(base) != len(head) || len(base) == 0 {
		return undef, undef, undef, false
	}
	logs := make([]float64, len(base))
	for i := range base {
		if !(base[i] > 0) || !(head[i] > 0) || math.IsInf(base[i], 0) || math.IsInf(head[i], 0) {
			return undef, undef, undef, false
		}
		logs[i] = math.Log(head[i]) - math.Log(base[i])
	}
	mean, mlo, mhi, ok := PairedMeanCI(logs, 0.95)
	return math.Exp(mean), math.Exp(mlo), math.Exp(mhi), ok
}
