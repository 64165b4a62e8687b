package runware

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// chatResponse is a chat.completion or chat.completion.chunk object, or an
// error body in OpenAI or Runware shape.
type chatResponse struct {
	Choices []chatChoice    `json:"choices"`
	Usage   *chatUsage      `json:"usage"`
	Error   json.RawMessage `json:"error"`
	Errors  json.RawMessage `json:"errors"`
}

// chatChoice is one choice; Message in a completion, Delta in a chunk.
type chatChoice struct {
	Index        int          `json:"index"`
	Message      *chatMessage `json:"message"`
	Delta        *chatMessage `json:"delta"`
	FinishReason flexString   `json:"finish_reason"`
}

// chatMessage is an assistant message or its delta.
type chatMessage struct {
	Content          flexString     `json:"content"`
	ReasoningContent flexString     `json:"reasoning_content"`
	Reasoning        flexString     `json:"reasoning"`
	ToolCalls        []chatToolCall `json:"tool_calls"`
}

// chatToolCall is a tool call, or in a stream a fragment of one.
type chatToolCall struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string     `json:"name"`
		Arguments flexString `json:"arguments"`
	} `json:"function"`
}

// chatUsage is OpenAI's snake_case usage.
type chatUsage struct {
	PromptTokens            int `json:"prompt_tokens"`
	CompletionTokens        int `json:"completion_tokens"`
	TotalTokens             int `json:"total_tokens"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// usage converts to the native Usage.
func (u *chatUsage) usage() *Usage {
	if u == nil {
		return nil
	}
	out := &Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if d := u.CompletionTokensDetails; d != nil {
		out.ThinkingTokens = d.ReasoningTokens
	}
	return out
}

// reasoning returns reasoning_content, or "reasoning" as some OpenAI-style
// servers name it.
func (m *chatMessage) reasoning() string {
	if m.ReasoningContent != "" {
		return string(m.ReasoningContent)
	}
	return string(m.Reasoning)
}

// toolArguments turns the arguments string into raw JSON: valid JSON as is,
// an empty string as {}, anything else kept as a JSON string so that the
// value stays valid JSON and nothing the model said is lost.
func toolArguments(s string) json.RawMessage {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return json.RawMessage(`{}`)
	case json.Valid([]byte(s)):
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// readChatJSON decodes a non-streamed chat answer or an error body.
func (c *Client) readChatJSON(ctx context.Context, task Task, resp *Response, ex *exchange) {
	resps := []*Response{resp}
	body, rerr := ex.readBody(ctx)
	setExchange(resps, ex)
	if rerr != nil {
		failAll(resps, rerr, ex)
		return
	}
	status := ex.resp.StatusCode
	var cr chatResponse
	if err := json.Unmarshal(body, &cr); err != nil || status < 200 || status > 299 || hasErrors(cr) {
		// Not a completion: decode as an error envelope (OpenAI or Runware).
		dec, derr := decodeEnvelope(body, status)
		switch {
		case derr != nil:
			failAll(resps, derr, ex)
		case len(dec.errs) > 0:
			failAll(resps, dec.errs[0], ex)
		default:
			failAll(resps, malformed(status, "chat answer without choices or error", body), ex)
		}
		resp.Err.RetryAfter = retryAfter(ex.resp)
		return
	}
	acc := newChatAccumulator(task, &ex.timings)
	acc.maxBytes = c.maxResultBytes
	acc.add(cr, time.Time{})
	resp.Results, resp.Err = acc.finish(true, nil)
	if acc.err != nil {
		acc.err.TaskUUID = task.TaskUUID
		resp.Err = acc.err
		for i := range resp.Results {
			resp.Results[i].Err = acc.err
		}
	}
}

// hasErrors reports whether a 2xx chat body is in fact an error body.
func hasErrors(cr chatResponse) bool {
	return len(cr.Choices) == 0 && (len(cr.Error) > 0 && string(cr.Error) != "null" || len(cr.Errors) > 0 && string(cr.Errors) != "null")
}

// chatAccumulator folds completions or stream chunks into results.
type chatAccumulator struct {
	task    Task
	timings *Timings
	choices map[int]*chatChoiceAcc
	usage   *Usage
	// maxBytes caps one choice's text plus reasoning (0: DefaultMaxResultBytes);
	// err is set once a choice passes it.
	maxBytes int
	err      *Error
}

// chatChoiceAcc is the state of one choice.
type chatChoiceAcc struct {
	text, reasoning strings.Builder
	finish          string
	calls           map[int]*chatCallAcc
}

// chatCallAcc accumulates one tool call across stream fragments.
type chatCallAcc struct {
	id, name string
	args     strings.Builder
}

func newChatAccumulator(task Task, t *Timings) *chatAccumulator {
	return &chatAccumulator{task: task, timings: t, choices: map[int]*chatChoiceAcc{}}
}

// add applies one completion (now zero) or one stream chunk (now set: delta
// timestamps are stamped).
func (a *chatAccumulator) add(cr chatResponse, now time.Time) {
	if u := cr.Usage.usage(); u != nil {
		a.usage = u
	}
	for _, ch := range cr.Choices {
		acc, ok := a.choices[ch.Index]
		if !ok {
			acc = &chatChoiceAcc{calls: map[int]*chatCallAcc{}}
			a.choices[ch.Index] = acc
		}
		if ch.FinishReason != "" {
			acc.finish = string(ch.FinishReason)
		}
		m := ch.Message
		if m == nil {
			m = ch.Delta
		}
		if m == nil {
			continue
		}
		if r := m.reasoning(); r != "" {
			acc.reasoning.WriteString(r)
			a.stampDelta(&a.timings.FirstReasoning, now)
		}
		if m.Content != "" {
			acc.text.WriteString(string(m.Content))
			a.stampDelta(&a.timings.FirstText, now)
		}
		if limit := cmp.Or(a.maxBytes, DefaultMaxResultBytes); acc.text.Len()+acc.reasoning.Len() > limit && a.err == nil {
			a.err = tooLarge(limit)
		}
		for pos, tc := range m.ToolCalls {
			// Stream fragments name their call by index; a complete message
			// lists calls in order.
			key := pos
			if tc.Index != nil {
				key = *tc.Index
			}
			call, ok := acc.calls[key]
			if !ok {
				call = &chatCallAcc{}
				acc.calls[key] = call
			}
			if tc.ID != "" {
				call.id = tc.ID
			}
			if tc.Function.Name != "" {
				call.name = tc.Function.Name
			}
			call.args.WriteString(string(tc.Function.Arguments))
			if !now.IsZero() {
				a.timings.LastDelta = now
			}
		}
	}
}

// stampDelta records a delta of some kind at now (streams only).
func (a *chatAccumulator) stampDelta(first *time.Time, now time.Time) {
	if now.IsZero() {
		return
	}
	stamp(first, now)
	a.timings.LastDelta = now
}

// finish builds the results. complete says the answer ended properly ([DONE]
// or a whole completion); otherwise unfinished choices make the task
// truncated. readErr is what ended reading, if anything.
func (a *chatAccumulator) finish(complete bool, readErr *Error) ([]Result, *Error) {
	idx := make([]int, 0, len(a.choices))
	for i := range a.choices {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var taskErr *Error
	if !complete {
		unfinished := len(idx) == 0
		for _, i := range idx {
			unfinished = unfinished || a.choices[i].finish == ""
		}
		if unfinished {
			taskErr = truncated(readErr)
			taskErr.TaskUUID = a.task.TaskUUID
		}
	}
	out := make([]Result, 0, len(idx))
	for n, i := range idx {
		ch := a.choices[i]
		r := Result{TaskType: a.task.TaskType, TaskUUID: a.task.TaskUUID, Text: ch.text.String(),
			ReasoningContent: ch.reasoning.String(), FinishReason: ch.finish, ResultIndex: &i}
		if n == 0 {
			r.Usage = a.usage
		}
		keys := make([]int, 0, len(ch.calls))
		for k := range ch.calls {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		for _, k := range keys {
			call := ch.calls[k]
			r.ToolCalls = append(r.ToolCalls, ToolCall{ID: call.id, Name: call.name, Arguments: toolArguments(call.args.String())})
		}
		if taskErr != nil && ch.finish == "" {
			r.Err = taskErr
		}
		out = append(out, r)
	}
	if taskErr == nil {
		if want := max(a.task.NumberResults, 1); len(out) < want {
			taskErr = &Error{Class: ClassMalformed, TaskUUID: a.task.TaskUUID, TaskType: a.task.TaskType,
				Message: fmt.Sprintf("chat answer carried %d of %d choices", len(out), want)}
		}
	}
	return out, taskErr
}
