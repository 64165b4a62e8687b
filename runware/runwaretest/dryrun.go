package runwaretest

import (
	"net/http"
	"strings"

	"github.com/promptgrid/promptgrid/runware"
)

// DryRunHeader is the request header that asks for a dry run: validate the
// request and price it without executing it.
const DryRunHeader = "X-Runware-Dry-Run"

// dryRun reports whether r asks for a dry run: the header is "1" or "true".
func dryRun(r *http.Request) bool {
	v := strings.TrimSpace(r.Header.Get(DryRunHeader))
	return v == "1" || strings.EqualFold(v, "true")
}

// dryRunItem is the answer for one task of a dry run.
type dryRunItem struct {
	TaskType string  `json:"taskType"`
	TaskUUID string  `json:"taskUUID"`
	Cost     float64 `json:"cost"`
	DryRun   bool    `json:"dryRun"`
}

// costBound is the most a task can cost: numberResults results, each with
// its prompt tokens (with the outputs of the built-in tools the matching
// scenario may run) and maxTokens completion tokens (the model's maximum
// output when maxTokens is not set) at the dearer of the output and
// thinking prices. The simulator's own generations never exceed it when
// maxTokens is set, because maxTokens bounds thinking and visible tokens
// together.
func (h *Handler) costBound(t *textTask) float64 {
	m := t.MaxTokens
	if m == 0 {
		m = maxOutputTokens
	}
	p := h.pricing
	prompt := t.promptTokens() + builtinsRun(t, h.match(t)).promptTokens()
	one := float64(prompt)*p.Input + float64(m)*max(p.Output, p.Thinking)
	return float64(t.NumberResults) * one / 1e6
}

// serveDryRun answers a validated dry-run request: one priced item per valid
// textInference task in data, the errors of the others in errors, with the
// status rules of serveBatch. Nothing is generated, registered or counted as
// a task; fault injection does not apply.
func (h *Handler) serveDryRun(w http.ResponseWriter, req *request) {
	var data []dryRunItem
	for _, t := range req.dry {
		data = append(data, dryRunItem{TaskType: runware.TaskTextInference, TaskUUID: t.UUID, Cost: h.costBound(t), DryRun: true})
	}
	h.mu.Lock()
	h.stats.DryRuns += int64(len(data))
	h.mu.Unlock()
	if len(data) == 0 {
		status := http.StatusBadRequest
		if len(req.errs) > 0 && req.errs[0].status != 0 {
			status = req.errs[0].status
		}
		h.fail(w, status, req.errs)
		return
	}
	body := map[string]any{"data": data}
	if len(req.errs) > 0 {
		h.countErrors(req.errs)
		body["errors"] = req.errs
	}
	writeJSON(w, http.StatusOK, body)
}
