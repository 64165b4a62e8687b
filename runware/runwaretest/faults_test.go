package runwaretest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

func TestStatusFaults(t *testing.T) {
	once := Fault{First: 1}
	tests := []struct {
		name   string
		faults Faults
		kind   string
		status int
		code   string
		retry  string
	}{
		// 429 without Retry-After unless configured.
		{"429", Faults{RateLimit: once}, FaultRateLimit, 429, "rateLimitExceeded", ""},
		// 429 with Retry-After rounded up to whole seconds.
		{"429 retry-after", Faults{RateLimit: once, RetryAfter: runware.Duration(1500 * time.Millisecond)}, FaultRateLimit, 429, "rateLimitExceeded", "2"},
		// 503 with Retry-After.
		{"503", Faults{Unavailable: once, RetryAfter: runware.Duration(3 * time.Second)}, FaultUnavailable, 503, "serviceUnavailable", "3"},
		// 504 queue timeout.
		{"504", Faults{GatewayTimeout: once}, FaultGatewayTimeout, 504, "timeoutProvider", ""},
		// 500 never carries Retry-After.
		{"500", Faults{ServerError: once, RetryAfter: runware.Duration(time.Second)}, FaultServerError, 500, "internalServerError", ""},
		// 402 insufficient credits.
		{"402", Faults{InsufficientCredits: once}, FaultInsufficientCredits, 402, "insufficientCredits", ""},
		// 403 forbidden.
		{"403", Faults{Forbidden: once}, FaultForbidden, 403, "forbidden", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{Faults: tc.faults})
			tk := task("hi")
			r := post(t, s.URL(), testKey, []any{tk})
			e := r.envelope(t)
			if r.status != tc.status || len(e.Errors) != 1 || e.Errors[0].Code != tc.code || e.Errors[0].TaskUUID != tk["taskUUID"] {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			if got := r.header.Get("Retry-After"); got != tc.retry {
				t.Fatalf("Retry-After %q, want %q", got, tc.retry)
			}
			// Only the first request is faulted.
			if r2 := post(t, s.URL(), testKey, []any{task("hi")}); r2.status != 200 {
				t.Fatalf("second request status %d", r2.status)
			}
			st := s.Stats()
			if st.Faults[tc.kind] != 1 || st.Status[tc.status] != 1 || st.Status[200] != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestFaultTriggers(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		want  []bool // faulted, per request
	}{
		// Every 3: requests 3 and 6.
		{"every", Fault{Every: 3}, []bool{false, false, true, false, false, true}},
		// First 2: a burst at start.
		{"first", Fault{First: 2}, []bool{true, true, false, false, false, false}},
		// Triggers OR together.
		{"first or every", Fault{First: 1, Every: 4}, []bool{true, false, false, true, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{Faults: Faults{ServerError: tc.fault}})
			for i, want := range tc.want {
				r := post(t, s.URL(), testKey, []any{task("hi")})
				if got := r.status == 500; got != want {
					t.Fatalf("request %d: faulted %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

// Probabilistic faults hit about P of requests and repeat exactly under the same seed.
func TestFaultProbabilityDeterministic(t *testing.T) {
	run := func(seed int64) []bool {
		in := &injector{f: Faults{RateLimit: Fault{P: 0.3}}, seed: seed, now: time.Now, counter: func(string) {}}
		var out []bool
		for range 2000 {
			out = append(out, in.decide().fail != nil)
		}
		return out
	}
	a, b, c := run(1), run(1), run(2)
	hits, same := 0, true
	for i := range a {
		if a[i] {
			hits++
		}
		same = same && a[i] == b[i]
	}
	if !same {
		t.Fatal("same seed gave different fault sequences")
	}
	if hits < 500 || hits > 700 {
		t.Fatalf("%d of 2000 faulted, want about 600", hits)
	}
	diff := false
	for i := range a {
		diff = diff || a[i] != c[i]
	}
	if !diff {
		t.Fatal("different seeds gave the same fault sequence")
	}
}

// Reset closes the connection without a response.
func TestResetFault(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{Reset: Fault{First: 1}}})
	body, _ := json.Marshal([]any{task("hi")})
	req, _ := http.NewRequest(http.MethodPost, s.URL(), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer k")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("got status %d, want a connection error", res.StatusCode)
	}
	if st := s.Stats(); st.Faults[FaultReset] != 1 {
		t.Fatalf("stats %+v", st.Faults)
	}
}

// Malformed answers 200 with a body that is not valid JSON.
func TestMalformedFault(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{Malformed: Fault{First: 1}}})
	r := post(t, s.URL(), testKey, []any{task("hi")})
	if r.status != 200 || json.Valid(r.body) || len(r.body) == 0 {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	// For a stream: one cut-off event and no [DONE].
	r = post(t, newTestServer(t, Options{Faults: Faults{Malformed: Fault{First: 1}}}).URL(), testKey, []any{task("hi", with("deliveryMethod", "stream"))})
	ev := sseEvents(t, r.body)
	if len(ev) != 1 || json.Valid([]byte(ev[0])) {
		t.Fatalf("events %q", ev)
	}
}

func TestStreamFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		kind   string
		events int  // data events received
		errEv  bool // last event is an errors event
	}{
		// Truncate after 3 events: no final chunk, no [DONE].
		{"truncate", Faults{Truncate: Fault{First: 1}, TruncateAfter: 3}, FaultTruncate, 3, false},
		// Default truncation point is 2 events.
		{"truncate default", Faults{Truncate: Fault{First: 1}}, FaultTruncate, 2, false},
		// Mid-stream error after 2 events, then close without [DONE].
		{"mid-stream error", Faults{MidStreamError: Fault{First: 1}, MidStreamErrorAfter: 2}, FaultMidStreamError, 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{Faults: tc.faults})
			r := post(t, s.URL(), testKey, []any{task("Write a long answer", with("deliveryMethod", "stream"))})
			ev := sseEvents(t, r.body)
			if len(ev) != tc.events || ev[len(ev)-1] == "[DONE]" {
				t.Fatalf("events %q", ev)
			}
			for _, c := range decodeChunks(t, ev[:len(ev)-1]) {
				if c.FinishReason != nil {
					t.Fatal("final chunk sent before the fault")
				}
			}
			if last := ev[len(ev)-1]; tc.errEv != strings.HasPrefix(last, `{"errors":[{"code":"timeoutProvider"`) {
				t.Fatalf("last event %s", last)
			}
			if s.Stats().Faults[tc.kind] != 1 {
				t.Fatalf("stats %+v", s.Stats().Faults)
			}
		})
	}
}

func serveOnce(h http.Handler, body any) *httptest.ResponseRecorder {
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, "/v1", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer k")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// SlowFirstByte delays the response by its (unscaled) delay.
func TestSlowFirstByte(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{Faults: Faults{SlowFirstByte: Fault{First: 1}, SlowFirstByteDelay: runware.Duration(7 * time.Second)}})
		defer h.Close()
		start := time.Now()
		if rec := serveOnce(h, []any{task("hi")}); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		if got := time.Since(start); got != 7*time.Second {
			t.Fatalf("took %v, want 7s", got)
		}
		if h.Stats().Faults[FaultSlowFirstByte] != 1 {
			t.Fatal("slow first byte not counted")
		}
	})
}

