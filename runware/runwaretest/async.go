package runwaretest

import (
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// asyncTask is an accepted async (or webhook) task: its results, generated
// at submission, which of them fail (Faults.AsyncItemError), and when each
// completes.
type asyncTask struct {
	task    *textTask
	gens    []*generation
	failed  []bool
	start   time.Time
	readyAt []time.Time
}

func (a *asyncTask) done(now time.Time) bool {
	for _, t := range a.readyAt {
		if now.Before(t) {
			return false
		}
	}
	return true
}

// itemErrorCode and itemErrorMessage are those of a result failed by
// Faults.AsyncItemError: the example failure of reference §7.2.
const (
	itemErrorCode    = "timeoutProvider"
	itemErrorMessage = "The provider timed out."
)

// processingItem is a result that is not complete yet.
type processingItem struct {
	TaskType string `json:"taskType"`
	TaskUUID string `json:"taskUUID"`
	Status   string `json:"status"`
	Progress *int   `json:"progress,omitempty"`
}

// errorItem is a failed result, its error embedded.
type errorItem struct {
	TaskType string    `json:"taskType"`
	TaskUUID string    `json:"taskUUID"`
	Status   string    `json:"status"`
	Error    itemError `json:"error"`
}

type itemError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// submitAsync generates the results of an accepted async or webhook task,
// registers it for getResponse and starts its webhook deliveries. A result
// failed by AsyncItemError is generated (for its completion time) but not
// counted in Stats.Results, tokens or cost: a failed result is not billed.
func (h *Handler) submitAsync(t *textTask, now time.Time) {
	delivery := t.Delivery
	if t.Webhook != "" {
		delivery = "webhook"
	}
	h.countTask(delivery, t.Thinking)
	a := &asyncTask{task: t, start: now}
	for i := range t.NumberResults {
		g := h.generate(t, i)
		fail := h.inj.itemFails()
		if !fail {
			h.countResult(g)
		}
		a.gens = append(a.gens, g)
		a.failed = append(a.failed, fail)
		a.readyAt = append(a.readyAt, now.Add(h.scaled(g.duration())))
	}
	h.mu.Lock()
	h.async[t.UUID] = a
	h.mu.Unlock()
	if t.Webhook != "" {
		h.startWebhooks(a)
	}
}

// asyncItem is the state of result i of a at time now, as getResponse and
// webhooks report it: processing (with progress when Options.Progress),
// error, or the full result with status success.
func (h *Handler) asyncItem(a *asyncTask, i int, now time.Time) any {
	if now.Before(a.readyAt[i]) {
		it := processingItem{TaskType: runware.TaskTextInference, TaskUUID: a.task.UUID, Status: "processing"}
		if h.opts.Progress {
			p := progress(a.start, a.readyAt[i], now)
			it.Progress = &p
		}
		return it
	}
	if a.failed[i] {
		return errorItem{TaskType: runware.TaskTextInference, TaskUUID: a.task.UUID, Status: "error",
			Error: itemError{Code: itemErrorCode, Message: itemErrorMessage}}
	}
	return h.result(a.task, a.gens[i], "success")
}

// progress is the percentage of [start, end) elapsed at now, in 0..99.
func progress(start, end, now time.Time) int {
	total := end.Sub(start)
	if total <= 0 {
		return 0
	}
	p := int(100 * now.Sub(start) / total)
	return min(max(p, 0), 99)
}
