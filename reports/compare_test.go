package reports

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// synthRun mimics one run of a suite: every case has a true pass
// probability in each cell (probs[cell][case]) and each of its seeds passes
// independently with it. E2E latency is lognormal-ish around lat[cell] ms.
func synthRun(rng *rand.Rand, runID string, cells []string, probs [][]float64, seeds int, lat []float64) []*journal.Record {
	var recs []*journal.Record
	for ci, cell := range cells {
		for k, p := range probs[ci] {
			for s := 0; s < seeds; s++ {
				e2e := lat[ci] * (0.8 + 0.4*rng.Float64())
				cost := 0.001
				r := &journal.Record{RunID: runID, Suite: "synth", CaseID: fmt.Sprintf("case%02d", k), Cell: cell,
					Seed: int64(s), Results: 1, Attempts: 1, Pass: rng.Float64() < p, Cost: &cost,
					TrialKey: fmt.Sprintf("%s-%s-%d-%d", runID, cell, k, s),
					Timings:  journal.Timings{Scheduled: fixtureStart.Add(time.Duration(ci) * time.Second), E2E: &e2e}}
				recs = append(recs, r)
			}
		}
	}
	return recs
}

// caseProbs draws each case's true pass probability, uniform in [0.3, 0.95].
func caseProbs(rng *rand.Rand, cells, cases int) [][]float64 {
	out := make([][]float64, cells)
	base := make([]float64, cases)
	for i := range base {
		base[i] = 0.3 + 0.65*rng.Float64()
	}
	for c := range out {
		out[c] = append([]float64(nil), base...)
	}
	return out
}

var synthCells = []string{"settings.thinkingLevel=none", "settings.thinkingLevel=low", "settings.thinkingLevel=high"}

func compareRecords(base, head []*journal.Record, margin float64) *Comparison {
	c := NewComparer(margin)
	for _, r := range base {
		c.AddBase(r)
	}
	for _, r := range head {
		c.AddHead(r)
	}
	return c.Close()
}

// TestComparePlantedRegression: a 20-point drop in one cell's pass rate is
// declared worse, through journals on disk, and the other cells are not
// (60 cases x 3 seeds detect it with about 95% power; the seed is fixed);
// the latency slowdown planted with it shows in the geometric-mean ratio.
func TestComparePlantedRegression(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 7))
	probs := caseProbs(rng, 3, 60)
	headProbs := caseProbs(rand.New(rand.NewPCG(1, 7)), 3, 60)
	for k := range headProbs[1] {
		headProbs[1][k] = max(0, headProbs[1][k]-0.2)
	}
	lat := []float64{300, 600, 900}
	headLat := []float64{300, 900, 900}
	basePath := writeJournal(t, synthRun(rng, "base", synthCells, probs, 3, lat))
	headPath := writeJournal(t, synthRun(rng, "head", synthCells, headProbs, 3, headLat))
	c, err := Compare(basePath, headPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Cells) != 3 || c.BaseOnly != 0 || c.HeadOnly != 0 {
		t.Fatalf("cells %d, unpaired %d/%d; want 3 fully paired cells", len(c.Cells), c.BaseOnly, c.HeadOnly)
	}
	for i, d := range c.Cells {
		want := VerdictNoChange
		if i == 1 {
			want = VerdictWorse
		}
		if d.Verdict != want {
			t.Errorf("%s: verdict %q (diff %v, p holm %v), want %q", d.Label, d.Verdict, d.Diff, d.PHolm, want)
		}
		if d.Test != "sign-flip" || d.Cases != 60 || d.Pairs != 180 {
			t.Errorf("%s: test %s cases %d pairs %d; want sign-flip over 60 cases and 180 pairs", d.Label, d.Test, d.Cases, d.Pairs)
		}
	}
	if c.Regressions != 1 {
		t.Errorf("regressions = %d, want 1", c.Regressions)
	}
	if r := c.Cells[1].Latency; !(r.Lo > 1.3 && r.Hi < 1.7) {
		t.Errorf("latency ratio of the slowed cell = %v, want an interval around 1.5", r)
	}
	if r := c.Cells[0].Latency; !(r.Lo < 1 && r.Hi > 1) {
		t.Errorf("latency ratio of an unchanged cell = %v, want an interval around 1", r)
	}
	// A margin wider than the drop keeps the verdict from firing.
	c2, err := Compare(basePath, headPath, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Regressions != 0 {
		t.Errorf("with margin 0.5, regressions = %d, want 0", c2.Regressions)
	}
}

