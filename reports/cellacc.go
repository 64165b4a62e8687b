package reports

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
)

// cellAcc accumulates one cell (or, with keep false, the total, which
// counts records and gathers values, cases and trials from the cells when
// summarised).
type cellAcc struct {
	key, label, cell, variant string
	values                    map[string]any
	firstScheduled            time.Time
	m                         metricsAcc
	keep                      bool
	// log holds every sample of the cell (per-case state is derived from
	// it at Close); pending the requests with several results, folded into
	// one latency observation each.
	log     sampleLog
	pending map[pendingKey]requestTimes
	// failures are the failing samples kept per case number, for at most
	// Options.MaxCaseDetail cases (detailed counts them): only listed
	// cases show them.
	failures map[int32][]Failure
	detailed int
	// trials are the trials still counting their distinct texts, keyed by
	// Aggregator.trialID; share and shareN sum the finished ones.
	trials map[journal.ID128]trialTexts
	share  float64
	shareN int
	steps  stepsAcc
	// nVals and nCens count the observed and censored values of each
	// field (fTTFT...) among the inline rows of the log (gatherDists sizes
	// its buffers by them and skips empty fields); dists are the cell's
	// distributions once summarised (the total of a one-cell run reuses
	// them).
	nVals, nCens [nFields]int
	dists        *[nFields]Dist
}

// pendingKey is a request with several results of a case.
type pendingKey struct {
	req journal.ID128
	cs  int32
}

func newCellAcc(key, label, cell, variant string, values map[string]any, keep bool) *cellAcc {
	c := &cellAcc{key: key, label: label, cell: cell, variant: variant, values: values, keep: keep}
	if keep {
		c.trials = map[journal.ID128]trialTexts{}
		c.failures = map[int32][]Failure{}
		c.pending = map[pendingKey]requestTimes{}
	}
	return c
}

// add accounts for a sample of case number cs; req names its request
// when it has several results (nil: it has its own).
func (c *cellAcc) add(a *Aggregator, r *journal.Record, cs int32, req *journal.ID128) {
	if ts := r.Timings.Scheduled; !ts.IsZero() && (c.firstScheduled.IsZero() || ts.Before(c.firstScheduled)) {
		c.firstScheduled = ts
	}
	c.m.add(r)
	c.steps.add(r)
	row := a.rowOf(r, cs, req == nil)
	c.log.add(&row, &a.enc)
	c.count(&row)
	if req != nil {
		k := pendingKey{*req, cs}
		q, ok := c.pending[k]
		if !ok {
			q = newRequestTimes()
		}
		q.add(r)
		c.pending[k] = q
	}
	// Failing samples are kept only where a report lists them: per cell
	// (not for the total), for at most MaxCaseDetail cases.
	if fs := c.failures[cs]; !r.Pass && len(fs) < a.opts.MaxFailures {
		if len(fs) > 0 || c.detailed < caseDetailLimit(&a.opts) {
			if len(fs) == 0 {
				c.detailed++
			}
			c.failures[cs] = append(fs, failureOf(r, a.opts.FailureText))
		}
	}
}

// caseCount is what the cell summary needs of every case: its samples,
// passing and errored ones.
type caseCount struct{ samples, passed, errored int32 }

func (cc *caseCount) add(o caseCount) {
	cc.samples += o.samples
	cc.passed += o.passed
	cc.errored += o.errored
}

// caseCounts sets counts, indexed by case number, to the cell's counts
// (zero for cases without a sample in it).
func (c *cellAcc) caseCounts(counts []caseCount) {
	clear(counts)
	c.log.each(func(row *sampleRow) {
		cc := &counts[row.cs]
		cc.samples++
		if row.pass {
			cc.passed++
		}
		if row.errored {
			cc.errored++
		}
	})
}

// Fields of gatherDist.
const (
	fTTFT = iota
	fTTFO
	fE2E
	fQueue
	fToSuccess
	fPrompt
	fThinking
	fVisible
	nFields
)

