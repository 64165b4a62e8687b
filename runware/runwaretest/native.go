package runwaretest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// maxBody bounds request bodies (simulator choice).
const maxBody = 16 << 20

// usageJSON is the native usage object; thinkingTokens is always sent.
type usageJSON struct {
	PromptTokens     int `json:"promptTokens"`
	CompletionTokens int `json:"completionTokens"`
	TotalTokens      int `json:"totalTokens"`
	ThinkingTokens   int `json:"thinkingTokens"`
}

type toolCallJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// resultJSON is one native textInference result.
type resultJSON struct {
	TaskType         string         `json:"taskType"`
	TaskUUID         string         `json:"taskUUID"`
	Status           string         `json:"status,omitempty"`
	Text             string         `json:"text"`
	ReasoningContent string         `json:"reasoningContent,omitempty"`
	FinishReason     string         `json:"finishReason"`
	ToolCalls        []toolCallJSON `json:"toolCalls,omitempty"`
	Usage            *usageJSON     `json:"usage,omitempty"`
	Cost             *float64       `json:"cost,omitempty"`
	ResultIndex      *int           `json:"resultIndex,omitempty"`
	Seed             *uint64        `json:"seed,omitempty"`
}

func (g *generation) usage() *usageJSON {
	return &usageJSON{
		PromptTokens:     g.PromptTokens,
		CompletionTokens: g.CompletionTokens(),
		TotalTokens:      g.PromptTokens + g.CompletionTokens(),
		ThinkingTokens:   g.ThinkingTokens,
	}
}

func (h *Handler) result(t *textTask, g *generation, status string) resultJSON {
	r := resultJSON{
		TaskType: runware.TaskTextInference, TaskUUID: t.UUID, Status: status,
		Text: g.Text, FinishReason: g.FinishReason,
	}
	for _, tc := range g.ToolCalls {
		r.ToolCalls = append(r.ToolCalls, toolCallJSON(tc))
	}
	if t.IncludeUsage || h.opts.AlwaysUsage {
		r.Usage = g.usage()
	}
	if t.IncludeCost {
		c := g.Cost
		r.Cost = &c
	}
	if h.opts.ResultExtras {
		i, s := g.Index, g.Seed
		r.ResultIndex, r.Seed = &i, &s
		r.ReasoningContent = g.Reasoning
	}
	return r
}

// request is one parsed native request.
type request struct {
	sync, async, stream []*textTask
	dry                 []*textTask // valid tasks of a dry-run request
	polls               []string    // taskUUIDs of getResponse tasks
	errs                []apiError
	uuids               []taskRef // every task's type and UUID, for fault errors
}

type taskRef struct{ typ, uuid string }

