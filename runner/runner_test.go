package runner

import (
	"context"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// TestRunJournalsEverySample protects the core contract: every trial yields
// numberResults lines, each scored, timed and priced, and the run makes one
// API call per trial.
func TestRunJournalsEverySample(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	trials := makeTrials(20, 3, nil)
	res, recs := h.run(context.Background(), h.config(), trials)
	if res.StopReason != journal.StopCompleted || res.Trials != 20 || res.Samples != 60 {
		t.Fatalf("result = %+v, want completed with 20 trials and 60 samples", res)
	}
	if len(recs) != 60 {
		t.Fatalf("journal has %d lines, want 60", len(recs))
	}
	for k, n := range perTrial(recs) {
		if n != 1 {
			t.Errorf("%s journaled %d times", k, n)
		}
	}
	for _, r := range recs {
		if r.Error != nil {
			t.Fatalf("unexpected error record: %+v", r.Error)
		}
		if len(r.Checks) != 1 || r.Usage == nil || r.Cost == nil || r.CostEstimated || r.Timings.E2E == nil || r.TaskUUID == "" || r.Attempts != 1 {
			t.Fatalf("record missing fields: %+v", r)
		}
	}
	if got := h.sim.Stats().Requests; got != 20 {
		t.Fatalf("simulator saw %d requests, want 20", got)
	}
}

// TestRunEstimatesMissingCost: without includeCost the API sends no cost,
// so the runner prices the usage and labels the cost estimated.
func TestRunEstimatesMissingCost(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	trials := makeTrials(2, 1, func(req map[string]any) { delete(req, "includeCost") })
	_, recs := h.run(context.Background(), h.config(), trials)
	for _, r := range recs {
		if r.Cost == nil || !r.CostEstimated || *r.Cost <= 0 {
			t.Fatalf("cost = %v estimated=%v, want a positive estimate", r.Cost, r.CostEstimated)
		}
	}
}

// TestRunBatchesTasks: --batch puts several tasks in one HTTP request and
// still journals each trial's samples under its own key.
func TestRunBatchesTasks(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	cfg := h.config()
	cfg.Batch = 4
	cfg.Concurrency = 1
	_, recs := h.run(context.Background(), cfg, makeTrials(10, 2, nil))
	if len(recs) != 20 {
		t.Fatalf("journal has %d lines, want 20", len(recs))
	}
	st := h.sim.Stats()
	if st.Requests != 3 || st.Tasks != 10 {
		t.Fatalf("simulator saw %d requests carrying %d tasks, want 3 carrying 10", st.Requests, st.Tasks)
	}
}
