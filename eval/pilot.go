package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// PilotSize is the size of a pilot (`plan --pilot`): a count of trials, or
// a fraction of the suite's trials (Fraction > 0).
type PilotSize struct {
	Count    int
	Fraction float64
}

// ParsePilotSize parses "20" (trials) or "5%" (of the suite's trials). A
// count must be at least 1; a percentage must be above 0 and at most 100.
func ParsePilotSize(s string) (PilotSize, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return PilotSize{}, fmt.Errorf("%q: want a count of trials such as 20 or a percentage such as 5%%", s)
		}
		if f <= 0 || f > 100 {
			return PilotSize{}, fmt.Errorf("%q: a percentage must be above 0%% and at most 100%%", s)
		}
		return PilotSize{Fraction: f / 100}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return PilotSize{}, fmt.Errorf("%q: want a count of trials such as 20 or a percentage such as 5%%", s)
	}
	if n < 1 {
		return PilotSize{}, fmt.Errorf("%q: a pilot needs at least 1 trial", s)
	}
	return PilotSize{Count: n}, nil
}

// Of is the number of trials the size asks for out of total: the count, or
// the fraction of total rounded up (at least 1).
func (p PilotSize) Of(total int) int {
	if p.Fraction > 0 {
		return max(int(math.Ceil(p.Fraction*float64(total)-1e-9)), 1)
	}
	return p.Count
}

// String is the size as it was given, e.g. "20" or "5%".
func (p PilotSize) String() string {
	if p.Fraction > 0 {
		return strconv.FormatFloat(p.Fraction*100, 'g', -1, 64) + "%"
	}
	return strconv.Itoa(p.Count)
}

// PilotAllocate divides a pilot of total trials over strata (cells and
// variants) of counts[i] trials: every non-empty stratum gets at least one,
// the rest go proportionally to the strata's sizes (largest remainder, ties
// to the earlier stratum), and no stratum gets more than it has. A total
// below the number of non-empty strata is raised to it; one above the sum
// of counts is cut to it.
func PilotAllocate(counts []int, total int) []int {
	n := make([]int, len(counts))
	sum, strata := 0, 0
	for _, c := range counts {
		if c > 0 {
			sum += c
			strata++
		}
	}
	total = min(max(total, strata), sum)
	if sum == 0 {
		return n
	}
	target := make([]float64, len(counts))
	got := 0
	for i, c := range counts {
		if c <= 0 {
			continue
		}
		target[i] = float64(total) * float64(c) / float64(sum)
		n[i] = min(max(int(math.Floor(target[i]+1e-9)), 1), c)
		got += n[i]
	}
	// Add where the allocation falls furthest below its share, or take
	// from where it stands furthest above (never below one).
	for got != total {
		best, bestGap := -1, 0.0
		for i, c := range counts {
			gap := target[i] - float64(n[i])
			switch {
			case got < total && n[i] < c && (best < 0 || gap > bestGap):
				best, bestGap = i, gap
			case got > total && n[i] > 1 && (best < 0 || gap < bestGap):
				best, bestGap = i, gap
			}
		}
		if got < total {
			n[best]++
			got++
		} else {
			n[best]--
			got--
		}
	}
	return n
}

// PilotSelect chooses a stratified random sample of total trials: for each
// stratum, the sorted 0-based indices (in the stratum's trial order) of the
// trials to run, PilotAllocate's number of them drawn uniformly without
// replacement. The same counts, total and seed give the same selection.
func PilotSelect(counts []int, total int, seed uint64) [][]int {
	alloc := PilotAllocate(counts, total)
	rng := rand.New(rand.NewPCG(seed, 0x70696c6f74)) // "pilot"
	out := make([][]int, len(counts))
	for i, c := range counts {
		k := alloc[i]
		if k == 0 {
			continue
		}
		// Partial Fisher–Yates over a lazily materialised permutation.
		swapped := map[int]int{}
		at := func(j int) int {
			if v, ok := swapped[j]; ok {
				return v
			}
			return j
		}
		sel := make([]int, k)
		for j := range k {
			r := j + rng.IntN(c-j)
			sel[j] = at(r)
			swapped[r] = at(j)
		}
		sort.Ints(sel)
		out[i] = sel
	}
	return out
}

