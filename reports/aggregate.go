package reports

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
)

// Options tune aggregation.
type Options struct {
	// Rule returns the pass rule of a case (how a case passes across its
	// samples in a cell); nil means every sample must pass.
	Rule func(caseID string) eval.PassRule
	// Ks are the k of pass@k and pass^k; nil means 1 and the smallest
	// number of samples any case has in a cell.
	Ks []int
	// CellOrder lists cell labels in the order to report them (the suite's
	// grid order); cells not listed follow in order of first scheduling.
	CellOrder []string
	// MaxFailures bounds the failing samples kept per case and cell for
	// reports (default 3); FailureText bounds each one's text in runes
	// (default 2000).
	MaxFailures int
	FailureText int
	// ErrorsAsFailures counts samples that got no answer (an error or a
	// timeout) as failing; by default they are left out of pass rates and
	// counted in the error rate instead (quality apart from availability).
	ErrorsAsFailures bool
	// FailOnAvailability makes a comparison's decision fail when a cell's
	// error rate rose (availability verdict worse), not only on a quality
	// regression (compare --fail-on-availability).
	FailOnAvailability bool
	// MaxErrorRate gates a single report: a cell whose error rate (the
	// point estimate, Cell.ErrorRate) exceeds it is marked
	// OverMaxErrorRate and listed by Summary.ErrorRateFailures. 0 means no
	// gate; bound: 0 to 1.
	MaxErrorRate float64
	// Reference, Margin and FailUnder tune the comparison of the cells of
	// one run (Summary.Within, docs/metrics.md "Choosing a cell"):
	// Reference names the cell the others are compared with (see FindCell;
	// empty: the highest pass rate), Margin is the practical margin (a
	// fraction, as in compare) and FailUnder the pass rate a recommended
	// cell must reach (0: none).
	Reference string
	Margin    float64
	FailUnder float64
	// MaxCaseDetail bounds the cases listed per cell in Cell.PerCase
	// (failing ones first, then passing ones, each in id order); the rest
	// are counted in Cell.PerCaseOmitted. 0 means DefaultMaxCaseDetail;
	// negative, no bound. Every statistic still covers every case.
	MaxCaseDetail int
}

// DefaultMaxCaseDetail is the default of Options.MaxCaseDetail: a report of
// a million-row suite lists a thousand cases per cell, not a million.
const DefaultMaxCaseDetail = 1000

// Latency quantiles reported for every timing, and token quantiles.
var (
	latencyQuantiles = []float64{0.25, 0.5, 0.75, 0.9, 0.95, 0.99}
	tokenQuantiles   = []float64{0.9}
)

// Aggregator accumulates journal records into a Summary: Add every record
// (each sample once: see ReadLatest), then Close. It keeps per-cell and
// per-case accumulators, never the records: counters, and the timings and
// token counts quantiles need once each (in the case of the cell they belong
// to; cells and the total gather them from their cases when summarised).
type Aggregator struct {
	opts                 Options
	runID, suite, hash   string
	cells                map[string]*cellAcc
	total                *cellAcc
	axes                 map[string]bool
	superseded, incomplt int
	seen                 int
	resent               int
	// The distinct texts of a trial whose lines are consecutive (blocks
	// says so, when Aggregate reads the journal) are counted in open and
	// folded into its cell when the next trial starts; other trials wait in
	// their cell's map until Close.
	ids    journal.IDHasher
	blocks *journal.Blocks
	open   openTrial
	// uncounted is the cost of lines that do not count (superseded,
	// incomplete), by cell key and by cell key and case: spent, not
	// counted.
	uncounted     map[string]*costTally
	uncountedCase map[[2]string]*costTally
	// within pairs the samples of the cells for Summary.Within.
	within withinAcc
}

// openTrial is the consecutive trial being counted.
type openTrial struct {
	active bool
	id     journal.ID128
	cell   *cellAcc
	texts  trialTexts
}

// NewAggregator returns an empty aggregator.
func NewAggregator(opts Options) *Aggregator {
	if opts.MaxFailures == 0 {
		opts.MaxFailures = 3
	}
	if opts.FailureText == 0 {
		opts.FailureText = 2000
	}
	return &Aggregator{opts: opts, cells: map[string]*cellAcc{}, total: newCellAcc("all cells", "", "", nil, false),
		axes: map[string]bool{}, ids: journal.NewIDHasher()}
}

