package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// TestCostSpentCountsSupersededLines: after --retry-errors the journal holds
// a sample's first, billed line and its retry; Total counts the sample once
// (the last line), Spent every billed line, superseded and incomplete ones
// included, in its cell, case and the total (the issue's $0.131 shown
// against $0.177 billed).
func TestCostSpentCountsSupersededLines(t *testing.T) {
	line := func(c string, seed int64, cost float64, est bool, err *journal.Error) *journal.Record {
		r := &journal.Record{RunID: "r", CaseID: c, TrialKey: c + string(rune('0'+seed)), Seed: seed, Results: 1, Attempts: 1,
			Cost: usd(cost), CostEstimated: est, Error: err, Pass: err == nil}
		return r
	}
	server := &journal.Error{Class: "server", Message: "503"}
	recs := []*journal.Record{
		line("a", 1, 0.010, false, server), // billed, then retried
		line("a", 2, 0.020, false, nil),
		line("b", 1, 0.030, false, nil),
		line("a", 1, 0.040, true, nil), // the retry: supersedes the first line
		line("b", 2, 0.050, false, &journal.Error{Class: "interrupted", Message: "stopped"}), // incomplete
	}
	s, err := Aggregate(writeJournal(t, recs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cells[0].Cost
	if !approx(c.Total, 0.09) || !approx(c.Spent, 0.15) || !approx(c.SpentEstimated, 0.04) || c.SpentLines != 5 || c.ReportedN+c.EstimatedN != 3 {
		t.Errorf("cell cost %+v; want total 0.09 over 3 samples, spent 0.15 over 5 lines, 0.04 of it estimated", c)
	}
	if tc := s.Total.Cost; !approx(tc.Spent, 0.15) || !approx(tc.Total, 0.09) {
		t.Errorf("total cost %+v; want spent 0.15, total 0.09", tc)
	}
	byID := map[string]Cost{}
	for _, cs := range s.Cells[0].PerCase {
		byID[cs.ID] = cs.Cost
	}
	if !approx(byID["a"].Spent, 0.07) || !approx(byID["b"].Spent, 0.08) {
		t.Errorf("case spent a %v b %v; want 0.07 and 0.08", byID["a"].Spent, byID["b"].Spent)
	}
	var buf bytes.Buffer
	if err := Table(s, true)(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "spent $0.150000") {
		t.Errorf("table does not show what was spent:\n%s", buf.String())
	}
}

// TestCostPartial: an answered sample without a cost makes the cell's cost
// partial (a lower bound), and every format says so; an errored sample
// without a cost does not.
func TestCostPartial(t *testing.T) {
	recs := []*journal.Record{
		{RunID: "r", CaseID: "a", TrialKey: "1", Results: 1, Attempts: 1, Cost: usd(0.01), Pass: true},
		{RunID: "r", CaseID: "a", TrialKey: "2", Seed: 1, Results: 1, Attempts: 1, Pass: true},
		{RunID: "r", CaseID: "b", TrialKey: "3", Seed: 2, Results: 1, Attempts: 1, Error: &journal.Error{Class: "timeout", Message: "x"}},
	}
	s, err := Aggregate(writeJournal(t, recs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cells[0].Cost
	if !c.Partial || c.MissingN != 1 {
		t.Fatalf("cost %+v, want partial with 1 unpriced sample", c)
	}
	for name, r := range map[string]Renderer{"table": Table(s, true), "markdown": Markdown(s), "json": JSON(s), "csv": CellsCSV(s), "junit": JUnit(s), "html": HTML(s)} {
		var buf bytes.Buffer
		if err := r(&buf); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"json": `"partial": true`, "csv": "true"}[name]
		if want == "" {
			want = "partial"
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%s does not mark the cost partial (%q)", name, want)
		}
	}
	recs[1].Error, recs[1].Pass = &journal.Error{Class: "server", Message: "x"}, false
	s, err = Aggregate(writeJournal(t, recs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Cells[0].Cost; c.Partial {
		t.Errorf("errored samples without cost make the cost partial: %+v", c)
	}
}

// TestCompareCostKinds: compare says whether each side's cost is reported
// or estimated and, when they differ, says so instead of showing a plain
// difference.
func TestCompareCostKinds(t *testing.T) {
	mk := func(run string, cost float64, est bool) []*journal.Record {
		var out []*journal.Record
		for i := range 6 {
			out = append(out, &journal.Record{RunID: run, CaseID: string(rune('a' + i)), Results: 1, Attempts: 1, Pass: true,
				Cost: usd(cost), CostEstimated: est})
		}
		return out
	}
	c := compareWith(mk("base", 0.001, false), mk("head", 0.002, true), 0)
	d := c.Cells[0]
	if d.BaseCostKind != CostReported || d.HeadCostKind != CostEstimated || !approx(d.HeadCostEstimated, 0.012) || !approx(d.BaseCostEstimated, 0) {
		t.Errorf("kinds %q/%q estimated %v/%v; want reported/estimated, 0 and 0.012", d.BaseCostKind, d.HeadCostKind, d.BaseCostEstimated, d.HeadCostEstimated)
	}
	var buf bytes.Buffer
	if err := CompareTable(c, true)(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"+$0.006000 (base reported, head est.)", "compares reported cost in base with estimated cost in head"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	// Both reported: a plain difference.
	c = compareWith(mk("base", 0.001, false), mk("head", 0.002, false), 0)
	if got := fmtCellCost(c.Cells[0]); got != "+$0.006000" {
		t.Errorf("reported on both sides: %q, want +$0.006000", got)
	}
}