// PilotObs is what one pilot trial measured: its cost in USD and its
// output tokens (completion, thinking included) over all its samples, and
// its task latency in seconds (NaN when unknown, e.g. a failed request).
type PilotObs struct {
	Cost         float64 `json:"cost"`
	OutputTokens float64 `json:"outputTokens"`
	Latency      float64 `json:"latencySeconds"`
}

// PilotStratum is one cell and variant: its number of trials in the full
// suite, the observations of its pilot trials, and (CostBound > 0) the hard
// upper bound of its cost, which no interval passes.
type PilotStratum struct {
	Cell      string
	Variant   string
	Trials    int
	Obs       []PilotObs
	CostBound float64
}

// Spread* say where an estimate's uncertainty comes from.
const (
	// SpreadExact: every trial was observed (no uncertainty).
	SpreadExact = "exact"
	// SpreadMeasured: the stratum's own pilot trials (two or more).
	SpreadMeasured = "measured"
	// SpreadBorrowed: one pilot trial; its spread is the pooled
	// coefficient of variation of the strata with two or more.
	SpreadBorrowed = "borrowed"
	// SpreadUnknown: no spread could be estimated; Low and High are NaN.
	SpreadUnknown = "unknown"
)

// Estimate is a forecast total with its 95% interval: Mean ± t(0.975, DF)
// × SE, clamped to what is possible (at least what the pilot observed, at
// most the hard bound). SE is the standard error of the total.
type Estimate struct {
	Mean   float64 `json:"mean"`
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	SE     float64 `json:"se"`
	DF     float64 `json:"df,omitempty"`
	Spread string  `json:"spread"`
	// observed is what the pilot itself measured (the interval's floor).
	observed float64
}

// PilotCell is the forecast for one stratum, or the total.
type PilotCell struct {
	Cell    string `json:"cell"`
	Variant string `json:"variant,omitempty"`
	Trials  int    `json:"trials"`
	Piloted int    `json:"piloted"`
	// Cost and OutputTokens are totals over the full run's trials; Busy
	// is Σ task latencies in seconds (Spread "unknown" without latencies).
	Cost         Estimate `json:"cost"`
	OutputTokens Estimate `json:"outputTokens"`
	Busy         Estimate `json:"busySeconds"`
}

// PilotForecast is the forecast of a full run from a pilot.
type PilotForecast struct {
	Cells []PilotCell `json:"cells"`
	Total PilotCell   `json:"total"`
	// Duration is max(tasks / rate, Busy / concurrency) in seconds.
	Duration Estimate `json:"durationSeconds"`
}

// PilotOptions are the run's limits for the duration forecast.
type PilotOptions struct {
	Rate        float64
	Concurrency int
}

// stratumMetric is one stratum's sample of one metric.
type stratumMetric struct {
	N     int
	xs    []float64
	bound float64
}

