package reports

import (
	"bytes"
	"math"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

func approx(a Num, b float64) bool { return math.Abs(float64(a)-b) < 1e-9 }

// TestAggregatePerCell protects the walking-skeleton numbers: cases,
// samples, pass rate (mean over cases), E2E median, mean thinking tokens and
// total cost, per cell, with cells in scheduling order.
func TestAggregatePerCell(t *testing.T) {
	s := fixtureSummary(t)
	if len(s.Cells) != 3 {
		t.Fatalf("got %d cells, want 3", len(s.Cells))
	}
	none, low, high := s.Cells[0], s.Cells[1], s.Cells[2]
	if none.Label != "settings.thinkingLevel=none" || high.Label != "settings.thinkingLevel=high" {
		t.Errorf("cell order = %q, %q, %q; want none, low, high (first scheduled)", none.Label, low.Label, high.Label)
	}
	if none.Cases != 3 || none.Samples != 12 {
		t.Errorf("none: cases %d samples %d, want 3 and 12", none.Cases, none.Samples)
	}
	// none: france 2/4, japan 4/4, weird 0/4 -> mean of 0.5, 1, 0.
	if !approx(none.PassRate.Value, 0.5) {
		t.Errorf("none pass rate = %v, want 0.5", none.PassRate.Value)
	}
	// high: france 4/4, japan 4/4, weird 2/4.
	if !approx(high.PassRate.Value, 2.5/3) {
		t.Errorf("high pass rate = %v, want %v", high.PassRate.Value, 2.5/3)
	}
	if !(high.PassRate.Lo < high.PassRate.Value && high.PassRate.Value < high.PassRate.Hi) {
		t.Errorf("high interval %v does not bracket the rate", high.PassRate)
	}
	// E2E in none: 200 + 40*ci + 7*seed + 3*ri over ci 0..2, seed 1..2, ri
	// 0..1, once per request (its two results: the later end, ri = 1).
	var xs []float64
	for ci := 0; ci < 3; ci++ {
		for seed := 1; seed <= 2; seed++ {
			xs = append(xs, 200+float64(40*ci+7*seed+3))
		}
	}
	p50, _ := none.E2E.At(0.5)
	if want := Quantile(xs, 0.5); !approx(p50.Value, want) || p50.NTooSmall {
		t.Errorf("none E2E p50 = %+v, want %v with an interval", p50, want)
	}
	if p95, _ := none.E2E.At(0.95); !p95.NTooSmall {
		t.Errorf("p95 of 6 requests should be flagged n too small: %+v", p95)
	}
	if !approx(low.ThinkingTokens.Mean, 35) {
		t.Errorf("low mean thinking = %v, want 35", low.ThinkingTokens.Mean)
	}
	// none: every sample costs (30+ci+10)*4e-6, 4 samples per case.
	if want := 4 * (40 + 41 + 42) * 4e-6; !approx(none.Cost.Total, want) || none.Cost.ReportedN != 12 {
		t.Errorf("none cost = %+v, want total %v reported by 12", none.Cost, want)
	}
}

// TestAggregateDetails protects the rest of a cell's summary: errors by
// class, retries, cached samples, estimated cost kept apart, per passing
// sample cost, distinct-text share, pass@k/pass^k and the total row.
func TestAggregateDetails(t *testing.T) {
	s := fixtureSummary(t)
	none, low, high := s.Cells[0], s.Cells[1], s.Cells[2]
	if low.Errors["timeout"] != 1 || low.Errored != 1 || low.Retries != 2 {
		t.Errorf("low errors %v errored %d retries %d; want timeout 1, 1, 2", low.Errors, low.Errored, low.Retries)
	}
	if none.Cached != 2 {
		t.Errorf("none cached = %d, want 2", none.Cached)
	}
	if high.Cost.EstimatedN != 4 || high.Cost.ReportedN != 8 || !approx(high.Cost.Estimated, 4*(30+10+80)*4e-6) {
		t.Errorf("high cost = %+v; want 4 estimated (france) and 8 reported", high.Cost)
	}
	if !approx(high.Cost.PerPassing, float64(high.Cost.Total)/10) {
		t.Errorf("high cost per passing = %v, want total/10", high.Cost.PerPassing)
	}
	// Six tasks of two results in none; japan's results are always
	// identical ("Tokyo"), france's too (Paris twice, then Lyon twice), and
	// weird's always differ.
	if none.DistinctTrials != 6 {
		t.Errorf("none distinct trials = %d, want 6", none.DistinctTrials)
	}
	// france: seed1 Paris,Paris (1/2) seed2 Lyon,Lyon (1/2); japan 1/2 1/2; weird 2/2 2/2.
	if !approx(none.DistinctShare, (0.5*4+1*2)/6) {
		t.Errorf("none distinct share = %v, want %v", none.DistinctShare, (0.5*4+1*2)/6)
	}
	if len(s.Ks) != 2 || s.Ks[1] != 4 {
		t.Fatalf("ks = %v, want [1 4]", s.Ks)
	}
	// none: pass@4: france 2/4 -> 1, japan 1, weird 0 -> 2/3; pass^4: 0,1,0 -> 1/3.
	if kr := none.PassAtK[1]; !approx(kr.PassAt, 2.0/3) || !approx(kr.PassHat, 1.0/3) {
		t.Errorf("none pass@4/pass^4 = %+v, want 2/3 and 1/3", kr)
	}
	if s.Total.Samples != 36 || s.Total.Cases != 3 {
		t.Errorf("total: %d samples %d cases, want 36 and 3", s.Total.Samples, s.Total.Cases)
	}
	// france pooled 10/12, japan 11 of its 11 answered (its twelfth sample
	// timed out: availability, not quality), weird 2/12.
	if !approx(s.Total.PassRate.Value, (10.0/12+11.0/11+2.0/12)/3) {
		t.Errorf("total pass rate = %v", s.Total.PassRate.Value)
	}
	// The timeout is in the error rate instead: japan 1/12, others 0.
	if !approx(s.Total.ErrorRate.Value, 1.0/36) || s.Total.Answered != 35 || !(s.Total.ErrorRate.Hi > 1.0/36) {
		t.Errorf("total error rate = %v, answered %d; want 1/36 with an interval, 35", s.Total.ErrorRate, s.Total.Answered)
	}
	// A suite that opts into counting errors as failures gets the old rate.
	a := NewAggregator(Options{ErrorsAsFailures: true})
	for _, r := range fixtureRecords() {
		a.Add(r)
	}
	if got := a.Close().Total.PassRate.Value; !approx(got, (10.0/12+11.0/12+2.0/12)/3) {
		t.Errorf("ErrorsAsFailures: total pass rate = %v, want %v", got, (10.0/12+11.0/12+2.0/12)/3)
	}
	var weird *Case
	for _, c := range none.PerCase {
		if c.ID == "weird" {
			weird = c
		}
	}
	if weird == nil || weird.Pass || len(weird.Failures) != 3 || len(weird.Failures[0].Reasons) != 1 {
		t.Fatalf("weird in none: %+v; want a failing case with 3 kept failures with reasons", weird)
	}
}

// TestReadLatestLastLineWins: after --retry-errors or resume the journal
// holds several lines for one sample; only the last counts, and a sample
// whose last line is interrupted is left out.
func TestReadLatestLastLineWins(t *testing.T) {
	base := journal.Record{RunID: "r", CaseID: "c", TrialKey: "k1", Results: 1, Attempts: 1}
	failed, passed, interrupted, other := base, base, base, base
	failed.Error = &journal.Error{Class: "server", Message: "boom"}
	passed.Pass = true
	interrupted.TrialKey = "k2"
	interrupted.Error = &journal.Error{Class: "interrupted", Message: "stopped"}
	other.TrialKey, other.Pass = "k3", true
	path := writeJournal(t, []*journal.Record{&failed, &interrupted, &other, &passed})
	s, err := Aggregate(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cells[0]
	if c.Samples != 2 || c.Passed != 2 || c.Errored != 0 {
		t.Errorf("samples %d passed %d errored %d; want 2, 2, 0 (the retried success replaces the error)", c.Samples, c.Passed, c.Errored)
	}
	if s.Superseded != 1 || s.Incomplete != 1 {
		t.Errorf("superseded %d incomplete %d, want 1 and 1", s.Superseded, s.Incomplete)
	}
}

// TestTableGolden pins the terminal table, with box drawing for terminals
// and ASCII borders for logs.
func TestTableGolden(t *testing.T) {
	s := fixtureSummary(t)
	for _, tc := range []struct {
		file  string
		ascii bool
	}{{"table.txt", false}, {"table-ascii.txt", true}} {
		var buf bytes.Buffer
		if err := Table(s, tc.ascii)(&buf); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.file, buf.Bytes())
	}
}
