package reports

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promptgrid/promptgrid/journal"
)

// numEqual compares Nums with NaN equal to NaN (undefined statistics).
var numEqual = cmp.Comparer(func(a, b Num) bool {
	return a == b || (math.IsNaN(float64(a)) && math.IsNaN(float64(b)))
})

// TestTotalGathersCells protects the memory layout of the aggregator: each
// timing and token count is kept once, in its cell's sample log, and the
// cells and the total gather them when summarised. Their distributions must
// be exactly those of the samples they cover, and the total's distinct-text
// share that of every trial of every cell.
func TestTotalGathersCells(t *testing.T) {
	recs := fixtureRecords()
	s, err := Aggregate(writeJournal(t, recs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// What every distribution should hold, straight from the records:
	// timings once per request (the fixture's two results of a trial share
	// it: E2E the later end, TTFT the earlier start), tokens per sample.
	type vals struct{ queue, ttft, ttfo, e2e, toSuccess, prompt, thinking, visible []float64 }
	type req struct{ queue, ttft, ttfo, e2e, toSuccess float64 }
	reqs := map[string]map[string]*req{}
	var order []string
	for _, r := range recs {
		if reqs[r.Cell] == nil {
			reqs[r.Cell] = map[string]*req{}
		}
		q := reqs[r.Cell][r.TrialKey]
		if q == nil {
			q = &req{queue: math.Inf(1), ttft: math.Inf(1), ttfo: math.Inf(1), e2e: math.Inf(-1), toSuccess: math.Inf(-1)}
			reqs[r.Cell][r.TrialKey] = q
			order = append(order, r.Cell+"\x00"+r.TrialKey)
		}
		tm := &r.Timings
		q.queue = math.Min(q.queue, *tm.Queue)
		if r.Error == nil {
			q.ttft, q.ttfo = math.Min(q.ttft, *tm.TTFT), math.Min(q.ttfo, *tm.TTFO)
			q.e2e, q.toSuccess = math.Max(q.e2e, *tm.E2E), math.Max(q.toSuccess, *tm.ToSuccess)
		}
	}
	addReq := func(v *vals, q *req) {
		v.queue = append(v.queue, q.queue)
		v.ttft, v.ttfo = append(v.ttft, q.ttft), append(v.ttfo, q.ttfo)
		v.e2e, v.toSuccess = append(v.e2e, q.e2e), append(v.toSuccess, q.toSuccess)
	}
	add := func(v *vals, r *journal.Record) {
		if u := r.Usage; u != nil {
			v.prompt = append(v.prompt, float64(u.Prompt))
			v.thinking = append(v.thinking, float64(u.Thinking))
			v.visible = append(v.visible, float64(u.Visible()))
		}
	}
	var total vals
	byCell := map[string]*vals{}
	for _, r := range recs {
		add(&total, r)
		if byCell[r.Cell] == nil {
			byCell[r.Cell] = &vals{}
		}
		add(byCell[r.Cell], r)
	}
	for _, k := range order {
		cell, key, _ := strings.Cut(k, "\x00")
		addReq(&total, reqs[cell][key])
		addReq(byCell[cell], reqs[cell][key])
	}
	check := func(name string, c *Cell, v *vals) {
		want := map[string]Dist{
			"queue": newDist(v.queue, latencyQuantiles), "ttft": newDist(v.ttft, latencyQuantiles),
			"ttfo": newDist(v.ttfo, latencyQuantiles), "e2e": newDist(v.e2e, latencyQuantiles),
			"toSuccess": newDist(v.toSuccess, latencyQuantiles), "prompt": newDist(v.prompt, tokenQuantiles),
			"thinking": newDist(v.thinking, tokenQuantiles), "visible": newDist(v.visible, tokenQuantiles),
		}
		got := map[string]Dist{"queue": c.Queue, "ttft": c.TTFT, "ttfo": c.TTFO, "e2e": c.E2E, "toSuccess": c.ToSuccess,
			"prompt": c.PromptTokens, "thinking": c.ThinkingTokens, "visible": c.VisibleTokens}
		if diff := cmp.Diff(want, got, numEqual); diff != "" {
			t.Errorf("%s distributions (-records +summary):\n%s", name, diff)
		}
	}
	for _, c := range s.Cells {
		check(c.Label, c, byCell[c.Cell])
	}
	check("total", s.Total, &total)
	// Distinct texts: every (cell, trial) of the fixture has 2 samples;
	// japan's are identical (share 1/2), the others differ (share 1) except
	// where the timeout leaves one sample (not counted).
	var share float64
	trials := 0
	for _, c := range s.Cells {
		share += float64(c.DistinctShare) * float64(c.DistinctTrials)
		trials += c.DistinctTrials
	}
	if s.Total.DistinctTrials != trials || trials != 17 || !approx(s.Total.DistinctShare, share/float64(trials)) {
		t.Errorf("total distinct: %d trials, share %v; want 17 trials, share %v", s.Total.DistinctTrials, s.Total.DistinctShare, share/float64(trials))
	}
}

// TestDistinctTextsManySamples: a trial with more samples than the short
// list of text hashes holds (a hand-made journal) still counts its distinct
// texts exactly.
func TestDistinctTextsManySamples(t *testing.T) {
	var recs []*journal.Record
	for i := range 40 {
		recs = append(recs, &journal.Record{RunID: "r", CaseID: "c", TrialKey: "t", Results: 40, ResultIndex: i,
			Text: fmt.Sprintf("answer %d", i%25), Pass: true})
	}
	s, err := Aggregate(writeJournal(t, recs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cells[0]
	if c.DistinctTrials != 1 || !approx(c.DistinctShare, 25.0/40) {
		t.Errorf("distinct: %d trials, share %v; want 1 trial, share %v", c.DistinctTrials, c.DistinctShare, 25.0/40)
	}
}

// TestDistinctTextsScatteredTrials: Aggregate folds a trial's distinct-text
// share as soon as the trial's consecutive lines end, and keeps trials whose
// lines are scattered (resumed, retried) until the end. Both must give the
// shares an aggregator fed record by record (which keeps every trial to the
// end) gives, on a journal mixing consecutive and scattered trials, errors
// and superseded lines.
func TestDistinctTextsScatteredTrials(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	var recs []*journal.Record
	emit := func(trial, idx int) {
		r := &journal.Record{RunID: "r", CaseID: fmt.Sprintf("c%d", trial%3), Cell: fmt.Sprintf("x=%d", trial%2),
			TrialKey: fmt.Sprintf("t%d", trial), Results: 3, ResultIndex: idx, Text: fmt.Sprintf("answer %d", rnd.IntN(3)), Pass: true}
		if rnd.IntN(12) == 0 {
			r.Error = &journal.Error{Class: "server", Message: "boom"}
		}
		recs = append(recs, r)
	}
	for trial := range 400 {
		for idx := range 3 {
			emit(trial, idx)
		}
		// Now and then an earlier trial's sample again (a resumed or
		// retried line), which scatters that trial.
		if rnd.IntN(5) == 0 {
			emit(rnd.IntN(trial+1), rnd.IntN(3))
		}
	}
	path := writeJournal(t, recs)
	got, err := Aggregate(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := NewAggregator(Options{})
	if _, err := ReadLatest(path, func(r *journal.Record) error { a.Add(r); return nil }); err != nil {
		t.Fatal(err)
	}
	want := a.Close()
	if len(got.Cells) != len(want.Cells) {
		t.Fatalf("%d cells, want %d", len(got.Cells), len(want.Cells))
	}
	for i := range want.Cells {
		g, w := got.Cells[i], want.Cells[i]
		if g.DistinctTrials != w.DistinctTrials || !approx(g.DistinctShare, float64(w.DistinctShare)) {
			t.Errorf("%s: %d trials, share %v; want %d, %v", w.Label, g.DistinctTrials, g.DistinctShare, w.DistinctTrials, w.DistinctShare)
		}
	}
	if g, w := got.Total, want.Total; g.DistinctTrials != w.DistinctTrials || !approx(g.DistinctShare, float64(w.DistinctShare)) || w.DistinctTrials < 300 {
		t.Errorf("total: %d trials, share %v; want %d (at least 300), %v", g.DistinctTrials, g.DistinctShare, w.DistinctTrials, w.DistinctShare)
	}
}
