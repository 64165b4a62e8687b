package runner

import (
	"context"
	"sync"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/runware"
)

// DefaultMaxTokensBound is the completion-token bound per result assumed by
// the budget when a request sets no settings.maxTokens. Runware documents no
// default for Kimi K2.6; 32,768 is a deliberate over-estimate so that the
// budget errs on the side of stopping early.
const DefaultMaxTokensBound = 32768

// upperBound is the most a trial can cost: every prompt byte counted as a
// token (tokenizers produce fewer tokens than bytes) plus maxTokens for each
// result, all priced at the dearer of output and thinking.
func upperBound(task *runware.Task, p eval.Pricing) float64 {
	prompt := promptTokens(task)
	maxTok := DefaultMaxTokensBound
	if task.Settings != nil && task.Settings.MaxTokens != nil && *task.Settings.MaxTokens > 0 {
		maxTok = *task.Settings.MaxTokens
	}
	n := max(task.NumberResults, 1)
	out := max(p.Output, p.Thinking)
	return float64(n) * (float64(prompt)*p.Input + float64(maxTok)*out) / 1e6
}

// promptTokens bounds the prompt tokens of a task from above by its bytes
// (plus a few tokens of chat-template overhead per message).
func promptTokens(task *runware.Task) int {
	n := 0
	for _, m := range task.Messages {
		n += len(m.Content) + 8
	}
	if task.Settings != nil {
		n += len(task.Settings.SystemPrompt) + 8
	}
	return n
}

// budget tracks spend against --max-cost. Before a trial is dispatched its
// upper bound is reserved; when it ends the reservation is replaced by what
// it really cost. A trial that does not fit waits for the trials in flight
// (their real cost is usually far below their bound); when nothing is in
// flight and it still does not fit, scheduling stops.
type budget struct {
	mu       sync.Mutex
	max      float64 // 0 = no cap
	spent    float64
	reserved float64
	inflight int
	freed    chan struct{}
}

// newBudget starts a budget of max with prior already spent (earlier
// invocations of a resumed run).
func newBudget(max, prior float64) *budget {
	return &budget{max: max, spent: prior, freed: make(chan struct{})}
}

// reserve holds amount for a trial about to be dispatched. It returns false
// when the trial can never fit (nothing left in flight to wait for).
func (b *budget) reserve(ctx context.Context, amount float64) (bool, error) {
	for {
		b.mu.Lock()
		if b.max <= 0 || b.spent+b.reserved+amount <= b.max {
			b.reserved += amount
			b.inflight++
			b.mu.Unlock()
			return true, nil
		}
		if b.inflight == 0 {
			b.mu.Unlock()
			return false, nil
		}
		ch := b.freed
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-ch:
		}
	}
}

// settle ends a reservation with the trial's actual cost.
func (b *budget) settle(reserved, actual float64) {
	b.mu.Lock()
	b.reserved -= reserved
	b.inflight--
	b.spent += actual
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// addSpent counts a cost that had no reservation.
func (b *budget) addSpent(actual float64) {
	b.mu.Lock()
	b.spent += actual
	b.mu.Unlock()
}

// chargeRetry counts what a failed attempt of a trial may have cost while
// the trial keeps its reservation for the retry, and reports whether that
// retry still fits the cap.
func (b *budget) chargeRetry(amount float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent += amount
	return b.max <= 0 || b.spent+b.reserved <= b.max
}

// total is the spend so far.
func (b *budget) total() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// tryReserve is reserve without waiting: it holds amount only if it fits now.
func (b *budget) tryReserve(amount float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.max > 0 && b.spent+b.reserved+amount > b.max {
		return false
	}
	b.reserved += amount
	b.inflight++
	return true
}
