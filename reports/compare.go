package reports

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// CompareSchemaID names the JSON schema of a comparison and its version.
const CompareSchemaID = "promptgrid.compare/v1"

// Verdicts of a cell in a comparison.
const (
	VerdictBetter   = "better"
	VerdictWorse    = "worse"
	VerdictNoChange = "no detectable change"
)

// Alpha is the significance level of comparisons: 95% intervals and
// Holm-adjusted p-values below it.
const Alpha = 0.05

// Comparison is the paired comparison of a head run against a base run.
type Comparison struct {
	Schema string `json:"schema"`
	Base   RunRef `json:"base"`
	Head   RunRef `json:"head"`
	// Margin is the practical margin: a regression is a pass-rate
	// difference whose whole interval lies below -Margin.
	Margin float64 `json:"margin"`
	// Pairing is how the runs were paired: PairingSample (by case, cell,
	// seed, replicate and result index: the exact paired analysis) when any
	// sample pairs, else PairingCase (the seeds differ: each case's rates
	// in head against its rates in base).
	Pairing string      `json:"pairing"`
	Cells   []*CellDiff `json:"cells"`
	// BaseOnly and HeadOnly count samples without a partner in the other
	// run (cases, cells or seeds added or removed); they are left out.
	BaseOnly int `json:"baseOnly"`
	HeadOnly int `json:"headOnly"`
	// Regressions counts cells whose verdict is worse.
	Regressions int `json:"regressions"`
	// AvailabilityChanges counts cells whose Availability verdict is worse
	// (their error rate rose).
	AvailabilityChanges int `json:"availabilityChanges"`
	// FailOnAvailability is Options.FailOnAvailability: whether an
	// availability change sets the decision, besides a quality regression.
	FailOnAvailability bool `json:"failOnAvailability"`
	// Decision is the exit-code decision: DecisionFail when a cell regressed
	// in quality, or in availability with FailOnAvailability; else
	// DecisionPass.
	Decision string `json:"decision"`
}

// Pairings of a comparison (Comparison.Pairing).
const (
	PairingSample = "sample"
	PairingCase   = "case"
)

// Decisions of a comparison (Comparison.Decision).
const (
	DecisionPass = "pass"
	DecisionFail = "fail"
)

// RunRef identifies a compared run.
type RunRef struct {
	RunID     string `json:"runId"`
	Suite     string `json:"suite"`
	SuiteHash string `json:"suiteHash,omitempty"`
}

