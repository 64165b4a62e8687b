package runwaretest

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// itemStatuses submits an async task with n results and returns the
// statuses getResponse reports for them once complete.
func itemStatuses(t *testing.T, s *Server, n int) []string {
	t.Helper()
	tk := task("mixed", with("deliveryMethod", "async"), with("numberResults", n), with("seed", 7))
	if r := post(t, s.URL(), testKey, []any{tk}); r.status != http.StatusOK {
		t.Fatalf("ack %d %s", r.status, r.body)
	}
	e := poll(t, s, tk["taskUUID"]).envelope(t)
	var out []string
	for _, d := range e.Data {
		out = append(out, d["status"].(string))
		if d["status"] == "error" {
			errObj, _ := d["error"].(map[string]any)
			if errObj["code"] != "timeoutProvider" || errObj["message"] == "" || d["taskUUID"] != tk["taskUUID"] || d["text"] != nil {
				t.Fatalf("error item %v; want an embedded {code, message} and no result fields", d)
			}
		}
	}
	return out
}

// Faults.AsyncItemError fails single results of an async task while the
// others succeed, picked per result by the fault's triggers.
func TestAsyncItemErrorMixedOutcomes(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		want  []string
		fails int64
	}{
		// Every second result fails: results 2 and 4 of the task.
		{"every 2", Fault{Every: 2}, []string{"success", "error", "success", "error"}, 2},
		// The first result fails, the rest succeed.
		{"first 1", Fault{First: 1}, []string{"error", "success", "success", "success"}, 1},
		// Off: every result succeeds.
		{"off", Fault{}, []string{"success", "success", "success", "success"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{Faults: Faults{AsyncItemError: tc.fault}})
			if got := itemStatuses(t, s, 4); !slices.Equal(got, tc.want) {
				t.Fatalf("statuses %v, want %v", got, tc.want)
			}
			st := s.Stats()
			if st.Faults[FaultAsyncItemError] != tc.fails || st.Results != 4-tc.fails {
				t.Fatalf("stats: faults %v results %d; failed results are counted as faults, not results", st.Faults, st.Results)
			}
		})
	}
}

// With a probability, which results fail is a function of Options.Seed:
// the same seed repeats the pattern, and the results are mixed.
func TestAsyncItemErrorSeeded(t *testing.T) {
	pattern := func(seed int64) []string {
		s := newTestServer(t, Options{Seed: seed, Faults: Faults{AsyncItemError: Fault{P: 0.5}}})
		var all []string
		for range 5 {
			all = append(all, itemStatuses(t, s, 4)...)
		}
		return all
	}
	a, b := pattern(3), pattern(3)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different outcomes:\n%v\n%v", a, b)
	}
	if !slices.Contains(a, "error") || !slices.Contains(a, "success") {
		t.Fatalf("p=0.5 over 20 results gave no mix: %v", a)
	}
}

// Options.Progress adds the elapsed share of a result's simulated duration
// to its processing item; without it processing items carry no progress.
func TestAsyncProgress(t *testing.T) {
	for _, on := range []bool{true, false} {
		clock := &fakeClock{t: time.Unix(0, 0)}
		s := newTestServer(t, Options{TimeScale: 1, Now: clock.Now, Progress: on, Scenarios: []Scenario{{
			Match: Match{Exact: "q"}, Answer: "abcd", TTFT: map[string]Dist{"none": {Mean: 196}}, TokenTime: Dist{Mean: 4},
		}}})
		tk := task("q", with("deliveryMethod", "async"))
		post(t, s.URL(), testKey, []any{tk})
		clock.Advance(50 * time.Millisecond) // of 200 ms
		d := poll(t, s, tk["taskUUID"]).envelope(t).Data[0]
		if d["status"] != "processing" {
			t.Fatalf("item %v", d)
		}
		if p, ok := d["progress"]; on != ok || (on && p != 25.0) {
			t.Fatalf("Progress %v: item %v; want progress 25 only when on", on, d)
		}
	}
}
