package runware

import (
	"context"
	"fmt"
	"time"
)

// pollTask is one getResponse entry as sent on the wire.
type pollTask struct {
	TaskType string `json:"taskType"`
	TaskUUID string `json:"taskUUID"`
}

// asyncTask is the polling state of one async task.
type asyncTask struct {
	want  int      // numberResults, at least 1
	items []Result // the latest cumulative state reported for the task
	open  bool     // still being polled
}

// doAsync submits tasks with deliveryMethod async, then polls getResponse for
// all of them in one request per interval until every task has numberResults
// terminal items (success or error), the poll timeout passes (ClassTimeout)
// or a poll reports a non-transient error for a task. Each poll answer is the
// cumulative state of a task's items, so the latest one replaces the earlier.
// Transient poll failures (network, 5xx, 429) are retried at the next interval,
// because the task is running and billed whatever happens to one poll.
// Timings: Dispatched and FirstByte are those of the submission, Done is when
// the answer that completed the task was read.
func (c *Client) doAsync(ctx context.Context, tasks []Task, resps []*Response) {
	ex, terr := c.send(ctx, c.endpoint, tasks, "application/json")
	if terr != nil {
		failAll(resps, terr, ex)
		return
	}
	dec, ok := readEnvelope(ctx, resps, ex)
	if !ok {
		return
	}
	// The ACK carries placeholders (or, rarely, finished items); errors in it
	// are validation failures of single tasks.
	state := make([]*asyncTask, len(tasks))
	for i, t := range tasks {
		state[i] = &asyncTask{want: max(t.NumberResults, 1), open: true}
	}
	route(tasks, resps, dec, ex.resp)
	for i, r := range resps {
		items := r.Results
		r.Results = nil
		if r.Err != nil && !hasFailedItem(items) {
			state[i].open = false // the submission itself failed
			continue
		}
		r.Err = nil
		c.update(state[i], r, items, ex)
	}

	pctx, cancel := context.WithTimeout(ctx, c.pollTimeout)
	defer cancel()
	c.pollOpen(ctx, pctx, tasks, state, resps, nil)
}

// pollOpen polls the open tasks every poll interval until none is open, or
// expires them when pctx (the poll deadline) ends; lastErr is the transient
// error of a poll already made, if any.
func (c *Client) pollOpen(ctx, pctx context.Context, tasks []Task, state []*asyncTask, resps []*Response, lastErr *Error) {
	timer := time.NewTimer(c.pollInterval)
	defer timer.Stop()
	for anyOpen(state) {
		select {
		case <-pctx.Done():
			c.expire(ctx, tasks, state, resps, lastErr)
			return
		case <-timer.C:
		}
		lastErr = c.poll(pctx, tasks, state, resps)
		timer.Reset(c.pollInterval)
	}
}

// poll sends one getResponse request for every open task and applies the
// answer. It returns the transient error of a failed poll, if any.
func (c *Client) poll(ctx context.Context, tasks []Task, state []*asyncTask, resps []*Response) *Error {
	var open []Task
	var openResps []*Response
	var idx []int
	var req []pollTask
	for i, t := range tasks {
		if state[i].open {
			open = append(open, t)
			openResps = append(openResps, &Response{TaskUUID: t.TaskUUID})
			idx = append(idx, i)
			req = append(req, pollTask{TaskType: TaskGetResponse, TaskUUID: t.TaskUUID})
		}
	}
	ex, terr := c.send(ctx, c.endpoint, req, "application/json")
	if terr != nil {
		return c.pollFailed(state, resps, idx, terr)
	}
	body, rerr := ex.readBody(ctx)
	if rerr != nil {
		return c.pollFailed(state, resps, idx, rerr)
	}
	dec, derr := decodeAnswer(body, ex.resp.StatusCode)
	if derr != nil {
		derr.RetryAfter = retryAfter(ex.resp)
		return c.pollFailed(state, resps, idx, derr)
	}
	route(open, openResps, dec, ex.resp)
	var transient *Error
	for j, pr := range openResps {
		i := idx[j]
		if pr.Err != nil && !hasFailedItem(pr.Results) {
			if pr.Err.Class.Transient() {
				transient = pr.Err
				continue
			}
			resps[i].Err = pr.Err
			resps[i].HTTPStatus = ex.resp.StatusCode
			resps[i].Timings.Done = ex.timings.Done
			state[i].open = false
			continue
		}
		c.update(state[i], resps[i], pr.Results, ex)
	}
	return transient
}

// pollFailed handles a poll whose whole answer failed: a transient failure is
// returned for the next interval; any other ends every polled task.
func (c *Client) pollFailed(state []*asyncTask, resps []*Response, idx []int, e *Error) *Error {
	if e.Class.Transient() {
		return e
	}
	for _, i := range idx {
		cp := *e
		cp.TaskUUID = resps[i].TaskUUID
		resps[i].Err = &cp
		state[i].open = false
	}
	return nil
}

// update records the latest items of a task and closes it once enough of
// them are terminal.
func (c *Client) update(st *asyncTask, r *Response, items []Result, ex *exchange) {
	if len(items) == 0 {
		return
	}
	st.items = items
	var terminal []Result
	for _, it := range items {
		if it.terminal() {
			terminal = append(terminal, it)
		}
	}
	if len(terminal) < st.want {
		return
	}
	st.open = false
	r.Results = terminal
	r.HTTPStatus = ex.resp.StatusCode
	r.Timings.Done = ex.timings.Done
	for _, it := range terminal {
		if it.Err != nil {
			r.Err = it.Err
			break
		}
	}
}

// expire fails every open task at the poll deadline (or when ctx ends),
// keeping the items already finished.
func (c *Client) expire(ctx context.Context, tasks []Task, state []*asyncTask, resps []*Response, lastErr *Error) {
	for i, st := range state {
		if !st.open {
			continue
		}
		done := 0
		for _, it := range st.items {
			if it.terminal() {
				resps[i].Results = append(resps[i].Results, it)
				done++
			}
		}
		e := &Error{Class: ClassTimeout, Code: CodeTimeout, TaskUUID: resps[i].TaskUUID, TaskType: tasks[i].TaskType,
			Message: fmt.Sprintf("async task not finished after polling for %v (%d of %d results final)", c.pollTimeout, done, st.want)}
		if ctx.Err() != nil {
			e = transportError(ctx, "poll", ctx.Err())
			e.TaskUUID, e.TaskType = resps[i].TaskUUID, tasks[i].TaskType
		}
		if lastErr != nil {
			e.Message += "; last poll error: " + lastErr.Error()
		}
		resps[i].Err = e
		resps[i].Timings.Done = time.Now()
		st.open = false
	}
}

// hasFailedItem reports whether items hold a result with status error: such a
// task has an answer, not a submission failure.
func hasFailedItem(items []Result) bool {
	for _, it := range items {
		if it.Err != nil {
			return true
		}
	}
	return false
}

// anyOpen reports whether some task is still being polled.
func anyOpen(state []*asyncTask) bool {
	for _, st := range state {
		if st.open {
			return true
		}
	}
	return false
}