// trialID names the trial of a record with key k for distinct-text
// counting.
func (a *Aggregator) trialID(k *journal.Key) journal.ID128 {
	return a.ids.Sum(k.TrialKey, "\x00", k.Variant, "\x00", k.Cell, "\x00", k.CaseID)
}

// flush folds the open trial into its cell.
func (a *Aggregator) flush() {
	if o := &a.open; o.active {
		o.cell.addTrial(&o.texts)
		*o = openTrial{}
	}
}

// Aggregate reads the journal at path (the last line of each sample) and
// returns its summary.
func Aggregate(path string, opts Options) (*Summary, error) {
	a := NewAggregator(opts)
	a.blocks = &journal.Blocks{ID: a.trialID}
	info, err := journal.ReadLatestWith(path, func(r *journal.Record) error { a.Add(r); return nil }, a.blocks, a.AddUncounted)
	if err != nil {
		return nil, err
	}
	a.superseded, a.incomplt = info.Superseded, info.Incomplete
	return a.Close(), nil
}

// AddUncounted accounts for the cost of a journal line that does not count
// as a sample: one superseded by a later line of its sample (a retried or
// resumed trial) or an incomplete one. It was billed, so it is in
// Cost.Spent of its cell, case and the total, never in Cost.Total.
// Aggregate passes it every such line; lines without a cost change nothing.
func (a *Aggregator) AddUncounted(r *journal.Record) {
	if r.Cost == nil || math.IsNaN(*r.Cost) {
		return
	}
	if a.uncounted == nil {
		a.uncounted, a.uncountedCase = map[string]*costTally{}, map[[2]string]*costTally{}
	}
	key := r.Variant + "\x00" + r.Cell
	t := a.uncounted[key]
	if t == nil {
		t = &costTally{}
		a.uncounted[key] = t
	}
	t.add(*r.Cost, r.CostEstimated)
	ck := [2]string{key, r.CaseID}
	tc := a.uncountedCase[ck]
	if tc == nil {
		tc = &costTally{}
		a.uncountedCase[ck] = tc
	}
	tc.add(*r.Cost, r.CostEstimated)
	a.total.m.extra.add(*r.Cost, r.CostEstimated)
}

// Add accounts for one sample.
func (a *Aggregator) Add(r *journal.Record) {
	if a.seen == 0 {
		a.runID, a.suite, a.hash = r.RunID, r.Suite, r.SuiteHash
	}
	a.seen++
	if r.Resent {
		a.resent++
	}
	key := r.Variant + "\x00" + r.Cell
	c := a.cells[key]
	if c == nil {
		c = newCellAcc(CellLabel(r.Variant, r.Cell), r.Cell, r.Variant, r.CellValues, true)
		a.cells[key] = c
		for k := range r.CellValues {
			a.axes[k] = true
		}
	}
	var req *journal.ID128
	if r.Results > 1 {
		id := requestID(&a.ids, r)
		req = &id
	}
	c.add(r, &a.opts, req)
	a.total.add(r, &a.opts, nil)
	a.addText(c, r)
	a.within.add(r)
}

// addText counts the text of a sample of a trial with several results.
func (a *Aggregator) addText(c *cellAcc, r *journal.Record) {
	countable := r.Results > 1 && r.Error == nil
	if !countable && !a.open.active {
		return
	}
	k := r.Key()
	id := a.trialID(&k)
	if a.open.active && a.open.id != id {
		a.flush()
	}
	if !countable {
		return
	}
	h := fnv.New64a()
	h.Write([]byte(r.Text))
	if a.blocks != nil && a.blocks.Scattered != nil && !a.blocks.Scattered.Has(id) {
		if !a.open.active {
			a.open = openTrial{active: true, id: id, cell: c}
		}
		a.open.texts.add(h.Sum64())
		return
	}
	tt := c.trials[id]
	tt.add(h.Sum64())
	c.trials[id] = tt
}

// CellLabel is how reports name a cell: the variant, then the grid values.
func CellLabel(variant, cell string) string {
	switch {
	case variant != "" && cell != "":
		return "variant=" + variant + " " + cell
	case variant != "":
		return "variant=" + variant
	case cell != "":
		return cell
	}
	return "(no grid)"
}