func (h *Handler) serveNative(w http.ResponseWriter, r *http.Request) {
	if !h.contentTypeOK(r) {
		h.fail(w, http.StatusUnsupportedMediaType, []apiError{unsupportedContentType})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var elems []json.RawMessage
	if err != nil || json.Unmarshal(body, &elems) != nil || len(elems) == 0 {
		h.fail(w, http.StatusBadRequest, []apiError{{Code: "invalidRequest",
			Message: "The request body must be a non-empty JSON array of task objects."}})
		return
	}
	objs := make([]map[string]json.RawMessage, len(elems))
	for i, e := range elems {
		json.Unmarshal(e, &objs[i]) // a non-object stays nil and is reported below
	}

	// Authentication: an authentication task first, else the bearer header.
	key, start := bearer(r), 0
	var authErrs []apiError
	if typ, _ := asString(objs[0]["taskType"]); typ == runware.TaskAuthentication {
		start = 1
		key, _ = asString(objs[0]["apiKey"])
		for k := range objs[0] {
			if k != "taskType" && k != "apiKey" && k != "connectionSessionUUID" {
				authErrs = append(authErrs, apiError{Code: "unsupportedParameter", Parameter: k,
					Message: fmt.Sprintf("Unsupported parameter %q for authentication.", k), TaskType: runware.TaskAuthentication})
			}
		}
	}
	if !h.keyOK(key) {
		h.fail(w, http.StatusUnauthorized, []apiError{invalidAPIKey})
		return
	}
	if len(authErrs) > 0 {
		h.fail(w, http.StatusBadRequest, authErrs)
		return
	}

	if dryRun(r) {
		h.serveDryRun(w, h.parseRequest(objs[start:], true))
		return
	}
	req := h.parseRequest(objs[start:], false)
	// Free the taskUUIDs however the request ends: a fault answers before
	// serveBatch or serveStream would (a retry may reuse the UUIDs).
	defer h.release(slices.Concat(req.sync, req.stream))
	p := h.inj.decide()
	if h.applyStatusFault(w, p, req.uuids) || h.applyHostile(w, r, p) {
		return
	}
	if p.slow > 0 {
		h.countFault(FaultSlowFirstByte)
		if h.sleep(r.Context(), p.slow) != nil {
			return
		}
	}

	if len(req.stream) == 1 && len(req.errs) == 0 {
		h.serveStream(w, r, req.stream[0], p)
		return
	}
	h.serveBatch(w, r, req, p)
}

// fail writes an errors[] response and counts its codes.
func (h *Handler) fail(w http.ResponseWriter, status int, errs []apiError) {
	h.countErrors(errs)
	writeErrors(w, status, errs)
}

// applyStatusFault answers the request when fault injection says so.
func (h *Handler) applyStatusFault(w http.ResponseWriter, p plan, refs []taskRef) bool {
	if p.reset {
		reset(w)
		return true
	}
	if p.fail == nil {
		return false
	}
	var errs []apiError
	for _, ref := range refs {
		errs = append(errs, apiError{Code: p.fail.code, Message: p.fail.message, TaskType: ref.typ, TaskUUID: ref.uuid})
	}
	if len(errs) == 0 {
		errs = []apiError{{Code: p.fail.code, Message: p.fail.message}}
	}
	if p.fail.retry > 0 {
		w.Header().Set("Retry-After", retryAfterHeader(p.fail.retry))
	}
	h.fail(w, p.fail.status, errs)
	return true
}

// parseRequest validates the tasks of a request (after any authentication
// task) and registers the valid text tasks as in flight. For a dry run it
// only validates: the valid text tasks go to req.dry, nothing is registered,
// and getResponse tasks are errors.
func (h *Handler) parseRequest(objs []map[string]json.RawMessage, dry bool) *request {
	req := &request{}
	seen := map[string]bool{}
	var texts []*textTask
	for i, obj := range objs {
		if obj == nil {
			req.errs = append(req.errs, apiError{Code: "invalidRequest", Parameter: fmt.Sprintf("[%d]", i),
				Message: "Each element of the request array must be a task object.", status: 400})
			continue
		}
		typ, _ := asString(obj["taskType"])
		uuid, _ := asString(obj["taskUUID"])
		req.uuids = append(req.uuids, taskRef{typ, uuid})
		switch typ {
		case runware.TaskTextInference:
			t, errs := parseTextTask(obj)
			if len(errs) == 0 && seen[t.UUID] {
				errs = append(errs, apiError{Code: "conflictTaskUUID", Parameter: "taskUUID", TaskType: typ, TaskUUID: t.UUID,
					Message: "The taskUUID is used by another task in the same request.", status: 400})
			}
			seen[t.UUID] = true
			if len(errs) > 0 {
				req.errs = append(req.errs, errs...)
				continue
			}
			texts = append(texts, t)
		case runware.TaskGetResponse:
			if e := pollErrors(obj); e != nil {
				req.errs = append(req.errs, *e)
				continue
			}
			req.polls = append(req.polls, uuid)
		case "":
			req.errs = append(req.errs, apiError{Code: "missingTaskType", Parameter: "taskType", TaskUUID: uuid,
				Message: "Missing taskType parameter.", status: 400})
		case runware.TaskAuthentication:
			req.errs = append(req.errs, apiError{Code: "unsupportedTaskType", Parameter: "taskType", TaskType: typ,
				Message: "The authentication task must be the first element of the request array.", status: 400})
		default:
			req.errs = append(req.errs, apiError{Code: "unsupportedTaskType", Parameter: "taskType", TaskType: typ, TaskUUID: uuid,
				Message: fmt.Sprintf("Task type %q is not supported by the simulator.", typ), status: 400})
		}
	}

	if dry {
		for _, uuid := range req.polls {
			req.errs = append(req.errs, apiError{Code: "unsupportedTaskType", Parameter: "taskType", TaskType: runware.TaskGetResponse,
				TaskUUID: uuid, Message: "getResponse cannot be dry-run.", status: 400})
		}
		req.polls, req.dry = nil, texts
		return req
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	for _, t := range texts {
		if t.Delivery == runware.DeliveryStream && len(objs) > 1 {
			req.errs = append(req.errs, apiError{Code: "invalidDeliveryMethod", Parameter: "deliveryMethod",
				TaskType: runware.TaskTextInference, TaskUUID: t.UUID, status: 400,
				Message: "deliveryMethod stream requires a request with a single task."})
			continue
		}
		if a := h.async[t.UUID]; h.inflight[t.UUID] || (a != nil && !a.done(now)) {
			req.errs = append(req.errs, apiError{Code: "conflictTaskUUID", Parameter: "taskUUID",
				TaskType: runware.TaskTextInference, TaskUUID: t.UUID, status: 400,
				Message: "A task with this taskUUID is already in progress."})
			continue
		}
		if !t.SeedGiven {
			t.Seed = uint64(h.seeds.Uint32())
		}
		switch {
		case t.Delivery == runware.DeliveryAsync || t.Webhook != "":
			req.async = append(req.async, t)
		case t.Delivery == runware.DeliveryStream:
			req.stream = append(req.stream, t)
			h.inflight[t.UUID] = true
		default:
			req.sync = append(req.sync, t)
			h.inflight[t.UUID] = true
		}
	}
	return req
}

func pollErrors(obj map[string]json.RawMessage) *apiError {
	for k := range obj {
		if k != "taskType" && k != "taskUUID" {
			return &apiError{Code: "unsupportedParameter", Parameter: k, TaskType: runware.TaskGetResponse,
				Message: fmt.Sprintf("Unsupported parameter %q for getResponse.", k), status: 400}
		}
	}
	raw, ok := obj["taskUUID"]
	if !ok || isNull(raw) {
		return &apiError{Code: "missingTaskUUID", Parameter: "taskUUID", TaskType: runware.TaskGetResponse,
			Message: "Missing taskUUID parameter.", status: 400}
	}
	if s, ok := asString(raw); !ok || !uuidRe.MatchString(s) {
		return &apiError{Code: "invalidTaskUUID", Parameter: "taskUUID", TaskType: runware.TaskGetResponse, TaskUUID: s,
			Message: "Invalid value for taskUUID parameter. It must be a UUID v4 string.", status: 400}
	}
	return nil
}

func (h *Handler) release(tasks []*textTask) {
	h.mu.Lock()
	for _, t := range tasks {
		delete(h.inflight, t.UUID)
	}
	h.mu.Unlock()
}

// serveBatch answers sync, async and getResponse tasks with one JSON body.
// Valid tasks go to data and invalid ones to errors; the status is 200 when
// data is not empty, else the first error's status (simulator choice).
func (h *Handler) serveBatch(w http.ResponseWriter, r *http.Request, req *request, p plan) {
	defer h.release(req.sync)
	var data []any

	// Sync: generate, wait for the slowest result, answer.
	var wait time.Duration
	type done struct {
		t    *textTask
		gens []*generation
	}
	var syncDone []done
	for _, t := range req.sync {
		h.countTask(t.Delivery, t.Thinking)
		d := done{t: t}
		for i := range t.NumberResults {
			g := h.generate(t, i)
			h.countResult(g)
			d.gens = append(d.gens, g)
			wait = max(wait, h.scaled(g.duration()))
		}
		syncDone = append(syncDone, d)
	}

	// Async and webhook: generate now, complete later; acknowledge one item
	// per task.
	now := h.now()
	for _, t := range req.async {
		h.submitAsync(t, now)
		data = append(data, map[string]string{"taskType": runware.TaskTextInference, "taskUUID": t.UUID})
	}

	if len(req.sync) > 0 {
		if h.sleep(r.Context(), wait) != nil {
			return
		}
	}
	for _, d := range syncDone {
		for _, g := range d.gens {
			data = append(data, h.result(d.t, g, ""))
		}
	}

	// getResponse: cumulative state of every result of the task.
	errs := req.errs
	for _, uuid := range req.polls {
		h.mu.Lock()
		h.stats.Polls++
		a := h.async[uuid]
		h.mu.Unlock()
		if a == nil {
			errs = append(errs, apiError{Code: "taskNotFound", Parameter: "taskUUID", TaskType: runware.TaskGetResponse,
				TaskUUID: uuid, Message: "No async task with this taskUUID.", status: 400})
			continue
		}
		now := h.now()
		for i := range a.gens {
			data = append(data, h.asyncItem(a, i, now))
		}
	}

	if h.opts.ShuffleResults && len(data) > 1 {
		h.mu.Lock()
		h.reqs++
		n := h.reqs
		h.mu.Unlock()
		rng := rand.New(rand.NewPCG(uint64(h.opts.Seed), n))
		rng.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	}

	if len(data) == 0 {
		status := http.StatusBadRequest
		if len(errs) > 0 && errs[0].status != 0 {
			status = errs[0].status
		}
		h.fail(w, status, errs)
		return
	}
	body := map[string]any{"data": data}
	if len(errs) > 0 {
		h.countErrors(errs)
		body["errors"] = errs
	}
	h.writeSuccess(w, body, p.malformed)
}