// count adds a row of the log to nVals and nCens.
func (c *cellAcc) count(row *sampleRow) {
	if row.usage {
		c.nVals[fPrompt]++
		c.nVals[fThinking]++
		c.nVals[fVisible]++
	}
	if !row.inline {
		return
	}
	for f := range fPrompt {
		switch _, ok, cens := row.times.timeValue(f); {
		case ok:
			c.nVals[f]++
		case cens:
			c.nCens[f]++
		}
	}
}

// fieldQuantiles are the quantiles reported of each field.
var fieldQuantiles = [nFields][]float64{fTTFT: latencyQuantiles, fTTFO: latencyQuantiles, fE2E: latencyQuantiles,
	fQueue: latencyQuantiles, fToSuccess: latencyQuantiles, fPrompt: tokenQuantiles, fThinking: tokenQuantiles,
	fVisible: tokenQuantiles}

// gatherDists describes every field over the cells in from (gatherDist),
// a few fields at a time on GOMAXPROCS goroutines (each holds one field's
// values), skipping the fields no sample has. A cell's own distributions
// are kept (dists), and reused when the total gathers that one cell again.
func gatherDists(from []*cellAcc) [nFields]Dist {
	if len(from) == 1 && from[0].dists != nil {
		out := *from[0].dists
		for i := range out {
			out[i].Quantiles = slices.Clone(out[i].Quantiles)
		}
		return out
	}
	var out [nFields]Dist
	var sizes [nFields][2]int
	var todo []int
	for f := range nFields {
		for _, fc := range from {
			sizes[f][0] += fc.nVals[f]
			sizes[f][1] += fc.nCens[f]
			if f < fPrompt {
				sizes[f][0] += len(fc.pending)
				sizes[f][1] += len(fc.pending)
			}
		}
		if sizes[f] == [2]int{} {
			out[f] = newCensoredDist(nil, nil, fieldQuantiles[f])
			continue
		}
		todo = append(todo, f)
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	next := make(chan int, len(todo))
	for _, f := range todo {
		next <- f
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for f := range next {
				xs, cs := make([]float64, 0, sizes[f][0]), make([]float64, 0, sizes[f][1])
				out[f] = gatherDist(from, f, fieldQuantiles[f], &xs, &cs)
			}
		})
	}
	wg.Wait()
	if len(from) == 1 && from[0].keep {
		d := out
		from[0].dists = &d
	}
	return out
}

// timeValue is what a request adds to the distribution of a timing
// field: an observed value (ok), a censoring bound (cens: E2E and time to
// success of a request without an answer, NaN when unknown), or nothing.
func (q *requestTimes) timeValue(field int) (v float64, ok, cens bool) {
	switch {
	case field == fQueue:
		return q.queue, !math.IsNaN(q.queue), false
	case !q.answered && field == fE2E:
		return q.e2eBound, false, true
	case !q.answered && field == fToSuccess:
		return q.toSuccessBound, false, true
	case !q.answered:
		return 0, false, false
	}
	v = [...]float64{fTTFT: q.ttft, fTTFO: q.ttfo, fE2E: q.e2e, fToSuccess: q.toSuccess}[field]
	return v, !math.IsNaN(v), false
}

// gatherDist describes one field over every sample (tokens) or request
// (timings) of the cells in from, one field at a time so that only one
// field's values are held at once.
func gatherDist(from []*cellAcc, field int, ps []float64, buf, cbuf *[]float64) Dist {
	xs, cs := (*buf)[:0], (*cbuf)[:0]
	addTime := func(q *requestTimes) {
		v, ok, cens := q.timeValue(field)
		switch {
		case ok:
			xs = append(xs, v)
		case cens:
			cs = append(cs, v)
		}
	}
	for _, fc := range from {
		fc.log.each(func(row *sampleRow) {
			switch {
			case field == fPrompt && row.usage:
				xs = append(xs, float64(row.prompt))
			case field == fThinking && row.usage:
				xs = append(xs, float64(row.thinking))
			case field == fVisible && row.usage:
				xs = append(xs, float64(row.visible))
			case field < fPrompt && row.inline:
				addTime(&row.times)
			}
		})
		if field < fPrompt {
			for _, q := range fc.pending {
				addTime(&q)
			}
		}
	}
	*buf, *cbuf = xs, cs
	return newCensoredDist(xs, cs, ps)
}