// TestCompareFalseAlarms: 100 reruns without any change, three cells each,
// flag a cell (better or worse) in at most about 5% of the runs.
func TestCompareFalseAlarms(t *testing.T) {
	flagged := 0
	for run := range uint64(100) {
		rng := rand.New(rand.NewPCG(run, 42))
		probs := caseProbs(rng, 3, 30)
		lat := []float64{300, 600, 900}
		c := compareRecords(synthRun(rng, "base", synthCells, probs, 3, lat), synthRun(rng, "head", synthCells, probs, 3, lat), 0)
		for _, d := range c.Cells {
			if d.Verdict != VerdictNoChange {
				flagged++
				break
			}
		}
	}
	t.Logf("%d of 100 no-change reruns flagged", flagged)
	if flagged > 7 {
		t.Errorf("%d of 100 no-change reruns were flagged; want at most about 5", flagged)
	}
}

// TestCompareMcNemar: with one sample per case the exact McNemar test is
// used on the discordant pairs.
func TestCompareMcNemar(t *testing.T) {
	var base, head []*journal.Record
	// 12 cases: 10 pass in base and fail in head, 1 the reverse, 1 both pass.
	for k := range 12 {
		b := &journal.Record{RunID: "b", CaseID: fmt.Sprint(k), Results: 1, Pass: k != 10}
		h := &journal.Record{RunID: "h", CaseID: fmt.Sprint(k), Results: 1, Pass: k >= 10}
		base, head = append(base, b), append(head, h)
	}
	c := compareRecords(base, head, 0)
	d := c.Cells[0]
	if d.Test != "mcnemar" || d.BaseOnlyPass != 10 || d.HeadOnlyPass != 1 {
		t.Fatalf("test %s b=%d c=%d; want mcnemar with 10 and 1", d.Test, d.BaseOnlyPass, d.HeadOnlyPass)
	}
	if want := McNemarExact(10, 1); float64(d.P) != want || d.Verdict != VerdictWorse {
		t.Errorf("p = %v verdict %q, want %v and worse", d.P, d.Verdict, want)
	}
}

// TestCompareRenderGolden pins the comparison's table, Markdown and JSON.
func TestCompareRenderGolden(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	probs := caseProbs(rng, 3, 12)
	head := caseProbs(rand.New(rand.NewPCG(3, 3)), 3, 12)
	for k := range head[2] {
		head[2][k] = max(0, head[2][k]-0.5)
	}
	c := compareRecords(synthRun(rng, "base-run", synthCells, probs, 2, []float64{300, 600, 900}),
		synthRun(rng, "head-run", synthCells, head, 2, []float64{300, 600, 700}), 0.05)
	for _, tc := range []struct {
		file string
		r    Renderer
	}{{"compare.txt", CompareTable(c, true)}, {"compare.md", CompareMarkdown(c)}, {"compare.json", CompareJSON(c)}} {
		var buf bytes.Buffer
		if err := tc.r(&buf); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.file, buf.Bytes())
	}
}

// flipRecords builds paired runs of m cases with seeds samples each: every
// sample passes in base, and in head the first fail cases fail and the rest
// pass. cost, when not nil, is each sample's cost in the run it is given for.
func flipRecords(m, seeds, fail int, baseCost, headCost *float64) (base, head []*journal.Record) {
	for k := range m {
		for s := range seeds {
			id := fmt.Sprintf("case%02d", k)
			base = append(base, &journal.Record{RunID: "b", CaseID: id, Seed: int64(s), Results: 1, Pass: true, Cost: baseCost})
			head = append(head, &journal.Record{RunID: "h", CaseID: id, Seed: int64(s), Results: 1, Pass: k >= fail, Cost: headCost})
		}
	}
	return base, head
}

