package runner

import (
	"context"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// TestFaultsAreRetriedAndCounted injects transient faults and checks that the
// run still journals every trial exactly once without errors, and that the
// runner's own call count equals what the simulator counted: trials plus one
// extra call per injected fault, nothing lost, nothing sent twice.
func TestFaultsAreRetriedAndCounted(t *testing.T) {
	sec := runware.Duration(1_000_000_000)
	tests := []struct {
		name     string
		faults   runwaretest.Faults
		delivery string
	}{
		// A burst of 429s at the start without Retry-After: backoff alone.
		{"429 burst", runwaretest.Faults{RateLimit: runwaretest.Fault{First: 6}}, "sync"},
		// 429s that say Retry-After: 1 — honoured, then the run completes.
		{"429 with Retry-After", runwaretest.Faults{RateLimit: runwaretest.Fault{First: 2}, RetryAfter: sec}, "sync"},
		// Every 4th request is a 503 and every 5th a 500.
		{"5xx", runwaretest.Faults{Unavailable: runwaretest.Fault{Every: 4}, ServerError: runwaretest.Fault{Every: 5}}, "sync"},
		// Every 3rd connection is reset without a response.
		{"resets", runwaretest.Faults{Reset: runwaretest.Fault{Every: 3}}, "sync"},
		// Every 3rd body is cut off mid-JSON.
		{"malformed", runwaretest.Faults{Malformed: runwaretest.Fault{Every: 3}}, "sync"},
		// Every 3rd stream closes after two events without [DONE].
		{"truncated streams", runwaretest.Faults{Truncate: runwaretest.Fault{Every: 3}}, "stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, runwaretest.Options{Faults: tc.faults, Seed: 7})
			n := 2
			if tc.delivery == "stream" {
				n = 1 // stream delivery carries one result per task
			}
			trials := makeTrials(12, n, func(req map[string]any) { req["deliveryMethod"] = tc.delivery })
			cfg := h.config()
			cfg.Concurrency = 3
			res, recs := h.run(context.Background(), cfg, trials)
			if res.StopReason != journal.StopCompleted {
				t.Fatalf("stop reason %q (%s)", res.StopReason, res.StopDetail)
			}
			if len(recs) != 12*n {
				t.Fatalf("journal has %d lines, want %d", len(recs), 12*n)
			}
			for k, n := range perTrial(recs) {
				if n != 1 {
					t.Errorf("%s journaled %d times", k, n)
				}
			}
			retried := 0
			for _, r := range recs {
				if r.Error != nil {
					t.Fatalf("sample failed after retries: %+v", r.Error)
				}
				if r.ResultIndex == 0 {
					retried += r.Attempts - 1
				}
			}
			st := h.sim.Stats()
			faults := int64(0)
			for _, n := range st.Faults {
				faults += n
			}
			calls := cfg.Progress.Calls.Load()
			if calls != st.Requests {
				t.Fatalf("runner made %d calls, simulator counted %d", calls, st.Requests)
			}
			if calls != int64(len(trials)+retried) || faults != int64(retried) || retried == 0 {
				t.Fatalf("calls %d, retries %d, faults %d: want calls = trials + retries = trials + faults, some faults", calls, retried, faults)
			}
		})
	}
}

// TestPermanentErrorsAreRecordedOnce: a validation error (an unknown model)
// is not retried; the trial's samples carry it after exactly one attempt.
func TestPermanentErrorsAreRecordedOnce(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	trials := makeTrials(3, 2, func(req map[string]any) { req["settings"] = map[string]any{"temperature": 7.5} })
	res, recs := h.run(context.Background(), h.config(), trials)
	if res.StopReason != journal.StopCompleted || len(recs) != 6 {
		t.Fatalf("result %+v with %d lines", res, len(recs))
	}
	for _, r := range recs {
		if r.Error == nil || r.Error.Class != string(runware.ClassValidation) || r.Attempts != 1 || r.Pass {
			t.Fatalf("want a validation error after one attempt, got %+v attempts=%d", r.Error, r.Attempts)
		}
	}
	if got := h.sim.Stats().Requests; got != 3 {
		t.Fatalf("simulator saw %d requests, want 3", got)
	}
}

// TestFatalErrorStopsEarly: an insufficientCredits answer stops scheduling
// with the API's own message instead of failing every remaining trial.
func TestFatalErrorStopsEarly(t *testing.T) {
	h := newHarness(t, runwaretest.Options{Faults: runwaretest.Faults{InsufficientCredits: runwaretest.Fault{Every: 3}}})
	cfg := h.config()
	cfg.Concurrency = 1
	res, recs := h.run(context.Background(), cfg, makeTrials(50, 1, nil))
	if res.StopReason != journal.StopFatalAPI {
		t.Fatalf("stop reason %q, want %q", res.StopReason, journal.StopFatalAPI)
	}
	if want := "Insufficient credits"; !contains(res.StopDetail, want) {
		t.Fatalf("stop detail %q does not carry the API's message %q", res.StopDetail, want)
	}
	if len(recs) != 3 || h.sim.Stats().Requests != 3 {
		t.Fatalf("%d lines and %d requests, want 3 and 3 (stop at the first fatal answer)", len(recs), h.sim.Stats().Requests)
	}
	if recs[2].Error == nil || recs[2].Error.Class != string(runware.ClassCredits) {
		t.Fatalf("last record error %+v, want credits", recs[2].Error)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
