package runner

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// fakeAPI answers instantly (or after latency, in fake time) and records
// when each request arrived; reject, when set, may turn a request into an
// error response.
type fakeAPI struct {
	mu      sync.Mutex
	latency time.Duration
	times   []time.Time
	reject  func(n int, now time.Time) *runware.Error
	// inflight and maxInflight track concurrency as the server saw it.
	inflight, maxInflight int
}

func (f *fakeAPI) Do(ctx context.Context, tasks []runware.Task) ([]*runware.Response, error) {
	f.mu.Lock()
	now := time.Now()
	f.times = append(f.times, now)
	n := len(f.times)
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	var rej *runware.Error
	if f.reject != nil {
		rej = f.reject(n, now)
	}
	f.mu.Unlock()
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	f.mu.Lock()
	f.inflight--
	f.mu.Unlock()
	out := make([]*runware.Response, len(tasks))
	for i, t := range tasks {
		r := &runware.Response{TaskUUID: t.TaskUUID, Timings: runware.Timings{Dispatched: now, Done: time.Now()}}
		if rej != nil {
			e := *rej
			r.Err = &e
		} else {
			cost := 0.001
			for k := 0; k < max(t.NumberResults, 1); k++ {
				r.Results = append(r.Results, runware.Result{TaskUUID: t.TaskUUID, Text: "the answer",
					Usage: &runware.Usage{PromptTokens: 10, CompletionTokens: 20, TotalTokens: 30}, Cost: &cost})
			}
		}
		out[i] = r
	}
	return out, nil
}

// runFake runs trials against api inside the current synctest bubble.
func runFake(t *testing.T, api *fakeAPI, cfg Config, n int) *Result {
	t.Helper()
	dir := t.TempDir()
	w, err := journal.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API, cfg.Journal = api, w
	if cfg.Progress == nil {
		cfg.Progress = &Progress{}
	}
	res, err := Run(context.Background(), cfg, makeTrials(n, 1, nil))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestRateIsPaced: with --rate R the requests leave R per second, never more
// in any one-second window, and the whole run takes (n-1)/R seconds.
func TestRateIsPaced(t *testing.T) {
	tests := []struct {
		rate float64
		n    int
	}{
		// 10 req/s, 50 trials => 4.9 s, at most 10 in any second.
		{10, 50},
		// 2.5 req/s, 11 trials => 4 s, at most 3 in any second.
		{2.5, 11},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.rate), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeAPI{}
				start := time.Now()
				runFake(t, api, Config{Rate: tc.rate, Concurrency: 64}, tc.n)
				if len(api.times) != tc.n {
					t.Fatalf("%d requests, want %d", len(api.times), tc.n)
				}
				want := time.Duration(float64(tc.n-1) / tc.rate * float64(time.Second))
				if got := api.times[len(api.times)-1].Sub(start); got != want {
					t.Fatalf("last request at %v, want %v", got, want)
				}
				allowed := int(tc.rate) + 1
				for i := range api.times {
					in := 0
					for _, u := range api.times[i:] {
						if u.Sub(api.times[i]) < time.Second {
							in++
						}
					}
					if in > allowed {
						t.Fatalf("%d requests within one second from %v, bucket allows %d", in, api.times[i].Sub(start), allowed)
					}
				}
			})
		})
	}
}

// TestConcurrencyCap: with latency and no rate, the server never sees more
// requests at once than --concurrency.
func TestConcurrencyCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{latency: 100 * time.Millisecond}
		start := time.Now()
		runFake(t, api, Config{Concurrency: 4}, 40)
		if api.maxInflight != 4 {
			t.Fatalf("server saw %d in flight, want 4", api.maxInflight)
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("run took %v, want 1s (40 requests, 4 at a time, 100ms each)", got)
		}
	})
}

// TestRetryAfterIsHonoured: a 429 saying Retry-After: 3s holds back the
// retry (and every other dispatch) for 3 seconds of fake time.
func TestRetryAfterIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{reject: func(n int, _ time.Time) *runware.Error {
			if n == 1 {
				return &runware.Error{Class: runware.ClassRateLimit, HTTPStatus: 429, Code: "rateLimitExceeded",
					Message: "slow down", RetryAfter: runware.Duration(3 * time.Second)}
			}
			return nil
		}}
		start := time.Now()
		p := &Progress{}
		runFake(t, api, Config{Concurrency: 1, Progress: p, Retry: Retry{Base: time.Millisecond}}, 2)
		if len(api.times) != 3 || p.RateLimited.Load() != 1 || p.Retries.Load() != 1 {
			t.Fatalf("%d requests, %d 429s, %d retries; want 3, 1, 1", len(api.times), p.RateLimited.Load(), p.Retries.Load())
		}
		if got := api.times[1].Sub(start); got != 3*time.Second {
			t.Fatalf("retry sent after %v, want 3s", got)
		}
	})
}

// TestBackoffGivesUp: a permanently overloaded server gets MaxAttempts
// attempts per trial, spaced by exponential backoff, then the error is
// journaled.
func TestBackoffGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{reject: func(int, time.Time) *runware.Error {
			return &runware.Error{Class: runware.ClassServer, HTTPStatus: 500, Message: "boom"}
		}}
		res := runFake(t, api, Config{Concurrency: 1, Retry: Retry{Base: 100 * time.Millisecond, Max: time.Second, MaxAttempts: 4}}, 1)
		if len(api.times) != 4 || res.Samples != 1 {
			t.Fatalf("%d attempts and %d samples, want 4 and 1", len(api.times), res.Samples)
		}
		for i := 1; i < len(api.times); i++ {
			ceiling := 100 * time.Millisecond << (i - 1)
			if gap := api.times[i].Sub(api.times[i-1]); gap > ceiling {
				t.Fatalf("gap before attempt %d is %v, above the backoff ceiling %v", i+1, gap, ceiling)
			}
		}
	})
}

// TestBackoffDelay pins the full-jitter formula.
func TestBackoffDelay(t *testing.T) {
	p := Retry{Base: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		n          int
		retryAfter time.Duration
		u          float64
		want       time.Duration
	}{
		// First retry: uniform in [0, base); u=0.5 => 50ms.
		{1, 0, 0.5, 50 * time.Millisecond},
		// Third retry: ceiling base*4 = 400ms; u=0.5 => 200ms.
		{3, 0, 0.5, 200 * time.Millisecond},
		// Tenth retry: ceiling capped at Max = 1s; u=0.9 => 900ms.
		{10, 0, 0.9, 900 * time.Millisecond},
		// Retry-After longer than the draw wins.
		{1, 2 * time.Second, 0.5, 2 * time.Second},
		// A huge attempt number does not overflow the shift.
		{200, 0, 0.5, 500 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := p.delay(tc.n, tc.retryAfter, tc.u); got != tc.want {
			t.Errorf("delay(%d, %v, %v) = %v, want %v", tc.n, tc.retryAfter, tc.u, got, tc.want)
		}
	}
}
