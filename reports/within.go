package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Decisions of a within-run comparison (WithinRun.Decision).
const (
	// WithinRecommend: a cell is recommended.
	WithinRecommend = "recommend"
	// WithinCannotSeparate: the cheapest candidate's comparison with the
	// reference is inconclusive; nothing is recommended.
	WithinCannotSeparate = "cannot separate"
	// WithinNoneMeetsFailUnder: no cell reaches Options.FailUnder.
	WithinNoneMeetsFailUnder = "none meets fail-under"
)

// VerdictReference is the verdict of the reference cell against itself.
const VerdictReference = "reference"

// WithinRun compares the cells of one run with each other, to choose a
// grid setting (a thinking level, a model, a variant): every cell against a
// reference cell on the samples they share (same case, seed, replicate and
// result index), the Pareto front of cost per sample against pass rate, and
// a recommendation (docs/metrics.md, "Choosing a cell").
type WithinRun struct {
	// Reference is the label of the cell the others are compared with;
	// ReferenceBy says how it was chosen: "highest pass rate" or "option"
	// (Options.Reference). ReferenceNotFound holds an Options.Reference
	// that named no cell (the highest pass rate is used instead).
	Reference         string `json:"reference"`
	ReferenceBy       string `json:"referenceBy"`
	ReferenceNotFound string `json:"referenceNotFound,omitempty"`
	// Margin and FailUnder are Options.Margin and Options.FailUnder (0:
	// none).
	Margin    float64 `json:"margin"`
	FailUnder float64 `json:"failUnder,omitempty"`
	// Cells are in the summary's order, the reference among them.
	Cells []*WithinCell `json:"cells"`
	// ParetoFront lists the labels of the cells on the Pareto front of
	// cost per sample against pass rate, cheapest first.
	ParetoFront []string `json:"paretoFront"`
	// Decision is WithinRecommend, WithinCannotSeparate or
	// WithinNoneMeetsFailUnder; Recommended is the recommended cell's label
	// (empty unless Decision is WithinRecommend) and Candidate the cell the
	// decision is about (the cheapest candidate).
	Decision    string `json:"decision"`
	Recommended string `json:"recommended,omitempty"`
	Candidate   string `json:"candidate,omitempty"`
	// CasesNeeded, with WithinCannotSeparate, is roughly how many cases
	// (at this spread and design) would detect a drop of DetectGap: the
	// candidate's observed shortfall when it exceeds the margin, else the
	// margin plus 10 points. 0 when unknown; -1 when more than 100000.
	CasesNeeded int `json:"casesNeeded,omitempty"`
	DetectGap   Num `json:"detectGap,omitempty"`
	// Recommendation is the one-sentence verdict every format prints.
	Recommendation string `json:"recommendation"`
}

// WithinCell is one cell compared with the reference (head = this cell,
// base = the reference).
type WithinCell struct {
	Label     string `json:"label"`
	Reference bool   `json:"reference,omitempty"`
	// PassRate is the cell's pass rate (Cell.PassRate); CostPerSample its
	// cost per sample (null when unknown).
	PassRate      Interval `json:"passRate"`
	CostPerSample Num      `json:"costPerSample"`
	// CostRatio is cost per sample over the reference's; LatencyRatio is
	// median E2E over the reference's. Null when either is unknown.
	CostRatio    Num `json:"costRatio"`
	LatencyRatio Num `json:"latencyRatio"`
	// Cases and Pairs count the paired cases and samples the difference is
	// over (answered in both cells, or every pair with
	// Options.ErrorsAsFailures); Unpaired the samples of this cell
	// without a partner in the reference.
	Cases    int `json:"cases"`
	Pairs    int `json:"pairs"`
	Unpaired int `json:"unpaired"`
	// Diff, ZeroSpread, Test, P, PHolm, MinP, TooFewCases, MDE and Verdict
	// are as in CellDiff (compare), with Holm across the cells other than
	// the reference. The reference has Verdict VerdictReference and null
	// statistics.
	Diff        Interval `json:"diff"`
	ZeroSpread  bool     `json:"zeroSpread"`
	Test        string   `json:"test,omitempty"`
	P           Num      `json:"p"`
	PHolm       Num      `json:"pHolm"`
	MinP        Num      `json:"minP"`
	TooFewCases bool     `json:"tooFewCases"`
	MDE         Num      `json:"mde"`
	Verdict     string   `json:"verdict"`
	// Front is true for cells on the Pareto front; Candidate for cells not
	// detectably worse than the reference (by more than the margin) that
	// meet FailUnder.
	Front     bool `json:"front"`
	Candidate bool `json:"candidate"`
	// SD is the spread of the per-case differences the MDE (and
	// WithinRun.CasesNeeded) is based on: the observed one or, when it is
	// zero, the largest the design allows (as in compare).
	SD Num `json:"sd"`
}

