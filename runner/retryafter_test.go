package runner

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// rateLimitOnceAPI answers each task's first attempt 429 with a huge
// Retry-After, and the next one with an answer.
type rateLimitOnceAPI struct {
	calls      atomic.Int64
	retryAfter time.Duration
}

func (a *rateLimitOnceAPI) Do(ctx context.Context, tasks []runware.Task) ([]*runware.Response, error) {
	n := a.calls.Add(1)
	resps := make([]*runware.Response, len(tasks))
	for i, t := range tasks {
		if n == 1 {
			resps[i] = &runware.Response{TaskUUID: t.TaskUUID, HTTPStatus: 429, Err: &runware.Error{
				Class: runware.ClassRateLimit, HTTPStatus: 429, Message: "slow down", RetryAfter: runware.Duration(a.retryAfter)}}
			continue
		}
		cost := 0.001
		resps[i] = &runware.Response{TaskUUID: t.TaskUUID, Results: []runware.Result{{Text: "e", Cost: &cost}}}
	}
	return resps, nil
}

// A server's Retry-After is waited on up to MaxRetryAfter, not for a day:
// with Retry-After: 99999 s and a 2 s cap the retry leaves after about 2 s
// (in synctest's fake time), and the progress line says the pause was cut.
func TestRetryAfterIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		w, err := journal.Create(dir)
		if err != nil {
			t.Fatal(err)
		}
		p := &Progress{}
		api := &rateLimitOnceAPI{retryAfter: 99999 * time.Second}
		cfg := Config{API: api, Journal: w, Concurrency: 1, Progress: p, MaxRetryAfter: 2 * time.Second,
			Retry: Retry{Base: time.Millisecond, Max: time.Millisecond, MaxAttempts: 3}}
		start := time.Now()
		res, err := Run(context.Background(), cfg, makeTrials(1, 1, nil))
		elapsed := time.Since(start)
		w.Close()
		if err != nil || res.Samples != 1 {
			t.Fatalf("run: %v %+v", err, res)
		}
		if elapsed < 2*time.Second || elapsed > 3*time.Second {
			t.Errorf("the retry left after %v; want the 2 s cap, not the server's 99999 s", elapsed)
		}
		if _, capped := p.Paused(); !capped {
			t.Error("the progress does not say the pause was capped")
		}
		p.pause(time.Minute, true)
		if s := p.Summary(); !strings.Contains(s, "paused 1m0s by Retry-After (capped by --max-retry-after)") {
			t.Errorf("progress line %q does not show the pause", s)
		}
	})
}
