package runware

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// streamChunk is one native stream event: a delta, the final chunk (with
// finishReason and optionally usage, cost and the full text), or an error.
type streamChunk struct {
	TaskUUID         flexString      `json:"taskUUID"`
	TaskType         flexString      `json:"taskType"`
	Delta            *streamDelta    `json:"delta"`
	FinishReason     flexString      `json:"finishReason"`
	Usage            *Usage          `json:"usage"`
	Cost             *float64        `json:"cost"`
	Text             *string         `json:"text"`
	ReasoningContent *string         `json:"reasoningContent"`
	ToolCalls        []ToolCall      `json:"toolCalls"`
	ResultIndex      *int            `json:"resultIndex"`
	Seed             *int64          `json:"seed"`
	Data             json.RawMessage `json:"data"`
	Errors           json.RawMessage `json:"errors"`
	Error            json.RawMessage `json:"error"`
}

// streamDelta is the incremental part of a chunk.
type streamDelta struct {
	Text             string `json:"text"`
	ReasoningContent string `json:"reasoningContent"`
	// ToolCalls are whole tool calls, one or more per delta (the
	// simulator's shape; Runware documents none for native streams).
	ToolCalls []ToolCall `json:"toolCalls"`
}

// streamResult accumulates one result (one resultIndex) of a stream.
type streamResult struct {
	res       Result
	text      strings.Builder
	reasoning strings.Builder
	fullText  *string // a final chunk's full text wins over the deltas
	fullReasn *string
	finished  bool
}

// nativeStream folds the payloads of one native stream into results.
type nativeStream struct {
	task    Task
	timings *Timings
	results map[int]*streamResult
	done    bool   // [DONE] seen
	err     *Error // mid-stream error or undecodable chunk; ends the stream
	// maxBytes caps one result's text plus reasoning (0: DefaultMaxResultBytes).
	maxBytes int
}

// newNativeStream starts the fold for task, stamping delta times into t.
func newNativeStream(task Task, t *Timings) *nativeStream {
	return &nativeStream{task: task, timings: t, results: map[int]*streamResult{}}
}

// feed applies one payload; it reports whether the stream is over.
func (s *nativeStream) feed(payload []byte, now time.Time) bool {
	return s.feedDepth(payload, now, 0)
}

func (s *nativeStream) feedDepth(payload []byte, now time.Time, depth int) bool {
	if string(payload) == sseDone {
		s.done = true
		return true
	}
	var ch streamChunk
	if err := json.Unmarshal(payload, &ch); err != nil {
		s.err = malformed(0, fmt.Sprintf("decode stream chunk: %v", err), payload)
		return true
	}
	for _, raw := range []json.RawMessage{ch.Errors, ch.Error} {
		errs, err := decodeErrors(raw, 0)
		if err != nil {
			s.err = malformed(0, fmt.Sprintf("decode stream error: %v", err), payload)
			return true
		}
		if len(errs) > 0 {
			s.err = errs[0]
			if s.err.TaskUUID == "" {
				s.err.TaskUUID = string(ch.TaskUUID)
			}
			return true
		}
	}
	// The old Python SDK accepts a chunk wrapped as {"data":{...}}.
	if len(bytes.TrimSpace(ch.Data)) > 0 && ch.Delta == nil && ch.FinishReason == "" && depth == 0 {
		items, err := rawList(ch.Data)
		if err != nil {
			s.err = malformed(0, fmt.Sprintf("decode stream data: %v", err), payload)
			return true
		}
		for _, it := range items {
			if s.feedDepth(it, now, depth+1) {
				return true
			}
		}
		return false
	}
	idx := 0
	if ch.ResultIndex != nil {
		idx = *ch.ResultIndex
	}
	r := s.result(idx)
	if ch.ResultIndex != nil {
		r.res.ResultIndex = ch.ResultIndex
	}
	if ch.TaskType != "" {
		r.res.TaskType = string(ch.TaskType)
	}
	if d := ch.Delta; d != nil {
		if d.ReasoningContent != "" {
			r.reasoning.WriteString(d.ReasoningContent)
			stamp(&s.timings.FirstReasoning, now)
			s.timings.LastDelta = now
		}
		if d.Text != "" {
			r.text.WriteString(d.Text)
			stamp(&s.timings.FirstText, now)
			s.timings.LastDelta = now
		}
		if len(d.ToolCalls) > 0 {
			r.res.ToolCalls = append(r.res.ToolCalls, d.ToolCalls...)
			stamp(&s.timings.FirstText, now)
			s.timings.LastDelta = now
		}
		if limit := cmp.Or(s.maxBytes, DefaultMaxResultBytes); r.text.Len()+r.reasoning.Len() > limit {
			s.err = tooLarge(limit)
			return true
		}
	}
	if len(ch.ToolCalls) > 0 {
		// A final chunk's full list wins over the deltas.
		r.res.ToolCalls = ch.ToolCalls
	}
	if ch.Usage != nil {
		r.res.Usage = ch.Usage
	}
	if ch.Cost != nil {
		r.res.Cost = ch.Cost
	}
	if ch.Seed != nil {
		r.res.Seed = ch.Seed
	}
	if ch.FinishReason != "" {
		r.res.FinishReason = string(ch.FinishReason)
		r.finished = true
		if ch.Text != nil && *ch.Text != "" {
			r.fullText = ch.Text
		}
		if ch.ReasoningContent != nil && *ch.ReasoningContent != "" {
			r.fullReasn = ch.ReasoningContent
		}
	}
	return false
}