// Per-cell sample state bits of the within-run pairing.
const (
	wPresent  = 1
	wAnswered = 2
	wPass     = 4
)

// pairRow is a sample of a cell as pairing needs it: its key within the
// run (the case, by its rank in id order, seed, replicate and result index:
// the same key in two cells is the same sample) and its state bits.
type pairRow struct {
	seed    int64
	rank    int32
	rep, ri int32
	bits    uint8
}

func compareWithinKey(a, b *pairRow) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.seed, b.seed), cmp.Compare(a.rep, b.rep), cmp.Compare(a.ri, b.ri))
}

// pairRows lists the samples of the cells by label, each cell's sorted
// by key (case id, seed, replicate, result index), the last of a key
// added winning; rank is each case number's position in id order.
func pairRows(accs []*cellAcc, rank []int32) map[string][]pairRow {
	out := map[string][]pairRow{}
	for _, c := range accs {
		rows := out[c.label]
		c.log.each(func(row *sampleRow) {
			b := uint8(wPresent)
			if !row.errored {
				b |= wAnswered
				if row.pass {
					b |= wPass
				}
			}
			rows = append(rows, pairRow{seed: row.seed, rank: rank[row.cs], rep: int32(row.rep), ri: int32(row.ri), bits: b})
		})
		out[c.label] = rows
	}
	for l, rows := range out {
		slices.SortStableFunc(rows, func(a, b pairRow) int { return compareWithinKey(&a, &b) })
		kept := rows[:0]
		for i := range rows {
			if i+1 < len(rows) && compareWithinKey(&rows[i], &rows[i+1]) == 0 {
				continue
			}
			kept = append(kept, rows[i])
		}
		out[l] = kept
	}
	return out
}

// withinSummary compares the cells of s (2 or more) on the samples they
// share; order is every case number in id order.
func withinSummary(s *Summary, opts *Options, accs []*cellAcc, order []int32) *WithinRun {
	rank := make([]int32, len(order))
	for i, ci := range order {
		rank[ci] = int32(i)
	}
	rows := pairRows(accs, rank)
	return compareWithin(s.Cells, opts, func(ref, c *Cell) ([]pairedCase, int) {
		var qs []pairedCase
		unpaired := 0
		last := int32(-1)
		base, j := rows[ref.Label], 0
		for i := range rows[c.Label] {
			h := &rows[c.Label][i]
			for j < len(base) && compareWithinKey(&base[j], h) < 0 {
				j++
			}
			var b uint8
			if j < len(base) && compareWithinKey(&base[j], h) == 0 {
				b = base[j].bits
			}
			if b&wPresent == 0 {
				unpaired++
				continue
			}
			if !opts.ErrorsAsFailures && (b&wAnswered == 0 || h.bits&wAnswered == 0) {
				continue
			}
			if len(qs) == 0 || h.rank != last {
				qs = append(qs, pairedCase{})
				last = h.rank
			}
			qs[len(qs)-1].add(b&wPass != 0, h.bits&wPass != 0)
		}
		return qs, unpaired
	})
}