// Close computes the summary. The aggregator must not be used afterwards.
func (a *Aggregator) Close() *Summary {
	a.flush()
	for k, c := range a.cells {
		for _, cs := range c.cases {
			cs.foldRequests()
			if t := a.uncountedCase[[2]string{k, cs.id}]; t != nil {
				cs.m.extra.merge(t)
			}
		}
		if t := a.uncounted[k]; t != nil {
			c.m.extra.merge(t)
		}
	}
	s := &Summary{Schema: SchemaID, RunID: a.runID, Suite: a.suite, SuiteHash: a.hash,
		Superseded: a.superseded, Incomplete: a.incomplt, Axes: []string{}}
	for k := range a.axes {
		s.Axes = append(s.Axes, k)
	}
	sort.Strings(s.Axes)
	s.Ks = a.opts.Ks
	if s.Ks == nil {
		s.Ks = defaultKs(a.cells)
	}
	accs := make([]*cellAcc, 0, len(a.cells))
	for _, c := range a.cells {
		accs = append(accs, c)
	}
	rank := map[string]int{}
	for i, l := range a.opts.CellOrder {
		rank[l] = i + 1
	}
	slices.SortFunc(accs, func(x, y *cellAcc) int {
		rx, ry := rank[x.label], rank[y.label]
		if rx == 0 {
			rx = math.MaxInt
		}
		if ry == 0 {
			ry = math.MaxInt
		}
		return cmp.Or(cmp.Compare(rx, ry), x.firstScheduled.Compare(y.firstScheduled), strings.Compare(x.label, y.label))
	})
	s.Cells = []*Cell{}
	for _, c := range accs {
		s.Cells = append(s.Cells, c.summary(&a.opts, s.Ks, true, []*cellAcc{c}))
	}
	s.Total = a.total.summary(&a.opts, s.Ks, false, accs)
	s.Warnings = truncationWarnings(s.Cells)
	if s.Resent = a.resent; s.Resent > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d %s of trials that were in flight when a process of this run died were sent again on resume: possibly billed twice (sync and stream requests cannot be recovered by taskUUID).",
			s.Resent, map[bool]string{true: "sample", false: "samples"}[s.Resent == 1]))
	}
	s.Within = a.within.summary(s, &a.opts)
	return s
}

func defaultKs(cells map[string]*cellAcc) []int {
	minN := 0
	for _, c := range cells {
		for _, cs := range c.cases {
			if minN == 0 || cs.m.samples < minN {
				minN = cs.m.samples
			}
		}
	}
	if minN > 1 {
		return []int{1, minN}
	}
	return []int{1}
}

// metricsAcc accumulates what cells and cases share. Only the accumulators
// of the cases of a cell keep values (vals); cells and the total gather
// their cases' values when summarised, so every value is held once.
type metricsAcc struct {
	samples, passed, errored, retries, cached int
	vals                                      *values
	reported, estimated                       float64
	reportedN, estimatedN, missingN           int
	errors                                    map[string]int
	judgeCost                                 float64
	judgeTokens, judgeCalls, judgeCached      int
	trunc                                     truncAcc
	// extra is the cost of lines that do not count (Cost.Spent only).
	extra costTally
}

// values are the per-sample timings (ms) and token counts behind the
// quantiles.
type values struct {
	ttft, ttfo, e2e, queue, toSuccess []float64
	prompt, thinking, visible         []float64
	// e2eCens and toSuccessCens are the censoring bounds of requests
	// without an answer (NaN when unknown).
	e2eCens, toSuccessCens []float64
}

// valueFields lists the fields of values, for gathering them one at a time.
var valueFields = []func(*values) []float64{
	func(v *values) []float64 { return v.ttft },
	func(v *values) []float64 { return v.ttfo },
	func(v *values) []float64 { return v.e2e },
	func(v *values) []float64 { return v.queue },
	func(v *values) []float64 { return v.toSuccess },
	func(v *values) []float64 { return v.prompt },
	func(v *values) []float64 { return v.thinking },
	func(v *values) []float64 { return v.visible },
}