// summary describes the accumulator. counts are its cases' counts by case
// number (see caseCounts), order every case number in id order; its
// values and trials are those of the cells in from (the cell itself, or
// every cell for the total).
func (c *cellAcc) summary(a *Aggregator, ks []int, perCase bool, counts []caseCount, order []int32, from []*cellAcc) *Cell {
	opts := &a.opts
	ds := gatherDists(from)
	out := &Cell{Label: c.label, Cell: c.cell, Variant: c.variant, Values: c.values,
		Samples: c.m.samples, Passed: c.m.passed, Errored: c.m.errored,
		TTFT: ds[fTTFT], TTFO: ds[fTTFO], E2E: ds[fE2E], Queue: ds[fQueue], ToSuccess: ds[fToSuccess],
		PromptTokens: ds[fPrompt], ThinkingTokens: ds[fThinking], VisibleTokens: ds[fVisible],
		Cost: c.m.cost(), Errors: c.m.errorMap(), Retries: c.m.retries, Cached: c.m.cached,
		DistinctShare: nan,
		Judge:         Judge{Calls: c.m.judgeCalls, Cached: c.m.judgeCached, Tokens: c.m.judgeTokens, Cost: Num(c.m.judgeCost)},
		Steps:         c.steps.summary(),
	}
	// The cell's cases in id order, with their counts.
	for _, ci := range order {
		if counts[ci].samples > 0 {
			out.Cases++
		}
	}
	ids := make([]int32, 0, out.Cases)
	for _, ci := range order {
		if counts[ci].samples > 0 {
			ids = append(ids, ci)
		}
	}
	cnts := make([]CaseCount, 0, len(ids))
	passes := make([]bool, len(ids))
	failing := 0
	for i, ci := range ids {
		cc := counts[ci]
		samples, passed, errored := int(cc.samples), int(cc.passed), int(cc.errored)
		answered := samples - errored
		if opts.ErrorsAsFailures {
			answered = samples
		}
		out.Answered += samples - errored
		cnts = append(cnts, CaseCount{Pass: passed, N: answered})
		rule := eval.PassRule{}
		if opts.Rule != nil {
			rule = opts.Rule(a.cases.id(ci))
		}
		pass := rule.CasePasses(passed, samples)
		passes[i] = pass
		if pass {
			out.CasesPassed++
		} else {
			failing++
		}
	}
	if perCase {
		c.listCases(a, out, ids, passes, failing, ks)
	}
	r, lo, hi := ClusteredPassRate(cnts)
	out.PassRate = Interval{Num(r), Num(lo), Num(hi)}
	out.PassAtK = kRates(cnts, ks)
	// The error counts reuse the pass counts' slice (the case order is the
	// same): Close holds one of them at a time.
	errs := cnts[:0]
	for _, ci := range ids {
		cc := counts[ci]
		errs = append(errs, CaseCount{Pass: int(cc.errored), N: int(cc.samples)})
	}
	er, elo, ehi := ClusteredPassRate(errs)
	out.ErrorRate = Interval{Num(er), Num(elo), Num(ehi)}
	out.OverMaxErrorRate = opts.MaxErrorRate > 0 && er > opts.MaxErrorRate
	out.Truncation = c.m.trunc.summary(out.Answered)
	var share float64
	for _, fc := range from {
		share += fc.share
		out.DistinctTrials += fc.shareN
		for _, tt := range fc.trials {
			if tt.n > 1 {
				share += float64(tt.distinct()) / float64(tt.n)
				out.DistinctTrials++
			}
		}
	}
	if out.DistinctTrials > 0 {
		out.DistinctShare = Num(share / float64(out.DistinctTrials))
	}
	return out
}

