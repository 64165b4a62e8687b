package runner

import (
	"context"
	"math"
	"sync"
	"time"
)

// gate caps the requests in flight. With adaptive on, the cap follows AIMD:
// it halves once per 429 episode (a 429 answering a request dispatched after
// the last decrease starts a new episode; the others belong to the episode
// already counted) and grows by one after a clean stretch of as many
// successes as the current cap. Server errors do not move it. The worker
// sends it only the 429s the rate controller does not take (see observe).
// A Retry-After it is given pauses every new dispatch until it has passed.
type gate struct {
	mu       sync.Mutex
	limit    float64
	max      float64
	adaptive bool
	inflight int
	epoch    uint64
	clean    int
	paused   time.Time
	// wake is closed (and replaced) whenever a slot may have freed.
	wake chan struct{}
}

// newGate returns a gate admitting up to max requests at once.
func newGate(max int, adaptive bool) *gate {
	if max < 1 {
		max = 1
	}
	return &gate{limit: float64(max), max: float64(max), adaptive: adaptive, wake: make(chan struct{})}
}

// acquire waits for a slot and returns the current AIMD epoch.
func (g *gate) acquire(ctx context.Context) (uint64, error) {
	for {
		g.mu.Lock()
		now := time.Now()
		if wait := g.paused.Sub(now); wait > 0 {
			g.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err()
			case <-t.C:
			}
			continue
		}
		if g.inflight < int(math.Floor(g.limit)) {
			g.inflight++
			e := g.epoch
			g.mu.Unlock()
			return e, nil
		}
		ch := g.wake
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-ch:
		}
	}
}

// release frees a slot.
func (g *gate) release() {
	g.mu.Lock()
	g.inflight--
	g.signal()
	g.mu.Unlock()
}

// signal wakes the waiters; the caller holds g.mu.
func (g *gate) signal() {
	close(g.wake)
	g.wake = make(chan struct{})
}

// rateLimited records a 429 for a request dispatched in epoch; it reports
// whether the cap was cut (the first 429 of an episode).
func (g *gate) rateLimited(epoch uint64, retryAfter time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pause(retryAfter)
	g.clean = 0
	if !g.adaptive || epoch != g.epoch {
		return false
	}
	g.epoch++
	g.limit = math.Max(1, math.Floor(g.limit/2))
	return true
}

// unavailable records a 503/504 with its Retry-After: the pause is honoured,
// the cap is left alone.
func (g *gate) unavailable(retryAfter time.Duration) { g.hold(retryAfter) }

// hold pauses every new dispatch for d without touching the cap.
func (g *gate) hold(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pause(d)
}

// pause holds new dispatches for d; the caller holds g.mu.
func (g *gate) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	if until := time.Now().Add(d); until.After(g.paused) {
		g.paused = until
	}
}

// succeeded counts a clean response towards the next additive increase.
func (g *gate) succeeded() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.adaptive || g.limit >= g.max {
		return
	}
	g.clean++
	if g.clean >= int(g.limit) {
		g.clean = 0
		g.limit = math.Min(g.max, g.limit+1)
		g.signal()
	}
}

// cap is the current concurrency cap.
func (g *gate) cap() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int(g.limit)
}