// censoredFields gives, for the fields of valueFields that censor
// requests without an answer (E2E, time to success), their bounds.
var censoredFields = []func(*values) []float64{
	2: func(v *values) []float64 { return v.e2eCens },
	4: func(v *values) []float64 { return v.toSuccessCens },
	7: nil,
}

// addTokens appends a sample's token counts (tokens are per result).
func (v *values) addTokens(r *journal.Record) {
	if u := r.Usage; u != nil {
		v.prompt = append(v.prompt, float64(u.Prompt))
		v.thinking = append(v.thinking, float64(u.Thinking))
		v.visible = append(v.visible, float64(u.Visible()))
	}
}

func (m *metricsAcc) add(r *journal.Record) {
	m.samples++
	if r.Pass {
		m.passed++
	}
	if r.Attempts > 1 {
		m.retries += r.Attempts - 1
	}
	if r.Cached {
		m.cached++
	}
	for _, o := range r.Checks {
		switch {
		case o.JudgeCached:
			m.judgeCached++
		case o.JudgeCost > 0 || o.JudgeTokens > 0:
			m.judgeCalls++
			m.judgeCost += o.JudgeCost
			m.judgeTokens += o.JudgeTokens
		}
	}
	if r.Error != nil {
		m.errored++
		if m.errors == nil {
			m.errors = map[string]int{}
		}
		m.errors[r.Error.Class]++
	}
	if m.vals != nil {
		m.vals.addTokens(r)
	}
	m.trunc.add(r)
	switch {
	case r.Cost != nil && r.CostEstimated:
		m.estimated += *r.Cost
		m.estimatedN++
	case r.Cost != nil:
		m.reported += *r.Cost
		m.reportedN++
	case r.Error == nil:
		m.missingN++
	}
}

func (m *metricsAcc) cost() Cost {
	c := Cost{Reported: Num(m.reported), Estimated: Num(m.estimated), Total: Num(m.reported + m.estimated),
		ReportedN: m.reportedN, EstimatedN: m.estimatedN, MissingN: m.missingN, PerSample: nan, PerPassing: nan,
		Partial: m.missingN > 0, Spent: Num(m.reported + m.estimated + m.extra.total()),
		SpentEstimated: Num(m.estimated + m.extra.estimated), SpentLines: m.reportedN + m.estimatedN + m.extra.n()}
	if m.samples > 0 {
		c.PerSample = c.Total / Num(m.samples)
	}
	if m.passed > 0 {
		c.PerPassing = c.Total / Num(m.passed)
	}
	return c
}

func (m *metricsAcc) errorMap() map[string]int {
	if m.errors == nil {
		return map[string]int{}
	}
	return m.errors
}

type caseAcc struct {
	id       string
	tags     []string
	m        metricsAcc
	failures []Failure
	// reqs are the requests with several results, folded into one
	// latency observation each when the aggregator closes.
	reqs map[journal.ID128]*requestTimes
}

// addTimes accounts for a sample's timings: a request with one result
// directly, one with several (req not nil) once, when folded.
func (cs *caseAcc) addTimes(r *journal.Record, req *journal.ID128) {
	if req == nil {
		q := newRequestTimes()
		q.add(r)
		cs.m.vals.addRequest(&q)
		return
	}
	if cs.reqs == nil {
		cs.reqs = map[journal.ID128]*requestTimes{}
	}
	q := cs.reqs[*req]
	if q == nil {
		nq := newRequestTimes()
		q = &nq
		cs.reqs[*req] = q
	}
	q.add(r)
}

// foldRequests adds the requests with several results to the values.
func (cs *caseAcc) foldRequests() {
	for _, q := range cs.reqs {
		cs.m.vals.addRequest(q)
	}
	cs.reqs = nil
}

// trialTexts counts the samples of one trial (numberResults > 1) and keeps
// the distinct hashes of their texts: inline for the few a trial has, in a
// set past that (hand-made journals). It is stored by value in its map.
type trialTexts struct {
	n, k int32
	few  [4]uint64
	many map[uint64]struct{}
}

func (t *trialTexts) add(h uint64) {
	t.n++
	if t.many != nil {
		t.many[h] = struct{}{}
		return
	}
	if slices.Contains(t.few[:t.k], h) {
		return
	}
	if int(t.k) < len(t.few) {
		t.few[t.k] = h
		t.k++
		return
	}
	t.many = make(map[uint64]struct{}, 2*len(t.few))
	for _, x := range t.few {
		t.many[x] = struct{}{}
	}
	t.many[h] = struct{}{}
}

