package reports

import "math"

// Z95 is the two-sided 95% normal critical value, NormalQuantile(0.975). Pass it as the z of
// Wilson for a 95% interval.
const Z95 = 1.959963984540054

// NormalQuantile returns the p-quantile of the standard normal distribution: -Inf at p=0,
// +Inf at p=1 and NaN outside [0,1].
//
// The starting value comes from math.Erfcinv; one Halley step on the CDF (computed with
// math.Erfc, which keeps its relative accuracy in the lower tail) then brings it to near full
// double precision, so tail quantiles are not limited by the cancellation in 1-2p.
func NormalQuantile(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p > 0.5:
		// 1-p is exact for p in [0.5, 1], so the symmetry costs no precision.
		return -NormalQuantile(1 - p)
	}
	z := -math.Sqrt2 * math.Erfcinv(2*p)
	e := normalCDF(z) - p
	u := e * math.Sqrt(2*math.Pi) * math.Exp(z*z/2)
	return z - u/(1+z*u/2)
}

// normalCDF is the standard normal distribution function.
func normalCDF(z float64) float64 {
	return 0.5 * math.Erfc(-z/math.Sqrt2)
}

// StudentTQuantile returns the p-quantile of Student's t distribution with df degrees of
// freedom (df > 0, not necessarily an integer; df=+Inf gives the normal quantile). It returns
// NaN for p outside [0,1] or df <= 0, and ±Inf at p = 0 or 1.
//
// df = 1 and df = 2 have closed forms, and df >= 1e5 uses the Cornish–Fisher expansion,
// exact to double precision there. Otherwise the root of the upper tail
// ½·I_{df/(df+t²)}(df/2, ½) = 1-p is found by Newton steps from a Cornish–Fisher start,
// safeguarded by bisection inside a bracket, so it converges for every df and p; the result
// is accurate to about 1e-12 relative.
func StudentTQuantile(p, df float64) float64 {
	switch {
	case math.IsNaN(p) || math.IsNaN(df) || p < 0 || p > 1 || df <= 0:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p == 0.5:
		return 0
	case math.IsInf(df, 1):
		return NormalQuantile(p)
	case p < 0.5:
		return -studentTUpperQuantile(p, df)
	}
	return studentTUpperQuantile(1-p, df)
}

// studentTUpperQuantile returns the t > 0 whose upper tail probability is q, 0 < q < 0.5.
func studentTUpperQuantile(q, df float64) float64 {
	if df == 1 {
		return math.Tan(math.Pi * (0.5 - q))
	}
	if df == 2 {
		// F(t) = ½ + t/(2√(2+t²)) inverts to t = (2p-1)/√(2p(1-p)) with p = 1-q.
		return (1 - 2*q) / math.Sqrt(2*q*(1-q))
	}
	t := cornishFisherT(q, df)
	if df >= 1e5 {
		// The expansion's next term is below 1e-15 here, while the log-gamma differences in
		// the incomplete beta start losing digits (lgamma(df/2) ≈ df·log df).
		return t
	}
	lo, hi := 0.0, math.Max(2*t, 1)
	for studentTUpper(hi, df) > q {
		lo, hi = hi, 2*hi
	}
	if t <= lo || t >= hi {
		t = (lo + hi) / 2
	}
	for range 300 {
		f := studentTUpper(t, df) - q
		if f == 0 {
			return t
		}
		if f > 0 {
			lo = t // the tail beyond t is still too heavy: the root lies to the right
		} else {
			hi = t
		}
		next := t + f/studentTPDF(t, df)
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		if math.Abs(next-t) <= 1e-15*t || hi-lo <= 1e-15*hi {
			return next
		}
		t = next
	}
	return t
}

// cornishFisherT is the Cornish–Fisher expansion of the t quantile in powers of 1/df
// (Abramowitz & Stegun 26.7.5); good for moderate df and a fine starting point elsewhere.
func cornishFisherT(q, df float64) float64 {
	z := -NormalQuantile(q)
	z2 := z * z
	g1 := (z2 + 1) * z / 4
	g2 := ((5*z2+16)*z2 + 3) * z / 96
	g3 := (((3*z2+19)*z2+17)*z2 - 15) * z / 384
	g4 := ((((79*z2+776)*z2+1482)*z2-1920)*z2 - 945) * z / 92160
	return z + g1/df + g2/(df*df) + g3/(df*df*df) + g4/(df*df*df*df)
}

