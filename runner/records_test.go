package runner

import (
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/runware"
)

// Usage the API reported once for a request's results is split over them
// and marked shared (not all attributed to the first result), and is what
// the budget charges.
func TestSharedUsageSplitOverResults(t *testing.T) {
	trials := makeTrials(1, 2, nil)
	r := &run{cfg: Config{Pricing: eval.DefaultPricing}, prog: &Progress{}}
	j := r.newJob(&trials[0], trials[0].Key)
	resp := &runware.Response{TaskUUID: "x", Results: []runware.Result{{Text: "a"}, {Text: "b"}},
		Usage: &runware.Usage{PromptTokens: 10, CompletionTokens: 400, ThinkingTokens: 300, TotalTokens: 410}}
	recs := r.records(j, resp)
	for i, rec := range recs {
		if rec.Usage == nil || !rec.UsageShared || rec.Usage.Completion != 200 || rec.Usage.Thinking != 150 || rec.Usage.Prompt != 5 {
			t.Errorf("result %d: usage %+v shared %v; want half of the request's, marked shared", i, rec.Usage, rec.UsageShared)
		}
		if rec.Cost == nil || !rec.CostEstimated {
			t.Errorf("result %d: cost %v; want an estimate from the shared usage", i, rec.Cost)
		}
	}
	want := 2 * eval.DefaultPricing.Cost(5, 200, 150)
	if got := r.charge(j, resp); got < want-1e-12 || got > want+1e-12 {
		t.Errorf("charge %v, want %v", got, want)
	}
}

// A result that arrived keeps the request's timings when another result of
// the same request failed.
func TestPartlyFailedRequestKeepsLatency(t *testing.T) {
	trials := makeTrials(1, 2, nil)
	r := &run{cfg: Config{Pricing: eval.DefaultPricing}, prog: &Progress{}}
	j := r.newJob(&trials[0], trials[0].Key)
	at := time.Now()
	idx0, idx1 := 0, 1
	resp := &runware.Response{TaskUUID: "x",
		Err:     &runware.Error{Class: runware.ClassProvider, Message: "one result failed"},
		Timings: runware.Timings{Dispatched: at, Done: at.Add(time.Second)},
		Results: []runware.Result{{Text: "a", ResultIndex: &idx0}, {ResultIndex: &idx1, Err: &runware.Error{Class: runware.ClassProvider, Message: "failed"}}}}
	recs := r.records(j, resp)
	if recs[0].Error != nil || recs[0].Timings.E2E == nil || *recs[0].Timings.E2E != 1000 {
		t.Errorf("answered result: error %+v, e2e %v; want its latency", recs[0].Error, recs[0].Timings.E2E)
	}
	if recs[1].Error == nil || recs[1].Timings.E2E != nil {
		t.Errorf("failed result: error %+v, e2e %v", recs[1].Error, recs[1].Timings.E2E)
	}
}
