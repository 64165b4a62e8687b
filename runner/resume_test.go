package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// TestResumeRunsOnlyUnfinishedTrials: a journal with some trials complete,
// one interrupted and one stopped by a credits error is resumed; only the
// unfinished ones are sent, and afterwards every trial is complete.
func TestResumeRunsOnlyUnfinishedTrials(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	trials := makeTrials(10, 2, nil)
	// First run: the first 6 trials.
	h.run(context.Background(), h.config(), trials[:6])
	// Hand-write an interrupted trial 6 and a credits-stopped trial 7.
	w, err := journal.Create(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, class := range map[int]string{6: "interrupted", 7: "credits"} {
		for k := 0; k < 2; k++ {
			w.Append(&journal.Record{TrialKey: trials[i].Key, ResultIndex: k, Results: 2, Error: &journal.Error{Class: class, Message: "x"}})
		}
	}
	w.Close()
	state, _, err := ReadState(filepath.Join(h.dir, journal.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	todo, retried := Pending(trials, state, false)
	if len(todo) != 4 || len(retried) != 0 {
		t.Fatalf("pending %d trials (%d retried), want 4 (6, 7, 8, 9) and none retried", len(todo), len(retried))
	}
	before := h.sim.Stats().Requests
	h.run(context.Background(), h.config(), todo)
	if got := h.sim.Stats().Requests - before; got != 4 {
		t.Fatalf("resume sent %d requests, want 4", got)
	}
	state, _, _ = ReadState(filepath.Join(h.dir, journal.JournalFile))
	for _, tr := range trials {
		if st, _ := state.Get(tr.Key); !st.Complete || st.Errored {
			t.Fatalf("trial %s not complete after resume: %+v", tr.Key, st)
		}
	}
	if todo, _ := Pending(trials, state, true); len(todo) != 0 {
		t.Fatalf("a complete, error-free run still has %d pending trials", len(todo))
	}
}

// TestRetryErrorsRerunsErroredTrials: --retry-errors re-runs trials whose
// latest lines carry a terminal error, and marks their new lines retried.
func TestRetryErrorsRerunsErroredTrials(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	trials := makeTrials(4, 1, nil)
	h.run(context.Background(), h.config(), trials[:3])
	w, _ := journal.Create(h.dir)
	w.Append(&journal.Record{TrialKey: trials[3].Key, Results: 1, Error: &journal.Error{Class: "validation", Message: "bad"}})
	w.Close()
	state, _, _ := ReadState(filepath.Join(h.dir, journal.JournalFile))
	if todo, _ := Pending(trials, state, false); len(todo) != 0 {
		t.Fatalf("without --retry-errors an errored trial is done; got %d pending", len(todo))
	}
	todo, retried := Pending(trials, state, true)
	if len(todo) != 1 || !retried[trials[3].Key] {
		t.Fatalf("pending %v retried %v, want trial 3 retried", len(todo), retried)
	}
	cfg := h.config()
	cfg.Retried = retried
	_, recs := h.run(context.Background(), cfg, todo)
	last := recs[len(recs)-1]
	if last.TrialKey != trials[3].Key || !last.Retried || last.Error != nil {
		t.Fatalf("last line %+v, want trial 3 retried without error", last)
	}
}

// TestShardsPartitionTrials: the shards of n are disjoint and cover every
// trial, whatever n.
func TestShardsPartitionTrials(t *testing.T) {
	trials := makeTrials(100, 1, nil)
	for _, n := range []int{1, 2, 3, 7} {
		seen := map[string]int{}
		for i := 1; i <= n; i++ {
			for _, tr := range (Shard{Index: i, Count: n}).Select(trials) {
				seen[tr.Key]++
			}
		}
		if len(seen) != 100 {
			t.Fatalf("n=%d: shards cover %d trials, want 100", n, len(seen))
		}
		for k, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: %s in %d shards", n, k, c)
			}
		}
	}
	for _, bad := range []string{"0/2", "3/2", "1", "a/b", "1/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
}

// TestCacheAvoidsAPICalls: with --cache, re-running an unchanged set of
// trials makes zero API calls and journals the same answers marked cached;
// a changed prompt is sent again.
func TestCacheAvoidsAPICalls(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	cache, err := OpenCache(t.TempDir(), "sim")
	if err != nil {
		t.Fatal(err)
	}
	trials := makeTrials(5, 2, nil)
	cfg := h.config()
	cfg.Cache = cache
	_, first := h.run(context.Background(), cfg, trials)
	if h.sim.Stats().Requests != 5 {
		t.Fatalf("first run: %d requests, want 5", h.sim.Stats().Requests)
	}
	h.dir = t.TempDir()
	_, second := h.run(context.Background(), cfg, trials)
	if got := h.sim.Stats().Requests; got != 5 {
		t.Fatalf("second run made %d new API calls, want 0", got-5)
	}
	byKey := map[string]*journal.Record{}
	for _, r := range first {
		byKey[fmt.Sprintf("%s/%d", r.TrialKey, r.ResultIndex)] = r
	}
	for _, r := range second {
		f := byKey[fmt.Sprintf("%s/%d", r.TrialKey, r.ResultIndex)]
		if !r.Cached || f == nil || r.Text != f.Text || *r.Cost != *f.Cost || len(r.Checks) == 0 {
			t.Fatalf("cached record = %+v, want the first run's answer marked cached", r)
		}
	}
	changed := makeTrials(5, 2, nil)
	changed[2].Request["messages"] = []any{map[string]any{"role": "user", "content": "a new question"}}
	h.dir = t.TempDir()
	h.run(context.Background(), cfg, changed)
	if got := h.sim.Stats().Requests; got != 6 {
		t.Fatalf("after one prompt change: %d requests in all, want 6", got)
	}
}

// TestBudgetStopsScheduling: --max-cost stops before spend plus the
// in-flight upper bound would pass it; what was spent stays within the cap.
func TestBudgetStopsScheduling(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	cfg := h.config()
	cfg.Concurrency = 4
	// Each trial's bound: 2 results * 64 maxTokens * $4.20/M + prompt,
	// about $0.0006; a $0.003 cap lets only a few trials through.
	cfg.MaxCost = 0.003
	res, recs := h.run(context.Background(), cfg, makeTrials(100, 2, nil))
	if res.StopReason != journal.StopBudget {
		t.Fatalf("stop reason %q, want budget", res.StopReason)
	}
	var spent float64
	for _, r := range recs {
		spent += *r.Cost
	}
	if spent > cfg.MaxCost || len(recs) == 0 || len(recs) >= 200 {
		t.Fatalf("spent $%.5f over %d samples with cap $%.3f", spent, len(recs), cfg.MaxCost)
	}
	if int64(res.Trials) != h.sim.Stats().Requests {
		t.Fatalf("%d trials journaled but %d requests sent", res.Trials, h.sim.Stats().Requests)
	}
}
