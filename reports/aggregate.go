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
// (each sample once: see ReadLatest), then Close. It never keeps the
// records: each cell counts its samples and keeps a compact log of them
// (sampleLog: a few dozen bytes a sample, no pointer), from which Close
// derives every per-case statistic, the cases a report lists and the
// timings and token counts quantiles need (each value once, in the cell
// it belongs to; the total gathers them from the cells). Its memory grows
// with the samples by those bytes, and not with anything per case beyond
// its id (issue 13).
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
	// cases numbers the case ids; classes and tags number the error
	// classes and tag lists the sample logs refer to; enc is the scratch
	// buffer a sample is encoded into.
	cases   caseTable
	classes interner
	tags    interner
	tagSets [][]string
	enc     []byte
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
	return &Aggregator{opts: opts, cells: map[string]*cellAcc{}, total: newCellAcc("", "all cells", "", "", nil, false),
		axes: map[string]bool{}, ids: journal.NewIDHasher(), cases: newCaseTable()}
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
	return aggregate(path, opts, nil)
}

// aggregate is Aggregate; beforeClose, when not nil, is called when every
// record is added (benchmarks measure the aggregator's state there).
func aggregate(path string, opts Options, beforeClose func()) (*Summary, error) {
	a := NewAggregator(opts)
	a.blocks = &journal.Blocks{ID: a.trialID}
	info, err := journal.ReadLatestWith(path, func(r *journal.Record) error { a.Add(r); return nil }, a.blocks, a.AddUncounted)
	if err != nil {
		return nil, err
	}
	a.superseded, a.incomplt = info.Superseded, info.Incomplete
	if beforeClose != nil {
		beforeClose()
	}
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
		c = newCellAcc(key, CellLabel(r.Variant, r.Cell), r.Cell, r.Variant, r.CellValues, true)
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
	c.add(a, r, a.cases.intern(r.CaseID), req)
	a.total.m.add(r)
	a.total.steps.add(r)
	a.addText(c, r)
}

// rowOf describes a record of case cs for its cell's sample log.
func (a *Aggregator) rowOf(r *journal.Record, cs int32, inline bool) sampleRow {
	errClass, tags := int32(-1), int32(-1)
	if r.Error != nil {
		errClass = a.classes.intern(r.Error.Class)
	}
	if len(r.Tags) > 0 {
		var b strings.Builder
		for _, t := range r.Tags {
			fmt.Fprintf(&b, "%d:%s", len(t), t)
		}
		tags = a.tags.intern(b.String())
		if int(tags) == len(a.tagSets) {
			a.tagSets = append(a.tagSets, r.Tags)
		}
	}
	return rowOf(r, cs, errClass, tags, inline)
}

// interner numbers strings in the order they are first seen.
type interner struct {
	index map[string]int32
	names []string
}

func (in *interner) intern(s string) int32 {
	i, ok := in.index[s]
	if !ok {
		if in.index == nil {
			in.index = map[string]int32{}
		}
		i = int32(len(in.names))
		in.index[s] = i
		in.names = append(in.names, s)
	}
	return i
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
	// The total's cases pool each case's samples over the cells; the
	// smallest number of samples a case has in a cell is the default k.
	// With one cell the total's counts are that cell's: one slice serves
	// both. No case is numbered any more: the table's index goes.
	a.cases.dropIndex()
	n := a.cases.len()
	single := len(a.cells) == 1
	counts := make([]caseCount, n)
	total := counts
	if !single {
		total = make([]caseCount, n)
	}
	minN := 0
	for _, c := range a.cells {
		c.caseCounts(counts)
		for i, cc := range counts {
			if cc.samples > 0 {
				if !single {
					total[i].add(cc)
				}
				if minN == 0 || int(cc.samples) < minN {
					minN = int(cc.samples)
				}
			}
		}
	}
	s.Ks = a.opts.Ks
	if s.Ks == nil {
		s.Ks = []int{1}
		if minN > 1 {
			s.Ks = []int{1, minN}
		}
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
	order := a.cases.order()
	s.Cells = []*Cell{}
	for _, c := range accs {
		if !single {
			c.caseCounts(counts)
		}
		s.Cells = append(s.Cells, c.summary(a, s.Ks, true, counts, order, []*cellAcc{c}))
	}
	counts = nil
	s.Total = a.total.summary(a, s.Ks, false, total, order, accs)
	s.Warnings = truncationWarnings(s.Cells)
	if s.Resent = a.resent; s.Resent > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d %s of trials that were in flight when a process of this run died were sent again on resume: possibly billed twice (sync and stream requests cannot be recovered by taskUUID).",
			s.Resent, map[bool]string{true: "sample", false: "samples"}[s.Resent == 1]))
	}
	if len(s.Cells) >= 2 {
		s.Within = withinSummary(s, &a.opts, accs, order)
	}
	return s
}

// metricsAcc accumulates what cells and cases share. Cells and the total
// add records to theirs as they come; the few cases a report lists get
// theirs from their cell's sample log when the aggregator closes, with
// values (vals) for their distributions.
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

// addRow accounts for a sample of a case from its cell's log (see add);
// classes are the aggregator's error classes.
func (m *metricsAcc) addRow(row *sampleRow, classes []string) {
	m.samples++
	if row.pass {
		m.passed++
	}
	m.retries += row.retries
	if row.errored {
		m.errored++
		if m.errors == nil {
			m.errors = map[string]int{}
		}
		m.errors[classes[row.errClass]]++
	}
	if v := m.vals; row.usage {
		v.prompt = append(v.prompt, float64(row.prompt))
		v.thinking = append(v.thinking, float64(row.thinking))
		v.visible = append(v.visible, float64(row.visible))
	}
	switch {
	case row.hasCost && row.costEstimated:
		m.estimated += row.cost
		m.estimatedN++
	case row.hasCost:
		m.reported += row.cost
		m.reportedN++
	case !row.errored:
		m.missingN++
	}
	if row.inline {
		m.vals.addRequest(&row.times)
	}
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
	f := Failure{Seed: r.Seed, ResultIndex: r.ResultIndex, Text: truncate(r.Text, limit), Reasons: []string{},
		Trajectory: trajectory(r)}
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
// cell of a uniform grid). Each entry is computed once, by the first to
// ask (the others, summarising other fields at the same time, wait for
// it). It is emptied when it grows past ciMemoMax.
var (
	ciMu   sync.Mutex
	ciMemo = map[ciKey]*ciEntry{}
)

type ciKey struct {
	n int
	p float64
}

type ciEntry struct {
	once sync.Once
	rk   ciRanks
}

const ciMemoMax = 4096

// quantileCI is QuantileCI(sorted, p, ciConf), with the ranks memoised.
func quantileCI(sorted []float64, p float64) (lo, hi float64, ok bool) {
	n := len(sorted)
	if !(p > 0 && p < 1) || n < 2 || !slices.IsSorted(sorted) {
		return QuantileCI(sorted, p, ciConf)
	}
	key := ciKey{n, p}
	ciMu.Lock()
	e := ciMemo[key]
	if e == nil {
		if len(ciMemo) >= ciMemoMax {
			clear(ciMemo)
		}
		e = &ciEntry{}
		ciMemo[key] = e
	}
	ciMu.Unlock()
	e.once.Do(func() { e.rk.r, e.rk.s, e.rk.found = orderStatisticInterval(n, p, ciConf) })
	rk := e.rk
	if !rk.found {
		return math.NaN(), math.NaN(), false
	}
	return sorted[rk.r-1], sorted[rk.s-1], true
}
