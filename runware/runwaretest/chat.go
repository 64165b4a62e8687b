package runwaretest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// chatRequest is the subset of an OpenAI chat completions request the
// simulator understands; other fields are ignored, as OpenAI-compatible
// servers commonly do.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stop                json.RawMessage `json:"stop"`
	Seed                *int64          `json:"seed"`
	N                   *int            `json:"n"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools           []chatTool      `json:"tools"`
	ToolChoice      json.RawMessage `json:"tool_choice"`
	ReasoningEffort string          `json:"reasoning_effort"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	ToolCalls  []chatToolCall  `json:"tool_calls,omitempty"`
}

type chatTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// chatError is an OpenAI-style error.
type chatError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   string `json:"param,omitempty"`
	Code    string `json:"code,omitempty"`
}

func (h *Handler) chatFail(w http.ResponseWriter, status int, e chatError) {
	h.countErrors([]apiError{{Code: e.Code}})
	writeJSON(w, status, map[string]chatError{"error": e})
}

// contentText flattens a message content: a string, null, or an array of
// parts whose text parts are joined.
func contentText(raw json.RawMessage) (string, bool) {
	if isNull(raw) {
		return "", true
	}
	if s, ok := asString(raw); ok {
		return s, true
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), true
}

var effortLevels = map[string]string{"none": "none", "minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh"}

// chatTask converts a chat request into a text task, or describes why not.
func chatTask(req *chatRequest) (*textTask, *chatError) {
	bad := func(param, code, msg string) (*textTask, *chatError) {
		return nil, &chatError{Message: msg, Type: "invalid_request_error", Param: param, Code: code}
	}
	t := &textTask{Model: req.Model, Delivery: "chat", NumberResults: 1, Thinking: "none"}
	if req.Model == "" {
		return bad("model", "missingModel", "Missing model parameter.")
	}
	if !slices.Contains(knownModels, req.Model) {
		return bad("model", "modelNotFound", fmt.Sprintf("Model %q not found.", req.Model))
	}
	if len(req.Messages) == 0 {
		return bad("messages", "missingMessages", "messages must be a non-empty array.")
	}
	var system []string
	var turnErr *chatError
	turns := newToolTurns("tool_call_id", "tool_calls", func(code, param, msg string) {
		if turnErr == nil {
			turnErr = &chatError{Message: msg, Type: "invalid_request_error", Param: param, Code: code}
		}
	})
	for i, m := range req.Messages {
		text, ok := contentText(m.Content)
		if !ok {
			return bad(fmt.Sprintf("messages[%d].content", i), "invalidMessages", "content must be a string or an array of content parts.")
		}
		switch m.Role {
		case "system", "developer":
			system = append(system, text)
		case "user", "assistant", "tool":
			msg, cerr := chatMessageFor(i, m, text) // tools_multiturn.go
			if cerr != nil {
				return nil, cerr
			}
			turns.step(fmt.Sprintf("messages[%d]", i), msg)
			t.Messages = append(t.Messages, msg)
		default:
			return bad(fmt.Sprintf("messages[%d].role", i), "invalidMessages", fmt.Sprintf("Unknown role %q.", m.Role))
		}
	}
	if turns.end(); turnErr != nil {
		return nil, turnErr
	}
	t.SystemPrompt = strings.Join(system, "\n")
	var sampling strings.Builder
	for _, f := range []struct {
		name   string
		v      *float64
		lo, hi float64
	}{{"temperature", req.Temperature, 0, 2}, {"top_p", req.TopP, 0, 1},
		{"frequency_penalty", req.FrequencyPenalty, -2, 2}, {"presence_penalty", req.PresencePenalty, -2, 2}} {
		if f.v == nil {
			continue
		}
		if *f.v < f.lo || *f.v > f.hi {
			return bad(f.name, "invalid_value", fmt.Sprintf("%s must be between %g and %g.", f.name, f.lo, f.hi))
		}
		fmt.Fprintf(&sampling, "%s=%g;", f.name, *f.v)
	}
	t.sampling = sampling.String()
	for _, mt := range []*int{req.MaxTokens, req.MaxCompletionTokens} {
		if mt != nil {
			if *mt < 1 {
				return bad("max_completion_tokens", "invalid_value", "max tokens must be at least 1.")
			}
			t.MaxTokens = *mt
		}
	}
	if !isNull(req.Stop) {
		if s, ok := asString(req.Stop); ok && s != "" {
			t.Stop = []string{s}
		} else if json.Unmarshal(req.Stop, &t.Stop) != nil || slices.Contains(t.Stop, "") {
			return bad("stop", "invalid_value", "stop must be a string or an array of strings.")
		}
	}
	if req.Seed != nil {
		if *req.Seed < 0 {
			return bad("seed", "invalid_value", "seed must be non-negative.")
		}
		t.Seed, t.SeedGiven = uint64(*req.Seed), true
	}
	if req.N != nil {
		if *req.N < 1 || *req.N > 4 {
			return bad("n", "invalid_value", "n must be between 1 and 4.")
		}
		if *req.N > 1 && req.Stream {
			return bad("n", "invalid_value", "n greater than 1 is not supported with stream.")
		}
		t.NumberResults = *req.N
	}
	if req.ReasoningEffort != "" {
		lv, ok := effortLevels[req.ReasoningEffort]
		if !ok {
			return bad("reasoning_effort", "invalid_value", "reasoning_effort must be one of none, minimal, low, medium, high, xhigh.")
		}
		t.Thinking = lv
	}
	for i, tl := range req.Tools {
		if tl.Type != "function" || !toolNameRe.MatchString(tl.Function.Name) {
			return bad(fmt.Sprintf("tools[%d]", i), "invalid_value", "tools must be function tools with names of 1 to 64 characters of [A-Za-z0-9_-].")
		}
		t.Tools = append(t.Tools, runware.Tool{Type: "function", Name: tl.Function.Name, Description: tl.Function.Description, Schema: tl.Function.Parameters})
	}
	if !isNull(req.ToolChoice) {
		var obj struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if s, ok := asString(req.ToolChoice); ok {
			m := map[string]string{"auto": "auto", "none": "none", "required": "any"}
			if m[s] == "" {
				return bad("tool_choice", "invalid_value", "tool_choice must be auto, none, required or a function.")
			}
			t.ToolChoice = &runware.ToolChoice{Type: m[s]}
		} else if json.Unmarshal(req.ToolChoice, &obj) == nil && obj.Function.Name != "" {
			t.ToolChoice = &runware.ToolChoice{Type: "tool", Name: obj.Function.Name}
		} else {
			return bad("tool_choice", "invalid_value", "tool_choice must be auto, none, required or a function.")
		}
	}
	return t, nil
}

type chatToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// toChatToolCalls converts calls to the chat shape; first >= 0 numbers
// them from first on (stream deltas), -1 leaves the index out.
func toChatToolCalls(tcs []genToolCall, first int) []chatToolCall {
	var out []chatToolCall
	for i, tc := range tcs {
		c := chatToolCall{ID: tc.ID, Type: "function"}
		c.Function.Name, c.Function.Arguments = tc.Name, string(tc.Arguments)
		if first >= 0 {
			c.Index = new(first + i)
		}
		out = append(out, c)
	}
	return out
}

func chatUsage(gens ...*generation) map[string]any {
	var p, c, th int
	for i, g := range gens {
		if i == 0 {
			p = g.PromptTokens
		}
		c += g.CompletionTokens()
		th += g.ThinkingTokens
	}
	return map[string]any{"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c,
		"completion_tokens_details": map[string]int{"reasoning_tokens": th}}
}

func (h *Handler) serveChat(w http.ResponseWriter, r *http.Request) {
	if !h.contentTypeOK(r) {
		h.chatFail(w, http.StatusUnsupportedMediaType, chatError{Message: unsupportedContentType.Message,
			Type: "invalid_request_error", Code: unsupportedContentType.Code})
		return
	}
	if !h.keyOK(bearer(r)) {
		h.chatFail(w, http.StatusUnauthorized, chatError{Message: invalidAPIKey.Message, Type: "authentication_error", Code: "invalidApiKey"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var req chatRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		h.chatFail(w, http.StatusBadRequest, chatError{Message: "The request body must be a JSON object.", Type: "invalid_request_error", Code: "invalidRequest"})
		return
	}
	p := h.inj.decide()
	if p.reset {
		reset(w)
		return
	}
	if h.applyHostile(w, r, p) {
		return
	}
	if p.fail != nil {
		if p.fail.retry > 0 {
			w.Header().Set("Retry-After", retryAfterHeader(p.fail.retry))
		}
		typ := "server_error"
		if p.fail.status < 500 {
			typ = "invalid_request_error"
		}
		h.chatFail(w, p.fail.status, chatError{Message: p.fail.message, Type: typ, Code: p.fail.code})
		return
	}
	t, cerr := chatTask(&req)
	if cerr != nil {
		h.chatFail(w, http.StatusBadRequest, *cerr)
		return
	}
	if p.slow > 0 {
		h.countFault(FaultSlowFirstByte)
		if h.sleep(r.Context(), p.slow) != nil {
			return
		}
	}
	h.mu.Lock()
	if !t.SeedGiven {
		t.Seed = uint64(h.seeds.Uint32())
	}
	h.mu.Unlock()
	h.countTask("chat", t.Thinking)

	var gens []*generation
	var wait time.Duration
	for i := range t.NumberResults {
		g := h.generate(t, i)
		h.countResult(g)
		gens = append(gens, g)
		wait = max(wait, h.scaled(g.duration()))
	}
	id := fmt.Sprintf("chatcmpl-%016x", newHasher().u64(t.fullHash()).u64(t.Seed).sum())
	created := h.now().Unix()
	if req.Stream {
		h.streamChat(w, r, p, gens[0], id, created, req.Model, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	if h.sleep(r.Context(), wait) != nil {
		return
	}
	var choices []map[string]any
	for i, g := range gens {
		msg := map[string]any{"role": "assistant", "content": g.Text}
		if len(g.ToolCalls) > 0 {
			msg["content"] = nil
			msg["tool_calls"] = toChatToolCalls(g.ToolCalls, -1)
		}
		if g.Reasoning != "" {
			msg["reasoning_content"] = g.Reasoning
		}
		choices = append(choices, map[string]any{"index": i, "message": msg, "finish_reason": g.FinishReason})
	}
	out := map[string]any{"id": id, "object": "chat.completion", "created": created, "model": req.Model,
		"choices": choices, "usage": chatUsage(gens...)}
	h.writeSuccess(w, out, p.malformed)
}

// streamChat sends chat.completion.chunk events: a role delta, reasoning
// deltas (reasoning_content), content or tool-call deltas, a final chunk
// with finish_reason, a usage chunk with empty choices when
// stream_options.include_usage is set, then [DONE].
func (h *Handler) streamChat(w http.ResponseWriter, r *http.Request, p plan, g *generation, id string, created int64, model string, includeUsage bool) {
	mk := func(delta map[string]any, finish *string) []byte {
		b, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish}}})
		return b
	}
	events := []streamEvent{{payload: mk(map[string]any{"role": "assistant", "content": ""}, nil)}}
	for _, pc := range g.pieces() {
		delta := map[string]any{}
		switch pc.kind {
		case "reasoning":
			delta["reasoning_content"] = pc.text
		case "text":
			delta["content"] = pc.text
		case "tool":
			// Indexed by the call's position, so that a client keeps
			// parallel calls apart.
			delta["tool_calls"] = toChatToolCalls([]genToolCall{*pc.tool}, pc.call)
		}
		events = append(events, streamEvent{payload: mk(delta, nil), delay: h.scaled(pc.delay)})
	}
	final := streamEvent{payload: mk(map[string]any{}, &g.FinishReason)}
	if len(events) == 1 {
		final.delay = h.scaled(g.TTFT)
	}
	events = append(events, final)
	if includeUsage {
		b, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []any{}, "usage": chatUsage(g)})
		events = append(events, streamEvent{payload: b})
	}
	errEvent, _ := json.Marshal(map[string]chatError{"error": {Message: "The provider timed out.", Type: "server_error", Code: "timeoutProvider"}})
	if p.huge > 0 {
		p.hugeEvent = mk(map[string]any{"content": hugeText(p.huge)}, nil)
	}
	h.deliver(w, r, p, events, errEvent)
}