func (t *trialTexts) distinct() int {
	if t.many != nil {
		return len(t.many)
	}
	return int(t.k)
}

// cellAcc accumulates one cell (or, with keep false, the total, which
// gathers values and trials from the cells when summarised).
type cellAcc struct {
	label, cell, variant string
	values               map[string]any
	firstScheduled       time.Time
	m                    metricsAcc
	cases                map[string]*caseAcc
	keep                 bool
	// trials are the trials still counting their distinct texts, keyed by
	// Aggregator.trialID; share and shareN sum the finished ones.
	trials map[journal.ID128]trialTexts
	share  float64
	shareN int
	// detailed counts the cases whose failing samples are kept (at most
	// Options.MaxCaseDetail: only listed cases show them).
	detailed int
}

func newCellAcc(label, cell, variant string, values map[string]any, keep bool) *cellAcc {
	c := &cellAcc{label: label, cell: cell, variant: variant, values: values, keep: keep,
		cases: map[string]*caseAcc{}}
	if keep {
		c.trials = map[journal.ID128]trialTexts{}
	}
	return c
}

func (c *cellAcc) add(r *journal.Record, opts *Options, req *journal.ID128) {
	if ts := r.Timings.Scheduled; !ts.IsZero() && (c.firstScheduled.IsZero() || ts.Before(c.firstScheduled)) {
		c.firstScheduled = ts
	}
	c.m.add(r)
	cs := c.cases[r.CaseID]
	if cs == nil {
		cs = &caseAcc{id: r.CaseID, tags: r.Tags}
		if c.keep {
			cs.m.vals = &values{}
		}
		c.cases[r.CaseID] = cs
	}
	cs.m.add(r)
	if cs.m.vals != nil {
		cs.addTimes(r, req)
	}
	// Failing samples are kept only where a report lists them: per cell
	// (not for the total), for at most MaxCaseDetail cases.
	if !r.Pass && c.keep && len(cs.failures) < opts.MaxFailures {
		if len(cs.failures) > 0 || c.detailed < caseDetailLimit(opts) {
			if len(cs.failures) == 0 {
				c.detailed++
			}
			cs.failures = append(cs.failures, failureOf(r, opts.FailureText))
		}
	}
}

// caseDetailLimit is Options.MaxCaseDetail resolved: the default for 0, no
// bound for a negative value.
func caseDetailLimit(opts *Options) int {
	switch {
	case opts.MaxCaseDetail == 0:
		return DefaultMaxCaseDetail
	case opts.MaxCaseDetail < 0:
		return math.MaxInt
	}
	return opts.MaxCaseDetail
}

// addTrial counts a finished trial's distinct-text share.
func (c *cellAcc) addTrial(t *trialTexts) {
	if t.n > 1 {
		c.share += float64(t.distinct()) / float64(t.n)
		c.shareN++
	}
}

func failureOf(r *journal.Record, limit int) Failure {
	f := Failure{Seed: r.Seed, ResultIndex: r.ResultIndex, Text: truncate(r.Text, limit), Reasons: []string{}}
	if e := r.Error; e != nil {
		f.Error = e.Class + ": " + e.Message
		if e.Code != "" {
			f.Error = e.Class + ": " + e.Code + ": " + e.Message
		}
	}
	for _, o := range r.Checks {
		if !o.Pass {
			f.Reasons = append(f.Reasons, o.Check+": "+o.Reason)
		}
	}
	if len(f.Reasons) == 0 && f.Error == "" {
		f.Reasons = append(f.Reasons, fmt.Sprintf("weighted score %.2f below the pass threshold", r.Score))
	}
	return f
}

func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	return string(r[:limit]) + "…"
}