// TestCompareDegenerateCells: when every case changes by the same amount the
// t interval has zero width and would claim certainty, and with 5 cases or
// fewer no p-value can fall below 0.05. The comparison says so (an exact
// bound instead of a zero-width interval, MDE "n too small" or "no spread")
// and keeps the verdict rule: worse only with an interval below -margin and
// Holm p < 0.05.
func TestCompareDegenerateCells(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		m, seeds, fail       int
		tooFew, zeroSpread   bool
		hiBelowZero, loAbove bool // interval wholly below 0; interval wholly above -1
		verdict, mde         string
	}{
		// 3 cases, one sample each, all pass -> fail: McNemar p is 0.25 at
		// best, and the interval [-100, +41.5] includes no change.
		{"3 cases all flip", 3, 1, 3, true, true, false, false, VerdictNoChange, "n too small"},
		// 6 cases all flip: p = 2/64 < 0.05 and the exact bound
		// [-100, -8.1] lies below 0: a regression, as before.
		{"6 cases all flip", 6, 1, 6, false, true, true, false, VerdictWorse, "no spread"},
		// The same with two seeds per case (sign-flip test on per-case rates).
		{"6 cases x 2 seeds all flip", 6, 2, 6, false, true, true, false, VerdictWorse, "no spread"},
		// 3 cases, one flips: the differences vary, so the t interval is used,
		// but 3 cases still cannot reach significance.
		{"3 cases one flips", 3, 1, 1, true, false, false, false, VerdictNoChange, "n too small"},
		// 12 unchanged cases: not "exactly 0" but an interval around it.
		{"12 cases unchanged", 12, 1, 0, false, true, false, true, VerdictNoChange, "no spread"},
	} {
		base, head := flipRecords(tc.m, tc.seeds, tc.fail, nil, nil)
		c := compareRecords(base, head, 0)
		d := c.Cells[0]
		if d.TooFewCases != tc.tooFew || d.ZeroSpread != tc.zeroSpread || d.Verdict != tc.verdict {
			t.Errorf("%s: too few %v zero spread %v verdict %q; want %v %v %q (diff %v p %v)",
				tc.name, d.TooFewCases, d.ZeroSpread, d.Verdict, tc.tooFew, tc.zeroSpread, tc.verdict, d.Diff, d.P)
		}
		if d.ZeroSpread && !(d.Diff.Hi > d.Diff.Lo) {
			t.Errorf("%s: interval %v has zero width", tc.name, d.Diff)
		}
		if got := d.Diff.Hi < 0; got != tc.hiBelowZero {
			t.Errorf("%s: interval %v wholly below 0 = %v, want %v", tc.name, d.Diff, got, tc.hiBelowZero)
		}
		if got := d.Diff.Lo > -1; got != tc.loAbove {
			t.Errorf("%s: interval %v above -100 pts = %v, want %v", tc.name, d.Diff, got, tc.loAbove)
		}
		// Too few cases: no MDE. Zero spread: an MDE from the design's
		// largest spread, marked so (issue 12, requirement 4).
		if got := fmtCellMDE(d); !strings.HasPrefix(got, strings.TrimSuffix(tc.mde, "no spread")) || d.MDE.Defined() == tc.tooFew ||
			tc.zeroSpread && !tc.tooFew && !strings.HasSuffix(got, " (design)") {
			t.Errorf("%s: MDE shown as %q (value %v), want %q", tc.name, got, d.MDE, tc.mde)
		}
	}
}

// TestCompareDegenerateTable: the first-time user's case, 3 cases all
// flipping from pass to fail, no longer prints "[-100.0, -100.0]" and
// "MDE 0.0 pts" but an exact bound marked †, "n too small", and notes
// saying why there is no verdict and how many cases one needs.
func TestCompareDegenerateTable(t *testing.T) {
	base, head := flipRecords(3, 1, 3, nil, nil)
	var buf bytes.Buffer
	if err := CompareTable(compareRecords(base, head, 0), true)(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"-100.0 pts [-100.0, +41.5] †", "| n too small ", "| no detectable change |",
		"with 3 paired cases the smallest p-value the test can give is 0.25, not below 0.05", "6 or more cases are needed",
		"every case changed by the same -100.0 pts"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"[-100.0, -100.0]", "0.0 pts |"} {
		if strings.Contains(out, bad) {
			t.Errorf("table still shows %q:\n%s", bad, out)
		}
	}
}

// TestCompareCostUnknown: without a cost on both sides of any pair (neither
// run set includeCost, or only one did) the cost difference is unknown, as
// in report, never "+$0.000000"; with costs on both sides it is their
// difference.
func TestCompareCostUnknown(t *testing.T) {
	cheap, dear := 0.001, 0.003
	for _, tc := range []struct {
		name       string
		base, head *float64
		want       string
	}{
		// Neither run reported or estimated a cost.
		{"no costs", nil, nil, "unknown"},
		// Only head has costs: no pair to compare.
		{"head only", nil, &dear, "unknown"},
		// Both have costs: 6 pairs x $0.002.
		{"both", &cheap, &dear, "+$0.012000"},
	} {
		base, head := flipRecords(6, 1, 0, tc.base, tc.head)
		d := compareRecords(base, head, 0).Cells[0]
		if got := compareRow(d)[9]; got != tc.want {
			t.Errorf("%s: cost Δ %q, want %q (diff %v over %d pairs)", tc.name, got, tc.want, d.CostDiff, d.CostPairs)
		}
	}
}