// CellDiff compares one cell of the two runs on their paired samples.
type CellDiff struct {
	Label string `json:"label"`
	// Cases and Pairs count the paired cases and samples the pass rates
	// are over: pairs answered in both runs (every pair with
	// Options.ErrorsAsFailures), so that an outage is not a quality change.
	Cases    int `json:"cases"`
	Pairs    int `json:"pairs"`
	BaseRate Num `json:"baseRate"`
	HeadRate Num `json:"headRate"`
	// Diff is head - base pass rate: the mean of per-case paired
	// differences, with a 95% t interval; when every case changed by the
	// same amount (ZeroSpread) the t interval would have zero width, and the
	// exact bound of ConstantSampleCI is used instead.
	Diff Interval `json:"diff"`
	// ZeroSpread is true when the per-case differences of 2 or more cases
	// are all equal, so their standard deviation is 0.
	ZeroSpread bool `json:"zeroSpread"`
	// Test is "mcnemar" (exact McNemar, one sample per case) or
	// "sign-flip" (exact sign-flip permutation on per-case differences).
	Test string `json:"test"`
	// Discordant counts, for McNemar: BaseOnlyPass (base passed, head
	// failed) and HeadOnlyPass.
	BaseOnlyPass int `json:"baseOnlyPass"`
	HeadOnlyPass int `json:"headOnlyPass"`
	P            Num `json:"p"`
	PHolm        Num `json:"pHolm"`
	// MinP is the smallest p-value the test can give with this many cases
	// (MinAttainableP); TooFewCases is true when it is not below Alpha, so
	// that no difference, however large, can be detected.
	MinP        Num  `json:"minP"`
	TooFewCases bool `json:"tooFewCases"`
	// MDE is the smallest pass-rate difference this many cases detect with
	// 80% power: the margin plus the effect detected at level 0.05/cells
	// (Holm's first step, Bonferroni), given the spread of the differences,
	// or, when the spread is zero, the largest spread the design allows;
	// null when TooFewCases.
	MDE Num `json:"mde"`
	// Latency is the ratio head/base of E2E latency estimated over cases:
	// per case, the difference of the mean log E2E of its answered requests
	// (one value per request) in head and in base; the interval is the t
	// interval over cases of those log ratios, exponentiated. LatencyCases
	// counts the cases with latencies in both runs; LatencyPairs the paired
	// samples (sample pairing) with a latency on both sides.
	Latency      Interval `json:"latencyRatio"`
	LatencyPairs int      `json:"latencyPairs"`
	LatencyCases int      `json:"latencyCases"`
	// BaseSamples and HeadSamples count the samples of each run the pass
	// rates are over (with case pairing, Pairs is 0: no sample has a
	// partner).
	BaseSamples int `json:"baseSamples"`
	HeadSamples int `json:"headSamples"`
	// BaseCost and HeadCost are the costs (reported and estimated) of the
	// CostPairs paired samples whose cost is known in both runs, and
	// CostDiff = HeadCost - BaseCost; all three are null when no pair has a
	// cost on both sides (e.g. neither run set includeCost), so that an
	// unknown cost never reads as a difference of $0.
	BaseCost  Num `json:"baseCost"`
	HeadCost  Num `json:"headCost"`
	CostDiff  Num `json:"costDiff"`
	CostPairs int `json:"costPairs"`
	// BaseCostKind and HeadCostKind say what each compared cost is:
	// CostReported (the API's), CostEstimated (the price table's) or
	// CostMixed; "" when there is none. BaseCostEstimated and
	// HeadCostEstimated are the estimated parts, so that a difference
	// between a reported and an estimated cost is never read as a change
	// in price.
	BaseCostKind      string `json:"baseCostKind"`
	HeadCostKind      string `json:"headCostKind"`
	BaseCostEstimated Num    `json:"baseCostEstimated"`
	HeadCostEstimated Num    `json:"headCostEstimated"`
	Verdict           string `json:"verdict"`
	// Availability compares the error rates (samples without an answer) on
	// every paired sample, answered or not: see AvailabilityDiff.
	Availability AvailabilityDiff `json:"availability"`
	// sd is the spread of the per-case differences the MDE is based on.
	sd float64
}

// pairSample is what a comparison keeps of a base sample until its head
// partner arrives.
type pairSample struct {
	pass     bool
	answered bool
	e2e      float64
	cost     float64
	est      bool
}

// caseTally counts a case's paired outcomes within a cell: q the quality
// pairs (pass), e every pair (errored).
type caseTally struct {
	q, e pairedCase
}

// runCase is one run's samples of one case in one cell, whatever their
// seeds: what pairing by case compares, and the case's latency (the sum of
// the log E2E of its answered requests, one value per request; requests
// with several results wait in reqs for their largest E2E).
type runCase struct {
	n, answered, passed, errored int
	logSum                       float64
	logN                         int
	reqs                         map[journal.ID128]float64
	cost                         costTally
}

// costTally sums costs with reported and estimated amounts apart.
type costTally struct {
	reported, estimated   float64
	reportedN, estimatedN int
}

func (t *costTally) add(cost float64, est bool) {
	switch {
	case math.IsNaN(cost):
	case est:
		t.estimated += cost
		t.estimatedN++
	default:
		t.reported += cost
		t.reportedN++
	}
}

func (t *costTally) total() float64 { return t.reported + t.estimated }

// merge adds u to t.
func (t *costTally) merge(u *costTally) {
	t.reported += u.reported
	t.estimated += u.estimated
	t.reportedN += u.reportedN
	t.estimatedN += u.estimatedN
}
func (t *costTally) n() int { return t.reportedN + t.estimatedN }

