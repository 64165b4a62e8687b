package reports

import (
	"fmt"
	"math"
)

// pairedCase counts one case's paired outcomes of a binary event within a
// cell: a pass (quality) or an error (availability).
type pairedCase struct {
	n          int
	base, head int
	// bOnly and cOnly are the discordant pairs (event in base only, in head
	// only), for McNemar.
	bOnly, cOnly int
}

func (p *pairedCase) add(base, head bool) {
	p.n++
	if base {
		p.base++
	}
	if head {
		p.head++
	}
	switch {
	case base && !head:
		p.bOnly++
	case !base && head:
		p.cOnly++
	}
}

// paired is the paired analysis of an event's rate over the cases that have
// pairs: the mean over cases of head - base rates with a 95% interval
// (t on per-case differences, or the exact bound for equal differences)
// that agrees with the exact test (McNemar with one pair per case, else
// sign-flip).
type paired struct {
	cases              int
	pairs              int
	baseRate, headRate float64
	diffs              []float64
	sd                 float64
	diff               Interval
	zeroSpread         bool
	test               string
	p                  float64
	bOnly, cOnly       int
}

func pairedStats(cs []pairedCase) paired {
	out := paired{baseRate: math.NaN(), headRate: math.NaN(), sd: math.NaN(), p: math.NaN(),
		diff: Interval{nan, nan, nan}}
	var baseSum, headSum float64
	single := true
	for _, c := range cs {
		if c.n == 0 {
			continue
		}
		br, hr := float64(c.base)/float64(c.n), float64(c.head)/float64(c.n)
		baseSum += br
		headSum += hr
		out.diffs = append(out.diffs, hr-br)
		out.bOnly += c.bOnly
		out.cOnly += c.cOnly
		out.pairs += c.n
		if c.n != 1 {
			single = false
		}
	}
	out.cases = len(out.diffs)
	if out.cases == 0 {
		return out
	}
	m := float64(out.cases)
	out.baseRate, out.headRate = baseSum/m, headSum/m
	out.diff, out.sd, out.zeroSpread = meanDiffInterval(out.diffs)
	if single {
		out.test = "mcnemar"
		out.p = McNemarExact(out.bOnly, out.cOnly)
	} else {
		out.test = "sign-flip"
		out.p = SignFlipPValue(out.diffs)
	}
	out.diff = agreeWithTest(out.diff, out.p)
	return out
}

// AvailabilityDiff compares a cell's error rates (the share of samples that
// got no answer: an error or a timeout) over every paired sample, apart
// from quality.
type AvailabilityDiff struct {
	// Cases and Pairs count the paired cases and samples.
	Cases int `json:"cases"`
	Pairs int `json:"pairs"`
	// BaseErrorRate and HeadErrorRate are means over cases of each case's
	// share of samples without an answer.
	BaseErrorRate Num `json:"baseErrorRate"`
	HeadErrorRate Num `json:"headErrorRate"`
	// Diff is head - base error rate with a 95% interval, computed as the
	// pass-rate difference is (per-case paired differences); positive means
	// head got fewer answers.
	Diff       Interval `json:"diff"`
	ZeroSpread bool     `json:"zeroSpread"`
	// Test, P and PHolm are the exact test and its p-value, Holm-adjusted
	// across cells apart from the quality p-values.
	Test  string `json:"test"`
	P     Num    `json:"p"`
	PHolm Num    `json:"pHolm"`
	// Verdict is worse when the whole interval lies above 0 (the error rate
	// rose) and PHolm < Alpha, better when it lies below 0 likewise, else no
	// detectable change. No margin applies.
	Verdict string `json:"verdict"`
}

func newAvailability(e paired) AvailabilityDiff {
	return AvailabilityDiff{Cases: e.cases, Pairs: e.pairs, BaseErrorRate: Num(e.baseRate), HeadErrorRate: Num(e.headRate),
		Diff: e.diff, ZeroSpread: e.zeroSpread, Test: e.test, P: Num(e.p), PHolm: nan, Verdict: VerdictNoChange}
}

// availabilityVerdicts Holm-adjusts the cells' availability p-values, sets
// their verdicts and returns how many are worse. A cell without a single
// error in either run has p = 1.
func availabilityVerdicts(cells []*CellDiff) int {
	ps := make([]float64, len(cells))
	for i, d := range cells {
		ps[i] = float64(d.Availability.P)
	}
	worse := 0
	for i, p := range Holm(ps) {
		a := &cells[i].Availability
		a.PHolm = Num(p)
		a.Verdict = VerdictNoChange
		if a.Diff.Lo.Defined() && a.PHolm.Defined() && p < Alpha {
			switch {
			case a.Diff.Lo > 0:
				a.Verdict = VerdictWorse
				worse++
			case a.Diff.Hi < 0:
				a.Verdict = VerdictBetter
			}
		}
	}
	return worse
}

// ErrorRateFailures lists, one line each, the cells whose error rate
// exceeds max (Options.MaxErrorRate): the single-report availability gate.
// The total is not gated: it repeats the cells.
func (s *Summary) ErrorRateFailures(max float64) []string {
	var out []string
	if !(max > 0) {
		return out
	}
	for _, c := range s.Cells {
		if er := float64(c.ErrorRate.Value); er > max {
			out = append(out, fmt.Sprintf("cell %s: error rate %.1f%% (%d of %d samples without an answer) exceeds --max-error-rate %.1f%%",
				c.Label, 100*er, c.Errored, c.Samples, 100*max))
		}
	}
	return out
}