// MaxRate accepts at most R requests in any 1 s window and answers the rest
// with 429 and a Retry-After saying when a slot frees.
func TestMaxRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{Faults: Faults{MaxRate: 2}})
		defer h.Close()
		codes := func(n int) []int {
			var out []int
			for range n {
				out = append(out, serveOnce(h, []any{task("hi")}).Code)
			}
			return out
		}
		if got := codes(3); got[0] != 200 || got[1] != 200 || got[2] != 429 {
			t.Fatalf("t=0: %v", got)
		}
		rec := serveOnce(h, []any{task("hi")})
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("excess: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
		time.Sleep(999 * time.Millisecond)
		if got := codes(1); got[0] != 429 {
			t.Fatalf("t=0.999s: %v", got)
		}
		time.Sleep(time.Millisecond)
		if got := codes(3); got[0] != 200 || got[1] != 200 || got[2] != 429 {
			t.Fatalf("t=1s: %v", got)
		}
		if n := h.Stats().Faults[FaultMaxRate]; n != 4 {
			t.Fatalf("maxRate faults %d, want 4", n)
		}
	})
}

// MaxRate below 1 admits one request per 1/R seconds.
func TestMaxRateFractional(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{Faults: Faults{MaxRate: 0.5}})
		defer h.Close()
		if c := serveOnce(h, []any{task("hi")}).Code; c != 200 {
			t.Fatalf("first %d", c)
		}
		time.Sleep(1500 * time.Millisecond)
		rec := serveOnce(h, []any{task("hi")})
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("at 1.5s: %d %q", rec.Code, rec.Header().Get("Retry-After"))
		}
		time.Sleep(500 * time.Millisecond)
		if c := serveOnce(h, []any{task("hi")}).Code; c != 200 {
			t.Fatalf("at 2s %d", c)
		}
	})
}
