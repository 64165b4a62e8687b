package runwaretest

import (
	"maps"
	"net/http"
)

// Stats are the simulator's counters since it started.
type Stats struct {
	// Requests counts HTTP requests of every kind.
	Requests int64 `json:"requests"`
	// Tasks counts accepted textInference tasks (valid, past faults).
	Tasks int64 `json:"tasks"`
	// Results counts generated results (numberResults per task), except
	// async results failed by Faults.AsyncItemError.
	Results int64 `json:"results"`
	// Polls counts getResponse tasks.
	Polls int64 `json:"polls"`
	// DryRuns counts textInference tasks priced by dry-run requests
	// (X-Runware-Dry-Run: 1); they are not counted in Tasks or Results.
	DryRuns int64 `json:"dryRuns"`
	// WebhookDeliveries counts results delivered to a webhookURL (a 2xx
	// answer), WebhookFailures failed delivery attempts (a non-2xx answer or
	// no answer), and WebhookAbandoned results given up after the last
	// attempt.
	WebhookDeliveries int64 `json:"webhookDeliveries"`
	WebhookFailures   int64 `json:"webhookFailures"`
	WebhookAbandoned  int64 `json:"webhookAbandoned"`
	// Faults counts injected faults by kind (Fault* constants).
	Faults map[string]int64 `json:"faults"`
	// Status counts responses by HTTP status (resets have none).
	Status map[int]int64 `json:"status"`
	// Endpoints counts requests by "METHOD /path".
	Endpoints map[string]int64 `json:"endpoints"`
	// ErrorCodes counts error entries sent, by code.
	ErrorCodes map[string]int64 `json:"errorCodes"`
	// Delivery counts accepted tasks by deliveryMethod ("chat" for the
	// OpenAI-compatible endpoint, "webhook" for tasks with a webhookURL).
	Delivery map[string]int64 `json:"delivery"`
	// ThinkingLevels counts accepted tasks by thinkingLevel.
	ThinkingLevels map[string]int64 `json:"thinkingLevels"`
	// PromptTokens, CompletionTokens and ThinkingTokens sum the usage of
	// generated results; Cost sums their cost in USD.
	PromptTokens     int64   `json:"promptTokens"`
	CompletionTokens int64   `json:"completionTokens"`
	ThinkingTokens   int64   `json:"thinkingTokens"`
	Cost             float64 `json:"cost"`
	// InFlight is the number of requests being served now; MaxInFlight the
	// most ever served at once.
	InFlight    int64 `json:"inFlight"`
	MaxInFlight int64 `json:"maxInFlight"`
	// WebSocket counts the WebSocket endpoint (ws.go).
	WebSocket WebSocketStats `json:"webSocket"`
}

func newStats() Stats {
	return Stats{
		Faults: map[string]int64{}, Status: map[int]int64{}, Endpoints: map[string]int64{},
		ErrorCodes: map[string]int64{}, Delivery: map[string]int64{}, ThinkingLevels: map[string]int64{},
	}
}

// Stats returns a snapshot of the handler's counters.
func (h *Handler) Stats() Stats {
	ws := h.WebSocketStats()
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.WebSocket = ws
	s.Faults = maps.Clone(s.Faults)
	s.Status = maps.Clone(s.Status)
	s.Endpoints = maps.Clone(s.Endpoints)
	s.ErrorCodes = maps.Clone(s.ErrorCodes)
	s.Delivery = maps.Clone(s.Delivery)
	s.ThinkingLevels = maps.Clone(s.ThinkingLevels)
	return s
}

func (h *Handler) countFault(kind string) {
	h.mu.Lock()
	h.stats.Faults[kind]++
	h.mu.Unlock()
}

func (h *Handler) countErrors(errs []apiError) {
	h.mu.Lock()
	for _, e := range errs {
		h.stats.ErrorCodes[e.Code]++
	}
	h.mu.Unlock()
}

// countTask records an accepted task.
func (h *Handler) countTask(delivery, thinking string) {
	h.mu.Lock()
	h.stats.Tasks++
	h.stats.Delivery[delivery]++
	h.stats.ThinkingLevels[thinking]++
	h.mu.Unlock()
}

// countResult records a generated result.
func (h *Handler) countResult(g *generation) {
	h.mu.Lock()
	h.stats.Results++
	h.stats.PromptTokens += int64(g.PromptTokens)
	h.stats.CompletionTokens += int64(g.CompletionTokens())
	h.stats.ThinkingTokens += int64(g.ThinkingTokens)
	h.stats.Cost += g.Cost
	h.mu.Unlock()
}

func (h *Handler) serveStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.Stats())
}