// kind labels the cost: CostReported, CostEstimated, CostMixed, or "" with
// no cost at all.
func (t *costTally) kind() string {
	switch {
	case t.n() == 0:
		return ""
	case t.estimatedN == 0:
		return CostReported
	case t.reportedN == 0:
		return CostEstimated
	}
	return CostMixed
}

// Kinds of a compared cost (CellDiff.BaseCostKind, HeadCostKind).
const (
	CostReported  = "reported"
	CostEstimated = "estimated"
	CostMixed     = "mixed"
)

func (rc *runCase) add(r *journal.Record, s *pairSample, req *journal.ID128) {
	rc.n++
	if s.answered {
		rc.answered++
	} else {
		rc.errored++
	}
	if s.pass {
		rc.passed++
	}
	rc.cost.add(s.cost, s.est)
	if !(s.e2e > 0) || math.IsInf(s.e2e, 0) {
		return
	}
	if req == nil {
		rc.logSum += math.Log(s.e2e)
		rc.logN++
		return
	}
	if rc.reqs == nil {
		rc.reqs = map[journal.ID128]float64{}
	}
	rc.reqs[*req] = math.Max(rc.reqs[*req], s.e2e)
}

// meanLog is the mean log E2E over the case's requests (NaN without any).
func (rc *runCase) meanLog() float64 {
	for _, v := range rc.reqs {
		rc.logSum += math.Log(v)
		rc.logN++
	}
	rc.reqs = nil
	if rc.logN == 0 {
		return math.NaN()
	}
	return rc.logSum / float64(rc.logN)
}

type cellPairs struct {
	label      string
	first      time.Time
	inBase     bool
	inHead     bool
	cases      map[string]*caseTally
	base, head map[string]*runCase
	// Exact pairs: costs of the pairs with a known cost on both sides, and
	// the pairs with a latency on both sides.
	baseCost, headCost costTally
	costPairs          int
	latPairs           int
	pairs              int
}

// Comparer pairs the samples of two runs: AddBase every base sample, then
// AddHead every head sample, then Close. Samples pair by case, cell
// (variant and grid values), seed, replicate and result index; when no
// sample pairs (the seeds differ), Close pairs by case and cell instead.
type Comparer struct {
	margin     float64
	opts       Options
	base       map[string]pairSample
	cells      map[string]*cellPairs
	headOnly   int
	headN      int
	baseRef    RunRef
	headRef    RunRef
	baseSeen   bool
	headSeen   bool
	matchedKey map[string]bool
	ids        journal.IDHasher
}

// NewComparer returns a comparer with the given practical margin (a
// fraction, e.g. 0.05).
func NewComparer(margin float64) *Comparer {
	return NewComparerWith(margin, Options{})
}

// NewComparerWith returns a comparer with the given practical margin and
// options: ErrorsAsFailures counts a sample without an answer as failing in
// the pass rates, and FailOnAvailability lets an availability change set
// the decision.
func NewComparerWith(margin float64, opts Options) *Comparer {
	return &Comparer{margin: margin, opts: opts, base: map[string]pairSample{}, cells: map[string]*cellPairs{},
		matchedKey: map[string]bool{}, ids: journal.NewIDHasher()}
}

func pairKey(r *journal.Record) string {
	return strings.Join([]string{r.CaseID, r.Variant, r.Cell, strconv.FormatInt(r.Seed, 10),
		strconv.Itoa(r.Replicate), strconv.Itoa(r.ResultIndex)}, "\x00")
}

func sampleOf(r *journal.Record) pairSample {
	s := pairSample{pass: r.Pass && r.Error == nil, answered: r.Error == nil, e2e: math.NaN(), cost: math.NaN(), est: r.CostEstimated}
	if r.Error == nil && r.Timings.E2E != nil {
		s.e2e = *r.Timings.E2E
	}
	if r.Cost != nil {
		s.cost = *r.Cost
	}
	return s
}