// ForecastPilot forecasts the full run's cost, output tokens and duration
// from a stratified pilot. Per stratum of N trials with n observed of mean m
// and sample variance s², the total is N·m with variance N²(1 − n/N)s²/n
// (the finite population correction makes a fully observed stratum exact)
// and a t interval with n − 1 degrees of freedom. A stratum with one
// observation takes the pooled squared coefficient of variation of the
// strata with two or more. The total sums the strata's means and variances,
// with Welch–Satterthwaite degrees of freedom.
func ForecastPilot(strata []PilotStratum, opt PilotOptions) PilotForecast {
	var f PilotForecast
	f.Total.Cell = "total"
	metrics := []struct {
		get   func(PilotObs) float64
		bound bool
		set   func(*PilotCell) *Estimate
	}{
		{func(o PilotObs) float64 { return o.Cost }, true, func(c *PilotCell) *Estimate { return &c.Cost }},
		{func(o PilotObs) float64 { return o.OutputTokens }, false, func(c *PilotCell) *Estimate { return &c.OutputTokens }},
		{func(o PilotObs) float64 { return o.Latency }, false, func(c *PilotCell) *Estimate { return &c.Busy }},
	}
	f.Cells = make([]PilotCell, len(strata))
	for i, s := range strata {
		f.Cells[i] = PilotCell{Cell: s.Cell, Variant: s.Variant, Trials: s.Trials, Piloted: len(s.Obs)}
		f.Total.Trials += s.Trials
		f.Total.Piloted += len(s.Obs)
	}
	for _, m := range metrics {
		ms := make([]stratumMetric, len(strata))
		for i, s := range strata {
			ms[i] = stratumMetric{N: s.Trials}
			if m.bound {
				ms[i].bound = s.CostBound
			}
			for _, o := range s.Obs {
				if v := m.get(o); !math.IsNaN(v) {
					ms[i].xs = append(ms[i].xs, v)
				}
			}
		}
		cells, total := forecastMetric(ms)
		for i := range cells {
			*m.set(&f.Cells[i]) = cells[i]
		}
		*m.set(&f.Total) = total
	}
	f.Duration = durationEstimate(f.Total.Busy, f.Total.Trials, opt)
	return f
}

// forecastMetric estimates each stratum's total of one metric and the sum.
func forecastMetric(ms []stratumMetric) ([]Estimate, Estimate) {
	// Pooled squared coefficient of variation, for strata of one.
	var cvNum, cvDen float64
	for _, m := range ms {
		n := len(m.xs)
		if n < 2 {
			continue
		}
		mean, v := meanVar(m.xs)
		if mean > 0 {
			cvNum += float64(n-1) * v / (mean * mean)
			cvDen += float64(n - 1)
		}
	}
	out := make([]Estimate, len(ms))
	var total Estimate
	var varSum, dfDen, boundSum float64
	bounded, unknown := true, false
	for i, m := range ms {
		n, N := len(m.xs), float64(m.N)
		e := Estimate{}
		for _, x := range m.xs {
			e.observed += x
		}
		var v, df float64
		switch {
		case m.N == 0:
			e.Spread = SpreadExact
		case n == 0:
			e.Spread = SpreadUnknown
		case n >= m.N:
			e.Mean, e.Spread = e.observed, SpreadExact
		case n == 1:
			e.Mean = N * m.xs[0]
			if cvDen == 0 {
				e.Spread = SpreadUnknown
				break
			}
			s2 := cvNum / cvDen * m.xs[0] * m.xs[0]
			v, df, e.Spread = N*N*(1-1/N)*s2, cvDen, SpreadBorrowed
		default:
			mean, s2 := meanVar(m.xs)
			e.Mean = N * mean
			v, df, e.Spread = N*N*(1-float64(n)/N)*s2/float64(n), float64(n-1), SpreadMeasured
		}
		e.SE, e.DF = math.Sqrt(v), df
		e.setInterval(m.bound)
		out[i] = e

		total.Mean += e.Mean
		total.observed += e.observed
		varSum += v
		if v > 0 {
			dfDen += v * v / df
		}
		if e.Spread == SpreadUnknown {
			unknown = true
		}
		if m.bound > 0 {
			boundSum += m.bound
		} else {
			bounded = false
		}
	}
	total.SE = math.Sqrt(varSum)
	switch {
	case unknown:
		total.Spread = SpreadUnknown
	case varSum == 0:
		total.Spread = SpreadExact
	default:
		total.Spread, total.DF = SpreadMeasured, varSum*varSum/dfDen
	}
	if !bounded {
		boundSum = 0
	}
	total.setInterval(boundSum)
	return out, total
}

// setInterval fills Low and High from Mean, SE and DF, clamped to
// [observed, bound] (bound 0 = none).
func (e *Estimate) setInterval(bound float64) {
	switch e.Spread {
	case SpreadUnknown:
		e.Low, e.High = math.NaN(), math.NaN()
		return
	case SpreadExact:
		e.Low, e.High = e.Mean, e.Mean
		return
	}
	h := TQuantile975(e.DF) * e.SE
	e.Low, e.High = math.Max(e.Mean-h, e.observed), e.Mean+h
	if bound > 0 {
		e.High = math.Min(e.High, bound)
		e.Low = math.Min(e.Low, bound)
	}
}