// listCases fills out.PerCase with at most Options.MaxCaseDetail of the
// cell's cases (ids, in id order, with passes their verdicts) and counts
// the others in out.PerCaseOmitted: failing cases first, then passing
// ones, each kept in id order. When there are more failing cases than the
// limit, those whose failing samples were kept (the first to fail) come
// first.
func (c *cellAcc) listCases(a *Aggregator, out *Cell, ids []int32, passes []bool, failing int, ks []int) {
	limit := min(caseDetailLimit(&a.opts), len(ids))
	failBudget := min(failing, limit)
	passBudget := limit - failBudget
	detailedFirst := failing > limit
	plainFail := failBudget
	if detailedFirst {
		withDetail := 0
		for i, ci := range ids {
			if !passes[i] && len(c.failures[ci]) > 0 {
				withDetail++
			}
		}
		plainFail = failBudget - min(withDetail, failBudget)
	}
	var listed []int32
	var listedPass []bool
	for i, ci := range ids {
		keep := false
		detail := len(c.failures[ci]) > 0
		switch {
		case !passes[i] && failBudget > 0 && (!detailedFirst || detail):
			keep, failBudget = true, failBudget-1
		case !passes[i] && detailedFirst && plainFail > 0 && !detail:
			keep, plainFail, failBudget = true, plainFail-1, failBudget-1
		case passes[i] && passBudget > 0:
			keep, passBudget = true, passBudget-1
		}
		if keep {
			listed, listedPass = append(listed, ci), append(listedPass, passes[i])
		} else {
			out.PerCaseOmitted++
		}
	}
	details := c.caseDetails(a, listed)
	for i, ci := range listed {
		out.PerCase = append(out.PerCase, details[ci].summary(a.cases.id(ci), listedPass[i], ks))
	}
}

// caseDetail is everything a listed case shows, rebuilt from its cell's
// sample log.
type caseDetail struct {
	seen     bool
	tags     []string
	m        metricsAcc
	failures []Failure
}

// caseDetails rebuilds the accumulators of the cases listed.
func (c *cellAcc) caseDetails(a *Aggregator, listed []int32) map[int32]*caseDetail {
	out := make(map[int32]*caseDetail, len(listed))
	for _, ci := range listed {
		out[ci] = &caseDetail{m: metricsAcc{vals: &values{}}, failures: c.failures[ci]}
	}
	if len(out) == 0 {
		return out
	}
	c.log.each(func(row *sampleRow) {
		d := out[row.cs]
		if d == nil {
			return
		}
		if !d.seen {
			d.seen = true
			if row.tags >= 0 {
				d.tags = a.tagSets[row.tags]
			}
		}
		d.m.addRow(row, a.classes.names)
	})
	for k, q := range c.pending {
		if d := out[k.cs]; d != nil {
			d.m.vals.addRequest(&q)
		}
	}
	for _, ci := range listed {
		if t := a.uncountedCase[[2]string{c.key, a.cases.id(ci)}]; t != nil {
			out[ci].m.extra.merge(t)
		}
	}
	return out
}

func (d *caseDetail) summary(id string, pass bool, ks []int) *Case {
	v := d.m.vals
	out := &Case{ID: id, Tags: d.tags, Samples: d.m.samples, Passed: d.m.passed, Errored: d.m.errored,
		Pass: pass, PassAtK: kRates([]CaseCount{{Pass: d.m.passed, N: d.m.samples}}, ks),
		TTFT: newDist(v.ttft, latencyQuantiles), TTFO: newDist(v.ttfo, latencyQuantiles),
		E2E: newCensoredDist(v.e2e, v.e2eCens, latencyQuantiles), ThinkingTokens: newDist(v.thinking, tokenQuantiles),
		VisibleTokens: newDist(v.visible, tokenQuantiles), Cost: d.m.cost(),
		Errors: d.m.errors, Retries: d.m.retries, Failures: d.failures}
	lo, hi := Wilson(d.m.passed, d.m.samples, Z95)
	out.PassRate = Interval{Num(float64(d.m.passed) / float64(d.m.samples)), Num(lo), Num(hi)}
	return out
}
