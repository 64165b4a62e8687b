package reports

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// plantedCell is one cell of a planted run: its level, its cost per
// sample, its median latency and which (case, seed) samples pass.
type plantedCell struct {
	level string
	cost  float64
	e2e   float64
	pass  func(caseIdx int, seed int64) bool
}

// plantedRun writes a run of the planted cells over cases × seeds and
// aggregates it.
func plantedRun(t *testing.T, cells []plantedCell, cases, seeds int, opts Options) *Summary {
	t.Helper()
	var recs []*journal.Record
	for _, pc := range cells {
		for ci := range cases {
			for seed := int64(1); seed <= int64(seeds); seed++ {
				recs = append(recs, &journal.Record{V: journal.Version, RunID: "run-within", Suite: "within",
					CaseID: fmt.Sprintf("case%03d", ci), Cell: "settings.thinkingLevel=" + pc.level,
					CellValues: map[string]any{"settings.thinkingLevel": pc.level}, Seed: seed, Results: 1,
					TrialKey: fmt.Sprintf("t-%s-%d-%d", pc.level, ci, seed), Pass: pc.pass(ci, seed),
					Timings: journal.Timings{E2E: ms(pc.e2e)}, Cost: usd(pc.cost), Attempts: 1})
			}
		}
	}
	s, err := Aggregate(writeJournal(t, recs), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func withinCell(t *testing.T, wr *WithinRun, level string) *WithinCell {
	t.Helper()
	for _, wc := range wr.Cells {
		if wc.Label == "settings.thinkingLevel="+level {
			return wc
		}
	}
	t.Fatalf("no within-run cell %s", level)
	return nil
}

// TestWithinRecommendsCheaperEqualCell plants a best cell (high, 80%), a
// cell a third of its price that differs in a single case (low, 77.5%)
// and a cheaper one still that is clearly worse (none, 40%): the
// recommendation is low, not the cheapest (none) nor the best (high).
func TestWithinRecommendsCheaperEqualCell(t *testing.T) {
	good := func(ci int, _ int64) bool { return ci%5 != 0 }
	s := plantedRun(t, []plantedCell{
		{"none", 0.0005, 100, func(ci int, _ int64) bool { return ci%5 != 0 && ci%2 == 0 }},
		{"low", 0.001, 200, func(ci int, s int64) bool { return good(ci, s) && ci != 1 }},
		{"high", 0.003, 600, good},
	}, 40, 1, Options{Margin: 0.05})
	wr := s.Within
	if wr == nil {
		t.Fatal("a run of 3 cells has no within-run comparison")
	}
	if wr.Reference != "settings.thinkingLevel=high" || wr.ReferenceBy != "highest pass rate" {
		t.Errorf("reference %q (%s), want high by highest pass rate", wr.Reference, wr.ReferenceBy)
	}
	if none := withinCell(t, wr, "none"); none.Verdict != VerdictWorse || none.Candidate {
		t.Errorf("none: verdict %q candidate %v, want worse and no candidate (diff %+v)", none.Verdict, none.Candidate, none.Diff)
	}
	low := withinCell(t, wr, "low")
	if low.Verdict != VerdictNoChange || !low.Candidate || low.Cases != 40 || low.Pairs != 40 {
		t.Errorf("low: verdict %q candidate %v cases %d pairs %d", low.Verdict, low.Candidate, low.Cases, low.Pairs)
	}
	if !approx(low.CostRatio, 1.0/3) || !approx(low.LatencyRatio, 1.0/3) {
		t.Errorf("low: cost ratio %v, latency ratio %v, want 1/3 and 1/3", low.CostRatio, low.LatencyRatio)
	}
	if wr.Decision != WithinRecommend || wr.Recommended != "settings.thinkingLevel=low" {
		t.Fatalf("decision %q recommended %q, want low: %s", wr.Decision, wr.Recommended, wr.Recommendation)
	}
	for _, want := range []string{"Recommendation: settings.thinkingLevel=low — 78% pass (95% CI ", "$0.00100 per sample",
		"3.0× cheaper than settings.thinkingLevel=high at 80%", "not detectably worse by more than 5 points",
		"paired difference −3 points"} {
		if !strings.Contains(wr.Recommendation, want) {
			t.Errorf("recommendation lacks %q: %s", want, wr.Recommendation)
		}
	}
	// The table's last line is the recommendation.
	var buf bytes.Buffer
	if err := Table(s, true)(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; last != wr.Recommendation {
		t.Errorf("last line of the table is %q, want the recommendation", last)
	}
}

// TestWithinCheaperWorseNotRecommended: a cheaper cell that is clearly
// worse is not recommended; the reference is, saying why.
func TestWithinCheaperWorseNotRecommended(t *testing.T) {
	s := plantedRun(t, []plantedCell{
		{"low", 0.001, 200, func(ci int, _ int64) bool { return ci%2 == 0 }},
		{"high", 0.003, 600, func(ci int, _ int64) bool { return ci%5 != 0 }},
	}, 40, 2, Options{Margin: 0.05})
	wr := s.Within
	if low := withinCell(t, wr, "low"); low.Verdict != VerdictWorse || low.Test != "sign-flip" {
		t.Errorf("low: verdict %q test %q, want worse by sign-flip (2 seeds per case)", low.Verdict, low.Test)
	}
	if wr.Decision != WithinRecommend || wr.Recommended != "settings.thinkingLevel=high" {
		t.Fatalf("decision %q recommended %q, want high: %s", wr.Decision, wr.Recommended, wr.Recommendation)
	}
	if !strings.Contains(wr.Recommendation, "every cheaper cell is detectably worse by more than 5 points") {
		t.Errorf("recommendation: %s", wr.Recommendation)
	}
	// A fail-under above every cell: nothing is recommended.
	s = plantedRun(t, []plantedCell{
		{"low", 0.001, 200, func(ci int, _ int64) bool { return ci%2 == 0 }},
		{"high", 0.003, 600, func(ci int, _ int64) bool { return ci%5 != 0 }},
	}, 40, 1, Options{Margin: 0.05, FailUnder: 0.9})
	if wr := s.Within; wr.Decision != WithinNoneMeetsFailUnder || wr.Recommended != "" ||
		!strings.Contains(wr.Recommendation, "no cell reaches the 90% pass-rate threshold") {
		t.Errorf("fail-under 0.9: decision %q recommended %q: %s", wr.Decision, wr.Recommended, wr.Recommendation)
	}
}

// TestWithinCannotSeparate: with 4 cases no test can reach p < 0.05, so a
// cheaper cell 25 points lower is neither recommended nor ruled out: the
// sentence says the data cannot separate them and how many cases would.
func TestWithinCannotSeparate(t *testing.T) {
	s := plantedRun(t, []plantedCell{
		{"low", 0.001, 200, func(ci int, _ int64) bool { return ci < 2 }},
		{"high", 0.003, 600, func(ci int, _ int64) bool { return ci < 3 }},
	}, 4, 1, Options{Margin: 0.05})
	wr := s.Within
	low := withinCell(t, wr, "low")
	if !low.TooFewCases || low.Verdict != VerdictNoChange {
		t.Errorf("low: tooFewCases %v verdict %q", low.TooFewCases, low.Verdict)
	}
	if wr.Decision != WithinCannotSeparate || wr.Recommended != "" || wr.Candidate != "settings.thinkingLevel=low" {
		t.Fatalf("decision %q recommended %q candidate %q: %s", wr.Decision, wr.Recommended, wr.Candidate, wr.Recommendation)
	}
	if !strings.HasPrefix(wr.Recommendation, "Recommendation: none — the data cannot separate settings.thinkingLevel=low") {
		t.Errorf("recommendation: %s", wr.Recommendation)
	}
	// The cases needed: the smallest n whose MDE reaches the 25-point gap.
	n := wr.CasesNeeded
	if !approx(wr.DetectGap, 0.25) || n <= 4 ||
		!(marginMDE(float64(low.SD), n, 0.05, 1) <= 0.25) || marginMDE(float64(low.SD), n-1, 0.05, 1) <= 0.25 {
		t.Errorf("cases needed %d for a gap of %v (sd %v)", n, wr.DetectGap, float64(low.SD))
	}
	if !strings.Contains(wr.Recommendation, fmt.Sprintf("about %d cases (now 4) would detect a drop of 25 points", n)) {
		t.Errorf("recommendation: %s", wr.Recommendation)
	}
}

// TestWithinParetoFront: the front holds exactly the cells no other cell
// beats on both cost and pass rate, cheapest first; a cell with unknown
// cost is left off.
func TestWithinParetoFront(t *testing.T) {
	cell := func(label string, cost, rate float64) *Cell {
		c := &Cell{Label: label, PassRate: Interval{Num(rate), nan, nan}, Cost: Cost{PerSample: Num(cost), ReportedN: 1}}
		if math.IsNaN(cost) {
			c.Cost = Cost{PerSample: nan}
		}
		return c
	}
	cells := []*Cell{
		cell("C", 3, 0.6),           // dominated by B: dearer and worse
		cell("B", 2, 0.7),           // front
		cell("D", 2, 0.4),           // dominated by A and B
		cell("A", 1, 0.5),           // front: cheapest
		cell("E", 4, 0.9),           // front: best
		cell("F", 4, 0.9),           // equal to E: neither dominates
		cell("G", 1, 0.5),           // equal to A
		cell("H", 2, 0.5),           // dominated by B (as cheap, better) and A (cheaper, as good)
		cell("U", math.NaN(), 0.95), // unknown cost
	}
	wr := compareWithin(cells, &Options{}, func(_, _ *Cell) ([]pairedCase, int) { return nil, 0 })
	if want := []string{"A", "G", "B", "E", "F"}; !slices.Equal(wr.ParetoFront, want) {
		t.Errorf("front %v, want %v", wr.ParetoFront, want)
	}
	for _, wc := range wr.Cells {
		if want := slices.Contains(wr.ParetoFront, wc.Label); wc.Front != want {
			t.Errorf("%s: front %v, want %v", wc.Label, wc.Front, want)
		}
	}
	if wr.Reference != "U" {
		t.Errorf("reference %q, want U (highest pass rate)", wr.Reference)
	}
}

// TestWithinHolm: three cells each failing 6 of 40 cases that the
// reference passes have raw McNemar p = 0.031 and intervals below 0; with
// one such cell it is worse, with three Holm lifts every p to 0.094 and
// none is.
func TestWithinHolm(t *testing.T) {
	all := func(int, int64) bool { return true }
	dip := func(ci int, _ int64) bool { return ci >= 6 }
	one := plantedRun(t, []plantedCell{{"a", 0.001, 100, dip}, {"ref", 0.003, 100, all}}, 40, 1, Options{})
	if a := withinCell(t, one.Within, "a"); a.Verdict != VerdictWorse || !approx(a.PHolm, 0.03125) {
		t.Fatalf("one cell: verdict %q pHolm %v, want worse at 0.03125 (diff %+v)", a.Verdict, a.PHolm, a.Diff)
	}
	three := plantedRun(t, []plantedCell{{"a", 0.001, 100, dip}, {"b", 0.0011, 100, dip}, {"c", 0.0012, 100, dip},
		{"ref", 0.003, 100, all}}, 40, 1, Options{})
	for _, l := range []string{"a", "b", "c"} {
		wc := withinCell(t, three.Within, l)
		if !approx(wc.P, 0.03125) || !approx(wc.PHolm, 0.09375) || wc.Verdict != VerdictNoChange || !(wc.Diff.Hi < 0) {
			t.Errorf("%s: p %v pHolm %v verdict %q diff %+v; want p 0.03125, pHolm 0.09375, no detectable change", l, wc.P, wc.PHolm, wc.Verdict, wc.Diff)
		}
		// The MDE is at Holm's strictest level, 0.05/3.
		if want := marginMDE(float64(wc.SD), 40, 0, 3); !approx(wc.MDE, want) {
			t.Errorf("%s: mde %v, want %v", l, wc.MDE, want)
		}
	}
}

// TestWithinReferenceOption: Options.Reference names the reference by its
// label or by a shorter grid value; a name that matches no cell falls back
// to the highest pass rate and says so. One cell: no comparison.
func TestWithinReferenceOption(t *testing.T) {
	cells := []plantedCell{
		{"low", 0.001, 200, func(ci int, _ int64) bool { return ci%2 == 0 }},
		{"high", 0.003, 600, func(ci int, _ int64) bool { return ci%5 != 0 }},
	}
	s := plantedRun(t, cells, 40, 1, Options{Reference: "thinkingLevel=low"})
	if wr := s.Within; wr.Reference != "settings.thinkingLevel=low" || wr.ReferenceBy != "option" {
		t.Errorf("reference %q by %q, want low by option", wr.Reference, wr.ReferenceBy)
	}
	if high := withinCell(t, s.Within, "high"); high.Verdict != VerdictBetter || !approx(high.CostRatio, 3) {
		t.Errorf("high against low: verdict %q, cost ratio %v; want better, 3", high.Verdict, high.CostRatio)
	}
	s = plantedRun(t, cells, 40, 1, Options{Reference: "thinkingLevel=medium"})
	if wr := s.Within; wr.Reference != "settings.thinkingLevel=high" || wr.ReferenceNotFound != "thinkingLevel=medium" {
		t.Errorf("reference %q, not found %q", wr.Reference, wr.ReferenceNotFound)
	}
	if s := plantedRun(t, cells[:1], 10, 1, Options{}); s.Within != nil {
		t.Errorf("one cell has a within-run comparison: %+v", s.Within)
	}
}

// TestWithinUnpaired: samples of a cell without a partner in the reference
// (a seed the reference lacks) are counted and left out.
func TestWithinUnpaired(t *testing.T) {
	a := NewAggregator(Options{})
	for _, c := range []string{"low", "high"} {
		for ci := range 10 {
			for seed := int64(1); seed <= 2; seed++ {
				if c == "high" && seed == 2 {
					continue
				}
				a.Add(&journal.Record{CaseID: fmt.Sprint(ci), Cell: "settings.thinkingLevel=" + c, Seed: seed, Pass: c == "high" || ci > 0})
			}
		}
	}
	s := a.Close()
	if s.Within.Reference != "settings.thinkingLevel=high" {
		t.Fatalf("reference %q, want high", s.Within.Reference)
	}
	if low := withinCell(t, s.Within, "low"); low.Unpaired != 10 || low.Pairs != 10 || low.Cases != 10 {
		t.Errorf("low: unpaired %d pairs %d cases %d, want 10, 10, 10", low.Unpaired, low.Pairs, low.Cases)
	}
}

// TestWithinEveryFormat: every format carries the within-run section and
// its recommendation; the JSON reads back; a run of one cell has none.
func TestWithinEveryFormat(t *testing.T) {
	s := fixtureSummary(t)
	rec := s.Within.Recommendation
	if !strings.HasPrefix(rec, "Recommendation: ") {
		t.Fatalf("recommendation %q", rec)
	}
	render := func(r Renderer) string {
		var buf bytes.Buffer
		if err := r(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	for name, r := range map[string]Renderer{"md": Markdown(s), "junit": JUnit(s), "html": HTML(s), "table": Table(s, false)} {
		out := render(r)
		if name == "html" {
			out = html.UnescapeString(out)
		}
		if !strings.Contains(out, rec) || !strings.Contains(out, "Choosing a cell") && name != "junit" {
			t.Errorf("%s lacks the within-run section or the recommendation", name)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(render(CellsCSV(s)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head, total := rows[0], rows[len(rows)-1]
	col := slices.Index(head, "recommendation")
	ref := slices.Index(head, "is_reference")
	if col < 0 || total[col] != rec || total[0] != "all cells" || rows[3][ref] != "true" || rows[1][ref] != "false" {
		t.Errorf("cells.csv: recommendation column %d, total row %q, is_reference %q/%q", col, total[col], rows[1][ref], rows[3][ref])
	}
	back, err := ReadJSON(strings.NewReader(render(JSON(s))))
	if err != nil {
		t.Fatal(err)
	}
	if back.Within == nil || back.Within.Recommendation != rec || len(back.Within.Cells) != 3 || back.Within.Cells[2].Verdict != VerdictReference {
		t.Errorf("JSON round trip: %+v", back.Within)
	}
	one := &Summary{Cells: s.Cells[:1], Total: s.Total}
	for name, r := range map[string]Renderer{"md": Markdown(one), "table": Table(one, false), "json": JSON(one)} {
		if out := render(r); strings.Contains(out, "Recommendation") || strings.Contains(out, "withinRun") {
			t.Errorf("%s of a one-cell summary has a within-run section", name)
		}
	}
}

// TestFindCell: a reference name matches a label exactly, or by grid
// values that end the label's at a dot; an ambiguous name matches nothing.
func TestFindCell(t *testing.T) {
	cells := []*Cell{{Label: "variant=a settings.thinkingLevel=low"}, {Label: "variant=b settings.thinkingLevel=low"},
		{Label: "variant=b settings.thinkingLevel=high"}}
	for _, tc := range []struct{ name, want string }{
		{"variant=b settings.thinkingLevel=low", cells[1].Label},
		{"variant=b thinkingLevel=low", cells[1].Label},
		{"thinkingLevel=high", cells[2].Label},
		{"thinkingLevel=low", ""}, // two cells
		{"Level=high", ""},        // not at a dot
		{"variant=c", ""},
	} {
		got := ""
		if c := FindCell(cells, tc.name); c != nil {
			got = c.Label
		}
		if got != tc.want {
			t.Errorf("FindCell(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