// cell returns the cell of r, created on first use, with r's case
// accounted for in the run (base or head).
func (c *Comparer) cell(r *journal.Record, s *pairSample, head bool) *cellPairs {
	ck := r.Variant + "\x00" + r.Cell
	cp := c.cells[ck]
	if cp == nil {
		cp = &cellPairs{label: CellLabel(r.Variant, r.Cell), cases: map[string]*caseTally{},
			base: map[string]*runCase{}, head: map[string]*runCase{}}
		c.cells[ck] = cp
	}
	runs := cp.base
	if head {
		runs = cp.head
		cp.inHead = true
		if ts := r.Timings.Scheduled; !ts.IsZero() && (cp.first.IsZero() || ts.Before(cp.first)) {
			cp.first = ts
		}
	} else {
		cp.inBase = true
	}
	rc := runs[r.CaseID]
	if rc == nil {
		rc = &runCase{}
		runs[r.CaseID] = rc
	}
	var req *journal.ID128
	if r.Results > 1 {
		id := requestID(&c.ids, r)
		req = &id
	}
	rc.add(r, s, req)
	return cp
}

// AddBase records one sample of the base run.
func (c *Comparer) AddBase(r *journal.Record) {
	if !c.baseSeen {
		c.baseRef, c.baseSeen = RunRef{RunID: r.RunID, Suite: r.Suite, SuiteHash: r.SuiteHash}, true
	}
	s := sampleOf(r)
	c.base[pairKey(r)] = s
	c.cell(r, &s, false)
}

// AddHead pairs one sample of the head run with its base sample.
func (c *Comparer) AddHead(r *journal.Record) {
	if !c.headSeen {
		c.headRef, c.headSeen = RunRef{RunID: r.RunID, Suite: r.Suite, SuiteHash: r.SuiteHash}, true
	}
	c.headN++
	h := sampleOf(r)
	cp := c.cell(r, &h, true)
	k := pairKey(r)
	b, ok := c.base[k]
	if !ok || c.matchedKey[k] {
		c.headOnly++
		return
	}
	c.matchedKey[k] = true
	ct := cp.cases[r.CaseID]
	if ct == nil {
		ct = &caseTally{}
		cp.cases[r.CaseID] = ct
	}
	ct.e.add(!b.answered, !h.answered)
	if (b.answered && h.answered) || c.opts.ErrorsAsFailures {
		ct.q.add(b.pass, h.pass)
		cp.pairs++
	}
	if b.e2e > 0 && h.e2e > 0 {
		cp.latPairs++
	}
	if !math.IsNaN(b.cost) && !math.IsNaN(h.cost) {
		cp.baseCost.add(b.cost, b.est)
		cp.headCost.add(h.cost, h.est)
		cp.costPairs++
	}
}

// Close computes the comparison.
func (c *Comparer) Close() *Comparison {
	out := &Comparison{Schema: CompareSchemaID, Base: c.baseRef, Head: c.headRef, Margin: c.margin,
		Pairing: PairingSample, HeadOnly: c.headOnly, BaseOnly: len(c.base) - len(c.matchedKey), Cells: []*CellDiff{},
		FailOnAvailability: c.opts.FailOnAvailability}
	if len(c.matchedKey) == 0 {
		out.Pairing = PairingCase
	}
	cps := make([]*cellPairs, 0, len(c.cells))
	for _, cp := range c.cells {
		if out.Pairing == PairingSample && len(cp.cases) == 0 {
			continue
		}
		if out.Pairing == PairingCase && !cp.commonCase() {
			continue
		}
		cps = append(cps, cp)
	}
	if out.Pairing == PairingCase {
		// Samples of the cases both runs have are compared; the rest are
		// left out.
		out.BaseOnly, out.HeadOnly = len(c.base), c.headN
		for _, cp := range cps {
			for id, b := range cp.base {
				if h := cp.head[id]; h != nil {
					out.BaseOnly -= b.n
					out.HeadOnly -= h.n
				}
			}
		}
	}
	slices.SortFunc(cps, func(a, b *cellPairs) int {
		return cmp.Or(a.first.Compare(b.first), strings.Compare(a.label, b.label))
	})
	ps := make([]float64, len(cps))
	for i, cp := range cps {
		d := cp.diff(out.Pairing, c.opts.ErrorsAsFailures)
		ps[i] = float64(d.P)
		out.Cells = append(out.Cells, d)
	}
	for i, p := range Holm(ps) {
		d := out.Cells[i]
		d.PHolm = Num(p)
		d.Verdict = verdict(d, c.margin)
		d.MDE = nan
		if !d.TooFewCases {
			d.MDE = Num(marginMDE(d.sd, d.Cases, c.margin, len(out.Cells)))
		}
		if d.Verdict == VerdictWorse {
			out.Regressions++
		}
	}
	out.AvailabilityChanges = availabilityVerdicts(out.Cells)
	out.Decision = DecisionPass
	if out.Regressions > 0 || (out.FailOnAvailability && out.AvailabilityChanges > 0) {
		out.Decision = DecisionFail
	}
	return out
}

