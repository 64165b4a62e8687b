package runner

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/runware"
)

// TestNoiseRetriesAreFreeAndBounded protects nextRetry: a 429 the rate
// controller took as noise is retried without backoff (after its
// Retry-After only) and does not count towards MaxAttempts; past MaxNoise
// such retries a trial's 429s back off and count again, and none is retried
// past MaxElapsed. Anything but a 429 backs off even when the controller
// said noise (the batch's verdict). Each step of an agent loop starts with
// its own MaxNoise and MaxAttempts. In fake time.
func TestNoiseRetriesAreFreeAndBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, j, jit := retryFixture(t, 1)
		e429 := &runware.Error{Class: runware.ClassRateLimit, HTTPStatus: 429}
		e503 := &runware.Error{Class: runware.ClassServer, HTTPStatus: 503}
		attempt := func(e *runware.Error, noise bool) (time.Duration, bool) {
			j.attempts++ // as send does
			return r.nextRetry(j, e, noise, jit)
		}
		step := func(name string) {
			t.Helper()
			for i := range 3 {
				if d, ok := attempt(e429, true); !ok || d != 0 || j.noise != i+1 {
					t.Fatalf("%s: noise 429 %d: retry %v after %v, %d noise retries; want at once, %d", name, i+1, ok, d, j.noise, i+1)
				}
			}
			ra := &runware.Error{Class: runware.ClassRateLimit, HTTPStatus: 429, RetryAfter: runware.Duration(2 * time.Second)}
			if _, ok := attempt(ra, true); !ok || j.noise != 3 {
				t.Fatalf("%s: the 429 past MaxNoise: retry %v, %d noise retries; want a counted retry (1 of 2 attempts), 3", name, ok, j.noise)
			}
			if _, ok := attempt(e503, true); ok {
				t.Fatalf("%s: a 503 after 2 counted attempts was retried (MaxAttempts 2)", name)
			}
		}
		step("step 1")
		res := runware.Result{FinishReason: "tool_calls", ToolCalls: []runware.ToolCall{{ID: "a", Name: "order_status", Arguments: json.RawMessage(`"{\"order\":\"o-9\"}"`)}}}
		r.agentStep(j, &runware.Response{Results: []runware.Result{res}}, false)
		step("step 2")

		// A noise 429's Retry-After is still waited; none starts past MaxElapsed.
		r.agentStep(j, &runware.Response{Results: []runware.Result{res}}, false)
		ra := &runware.Error{Class: runware.ClassRateLimit, HTTPStatus: 429, RetryAfter: runware.Duration(2 * time.Second)}
		if d, ok := attempt(ra, true); !ok || d != 2*time.Second {
			t.Fatalf("noise 429 with Retry-After 2s: retry %v after %v, want after 2s", ok, d)
		}
		time.Sleep(r.retry.MaxElapsed + time.Second)
		if _, ok := attempt(e429, true); ok {
			t.Fatalf("a noise 429 was retried past MaxElapsed")
		}
	})
}

// TestPacedRetriesAreFreeAndBounded protects nextRetry's paced 429s: a 429
// with a Retry-After that the controller did not take as noise (a server's
// rate cap) is retried no sooner than its Retry-After, plus a jitter that
// grows with the trial's retries, and does not count towards MaxAttempts,
// so that a trial does not run out of attempts while the rate settles
// (runner.TestSettlesNearMaxRate lost one trial in about 60 runs at 6
// attempts). Past MaxNoise such retries they count; a 429 without a
// Retry-After and not noise counts at once. In fake time.
func TestPacedRetriesAreFreeAndBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, j, jit := retryFixture(t, 3)
		paced := &runware.Error{Class: runware.ClassRateLimit, HTTPStatus: 429, RetryAfter: runware.Duration(2 * time.Second)}
		bare := &runware.Error{Class: runware.ClassRateLimit, HTTPStatus: 429}
		attempt := func(e *runware.Error) (time.Duration, bool) {
			j.attempts++ // as send does
			return r.nextRetry(j, e, false, jit)
		}
		for i := range 3 {
			d, ok := attempt(paced)
			if ceiling := 2*time.Second + r.retry.Base<<i; !ok || d < 2*time.Second || d > ceiling || j.noise != i+1 {
				t.Fatalf("paced 429 %d: retry %v after %v, %d free retries; want after 2s to %v, %d", i+1, ok, d, j.noise, ceiling, i+1)
			}
		}
		if _, ok := attempt(paced); !ok || j.noise != 3 {
			t.Fatalf("the paced 429 past MaxNoise: retry %v, %d free retries; want a counted retry (1 of 2), 3", ok, j.noise)
		}
		if _, ok := attempt(bare); ok {
			t.Fatal("a 429 without Retry-After, not noise, after 2 counted attempts was retried (MaxAttempts 2)")
		}
	})
}

// retryFixture is a run with MaxAttempts 2 and MaxNoise 3, a job of an agent
// trial in it and a jitter source seeded with seed.
func retryFixture(t *testing.T, seed uint64) (*run, *job, *rand.Rand) {
	trials := agentTrials(t, "5")
	r := &run{cfg: Config{Pricing: eval.DefaultPricing}, prog: &Progress{},
		retry: Retry{MaxAttempts: 2, MaxNoise: 3}.withDefaults()}
	return r, r.newJob(&trials[0], trials[0].Key), rand.New(rand.NewPCG(seed, seed+1))
}
