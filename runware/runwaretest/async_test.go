package runwaretest

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func poll(t *testing.T, s *Server, uuid any) resp {
	t.Helper()
	return post(t, s.URL(), testKey, []any{map[string]any{"taskType": "getResponse", "taskUUID": uuid}})
}

// Async: an immediate ACK, then getResponse returns the cumulative state of
// all results: "processing" until each result's completion time, then
// "success" with the full result fields.
func TestAsyncProcessingThenSuccess(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestServer(t, Options{TimeScale: 1, Now: clock.Now, Scenarios: []Scenario{{
		Match: Match{Exact: "q"}, Answer: "abcd", // 1 token
		TTFT: map[string]Dist{"none": {Mean: 100, SD: 50}}, TokenTime: Dist{Mean: 10},
	}}})
	tk := task("q", with("deliveryMethod", "async"), with("numberResults", 3), with("includeUsage", true), with("seed", 1))
	ack := post(t, s.URL(), testKey, []any{tk})
	e := ack.envelope(t)
	if ack.status != http.StatusOK || len(e.Data) != 1 || e.Data[0]["taskUUID"] != tk["taskUUID"] || e.Data[0]["taskType"] != "textInference" || len(e.Data[0]) != 2 {
		t.Fatalf("ack %d %s", ack.status, ack.body)
	}

	count := func() (processing, success int) {
		r := poll(t, s, tk["taskUUID"])
		e := r.envelope(t)
		if r.status != http.StatusOK || len(e.Data) != 3 {
			t.Fatalf("poll %d %s", r.status, r.body)
		}
		for _, d := range e.Data {
			switch d["status"] {
			case "processing":
				if len(d) != 3 {
					t.Fatalf("processing item has result fields: %v", d)
				}
				processing++
			case "success":
				if d["text"] != "abcd" || d["finishReason"] != "stop" || d["usage"] == nil {
					t.Fatalf("success item %v", d)
				}
				success++
			}
		}
		return
	}
	if p, _ := count(); p != 3 {
		t.Fatalf("right after submission %d of 3 processing", p)
	}
	seen := map[int]bool{}
	for range 60 {
		clock.Advance(5 * time.Millisecond)
		p, s := count()
		if p+s != 3 {
			t.Fatalf("items %d+%d", p, s)
		}
		seen[s] = true
	}
	if _, s := count(); s != 3 {
		t.Fatalf("after 300ms only %d of 3 done", s)
	}
	// With TTFT spread the three results finish at different times, so some
	// poll saw a mix (cumulative state, not all-or-nothing).
	if !seen[1] && !seen[2] {
		t.Fatalf("no poll saw partial completion: %v", seen)
	}
}

// With TimeScale 0 async results are ready at once.
func TestAsyncImmediate(t *testing.T) {
	s := newTestServer(t, Options{})
	tk := task("q", with("deliveryMethod", "async"))
	post(t, s.URL(), testKey, []any{tk})
	e := poll(t, s, tk["taskUUID"]).envelope(t)
	if len(e.Data) != 1 || e.Data[0]["status"] != "success" {
		t.Fatalf("poll %+v", e)
	}
}

func TestGetResponseErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name string
		task map[string]any
		code string
	}{
		// An unknown taskUUID is not found (HTTP 400, simulator choice).
		{"unknown", map[string]any{"taskType": "getResponse", "taskUUID": newUUID()}, "taskNotFound"},
		// taskUUID is required.
		{"missing", map[string]any{"taskType": "getResponse"}, "missingTaskUUID"},
		// taskUUID must be a UUID.
		{"invalid", map[string]any{"taskType": "getResponse", "taskUUID": "x"}, "invalidTaskUUID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s.URL(), testKey, []any{tc.task})
			e := r.envelope(t)
			if r.status != http.StatusBadRequest || len(e.Errors) != 1 || e.Errors[0].Code != tc.code || e.Errors[0].TaskType != "getResponse" {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
		})
	}
}

// A taskUUID reused while its async task is still processing conflicts;
// once it has completed the UUID may be reused.
func TestConflictTaskUUIDInFlight(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	s := newTestServer(t, Options{TimeScale: 1, Now: clock.Now})
	tk := task("q", with("deliveryMethod", "async"))
	post(t, s.URL(), testKey, []any{tk})
	r := post(t, s.URL(), testKey, []any{tk})
	if e := r.envelope(t); r.status != http.StatusBadRequest || len(e.Errors) != 1 || e.Errors[0].Code != "conflictTaskUUID" {
		t.Fatalf("reuse in flight: %d %s", r.status, r.body)
	}
	clock.Advance(time.Hour)
	if r := post(t, s.URL(), testKey, []any{tk}); r.status != http.StatusOK {
		t.Fatalf("reuse after completion: %d %s", r.status, r.body)
	}
}
