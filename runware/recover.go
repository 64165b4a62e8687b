package runware

import (
	"context"
	"errors"
	"fmt"
)

// Recover finishes async tasks that an earlier process submitted and never
// saw answered (it was killed while polling): it asks getResponse for each
// task's taskUUID first, and submits only the tasks the server says it does
// not know (taskNotFound), under the same taskUUID, so that a task the server
// accepted is never paid for twice. A submission the server answers with
// conflictTaskUUID (it has the task after all) is polled too. Responses are
// as from Do; a recovered task's Timings have no Dispatched time (it was
// dispatched by the earlier process).
func (c *Client) Recover(ctx context.Context, tasks []Task) ([]*Response, error) {
	if len(tasks) == 0 {
		return nil, errors.New("runware: Recover called without tasks")
	}
	for i, t := range tasks {
		if normDelivery(t.DeliveryMethod) != DeliveryAsync || t.TaskUUID == "" {
			return nil, fmt.Errorf("runware: Recover: task %d is not an async task with a taskUUID", i)
		}
		if t.TaskType == "" {
			tasks[i].TaskType = TaskTextInference
		}
	}
	resps := make([]*Response, len(tasks))
	state := make([]*asyncTask, len(tasks))
	for i, t := range tasks {
		resps[i] = &Response{TaskUUID: t.TaskUUID}
		state[i] = &asyncTask{want: max(t.NumberResults, 1), open: true}
	}
	pctx, cancel := context.WithTimeout(ctx, c.pollTimeout)
	defer cancel()
	lastErr := c.poll(pctx, tasks, state, resps)

	// The tasks the server does not know were never accepted: submit them
	// now, under their own taskUUIDs.
	var fresh []Task
	var freshIdx []int
	for i, r := range resps {
		if r.Err != nil && r.Err.Code == "taskNotFound" && len(r.Results) == 0 {
			fresh = append(fresh, tasks[i])
			freshIdx = append(freshIdx, i)
		}
	}
	if len(fresh) > 0 {
		sub := make([]*Response, len(fresh))
		for k, t := range fresh {
			sub[k] = &Response{TaskUUID: t.TaskUUID}
		}
		c.doAsync(ctx, fresh, sub)
		for k, i := range freshIdx {
			if e := sub[k].Err; e != nil && e.Code == "conflictTaskUUID" {
				// Accepted after all (by the earlier process, between its
				// submission and our poll): poll it with the others.
				resps[i] = &Response{TaskUUID: fresh[k].TaskUUID}
				state[i] = &asyncTask{want: max(fresh[k].NumberResults, 1), open: true}
				continue
			}
			resps[i] = sub[k]
		}
	}

	c.pollOpen(ctx, pctx, tasks, state, resps, lastErr)
	for _, r := range resps {
		c.redactResponse(r)
	}
	return resps, nil
}