// summary describes the accumulator; its values and trials are those of
// the cases of the cells in from (the cell itself, or every cell for the
// total).
func (c *cellAcc) summary(opts *Options, ks []int, perCase bool, from []*cellAcc) *Cell {
	var buf, cbuf []float64
	dist := func(field int, ps []float64) Dist {
		buf, cbuf = buf[:0], cbuf[:0]
		for _, fc := range from {
			for _, cs := range fc.cases {
				if v := cs.m.vals; v != nil {
					buf = append(buf, valueFields[field](v)...)
					if cf := censoredFields[field]; cf != nil {
						cbuf = append(cbuf, cf(v)...)
					}
				}
			}
		}
		return newCensoredDist(buf, cbuf, ps)
	}
	out := &Cell{Label: c.label, Cell: c.cell, Variant: c.variant, Values: c.values,
		Cases: len(c.cases), Samples: c.m.samples, Passed: c.m.passed, Errored: c.m.errored,
		TTFT: dist(0, latencyQuantiles), TTFO: dist(1, latencyQuantiles),
		E2E: dist(2, latencyQuantiles), Queue: dist(3, latencyQuantiles),
		ToSuccess:    dist(4, latencyQuantiles),
		PromptTokens: dist(5, tokenQuantiles), ThinkingTokens: dist(6, tokenQuantiles),
		VisibleTokens: dist(7, tokenQuantiles),
		Cost:          c.m.cost(), Errors: c.m.errorMap(), Retries: c.m.retries, Cached: c.m.cached,
		DistinctShare: nan,
		Judge:         Judge{Calls: c.m.judgeCalls, Cached: c.m.judgeCached, Tokens: c.m.judgeTokens, Cost: Num(c.m.judgeCost)},
	}
	ids := make([]string, 0, len(c.cases))
	for id := range c.cases {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	counts := make([]CaseCount, 0, len(ids))
	errs := make([]CaseCount, 0, len(ids))
	passes := make([]bool, len(ids))
	failing := 0
	for i, id := range ids {
		cs := c.cases[id]
		answered := cs.m.samples - cs.m.errored
		if opts.ErrorsAsFailures {
			answered = cs.m.samples
		}
		out.Answered += cs.m.samples - cs.m.errored
		counts = append(counts, CaseCount{Pass: cs.m.passed, N: answered})
		errs = append(errs, CaseCount{Pass: cs.m.errored, N: cs.m.samples})
		rule := eval.PassRule{}
		if opts.Rule != nil {
			rule = opts.Rule(id)
		}
		pass := rule.CasePasses(cs.m.passed, cs.m.samples)
		passes[i] = pass
		if pass {
			out.CasesPassed++
		} else {
			failing++
		}
	}
	if perCase {
		limit := min(caseDetailLimit(opts), len(ids))
		// Failing cases first, then passing ones, each kept in id order.
		// When there are more failing cases than the limit, those whose
		// failing samples were kept (the first to fail) come first.
		failBudget := min(failing, limit)
		passBudget := limit - failBudget
		detailedFirst := failing > limit
		plainFail := failBudget
		if detailedFirst {
			withDetail := 0
			for i, id := range ids {
				if !passes[i] && len(c.cases[id].failures) > 0 {
					withDetail++
				}
			}
			plainFail = failBudget - min(withDetail, failBudget)
		}
		for i, id := range ids {
			keep := false
			switch {
			case !passes[i] && failBudget > 0 && (!detailedFirst || len(c.cases[id].failures) > 0):
				keep, failBudget = true, failBudget-1
			case !passes[i] && detailedFirst && plainFail > 0 && len(c.cases[id].failures) == 0:
				keep, plainFail, failBudget = true, plainFail-1, failBudget-1
			case passes[i] && passBudget > 0:
				keep, passBudget = true, passBudget-1
			}
			if keep {
				out.PerCase = append(out.PerCase, c.cases[id].summary(passes[i], ks))
			} else {
				out.PerCaseOmitted++
			}
		}
	}
	r, lo, hi := ClusteredPassRate(counts)
	out.PassRate = Interval{Num(r), Num(lo), Num(hi)}
	er, elo, ehi := ClusteredPassRate(errs)
	out.ErrorRate = Interval{Num(er), Num(elo), Num(ehi)}
	out.OverMaxErrorRate = opts.MaxErrorRate > 0 && er > opts.MaxErrorRate
	out.Truncation = c.m.trunc.summary(out.Answered)
	out.PassAtK = kRates(counts, ks)
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

func (cs *caseAcc) summary(pass bool, ks []int) *Case {
	v := cs.m.vals
	out := &Case{ID: cs.id, Tags: cs.tags, Samples: cs.m.samples, Passed: cs.m.passed, Errored: cs.m.errored,
		Pass: pass, PassAtK: kRates([]CaseCount{{Pass: cs.m.passed, N: cs.m.samples}}, ks),
		TTFT: newDist(v.ttft, latencyQuantiles), TTFO: newDist(v.ttfo, latencyQuantiles),
		E2E: newCensoredDist(v.e2e, v.e2eCens, latencyQuantiles), ThinkingTokens: newDist(v.thinking, tokenQuantiles),
		VisibleTokens: newDist(v.visible, tokenQuantiles), Cost: cs.m.cost(),
		Errors: cs.m.errors, Retries: cs.m.retries, Failures: cs.failures}
	lo, hi := Wilson(cs.m.passed, cs.m.samples, Z95)
	out.PassRate = Interval{Num(float64(cs.m.passed) / float64(cs.m.samples)), Num(lo), Num(hi)}
	return out
}

// kRates averages pass@k and pass^k over the cases with at least k samples.
func kRates(counts []CaseCount, ks []int) []KRate {
	out := make([]KRate, 0, len(ks))
	for _, k := range ks {
		kr := KRate{K: k}
		var at, hat float64
		for _, cc := range counts {
			if cc.N >= k {
				at += PassAtK(cc.N, cc.Pass, k)
				hat += PassHatK(cc.N, cc.Pass, k)
				kr.Cases++
			}
		}
		kr.PassAt, kr.PassHat = nan, nan
		if kr.Cases > 0 {
			kr.PassAt, kr.PassHat = Num(at/float64(kr.Cases)), Num(hat/float64(kr.Cases))
		}
		out = append(out, kr)
	}
	return out
}

// newDist sorts xs in place and describes it.
func newDist(xs []float64, ps []float64) Dist {
	d := Dist{N: len(xs), Mean: nan, Min: nan, Max: nan, Quantiles: make([]QuantileEst, 0, len(ps))}
	slices.Sort(xs)
	if len(xs) > 0 {
		d.Min, d.Max = Num(xs[0]), Num(xs[len(xs)-1])
		var sum float64
		for _, x := range xs {
			sum += x
		}
		d.Mean = Num(sum / float64(len(xs)))
	}
	for _, p := range ps {
		q := QuantileEst{P: p, Value: Num(Quantile(xs, p)), Lo: nan, Hi: nan, NTooSmall: true}
		if lo, hi, ok := quantileCI(xs, p); ok {
			q.Lo, q.Hi, q.NTooSmall = Num(lo), Num(hi), false
		}
		d.Quantiles = append(d.Quantiles, q)
	}
	return d
}

// ciConf is the confidence of the quantile intervals of reports.
const ciConf = 0.95

// ciRanks are the order statistics bounding a quantile's interval.
type ciRanks struct {
	r, s  int
	found bool
}

// ciMemo holds the ranks found for each (n, p): they depend on nothing
// else, finding them costs n log-gamma evaluations, and a report asks for
// the same n many times (every timing of a cell, and the total, and every
// cell of a uniform grid). It is emptied when it grows past ciMemoMax.
var (
	ciMu   sync.Mutex
	ciMemo = map[struct {
		n int
		p float64
	}]ciRanks{}
)

const ciMemoMax = 4096

// quantileCI is QuantileCI(sorted, p, ciConf), with the ranks memoised.
func quantileCI(sorted []float64, p float64) (lo, hi float64, ok bool) {
	n := len(sorted)
	if !(p > 0 && p < 1) || n < 2 || !slices.IsSorted(sorted) {
		return QuantileCI(sorted, p, ciConf)
	}
	key := struct {
		n int
		p float64
	}{n, p}
	ciMu.Lock()
	rk, hit := ciMemo[key]
	ciMu.Unlock()
	if !hit {
		rk.r, rk.s, rk.found = orderStatisticInterval(n, p, ciConf)
		ciMu.Lock()
		if len(ciMemo) >= ciMemoMax {
			clear(ciMemo)
		}
		ciMemo[key] = rk
		ciMu.Unlock()
	}
	if !rk.found {
		return math.NaN(), math.NaN(), false
	}
	return sorted[rk.r-1], sorted[rk.s-1], true
}