// stamp sets *t to now unless it is already set.
func stamp(t *time.Time, now time.Time) {
	if t.IsZero() {
		*t = now
	}
}

// result returns the accumulator of result idx, creating it.
func (s *nativeStream) result(idx int) *streamResult {
	r, ok := s.results[idx]
	if !ok {
		r = &streamResult{res: Result{TaskType: s.task.TaskType, TaskUUID: s.task.TaskUUID}}
		s.results[idx] = r
	}
	return r
}

// finish builds the results and the task error. readErr is the error that
// ended reading, if not a clean end of body. A stream that ended without
// [DONE] and with a result lacking finishReason is truncated (ClassTruncated,
// or ClassTimeout when the deadline cut it); the partial text is kept.
func (s *nativeStream) finish(readErr *Error) ([]Result, *Error) {
	if s.done && len(s.results) == 0 {
		s.result(0) // "[DONE]" alone: one empty result, as the SDKs yield
	}
	keys := make([]int, 0, len(s.results))
	for k := range s.results {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	taskErr := s.err
	if taskErr == nil && !s.done {
		unfinished := len(keys) == 0
		for _, k := range keys {
			unfinished = unfinished || !s.results[k].finished
		}
		if unfinished {
			taskErr = truncated(readErr)
		}
	}
	if taskErr != nil && taskErr.TaskUUID == "" {
		taskErr.TaskUUID = s.task.TaskUUID
	}
	out := make([]Result, 0, len(keys))
	for _, k := range keys {
		r := s.results[k]
		r.res.Text = r.text.String()
		if r.fullText != nil {
			r.res.Text = *r.fullText
		}
		r.res.ReasoningContent = r.reasoning.String()
		if r.fullReasn != nil {
			r.res.ReasoningContent = *r.fullReasn
		}
		// An error event ends the whole task, even after a result's
		// finishReason: the sample failed (Runware's test-stream fixture).
		if taskErr != nil && (!r.finished || s.err != nil) {
			r.res.Err = taskErr
		}
		out = append(out, r.res)
	}
	return out, taskErr
}

// truncated describes a stream that stopped early.
func truncated(readErr *Error) *Error {
	if readErr != nil && (readErr.Class == ClassTimeout || readErr.Code == CodeResultTooLarge) {
		return readErr
	}
	msg := "stream ended without [DONE] and without finishReason"
	if readErr != nil {
		msg += ": " + readErr.Message
	}
	return &Error{Class: ClassTruncated, Code: "streamTruncated", Message: msg}
}

// doStream sends one stream task and reads its SSE answer. An error status,
// or a JSON body where SSE was expected, is decoded like a sync answer.
func (c *Client) doStream(ctx context.Context, task Task, resp *Response) {
	tasks, resps := []Task{task}, []*Response{resp}
	ex, terr := c.send(ctx, c.endpoint, tasks, "text/event-stream")
	if terr != nil {
		failAll(resps, terr, ex)
		return
	}
	if !isEventStream(ex) {
		c.handleJSON(ctx, tasks, resps, ex)
		return
	}
	defer ex.resp.Body.Close()
	st := newNativeStream(task, &ex.timings)
	st.maxBytes = c.maxResultBytes
	readErr := c.readStream(ctx, ex, st.feed)
	ex.timings.Done = time.Now()
	results, err := st.finish(readErr)
	setExchange(resps, ex)
	resp.Results, resp.Err = results, err
}

// readStream feeds each SSE payload of ex's body to feed until feed reports
// the end, the body ends, or reading fails (returned as an *Error). Lines are
// bounded by the client's sseLineLimit, and the idle timeout ends a stream
// that sends no event for that long.
func (c *Client) readStream(ctx context.Context, ex *exchange, feed func([]byte, time.Time) bool) *Error {
	sr := newSSEReader(ex.resp.Body, c.sseLineLimit())
	idle := startIdle(c.idleTimeout, ex.cancel)
	defer idle.stop()
	for {
		p, err := sr.Next()
		eof := errors.Is(err, io.EOF)
		if eof {
			err = ex.bound()
		}
		if err != nil {
			if errors.Is(err, errSSELineTooLong) {
				e := tooLarge(c.maxResultBytes)
				e.Message = fmt.Sprintf("read stream: one SSE line exceeds %d bytes", c.sseLineLimit())
				return e
			}
			return transportError(ex.context(ctx), "read stream", err)
		}
		if eof {
			return nil
		}
		idle.reset(c.idleTimeout)
		if feed(p, time.Now()) {
			return nil
		}
	}
}

// isEventStream decides whether a response is SSE: a 2xx status and a
// text/event-stream content type, or no telling content type and a body that
// does not start like JSON.
func isEventStream(ex *exchange) bool {
	if ex.resp.StatusCode < 200 || ex.resp.StatusCode > 299 {
		return false
	}
	ct := strings.ToLower(ex.resp.Header.Get("Content-Type"))
	switch {
	case strings.Contains(ct, "event-stream"):
		return true
	case strings.Contains(ct, "json"):
		return false
	}
	br := bufio.NewReader(ex.resp.Body)
	ex.resp.Body = struct {
		io.Reader
		io.Closer
	}{br, ex.resp.Body}
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if err != nil || n > 4096 {
			return true
		}
		switch b[n-1] {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b[n-1] != '{'
	}
}