// commonCase reports whether both runs have samples of some case of the
// cell.
func (cp *cellPairs) commonCase() bool {
	for id := range cp.base {
		if cp.head[id] != nil {
			return true
		}
	}
	return false
}

// verdict: worse when the whole 95% interval of the difference lies below
// -margin and the Holm-adjusted p-value is below Alpha; better when it lies
// wholly above +margin, likewise; otherwise no detectable change.
func verdict(d *CellDiff, margin float64) string {
	if !d.Diff.Lo.Defined() || !d.PHolm.Defined() || float64(d.PHolm) >= Alpha {
		return VerdictNoChange
	}
	switch {
	case float64(d.Diff.Hi) < -margin:
		return VerdictWorse
	case float64(d.Diff.Lo) > margin:
		return VerdictBetter
	}
	return VerdictNoChange
}

func (cp *cellPairs) diff(pairing string, errorsAsFailures bool) *CellDiff {
	d := &CellDiff{Label: cp.label, Pairs: cp.pairs, BaseCost: nan, HeadCost: nan, CostDiff: nan,
		BaseCostEstimated: nan, HeadCostEstimated: nan}
	var ids []string
	if pairing == PairingSample {
		for id := range cp.cases {
			ids = append(ids, id)
		}
	} else {
		for id := range cp.base {
			if cp.head[id] != nil {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	var q, e paired
	if pairing == PairingSample {
		qs := make([]pairedCase, 0, len(ids))
		es := make([]pairedCase, 0, len(ids))
		for _, id := range ids {
			qs = append(qs, cp.cases[id].q)
			es = append(es, cp.cases[id].e)
		}
		q, e = pairedStats(qs), pairedStats(es)
		d.BaseSamples, d.HeadSamples = cp.pairs, cp.pairs
		d.CostPairs = cp.costPairs
		d.setCost(&cp.baseCost, &cp.headCost)
	} else {
		var qb, qh, eb, eh []CaseCount
		var bc, hc costTally
		for _, id := range ids {
			b, h := cp.base[id], cp.head[id]
			bn, hn := b.answered, h.answered
			if errorsAsFailures {
				bn, hn = b.n, h.n
			}
			qb, qh = append(qb, CaseCount{Pass: b.passed, N: bn}), append(qh, CaseCount{Pass: h.passed, N: hn})
			eb, eh = append(eb, CaseCount{Pass: b.errored, N: b.n}), append(eh, CaseCount{Pass: h.errored, N: h.n})
			if bn > 0 && hn > 0 {
				d.BaseSamples += bn
				d.HeadSamples += hn
			}
			bc.merge(&b.cost)
			hc.merge(&h.cost)
		}
		q, e = casePairedStats(qb, qh), casePairedStats(eb, eh)
		if bc.n() > 0 && hc.n() > 0 {
			d.setCost(&bc, &hc)
		}
	}
	d.Availability = newAvailability(e)
	d.Cases, d.BaseRate, d.HeadRate = q.cases, Num(q.baseRate), Num(q.headRate)
	d.Diff, d.ZeroSpread, d.Test, d.P = q.diff, q.zeroSpread, q.test, Num(q.p)
	d.BaseOnlyPass, d.HeadOnlyPass = q.bOnly, q.cOnly
	d.MinP = Num(MinAttainableP(len(q.diffs)))
	d.TooFewCases = !(float64(d.MinP) < Alpha) || len(q.diffs) == 0
	// The spread the MDE is based on: the observed one, or, when it is zero,
	// the largest the design allows: a difference of two rates at ½ each,
	// of n̄ samples per case in each run, has sd √(¼/n̄_base + ¼/n̄_head).
	d.sd = q.sd
	if (d.ZeroSpread || math.IsNaN(q.sd)) && d.BaseSamples > 0 && d.HeadSamples > 0 {
		m := float64(q.cases)
		d.sd = math.Sqrt(0.25*m/float64(d.BaseSamples) + 0.25*m/float64(d.HeadSamples))
	}
	d.LatencyPairs = cp.latPairs
	var logs []float64
	for _, id := range ids {
		b, h := cp.base[id], cp.head[id]
		if b == nil || h == nil {
			continue
		}
		if bl, hl := b.meanLog(), h.meanLog(); !math.IsNaN(bl) && !math.IsNaN(hl) {
			logs = append(logs, hl-bl)
		}
	}
	d.LatencyCases = len(logs)
	d.Latency = Interval{nan, nan, nan}
	if len(logs) > 0 {
		m, lo, hi, _ := PairedMeanCI(logs, 1-Alpha)
		d.Latency = Interval{Num(math.Exp(m)), Num(math.Exp(lo)), Num(math.Exp(hi))}
	}
	return d
}

// setCost sets the compared costs and their kinds.
func (d *CellDiff) setCost(b, h *costTally) {
	d.BaseCostKind, d.HeadCostKind = b.kind(), h.kind()
	if b.n() == 0 || h.n() == 0 {
		return
	}
	d.BaseCost, d.HeadCost, d.CostDiff = Num(b.total()), Num(h.total()), Num(h.total()-b.total())
	d.BaseCostEstimated, d.HeadCostEstimated = Num(b.estimated), Num(h.estimated)
}

// Compare pairs the samples of the journals at basePath and headPath (the
// last line of each sample) and compares them cell by cell.
func Compare(basePath, headPath string, margin float64) (*Comparison, error) {
	return CompareWith(basePath, headPath, margin, Options{})
}

// CompareWith is Compare with options (see NewComparerWith).
func CompareWith(basePath, headPath string, margin float64, opts Options) (*Comparison, error) {
	c := NewComparerWith(margin, opts)
	if _, err := ReadLatest(basePath, func(r *journal.Record) error { c.AddBase(r); return nil }); err != nil {
		return nil, err
	}
	if _, err := ReadLatest(headPath, func(r *journal.Record) error { c.AddHead(r); return nil }); err != nil {
		return nil, err
	}
	return c.Close(), nil
}

// agreeWithTest widens a difference's interval to include 0 when the exact
// test's p-value is not below Alpha: a t interval on discrete differences
// (-1, 0, +1) can exclude 0 where the exact test finds nothing (3 of 3
// cases flipping has p = 0.25), and an interval must not claim more than the
// test decides.
func agreeWithTest(iv Interval, p float64) Interval {
	if !iv.Lo.Defined() || !(p >= Alpha) {
		return iv
	}
	iv.Lo, iv.Hi = min(iv.Lo, 0), max(iv.Hi, 0)
	return iv
}

// marginMDE is the minimum detectable effect of a cell's verdict: a
// regression must clear the margin, and its p-value Holm's strictest level
// Alpha/cells, so the effect needed is margin + (t_{1-Alpha/(2·cells)} +
// t_{0.80})·sd/√cases on cases-1 degrees of freedom.
func marginMDE(sd float64, cases int, margin float64, cells int) float64 {
	if cases < 2 || !(sd >= 0) || cells < 1 {
		return math.NaN()
	}
	df := float64(cases - 1)
	a := Alpha / float64(cells)
	return margin + (StudentTQuantile(1-a/2, df)+StudentTQuantile(0.80, df))*sd/math.Sqrt(float64(cases))
}
