package runner

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// execute sends an admitted batch (its concurrency slot already held), retries
// the trials that failed transiently, and hands every finished trial to the
// collector. ctx is the scheduling context: when it is cancelled, pending
// retries end as "interrupted" records instead of being sent.
func (r *run) execute(ctx context.Context, batch []*job, results chan<- outcome, wg *sync.WaitGroup) {
	defer wg.Done()
	pending := batch
	last := map[*job]*runware.Error{}
	for len(pending) > 0 {
		resps := r.send(pending)
		// Learn from the answers (rate and concurrency AIMD, Retry-After
		// pause, fatal stop) before the slot is released, so that the next
		// dispatch already obeys them.
		r.observe(pending, resps)
		var retry, done []*job
		var final []*runware.Response
		var wait time.Duration
		jit := r.jitter()
		for k, j := range pending {
			resp := resps[k]
			if e := resp.Err; e != nil && e.Class.Transient() && !anySucceeded(resp) {
				if d, ok := r.retry.next(j.attempts, time.Since(j.scheduled), time.Duration(e.RetryAfter), jit); ok && ctx.Err() == nil {
					retry = append(retry, j)
					last[j] = e
					wait = max(wait, d)
					continue
				}
			}
			if e := resp.Err; e != nil && e.Class.Fatal() {
				r.stop(journal.StopFatalAPI, e.Error())
			}
			done = append(done, j)
			final = append(final, resp)
		}
		// The slot is freed only once the collector has taken the finished
		// trials: a collector slower than the server (a slow disk) then
		// holds back new dispatches instead of letting finished trials pile
		// up in memory.
		for k, j := range done {
			r.finish(j, final[k], results)
		}
		r.gate.release()
		if len(retry) == 0 {
			return
		}
		if err := sleep(ctx, wait); err == nil {
			err = r.admit(ctx, retry, true)
			if err == nil {
				r.prog.Retries.Add(int64(len(retry)))
				pending = retry
				continue
			}
		}
		for _, j := range retry {
			r.budget.settle(j.reserved, 0)
			results <- outcome{recs: r.interruptedRecords(j, last[j]), warmup: j.warmup}
		}
		return
	}
}

// send makes one HTTP request for the batch; each attempt gets fresh taskUUIDs.
func (r *run) send(batch []*job) []*runware.Response {
	tasks := make([]runware.Task, len(batch))
	for k, j := range batch {
		j.attempts++
		tasks[k] = j.task
		tasks[k].TaskUUID = runware.NewTaskUUID()
	}
	ctx := r.reqCtx
	if r.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.Timeout)
		defer cancel()
	}
	r.prog.Calls.Add(1)
	var resps []*runware.Response
	var err error
	if transport(batch[0].trial) == "openai" {
		c, ok := r.cfg.API.(ChatAPI)
		if !ok {
			err = errors.New("this client does not speak the OpenAI-compatible endpoint")
		} else {
			var resp *runware.Response
			resp, err = c.Chat(ctx, tasks[0])
			resps = []*runware.Response{resp}
		}
	} else {
		resps, err = r.cfg.API.Do(ctx, tasks)
	}
	if err == nil && len(resps) != len(tasks) {
		err = errors.New("client returned a response count that does not match the tasks")
	}
	if err != nil {
		// Misuse of the client is permanent: the same request fails again.
		resps = make([]*runware.Response, len(tasks))
		for k := range tasks {
			resps[k] = &runware.Response{TaskUUID: tasks[k].TaskUUID,
				Err: &runware.Error{Class: runware.ClassValidation, Message: err.Error()}}
		}
	}
	for k, resp := range resps {
		if resp == nil {
			resps[k] = &runware.Response{TaskUUID: tasks[k].TaskUUID,
				Err: &runware.Error{Class: runware.ClassMalformed, Message: "client returned no response for the task"}}
		}
	}
	return resps
}

// observe feeds the answers to one HTTP request to the rate controller, the
// concurrency gate and the counters. A 429 goes to the rate controller
// first: when it cuts the rate, only the retried requests wait out the
// Retry-After, except after the run's first cut from an unlimited bucket,
// which also pauses every dispatch (the burst sent so far fills the server's
// window). A 429 the controller does not take (adaptation off, too few
// requests yet to measure) halves the concurrency cap once per episode and
// pauses for its Retry-After. 503 and 504 pause without shrinking anything;
// anything else counts as clean.
func (r *run) observe(batch []*job, resps []*runware.Response) {
	limited := false
	var retryAfter time.Duration
	for _, resp := range resps {
		e := resp.Err
		switch {
		case e == nil:
			r.gate.succeeded()
		case e.Class == runware.ClassRateLimit || e.HTTPStatus == http.StatusTooManyRequests:
			r.prog.RateLimited.Add(1)
			limited = true
			retryAfter = max(retryAfter, time.Duration(e.RetryAfter))
		case e.HTTPStatus == http.StatusServiceUnavailable || e.HTTPStatus == http.StatusGatewayTimeout:
			r.gate.unavailable(time.Duration(e.RetryAfter))
		}
	}
	if !limited {
		return
	}
	// The batch left as one request, admitted at one time in one epoch.
	j := batch[0]
	switch r.limiter.rateLimited(j.admitted) {
	case rateUnhandled:
		r.gate.rateLimited(j.epoch, retryAfter)
	case rateLearned:
		r.gate.hold(retryAfter)
	}
}

// anySucceeded reports whether some result of the response arrived: a
// partial success is journaled as it is rather than paid for again.
func anySucceeded(resp *runware.Response) bool {
	for i := range resp.Results {
		if resp.Results[i].Err == nil {
			return true
		}
	}
	return false
}

// finish scores a trial's final answer, caches it, settles its budget and
// hands its records to the collector.
func (r *run) finish(j *job, resp *runware.Response, results chan<- outcome) {
	recs := r.records(j, resp)
	var cost float64
	completion := 0
	for _, rec := range recs {
		if rec.Cost != nil {
			cost += *rec.Cost
		}
		if rec.Usage != nil {
			completion += rec.Usage.Completion
		}
	}
	r.budget.settle(j.reserved, cost)
	if r.tpm != nil && completion > 0 {
		// Pay for the completion after the fact: the bucket goes into debt
		// and later requests wait it off.
		r.tpm.ReserveN(time.Now(), min(completion, r.tpm.Burst()))
	}
	if r.cfg.Cache != nil && resp.Err == nil {
		_ = r.cfg.Cache.store(&j.task, transport(j.trial), resp)
	}
	if !j.warmup {
		r.score(j, recs)
	}
	results <- outcome{recs: recs, warmup: j.warmup}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
