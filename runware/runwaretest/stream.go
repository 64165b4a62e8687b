package runwaretest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// piece is one streamed delta of a generation.
type piece struct {
	kind  string // "reasoning", "text" or "tool"
	text  string
	tool  *genToolCall
	call  int           // the tool call's index in the result
	delay time.Duration // unscaled wait before the piece is sent
}

// reasoningChunk is the size of a reasoning delta in characters (4 tokens).
const reasoningChunk = 16

// pieces splits a generation into deltas: reasoning in 4-token chunks, then
// the text word by word (each word with the spaces after it), or one delta
// per tool call. The first delta waits TTFT; each delta then waits its tokens
// times the per-token time.
func (g *generation) pieces() []piece {
	var ps []piece
	rs := []rune(g.Reasoning)
	for i := 0; i < len(rs); i += reasoningChunk {
		ps = append(ps, piece{kind: "reasoning", text: string(rs[i:min(i+reasoningChunk, len(rs))])})
	}
	if len(g.ToolCalls) > 0 {
		for i := range g.ToolCalls {
			tc := g.ToolCalls[i]
			ps = append(ps, piece{kind: "tool", tool: &tc, call: i, text: tc.Name + string(tc.Arguments)})
		}
	} else if g.Text != "" {
		for _, w := range strings.SplitAfter(g.Text, " ") {
			if w != "" {
				ps = append(ps, piece{kind: "text", text: w})
			}
		}
	}
	for i := range ps {
		ps[i].delay = time.Duration(CountTokens(ps[i].text)) * g.TokenTime
	}
	if len(ps) > 0 {
		ps[0].delay += g.TTFT
	}
	return ps
}

// sseWriter writes server-sent events and flushes each one.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) *sseWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w)}
	s.rc.Flush()
	return s
}

func (s *sseWriter) data(payload []byte) error {
	if _, err := s.w.Write([]byte("data: ")); err != nil {
		return err
	}
	s.w.Write(payload)
	if _, err := s.w.Write([]byte("\n\n")); err != nil {
		return err
	}
	return s.rc.Flush()
}

// ping writes the keep-alive comment ": ping" as an event of its own.
func (s *sseWriter) ping() error {
	if _, err := s.w.Write([]byte(": ping\n\n")); err != nil {
		return err
	}
	return s.rc.Flush()
}

// streamPlan is the ordered list of events of a stream and their delays;
// the last event is the final chunk. It is delivered by (*Handler).deliver,
// which applies the stream faults.
type streamEvent struct {
	payload []byte
	delay   time.Duration // scaled
}

// deliver sends events, then "data: [DONE]". Truncate stops after K events
// (at most all but the final one) and MidStreamError replaces event K+1 with
// errEvent; Malformed replaces the first event with a cut-off one. All three
// close the stream without [DONE], except that MidStreamErrorDone sends
// [DONE] after the error event. With Options.Ping a ": ping" comment follows
// the headers and every Ping-th data event.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, p plan, events []streamEvent, errEvent []byte) {
	sse := startSSE(w)
	if len(p.hugeEvent) > 0 {
		h.deliverHuge(sse, r, p.hugeEvent)
		return
	}
	if h.opts.Ping > 0 && sse.ping() != nil {
		return
	}
	last := len(events) - 1
	for k, ev := range events {
		if h.opts.Ping > 0 && k > 0 && k%h.opts.Ping == 0 && sse.ping() != nil {
			return
		}
		if h.sleep(r.Context(), ev.delay) != nil {
			return
		}
		switch {
		case p.malformed:
			h.countFault(FaultMalformed)
			sse.data(ev.payload[:len(ev.payload)/2])
			return
		case p.errorAt > 0 && k == min(p.errorAt-1, last):
			h.countFault(FaultMidStreamError)
			if sse.data(errEvent) == nil && h.opts.Faults.MidStreamErrorDone {
				sse.data([]byte("[DONE]"))
			}
			return
		case p.truncateAt > 0 && k == min(p.truncateAt-1, last):
			h.countFault(FaultTruncate)
			return
		}
		if sse.data(ev.payload) != nil {
			return
		}
	}
	sse.data([]byte("[DONE]"))
}

// nativeChunk is one native stream event.
type nativeChunk struct {
	TaskUUID     string         `json:"taskUUID"`
	TaskType     string         `json:"taskType"`
	Delta        map[string]any `json:"delta"`
	FinishReason *string        `json:"finishReason"`
	Usage        *usageJSON     `json:"usage,omitempty"`
	Cost         *float64       `json:"cost,omitempty"`
}

// serveStream answers a single stream task with SSE: reasoning deltas
// ({"delta":{"reasoningContent":...}}), text deltas ({"delta":{"text":...}})
// or tool-call deltas ({"delta":{"toolCalls":[...]}}, simulator choice), then
// the final chunk with finishReason, usage and cost per the include flags,
// then [DONE].
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request, t *textTask, p plan) {
	defer h.release([]*textTask{t})
	h.countTask(t.Delivery, t.Thinking)
	g := h.generate(t, 0)
	h.countResult(g)

	var events []streamEvent
	var wait time.Duration
	for _, pc := range g.pieces() {
		delta := map[string]any{}
		switch pc.kind {
		case "reasoning":
			delta["reasoningContent"] = pc.text
		case "text":
			delta["text"] = pc.text
		case "tool":
			delta["toolCalls"] = []toolCallJSON{toolCallJSON(*pc.tool)}
		}
		b, _ := json.Marshal(nativeChunk{TaskUUID: t.UUID, TaskType: runware.TaskTextInference, Delta: delta})
		events = append(events, streamEvent{payload: b, delay: h.scaled(pc.delay)})
	}
	if len(events) == 0 {
		wait = h.scaled(g.TTFT)
	}
	final := nativeChunk{TaskUUID: t.UUID, TaskType: runware.TaskTextInference, Delta: map[string]any{}, FinishReason: &g.FinishReason}
	if t.IncludeUsage || h.opts.AlwaysUsage {
		final.Usage = g.usage()
	}
	if t.IncludeCost {
		c := g.Cost
		final.Cost = &c
	}
	b, _ := json.Marshal(final)
	events = append(events, streamEvent{payload: b, delay: wait})

	errEvent, _ := json.Marshal(map[string]any{"errors": []apiError{{Code: "timeoutProvider",
		Message: "The provider timed out.", TaskType: runware.TaskTextInference, TaskUUID: t.UUID}}})
	if p.huge > 0 {
		p.hugeEvent, _ = json.Marshal(nativeChunk{TaskUUID: t.UUID, TaskType: runware.TaskTextInference,
			Delta: map[string]any{"text": hugeText(p.huge)}})
	}
	h.deliver(w, r, p, events, errEvent)
}
