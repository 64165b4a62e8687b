package runware

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// doSync sends tasks in one request and fills resps from the single answer.
func (c *Client) doSync(ctx context.Context, tasks []Task, resps []*Response) {
	ex, terr := c.send(ctx, c.endpoint, tasks, "application/json")
	if terr != nil {
		failAll(resps, terr, ex)
		return
	}
	c.handleJSON(ctx, tasks, resps, ex)
}

// handleJSON reads a JSON answer to tasks and routes its results and errors.
// Each task is expected to get max(numberResults, 1) results; fewer is
// reported as ClassMalformed (the results received are kept).
func (c *Client) handleJSON(ctx context.Context, tasks []Task, resps []*Response, ex *exchange) {
	dec, ok := readEnvelope(ctx, resps, ex)
	if !ok {
		return
	}
	route(tasks, resps, dec, ex.resp)
	c.checkResults(tasks, resps, ex.resp.StatusCode)
}

// checkResults applies the checks of a final JSON answer to routed
// responses: non-text items and results past the cap fail, and a task with
// fewer than max(numberResults, 1) results is ClassMalformed (the results
// received are kept). status is the HTTP status (0 over a WebSocket).
func (c *Client) checkResults(tasks []Task, resps []*Response, status int) {
	for i, r := range resps {
		rejectNonText(r)
		c.capResults(r)
		if r.Err != nil {
			continue
		}
		if want := max(tasks[i].NumberResults, 1); len(r.Results) < want {
			r.Err = &Error{Class: ClassMalformed, HTTPStatus: status, TaskUUID: r.TaskUUID,
				TaskType: tasks[i].TaskType,
				Message:  fmt.Sprintf("response carried %d of %d results for task %s", len(r.Results), want, r.TaskUUID)}
		}
	}
}

// readEnvelope reads and decodes a JSON answer, recording the exchange on
// every response; when the body cannot be read or decoded it fails every task
// and reports false.
func readEnvelope(ctx context.Context, resps []*Response, ex *exchange) (decodedBody, bool) {
	body, rerr := ex.readBody(ctx)
	setExchange(resps, ex)
	if rerr != nil {
		failAll(resps, rerr, ex)
		return decodedBody{}, false
	}
	dec, derr := decodeAnswer(body, ex.resp.StatusCode)
	if derr != nil {
		derr.RetryAfter = retryAfter(ex.resp)
		failAll(resps, derr, ex)
		return decodedBody{}, false
	}
	return dec, true
}

// route attaches decoded items and errors to their tasks by taskUUID. An item
// without taskUUID belongs to the only task of a one-task request (otherwise
// it cannot be placed and is dropped). An error whose taskUUID names no task
// of the request (an authentication error, the legacy unrouted {"error":...})
// applies to every task that got no result and no error of its own. A non-2xx
// status that left a task with neither gives that task an error by status.
// Results that failed (an item with status "error") also set Response.Err.
func route(tasks []Task, resps []*Response, dec decodedBody, resp *http.Response) {
	status := resp.StatusCode
	index := make(map[string]int, len(tasks))
	for i, t := range tasks {
		index[t.TaskUUID] = i
	}
	find := func(id string) (int, bool) {
		if i, ok := index[id]; ok {
			return i, true
		}
		if id == "" && len(tasks) == 1 {
			return 0, true
		}
		return 0, false
	}
	ra := retryAfter(resp)
	for _, res := range dec.itemResults(status) {
		if res.TaskType == TaskAuthentication && res.Err == nil {
			continue // a session acknowledgement, never a task's answer
		}
		i, ok := find(res.TaskUUID)
		if !ok {
			continue
		}
		if res.TaskUUID == "" {
			res.TaskUUID = tasks[i].TaskUUID
		}
		if res.Err != nil {
			res.Err.RetryAfter = ra
			if resps[i].Err == nil {
				resps[i].Err = res.Err
			}
		}
		resps[i].Results = append(resps[i].Results, res)
	}
	var unrouted []*Error
	for _, e := range dec.errs {
		e.RetryAfter = ra
		i, ok := index[e.TaskUUID]
		if !ok {
			unrouted = append(unrouted, e)
			continue
		}
		if resps[i].Err == nil {
			resps[i].Err = e
		}
	}
	for i, r := range resps {
		if r.Err != nil || len(r.Results) > 0 {
			continue
		}
		switch {
		case len(unrouted) > 0:
			e := *unrouted[0]
			r.Err = &e
		case status < 200 || status > 299:
			r.Err = &Error{Class: classifyStatus(status), HTTPStatus: status, TaskUUID: r.TaskUUID,
				TaskType: tasks[i].TaskType, RetryAfter: ra,
				Message: fmt.Sprintf("HTTP %d %s without an error body", status, http.StatusText(status))}
		}
	}
}

// retryAfter reads Retry-After from an error response; success responses
// carry no advice.
func retryAfter(resp *http.Response) Duration {
	if resp == nil || resp.StatusCode < 300 {
		return 0
	}
	return Duration(parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))
}

// setExchange copies the status and timings of ex into every response.
func setExchange(resps []*Response, ex *exchange) {
	for _, r := range resps {
		r.Timings = ex.timings
		if ex.resp != nil {
			r.HTTPStatus = ex.resp.StatusCode
		}
	}
}

// failAll gives every response its own copy of e (with its taskUUID) and the
// exchange's status and timings.
func failAll(resps []*Response, e *Error, ex *exchange) {
	if ex != nil {
		setExchange(resps, ex)
		if ex.resp != nil && e.HTTPStatus == 0 {
			e.HTTPStatus = ex.resp.StatusCode
		}
	}
	for _, r := range resps {
		cp := *e
		if cp.TaskUUID == "" {
			cp.TaskUUID = r.TaskUUID
		}
		r.Err = &cp
	}
}

// rejectNonText fails the results of a final answer that are not text
// results: no text, no finishReason, no tool calls and no success status (an
// image result such as {"taskUUID":...,"imageURL":...} is one). Such an item
// is not a successful empty answer.
func rejectNonText(r *Response) {
	for i := range r.Results {
		res := &r.Results[i]
		if res.Err != nil || res.Text != "" || res.FinishReason != "" || len(res.ToolCalls) > 0 || res.Status == statusSuccess {
			continue
		}
		res.Err = &Error{Class: ClassMalformed, Code: CodeNotTextResult, TaskUUID: res.TaskUUID, TaskType: res.TaskType,
			Message: "result carries no text, finishReason or tool calls: not a textInference answer"}
		if r.Err == nil {
			r.Err = res.Err
		}
	}
}

// capResults fails the results of a JSON answer whose text plus reasoning
// passes the client's result cap, as a stream past it fails.
func (c *Client) capResults(r *Response) {
	for i := range r.Results {
		res := &r.Results[i]
		if res.Err != nil || len(res.Text)+len(res.ReasoningContent) <= c.maxResultBytes {
			continue
		}
		res.Err = tooLarge(c.maxResultBytes)
		res.Err.TaskUUID, res.Err.TaskType = res.TaskUUID, res.TaskType
		res.Text, res.ReasoningContent = "", ""
		if r.Err == nil {
			r.Err = res.Err
		}
	}
}