// durationEstimate is max(tasks / rate, busy / concurrency), endpoint by
// endpoint; SE scales with busy / concurrency.
func durationEstimate(busy Estimate, tasks int, opt PilotOptions) Estimate {
	floor := 0.0
	if opt.Rate > 0 {
		floor = float64(tasks) / opt.Rate
	}
	c := float64(max(opt.Concurrency, 1))
	d := Estimate{Spread: busy.Spread, DF: busy.DF, SE: busy.SE / c}
	d.Mean = math.Max(busy.Mean/c, floor)
	d.Low, d.High = math.Max(busy.Low/c, floor), math.Max(busy.High/c, floor)
	if busy.Spread == SpreadUnknown {
		d.Low, d.High = math.NaN(), math.NaN()
		if floor > 0 {
			d.Low = floor
		}
	}
	return d
}

// ExceedProbability is the chance that the true total passes limit, by the
// normal approximation N(Mean, SE²); NaN when the spread is unknown.
func (e Estimate) ExceedProbability(limit float64) float64 {
	switch {
	case e.Spread == SpreadUnknown:
		return math.NaN()
	case e.SE == 0 || e.Spread == SpreadExact:
		if e.Mean > limit {
			return 1
		}
		return 0
	}
	return 0.5 * math.Erfc((limit-e.Mean)/(e.SE*math.Sqrt2))
}

// meanVar returns the mean and the sample variance (n − 1) of xs.
func meanVar(xs []float64) (float64, float64) {
	var s float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	if len(xs) < 2 {
		return m, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return m, ss / float64(len(xs)-1)
}

// TQuantile975 is the 0.975 quantile of Student's t with df degrees of
// freedom (df may be fractional, as Satterthwaite's is; df <= 1 uses 1, NaN
// or +Inf the normal), found by bisection on the distribution function.
func TQuantile975(df float64) float64 {
	switch {
	case math.IsNaN(df) || math.IsInf(df, 1) || df > 1e7:
		return 1.959963984540054
	case df <= 1:
		return 12.706204736174698
	}
	lo, hi := 1.959963984540054, 12.706204736174698
	for range 100 {
		mid := (lo + hi) / 2
		if tUpper(mid, df) > 0.025 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// tUpper is P(T > t) for t > 0: ½·I_{df/(df+t²)}(df/2, ½).
func tUpper(t, df float64) float64 {
	return 0.5 * regIncBeta(df/2, 0.5, df/(df+t*t))
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by
// its continued fraction (Lentz's method).
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x > (a+1)/(a+b+2) {
		return 1 - regIncBeta(b, a, 1-x)
	}
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	f := d
	for m := 1; m <= 300; m++ {
		mf := float64(m)
		num := mf * (b - mf) * x / ((a + 2*mf - 1) * (a + 2*mf))
		for range 2 {
			d = 1 + num*d
			if math.Abs(d) < tiny {
				d = tiny
			}
			c = 1 + num/c
			if math.Abs(c) < tiny {
				c = tiny
			}
			d = 1 / d
			f *= c * d
			num = -(a + mf) * (a + b + mf) * x / ((a + 2*mf) * (a + 2*mf + 1))
		}
		if math.Abs(c*d-1) < 1e-15 {
			break
		}
	}
	return front * f / a
}

// MarshalJSON writes an unknown bound (NaN) as null, which JSON can carry.
func (e Estimate) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		Mean   float64  `json:"mean"`
		Low    *float64 `json:"low"`
		High   *float64 `json:"high"`
		SE     float64  `json:"se"`
		DF     *float64 `json:"df,omitempty"`
		Spread string   `json:"spread"`
	}{e.Mean, num(e.Low), num(e.High), e.SE, num(e.DF), e.Spread})
}