// studentTUpper is P(T > t) for t >= 0. Both x = df/(df+t²) and 1-x = t²/(df+t²) are formed
// directly so that neither loses precision to cancellation.
func studentTUpper(t, df float64) float64 {
	t2 := t * t
	return 0.5 * regIncBeta(df/2, 0.5, df/(df+t2), t2/(df+t2))
}

// studentTPDF is the density of Student's t distribution.
func studentTPDF(t, df float64) float64 {
	lg1, _ := math.Lgamma((df + 1) / 2)
	lg2, _ := math.Lgamma(df / 2)
	return math.Exp(lg1 - lg2 - 0.5*math.Log(df*math.Pi) - (df+1)/2*math.Log1p(t*t/df))
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), with y = 1-x supplied by
// the caller (computed without cancellation). It uses the continued fraction of Numerical
// Recipes §6.4 (modified Lentz), on whichever of x or y makes it converge quickly.
func regIncBeta(a, b, x, y float64) float64 {
	if x <= 0 {
		return 0
	}
	if y <= 0 {
		return 1
	}
	lx, ly := math.Log(x), math.Log(y)
	if x > 0.5 {
		lx = math.Log1p(-y)
	} else {
		ly = math.Log1p(-x)
	}
	front := math.Exp(a*lx + b*ly - logBeta(a, b))
	if x < (a+1)/(a+b+2) {
		return front * betaContinuedFraction(a, b, x) / a
	}
	return 1 - front*betaContinuedFraction(b, a, y)/b
}

// logBeta is log B(a, b) for a, b > 0. With a large argument the difference of log-gammas
// would cancel most of its digits (lgamma(5e4) ≈ 5e5), so the Stirling parts are subtracted
// analytically and only the small corrections are computed, as R's lbeta does.
func logBeta(a, b float64) float64 {
	p, q := math.Min(a, b), math.Max(a, b)
	switch {
	case p >= 10:
		corr := stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p+q)
		return -0.5*math.Log(q) + 0.5*math.Log(2*math.Pi) + corr +
			(p-0.5)*math.Log(p/(p+q)) + q*math.Log1p(-p/(p+q))
	case q >= 10:
		lp, _ := math.Lgamma(p)
		corr := stirlingCorrection(q) - stirlingCorrection(p+q)
		return lp + corr + p - p*math.Log(p+q) + (q-0.5)*math.Log1p(-p/(p+q))
	}
	lp, _ := math.Lgamma(p)
	lq, _ := math.Lgamma(q)
	lpq, _ := math.Lgamma(p + q)
	return lp + lq - lpq
}

// stirlingCorrection is lgamma(x) - ((x-½)·log x - x + ½·log 2π), by its asymptotic series;
// accurate to double precision for x >= 10.
func stirlingCorrection(x float64) float64 {
	r := 1 / (x * x)
	return (1.0/12 + r*(-1.0/360+r*(1.0/1260+r*(-1.0/1680+r*(1.0/1188+r*(-691.0/360360+r/156)))))) / x
}

// betaContinuedFraction evaluates the continued fraction for I_x(a, b).
func betaContinuedFraction(a, b, x float64) float64 {
	const tiny = 1e-300
	fix := func(v float64) float64 {
		if math.Abs(v) < tiny {
			return tiny
		}
		return v
	}
	c := 1.0
	d := 1 / fix(1-(a+b)*x/(a+1))
	h := d
	for m := 1.0; m <= 10000; m++ {
		aa := m * (b - m) * x / ((a + 2*m - 1) * (a + 2*m))
		d = 1 / fix(1+aa*d)
		c = fix(1 + aa/c)
		h *= d * c
		aa = -(a + m) * (a + b + m) * x / ((a + 2*m) * (a + 2*m + 1))
		d = 1 / fix(1+aa*d)
		c = fix(1 + aa/c)
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return h
}

// logChoose is log C(n, k) for 0 <= k <= n.
func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// binomialPMF is P(B = k) for B ~ Binomial(n, p), 0 < p < 1, computed in logs so that large n
// neither overflows nor underflows before the end.
func binomialPMF(k, n int, p float64) float64 {
	return math.Exp(logChoose(n, k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}
