package runner

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestAIMD walks the gate through 429 episodes and clean stretches.
func TestAIMD(t *testing.T) {
	type step struct {
		op    string // "429" with the epoch of the request, "ok", "503"
		epoch uint64
		want  int
	}
	tests := []struct {
		name  string
		max   int
		steps []step
	}{
		// One 429 halves 16 to 8; further 429s of requests sent before the
		// cut belong to the same episode and change nothing.
		{"one episode", 16, []step{{"429", 0, 8}, {"429", 0, 8}, {"429", 0, 8}}},
		// A 429 for a request sent after the cut is a new episode: 8 -> 4.
		{"two episodes", 16, []step{{"429", 0, 8}, {"429", 1, 4}}},
		// Never below one.
		{"floor", 2, []step{{"429", 0, 1}, {"429", 1, 1}}},
		// A clean stretch as long as the cap (2) adds one: 2 -> 3.
		{"additive increase", 4, []step{{"429", 0, 2}, {"ok", 0, 2}, {"ok", 0, 3}, {"ok", 0, 3}, {"ok", 0, 3}, {"ok", 0, 4}}},
		// Never above the configured maximum.
		{"ceiling", 2, []step{{"ok", 0, 2}, {"ok", 0, 2}, {"ok", 0, 2}}},
		// 503s do not shrink the cap.
		{"5xx", 8, []step{{"503", 0, 8}, {"503", 0, 8}}},
		// A 429 resets the clean stretch: 1 ok + 429 + 1 ok does not grow 2.
		{"stretch reset", 4, []step{{"429", 0, 2}, {"ok", 0, 2}, {"429", 0, 2}, {"ok", 0, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate(tc.max, true)
			for i, s := range tc.steps {
				switch s.op {
				case "429":
					g.rateLimited(s.epoch, 0)
				case "ok":
					g.succeeded()
				case "503":
					g.unavailable(0)
				}
				if got := g.cap(); got != s.want {
					t.Fatalf("step %d (%s): cap %d, want %d", i, s.op, got, s.want)
				}
			}
		})
	}
}

// TestGateBlocksAtCapAndPauses: acquire blocks while the cap is reached and
// while a Retry-After pause lasts, in fake time.
func TestGateBlocksAtCapAndPauses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		g := newGate(2, true)
		e, _ := g.acquire(ctx)
		g.acquire(ctx)
		got := make(chan time.Time, 1)
		start := time.Now()
		go func() {
			g.acquire(ctx)
			got <- time.Now()
		}()
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("acquired a third slot with cap 2")
		default:
		}
		// A 429 with Retry-After 2s halves the cap to 1 and pauses; two
		// releases free the slots, but the waiter must wait out the pause.
		g.rateLimited(e, 2*time.Second)
		g.release()
		g.release()
		if at := <-got; at.Sub(start) != 2*time.Second {
			t.Fatalf("acquired after %v, want 2s (the Retry-After pause)", at.Sub(start))
		}
	})
}