// compareWithin builds the within-run comparison of cells, with pairs
// returning the per-case paired outcomes of cell c against ref (base ref,
// head c) and the samples of c without a partner.
func compareWithin(cells []*Cell, opts *Options, pairs func(ref, c *Cell) ([]pairedCase, int)) *WithinRun {
	wr := &WithinRun{Margin: opts.Margin, FailUnder: opts.FailUnder, ReferenceBy: "highest pass rate", ParetoFront: []string{}}
	ref := bestCell(cells)
	if opts.Reference != "" {
		if c := FindCell(cells, opts.Reference); c != nil {
			ref, wr.ReferenceBy = c, "option"
		} else {
			wr.ReferenceNotFound = opts.Reference
		}
	}
	wr.Reference = ref.Label
	var ps []float64
	var compared []*WithinCell
	for _, c := range cells {
		wc := &WithinCell{Label: c.Label, PassRate: c.PassRate, CostPerSample: costPerSample(c),
			CostRatio: ratio(costPerSample(c), costPerSample(ref)), LatencyRatio: ratio(medianE2E(c), medianE2E(ref)),
			Diff: Interval{nan, nan, nan}, P: nan, PHolm: nan, MinP: nan, MDE: nan, SD: nan}
		wr.Cells = append(wr.Cells, wc)
		if c == ref {
			wc.Reference, wc.Verdict, wc.Cases, wc.Pairs = true, VerdictReference, c.Cases, c.Answered
			continue
		}
		qs, unpaired := pairs(ref, c)
		wc.Unpaired = unpaired
		wc.setPaired(qs)
		compared = append(compared, wc)
		ps = append(ps, float64(wc.P))
	}
	for i, p := range Holm(ps) {
		wc := compared[i]
		wc.PHolm = Num(p)
		wc.Verdict = verdict(&CellDiff{Diff: wc.Diff, PHolm: wc.PHolm}, opts.Margin)
		if !wc.TooFewCases {
			wc.MDE = Num(marginMDE(float64(wc.SD), wc.Cases, opts.Margin, len(compared)))
		}
	}
	// The Pareto front, over the cells whose cost and pass rate are known.
	var known []*Cell
	for _, c := range cells {
		if costPerSample(c).Defined() && c.PassRate.Value.Defined() {
			known = append(known, c)
		}
	}
	front := paretoFront(known)
	var fl []*Cell
	for i, c := range cells {
		if front[c] {
			wr.Cells[i].Front = true
			fl = append(fl, c)
		}
	}
	slices.SortStableFunc(fl, func(a, b *Cell) int { return cmp.Compare(float64(a.Cost.PerSample), float64(b.Cost.PerSample)) })
	for _, c := range fl {
		wr.ParetoFront = append(wr.ParetoFront, c.Label)
	}
	wr.decide(cells, ref, len(compared))
	return wr
}

// setPaired fills the paired statistics of c against the reference.
func (wc *WithinCell) setPaired(qs []pairedCase) {
	q := pairedStats(qs)
	wc.Cases, wc.Pairs = q.cases, q.pairs
	wc.Diff, wc.ZeroSpread, wc.Test, wc.P = q.diff, q.zeroSpread, q.test, Num(q.p)
	// A difference of two rates lies in [-1, 1]: clip the interval there.
	if wc.Diff.Lo.Defined() {
		wc.Diff.Lo, wc.Diff.Hi = max(wc.Diff.Lo, -1), min(wc.Diff.Hi, 1)
	}
	wc.MinP = Num(MinAttainableP(len(q.diffs)))
	wc.TooFewCases = !(float64(wc.MinP) < Alpha) || len(q.diffs) == 0
	// As in compare: the observed spread or, when it is zero, the largest
	// the design allows.
	wc.SD = Num(q.sd)
	if (q.zeroSpread || math.IsNaN(q.sd)) && q.pairs > 0 {
		wc.SD = Num(math.Sqrt(0.5 * float64(q.cases) / float64(q.pairs)))
	}
}

