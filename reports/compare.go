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
	Margin float64     `json:"margin"`
	Cells  []*CellDiff `json:"cells"`
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
	// Latency is the geometric-mean ratio head/base of paired E2E
	// latencies, with its 95% interval; LatencyPairs counts the pairs.
	Latency      Interval `json:"latencyRatio"`
	LatencyPairs int      `json:"latencyPairs"`
	// BaseCost and HeadCost are the costs (reported and estimated) of the
	// CostPairs paired samples whose cost is known in both runs, and
	// CostDiff = HeadCost - BaseCost; all three are null when no pair has a
	// cost on both sides (e.g. neither run set includeCost), so that an
	// unknown cost never reads as a difference of $0.
	BaseCost  Num    `json:"baseCost"`
	HeadCost  Num    `json:"headCost"`
	CostDiff  Num    `json:"costDiff"`
	CostPairs int    `json:"costPairs"`
	Verdict   string `json:"verdict"`
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
}

// caseTally counts a case's paired outcomes within a cell: q the quality
// pairs (pass), e every pair (errored).
type caseTally struct {
	q, e pairedCase
}

type cellPairs struct {
	label              string
	first              time.Time
	cases              map[string]*caseTally
	baseLat, headLat   []float64
	baseCost, headCost float64
	costPairs          int
	pairs              int
}

// Comparer pairs the samples of two runs: AddBase every base sample, then
// AddHead every head sample, then Close. Samples pair by case, cell
// (variant and grid values), seed, replicate and result index.
type Comparer struct {
	margin     float64
	opts       Options
	base       map[string]pairSample
	cells      map[string]*cellPairs
	headOnly   int
	baseRef    RunRef
	headRef    RunRef
	baseSeen   bool
	headSeen   bool
	matchedKey map[string]bool
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
	return &Comparer{margin: margin, opts: opts, base: map[string]pairSample{}, cells: map[string]*cellPairs{}, matchedKey: map[string]bool{}}
}

func pairKey(r *journal.Record) string {
	return strings.Join([]string{r.CaseID, r.Variant, r.Cell, strconv.FormatInt(r.Seed, 10),
		strconv.Itoa(r.Replicate), strconv.Itoa(r.ResultIndex)}, "\x00")
}

func sampleOf(r *journal.Record) pairSample {
	s := pairSample{pass: r.Pass && r.Error == nil, answered: r.Error == nil, e2e: math.NaN(), cost: math.NaN()}
	if r.Error == nil && r.Timings.E2E != nil {
		s.e2e = *r.Timings.E2E
	}
	if r.Cost != nil {
		s.cost = *r.Cost
	}
	return s
}

// AddBase records one sample of the base run.
func (c *Comparer) AddBase(r *journal.Record) {
	if !c.baseSeen {
		c.baseRef, c.baseSeen = RunRef{RunID: r.RunID, Suite: r.Suite, SuiteHash: r.SuiteHash}, true
	}
	c.base[pairKey(r)] = sampleOf(r)
}

// AddHead pairs one sample of the head run with its base sample.
func (c *Comparer) AddHead(r *journal.Record) {
	if !c.headSeen {
		c.headRef, c.headSeen = RunRef{RunID: r.RunID, Suite: r.Suite, SuiteHash: r.SuiteHash}, true
	}
	k := pairKey(r)
	b, ok := c.base[k]
	if !ok || c.matchedKey[k] {
		c.headOnly++
		return
	}
	c.matchedKey[k] = true
	h := sampleOf(r)
	ck := r.Variant + "\x00" + r.Cell
	cp := c.cells[ck]
	if cp == nil {
		cp = &cellPairs{label: CellLabel(r.Variant, r.Cell), cases: map[string]*caseTally{}}
		c.cells[ck] = cp
	}
	if ts := r.Timings.Scheduled; !ts.IsZero() && (cp.first.IsZero() || ts.Before(cp.first)) {
		cp.first = ts
	}
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
		cp.baseLat = append(cp.baseLat, b.e2e)
		cp.headLat = append(cp.headLat, h.e2e)
	}
	if !math.IsNaN(b.cost) && !math.IsNaN(h.cost) {
		cp.baseCost += b.cost
		cp.headCost += h.cost
		cp.costPairs++
	}
}

// Close computes the comparison.
func (c *Comparer) Close() *Comparison {
	out := &Comparison{Schema: CompareSchemaID, Base: c.baseRef, Head: c.headRef, Margin: c.margin,
		HeadOnly: c.headOnly, BaseOnly: len(c.base) - len(c.matchedKey), Cells: []*CellDiff{},
		FailOnAvailability: c.opts.FailOnAvailability}
	cps := make([]*cellPairs, 0, len(c.cells))
	for _, cp := range c.cells {
		cps = append(cps, cp)
	}
	slices.SortFunc(cps, func(a, b *cellPairs) int {
		return cmp.Or(a.first.Compare(b.first), strings.Compare(a.label, b.label))
	})
	ps := make([]float64, len(cps))
	for i, cp := range cps {
		d := cp.diff()
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

func (cp *cellPairs) diff() *CellDiff {
	d := &CellDiff{Label: cp.label, Cases: len(cp.cases), Pairs: cp.pairs,
		BaseCost: nan, HeadCost: nan, CostDiff: nan, CostPairs: cp.costPairs}
	if cp.costPairs > 0 {
		d.BaseCost, d.HeadCost, d.CostDiff = Num(cp.baseCost), Num(cp.headCost), Num(cp.headCost-cp.baseCost)
	}
	ids := make([]string, 0, len(cp.cases))
	for id := range cp.cases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	qs := make([]pairedCase, 0, len(ids))
	es := make([]pairedCase, 0, len(ids))
	for _, id := range ids {
		qs = append(qs, cp.cases[id].q)
		es = append(es, cp.cases[id].e)
	}
	q := pairedStats(qs)
	d.Availability = newAvailability(pairedStats(es))
	d.Cases, d.BaseRate, d.HeadRate = q.cases, Num(q.baseRate), Num(q.headRate)
	d.Diff, d.ZeroSpread, d.Test, d.P = q.diff, q.zeroSpread, q.test, Num(q.p)
	d.BaseOnlyPass, d.HeadOnlyPass = q.bOnly, q.cOnly
	diffs, sd, m := q.diffs, q.sd, float64(q.cases)
	d.MinP = Num(MinAttainableP(len(diffs)))
	d.TooFewCases = !(float64(d.MinP) < Alpha) || len(diffs) == 0
	// The spread the MDE is based on: the observed one, or, when it is zero,
	// the largest the design allows (two rates of n̄ samples at ½ each).
	d.sd = sd
	if (d.ZeroSpread || math.IsNaN(sd)) && cp.pairs > 0 {
		d.sd = math.Sqrt(0.5 * m / float64(cp.pairs))
	}
	d.Latency = Interval{nan, nan, nan}
	d.LatencyPairs = len(cp.baseLat)
	if len(cp.baseLat) > 0 {
		r, rlo, rhi, _ := GeoMeanRatio(cp.baseLat, cp.headLat)
		d.Latency = Interval{Num(r), Num(rlo), Num(rhi)}
	}
	return d
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
