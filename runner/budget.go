package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/runware"
)

// taskBound is eval's bound of a task, the one plan's "cost high" also
// uses: prompt bytes plus a message overhead, and maxTokens (else the
// model's output limit) per result.
func taskBound(task *runware.Task) eval.TaskBound {
	var system string
	maxTok := 0
	if task.Settings != nil {
		system = task.Settings.SystemPrompt
		if task.Settings.MaxTokens != nil {
			maxTok = *task.Settings.MaxTokens
		}
	}
	contents := make([]string, 0, len(task.Messages))
	for _, m := range task.Messages {
		contents = append(contents, m.Content)
		for _, tc := range m.Tools {
			var in bytes.Buffer
			if json.Compact(&in, tc.Input) != nil || tc.Input == nil {
				in.Reset()
				in.WriteString("null")
			}
			contents = append(contents, eval.ToolCallText(tc.ID, tc.Name, in.Bytes()))
		}
	}
	return eval.BoundTask(system, contents, maxTok, task.NumberResults)
}

// upperBound is the most a trial can cost (TaskBound.Cost).
func upperBound(task *runware.Task, p eval.Pricing) float64 { return taskBound(task).Cost(p) }

// promptTokens estimates the prompt tokens of a task for the
// tokens-per-minute bucket (TaskBound.PromptEstimate per result).
func promptTokens(task *runware.Task) int {
	b := taskBound(task)
	return b.PromptEstimate * b.Results
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
	// waiting counts the in-flight agent loops waiting in step for room
	// for their next step.
	waiting int
	freed   chan struct{}
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
		if b.inflight-b.waiting == 0 {
			// Nothing in flight, or only agent loops waiting for
			// room themselves (step): nothing will free any.
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

// step moves an agent trial from one step to the next: the step's
// reservation is replaced by what it cost, and next (the next step's upper
// bound) is reserved in its place, the trial staying in flight. Like
// reserve it waits for other trials to settle when next does not fit, and
// reports false when it never can (no other trial in flight); the trial's
// reservation is then ended.
func (b *budget) step(ctx context.Context, reserved, actual, next float64) (bool, error) {
	b.mu.Lock()
	b.reserved -= reserved
	b.spent += actual
	close(b.freed)
	b.freed = make(chan struct{})
	for {
		if b.max <= 0 || b.spent+b.reserved+next <= b.max {
			b.reserved += next
			b.mu.Unlock()
			return true, nil
		}
		if b.inflight-1-b.waiting <= 0 {
			// Only loops waiting like this one are in flight: none
			// of them will free anything.
			b.end()
			return false, nil
		}
		ch := b.freed
		b.waiting++
		b.mu.Unlock()
		var err error
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-ch:
		}
		b.mu.Lock()
		b.waiting--
		if err != nil {
			b.end()
			return false, err
		}
	}
}

// end ends a waiting step's reservation (step; b.mu held, and released).
func (b *budget) end() {
	b.inflight--
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