// decide picks the recommendation: among the candidates (the reference and
// the cells not detectably worse than it, at or above FailUnder), the
// cheapest; it is recommended unless its comparison with the reference is
// inconclusive (too few cases, or an observed shortfall beyond the margin
// that this data could not detect with 80% power).
func (wr *WithinRun) decide(cells []*Cell, ref *Cell, compared int) {
	var cands []int
	for i, wc := range wr.Cells {
		wc.Candidate = wc.Verdict != VerdictWorse && (wr.FailUnder <= 0 || float64(wc.PassRate.Value) >= wr.FailUnder)
		if wc.Candidate {
			cands = append(cands, i)
		}
	}
	rw := wr.Cells[slices.Index(cells, ref)]
	if len(cands) == 0 {
		wr.Decision = WithinNoneMeetsFailUnder
		wr.Recommendation = fmt.Sprintf("Recommendation: none — no cell reaches the %s pass-rate threshold; the best, %s, passes %s.",
			pct0(wr.FailUnder), ref.Label, pct0(float64(ref.PassRate.Value)))
		return
	}
	// Cheapest first (unknown costs last), then the higher pass rate.
	slices.SortStableFunc(cands, func(a, b int) int {
		ca, cb := wr.Cells[a].CostPerSample, wr.Cells[b].CostPerSample
		return cmp.Or(cmp.Compare(costKey(ca), costKey(cb)), -cmp.Compare(float64(wr.Cells[a].PassRate.Value), float64(wr.Cells[b].PassRate.Value)))
	})
	best := wr.Cells[cands[0]]
	if !best.CostPerSample.Defined() {
		best = rw
	}
	wr.Candidate = best.Label
	if best.Reference {
		wr.Decision, wr.Recommended = WithinRecommend, best.Label
		wr.Recommendation = wr.referenceSentence(rw)
		return
	}
	shortfall := -float64(best.Diff.Value)
	if best.TooFewCases || !best.Diff.Value.Defined() || (shortfall > wr.Margin && !(float64(best.MDE) <= shortfall)) {
		wr.Decision = WithinCannotSeparate
		wr.DetectGap = Num(wr.Margin + 0.10)
		if shortfall > wr.Margin {
			wr.DetectGap = Num(shortfall)
		}
		wr.CasesNeeded = withinCasesNeeded(float64(best.SD), wr.Margin, float64(wr.DetectGap), compared)
		wr.Recommendation = wr.cannotSeparateSentence(best, rw)
		return
	}
	wr.Decision, wr.Recommended = WithinRecommend, best.Label
	s := fmt.Sprintf("Recommendation: %s — %s pass (95%% CI %s), %s per sample", best.Label, pct0(float64(best.PassRate.Value)),
		ciRange(best.PassRate), shortUSD(best.CostPerSample))
	if r := float64(best.CostRatio); r > 0 && r < 1 {
		s += fmt.Sprintf(", %s× cheaper than %s at %s", strconv.FormatFloat(1/r, 'f', 1, 64), rw.Label, pct0(float64(rw.PassRate.Value)))
	}
	s += "; not detectably worse"
	if wr.Margin > 0 {
		s += " by more than " + points(wr.Margin)
	}
	s += fmt.Sprintf(" (paired difference %s points, 95%% CI %s to %s).", signedPoints(float64(best.Diff.Value)),
		signedPoints(float64(best.Diff.Lo)), signedPoints(float64(best.Diff.Hi)))
	wr.Recommendation = s
}

// referenceSentence recommends the reference itself.
func (wr *WithinRun) referenceSentence(rw *WithinCell) string {
	s := fmt.Sprintf("Recommendation: %s — %s pass (95%% CI %s), %s per sample", rw.Label, pct0(float64(rw.PassRate.Value)),
		ciRange(rw.PassRate), shortUSD(rw.CostPerSample))
	cheaper := false
	for _, wc := range wr.Cells {
		if !wc.Reference && costKey(wc.CostPerSample) < costKey(rw.CostPerSample) {
			cheaper = true
		}
	}
	switch {
	case !rw.CostPerSample.Defined():
		s += "; costs are unknown, so the reference is kept."
	case !cheaper:
		s += "; no cell is cheaper."
	default:
		s += "; every cheaper cell is detectably worse"
		if wr.Margin > 0 {
			s += " by more than " + points(wr.Margin)
		}
		if wr.FailUnder > 0 {
			s += " or below the " + pct0(wr.FailUnder) + " threshold"
		}
		s += "."
	}
	return s
}

// cannotSeparateSentence says that the data cannot separate the cheapest
// candidate from the reference, and how many cases would.
func (wr *WithinRun) cannotSeparateSentence(c, rw *WithinCell) string {
	s := fmt.Sprintf("Recommendation: none — the data cannot separate %s (%s pass, %s per sample) from %s (%s, %s)",
		c.Label, pct0(float64(c.PassRate.Value)), shortUSD(c.CostPerSample), rw.Label, pct0(float64(rw.PassRate.Value)), shortUSD(rw.CostPerSample))
	if c.Diff.Lo.Defined() {
		s += fmt.Sprintf(": paired difference %s points, 95%% CI %s to %s", signedPoints(float64(c.Diff.Value)),
			signedPoints(float64(c.Diff.Lo)), signedPoints(float64(c.Diff.Hi)))
	}
	switch {
	case wr.CasesNeeded > 0:
		s += fmt.Sprintf("; about %d cases (now %d) would detect a drop of %s.", wr.CasesNeeded, c.Cases, points(float64(wr.DetectGap)))
	case wr.CasesNeeded < 0:
		s += fmt.Sprintf("; more than %d cases would be needed to detect a drop of %s.", casesNeededMax, points(float64(wr.DetectGap)))
	default:
		s += "."
	}
	return s
}

// casesNeededMax bounds the search of withinCasesNeeded.
const casesNeededMax = 100000

// withinCasesNeeded returns the smallest number of cases whose MDE (marginMDE at
// this spread, margin and number of compared cells) is at most gap and
// whose test can reach Alpha; -1 when more than casesNeededMax, 0 when the
// spread is unknown.
func withinCasesNeeded(sd, margin, gap float64, cells int) int {
	if !(sd >= 0) || cells < 1 {
		return 0
	}
	ok := func(n int) bool { return MinAttainableP(n) < Alpha && marginMDE(sd, n, margin, cells) <= gap }
	if !ok(casesNeededMax) {
		return -1
	}
	lo, hi := 2, casesNeededMax // ok(hi); MDE decreases with n
	for lo < hi {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// bestCell is the cell with the highest pass rate; ties go to the cheaper
// cell, then to the first.
func bestCell(cells []*Cell) *Cell {
	var best *Cell
	for _, c := range cells {
		r := float64(c.PassRate.Value)
		switch {
		case best == nil:
			best = c
		case !c.PassRate.Value.Defined():
		case !best.PassRate.Value.Defined() || r > float64(best.PassRate.Value):
			best = c
		case r == float64(best.PassRate.Value) && costKey(costPerSample(c)) < costKey(costPerSample(best)):
			best = c
		}
	}
	return best
}

// FindCell returns the cell that name designates: its exact label, its
// journal cell label, or else the one cell with a grid value "k=v" (or
// "variant=v") whose key ends with name's key at a dot, so that
// "thinkingLevel=high" finds "settings.thinkingLevel=high". nil when none
// or several match.
func FindCell(cells []*Cell, name string) *Cell {
	for _, c := range cells {
		if c.Label == name || (c.Cell != "" && c.Cell == name && c.Variant == "") {
			return c
		}
	}
	want := strings.Fields(name)
	var found *Cell
	for _, c := range cells {
		tokens := strings.Fields(c.Label)
		all := len(want) > 0
		for _, w := range want {
			all = all && slices.ContainsFunc(tokens, func(t string) bool {
				return t == w || (strings.HasSuffix(t, w) && t[len(t)-len(w)-1] == '.')
			})
		}
		if all {
			if found != nil {
				return nil
			}
			found = c
		}
	}
	return found
}

func costPerSample(c *Cell) Num {
	if c.Cost.ReportedN+c.Cost.EstimatedN == 0 {
		return nan
	}
	return c.Cost.PerSample
}

func medianE2E(c *Cell) Num {
	q, ok := c.E2E.At(0.5)
	if !ok || c.E2E.N == 0 {
		return nan
	}
	return q.Value
}

func ratio(a, b Num) Num {
	if !a.Defined() || !b.Defined() || !(b > 0) {
		return nan
	}
	return a / b
}

// costKey orders costs with unknown ones last.
func costKey(v Num) float64 {
	if !v.Defined() {
		return math.Inf(1)
	}
	return float64(v)
}

// pct0 formats a rate as a whole percentage: "60%".
func pct0(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(100*v, 'f', 0, 64) + "%"
}

// ciRange formats an interval of rates: "41–77%".
func ciRange(iv Interval) string {
	if !iv.Lo.Defined() || !iv.Hi.Defined() {
		return "undefined"
	}
	return strconv.FormatFloat(100*float64(iv.Lo), 'f', 0, 64) + "–" + pct0(float64(iv.Hi))
}

// points formats a rate difference in percentage points: "5 points".
func points(v float64) string {
	return strconv.FormatFloat(100*v, 'f', 0, 64) + " points"
}

// signedPoints formats a rate difference with its sign: "+3", "−27".
func signedPoints(v float64) string {
	r := math.Round(100 * v)
	switch {
	case math.IsNaN(v):
		return "–"
	case r < 0:
		return "−" + strconv.FormatFloat(-r, 'f', 0, 64)
	case r > 0:
		return "+" + strconv.FormatFloat(r, 'f', 0, 64)
	}
	return "0"
}

// shortUSD formats a cost per sample with 3 significant digits: "$0.00197".
func shortUSD(v Num) string {
	if !v.Defined() {
		return "unknown cost"
	}
	x := float64(v)
	if x == 0 {
		return "$0"
	}
	d := max(2, 2-int(math.Floor(math.Log10(math.Abs(x)))))
	return "$" + strconv.FormatFloat(x, 'f', d, 64)
}

// fmtTimes formats a ratio: "3.10×", "–" when undefined.
func fmtTimes(v Num) string {
	if !v.Defined() {
		return "–"
	}
	return strconv.FormatFloat(float64(v), 'f', 2, 64) + "×"
}
