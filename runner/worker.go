package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// execute sends an admitted batch (its concurrency slot already held), retries
// the trials that failed transiently, and hands every finished trial to the
// collector. ctx is the scheduling context: when it is cancelled (Ctrl-C, a
// fatal error, the budget), a trial whose last attempt failed transiently is
// not given up as failed but journaled as interrupted, so that resume runs it
// again.
func (r *run) execute(ctx context.Context, batch []*job, results chan<- outcome, wg *sync.WaitGroup) {
	defer wg.Done()
	pending := batch
	last := map[*job]*runware.Error{}
	for len(pending) > 0 {
		resps := r.send(pending)
		// Learn from the answers (rate and concurrency AIMD, Retry-After
		// pause, fatal stop) before the slot is released, so that the next
		// dispatch already obeys them.
		noise := r.observe(pending, resps)
		charges := r.charges(pending, resps)
		var retry, done, stopped []*job
		var final []*runware.Response
		var finalCharge []float64
		var wait time.Duration
		jit := r.jitter()
		for k, j := range pending {
			resp := resps[k]
			if e := resp.Err; e != nil && e.Class.Transient() && !anySucceeded(resp) {
				last[j] = e
				if ctx.Err() != nil {
					// The run is stopping: the trial is not finished.
					r.budget.settle(j.reserved, charges[k])
					stopped = append(stopped, j)
					continue
				}
				// An agent loop's step gets the retries of a trial.
				if d, ok := r.nextRetry(j, e, noise, jit); ok {
					if !r.budget.chargeRetry(charges[k]) {
						// What the attempt may have cost leaves no room
						// for another within --max-cost.
						r.stop(journal.StopBudget, fmt.Sprintf("stopped retrying: a failed attempt may have cost up to %s and another would pass --max-cost %s after %s spent",
							usd(charges[k]), usd(r.cfg.MaxCost), usd(r.budget.total())))
						r.budget.settle(j.reserved, 0)
						stopped = append(stopped, j)
						continue
					}
					retry = append(retry, j)
					wait = max(wait, d)
					continue
				}
			}
			if e := resp.Err; e != nil && e.Class.Fatal() {
				r.stop(journal.StopFatalAPI, e.Error())
			}
			done = append(done, j)
			final = append(final, resp)
			finalCharge = append(finalCharge, charges[k])
		}
		r.watchNetwork(resps)
		// The slot is freed only once the collector has written the
		// finished trials' lines: a kill then never finds more trials
		// answered but unjournaled than the concurrency, and a collector
		// slower than the server (a slow disk) holds back new dispatches
		// instead of letting finished trials pile up in memory.
		var written []chan struct{}
		var next []*job // agent loops going on to their next step
		for k, j := range done {
			if j.agent != nil {
				goOn, resp, charge := r.agentContinues(ctx, j, final[k], finalCharge[k])
				switch {
				case goOn:
					delete(last, j)
					next = append(next, j)
					continue
				case j.halted:
					written = append(written, r.handOver(outcome{recs: r.interruptedRecords(j, nil), warmup: j.warmup}, results))
					continue
				}
				final[k], finalCharge[k] = resp, charge
			}
			r.watchOutage(final[k])
			written = append(written, r.finish(j, final[k], finalCharge[k], results))
		}
		for _, j := range stopped {
			written = append(written, r.handOver(outcome{recs: r.interruptedRecords(j, last[j]), warmup: j.warmup}, results))
		}
		for _, w := range written {
			<-w
		}
		// Settled only now: a kill between the journal lines and this
		// leaves the attempt open, and resume finds its answer in the
		// journal; the other way round, it would find a settled attempt
		// and no answer, and pay for the trial again.
		r.logSettled(pending, resps, charges)
		r.gate.release()
		if len(next) > 0 {
			// An agent loop is alone in its batch (never batched).
			j := next[0]
			if err := r.admit(ctx, next, true); err != nil {
				r.budget.settle(j.reserved, 0)
				results <- outcome{recs: r.interruptedRecords(j, nil), warmup: j.warmup}
				return
			}
			pending = next
			continue
		}
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

// handOver gives an outcome to the collector and returns the channel closed
// once its lines are written (or dropped, for warmup arrivals).
func (r *run) handOver(o outcome, results chan<- outcome) chan struct{} {
	o.written = make(chan struct{})
	results <- o
	return o.written
}

// send makes one HTTP request for the batch; each attempt gets a fresh
// taskUUID, except an async request recovered from an earlier invocation,
// which keeps its own. Every request is in the attempt log before it leaves.
func (r *run) send(batch []*job) []*runware.Response {
	tasks := make([]runware.Task, len(batch))
	sent := make([]journal.Attempt, len(batch))
	recovering := false
	for k, j := range batch {
		j.attempts++
		tasks[k] = j.task
		if j.recoverUUID != "" {
			tasks[k].TaskUUID = j.recoverUUID
			recovering = true
		} else {
			tasks[k].TaskUUID = runware.NewTaskUUID()
		}
		sent[k] = journal.Attempt{TrialKey: j.key, TaskUUID: tasks[k].TaskUUID, Delivery: delivery(&j.task), Bound: j.reserved, Agent: j.agent != nil}
	}
	if err := r.cfg.Attempts.Sent(sent...); err != nil {
		// Nothing is sent that the attempt log does not know of.
		r.stop(journal.StopInterrupted, err.Error())
		return failedResponses(tasks, &runware.Error{Class: classInterrupted, Message: "not sent: " + err.Error()})
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
	switch tr := r.transport(batch[0].trial); {
	case tr == "websocket":
		if r.cfg.WS == nil {
			err = errors.New("no WebSocket client for transport websocket")
		} else {
			resps, err = r.cfg.WS.Do(ctx, tasks)
		}
	case tr == "openai":
		c, ok := r.cfg.API.(ChatAPI)
		if !ok {
			err = errors.New("this client does not speak the OpenAI-compatible endpoint")
		} else {
			var resp *runware.Response
			resp, err = c.Chat(ctx, tasks[0])
			resps = []*runware.Response{resp}
		}
	case recovering:
		c, ok := r.cfg.API.(RecoverAPI)
		if !ok {
			err = errors.New("this client cannot recover async tasks")
		} else {
			resps, err = c.Recover(ctx, tasks)
		}
	default:
		resps, err = r.cfg.API.Do(ctx, tasks)
	}
	if err == nil && len(resps) != len(tasks) {
		err = errors.New("client returned a response count that does not match the tasks")
	}
	if err != nil {
		// Misuse of the client is permanent: the same request fails again.
		return failedResponses(tasks, &runware.Error{Class: runware.ClassValidation, Message: err.Error()})
	}
	for k, resp := range resps {
		if resp == nil {
			resps[k] = &runware.Response{TaskUUID: tasks[k].TaskUUID,
				Err: &runware.Error{Class: runware.ClassMalformed, Message: "client returned no response for the task"}}
		}
	}
	return resps
}

// classInterrupted is the error class of a request the run did not send or
// did not finish because it was stopping (journal.Error.Interrupted).
const classInterrupted runware.Class = "interrupted"

// failedResponses answers every task with e.
func failedResponses(tasks []runware.Task, e *runware.Error) []*runware.Response {
	resps := make([]*runware.Response, len(tasks))
	for k := range tasks {
		cp := *e
		resps[k] = &runware.Response{TaskUUID: tasks[k].TaskUUID, Err: &cp}
	}
	return resps
}

// charges works out what each request of an attempt counts as spent.
func (r *run) charges(batch []*job, resps []*runware.Response) []float64 {
	charges := make([]float64, len(batch))
	for k, j := range batch {
		charges[k] = r.charge(j, resps[k])
	}
	return charges
}

// logSettled records what each request of an attempt counted as spent in
// the attempt log, once the lines of its finished trials are written.
func (r *run) logSettled(batch []*job, resps []*runware.Response, charges []float64) {
	lines := make([]journal.Attempt, len(batch))
	for k, j := range batch {
		lines[k] = journal.Attempt{TrialKey: j.key, TaskUUID: resps[k].TaskUUID, Charged: charges[k]}
		r.prog.addSpent(charges[k])
	}
	if err := r.cfg.Attempts.Settled(lines...); err != nil {
		r.stop(journal.StopInterrupted, err.Error())
	}
}

// nextRetry decides whether a trial whose attempt failed transiently with e
// is retried and after how long: a 429 the rate controller took as noise
// (noise) is retried without backoff and outside the attempt limit, a 429
// with a Retry-After after it (Retry.nextPaced) and outside the limit too,
// up to Retry.MaxNoise such retries in all; anything else backs off
// (Retry.next) by the attempts that count.
func (r *run) nextRetry(j *job, e *runware.Error, noise bool, jit *rand.Rand) (time.Duration, bool) {
	elapsed, ra := time.Since(j.stepStart), r.retryAfter(e)
	if isRateLimit(e) {
		d, ok := time.Duration(0), false
		switch {
		case noise:
			d, ok = r.retry.nextNoise(j.noise, elapsed, ra)
		case ra > 0 && !r.limiter.refusing():
			// The server paced the run (a rate cap): the 429 says nothing
			// about the trial, which must not run out of attempts while
			// the rate controller settles (1 trial in 60 or so did, at
			// 6 attempts, against a cap of 50 req/s at concurrency 64).
			// A server refusing nearly everything is not pacing: its
			// 429s count, so that an outage ends trials (and the run)
			// soon.
			d, ok = r.retry.nextPaced(j.noise, elapsed, ra, jit.Float64())
		}
		if ok {
			j.noise++
			return d, true
		}
	}
	return r.retry.next(j.attempts-j.stepBase-j.noise, elapsed, ra, jit)
}

// isRateLimit reports whether e is a 429.
func isRateLimit(e *runware.Error) bool {
	return e.Class == runware.ClassRateLimit || e.HTTPStatus == http.StatusTooManyRequests
}

// retryAfter is the pause a server asked for, capped at MaxRetryAfter (a
// Retry-After of a day must not stop a run for a day); the pause shows on
// the progress line.
func (r *run) retryAfter(e *runware.Error) time.Duration {
	d, capped := runware.CapRetryAfter(time.Duration(e.RetryAfter), r.cfg.MaxRetryAfter)
	if d > 0 {
		r.prog.pause(d, capped)
	}
	return d
}

// networkProbe is how many first attempts must all fail with network
// errors (nothing reached a server) before the run stops: an endpoint that
// refuses every one of them is down or mistyped, and retrying every trial
// would only take long to say so.
const networkProbe = 16

// watchNetwork counts the run's first attempts; when the first networkProbe
// all failed with network errors before reaching a server, it stops the run.
func (r *run) watchNetwork(resps []*runware.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.netSeen >= networkProbe {
		return
	}
	for _, resp := range resps {
		e := resp.Err
		if e == nil || e.Class != runware.ClassNetwork || e.HTTPStatus != 0 {
			r.netSeen = networkProbe // something answered: stop watching
			return
		}
		r.netSeen++
		r.netLast = e.Message
	}
	if r.netSeen >= networkProbe && r.stopReason == "" {
		r.stopReason = journal.StopNoAnswer
		r.stopDetail = fmt.Sprintf("the first %d requests all failed with network errors before reaching a server (last: %s)", networkProbe, r.netLast)
		r.halt()
	}
}

// outageTrials is the least number of trials in a row that must end with a
// transient error after all their retries, none answered in between,
// before the run stops as unavailable (Config.Concurrency twice, when more).
// Under random failures that leave a trial answered one time in two, such
// a streak comes once in 2^25 trials.
const outageTrials = 25

// watchOutage follows the trials as they end (resp is a trial's final
// answer): when outLimit of them in a row failed with transient errors
// after their retries, the API is down or out of quota, and going on would
// only spend hours failing every trial the same way; the run stops as
// unavailable, the trials not run yet left for --resume.
func (r *run) watchOutage(resp *runware.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := resp.Err
	if e == nil || !e.Class.Transient() || anySucceeded(resp) {
		r.outStreak = 0
		clear(r.outClasses)
		return
	}
	if r.outClasses == nil {
		r.outClasses = map[runware.Class]int{}
	}
	r.outStreak++
	r.outClasses[e.Class]++
	if r.outStreak < r.outLimit || r.stopReason != "" {
		return
	}
	var classes []string
	for _, c := range slices.Sorted(maps.Keys(r.outClasses)) {
		classes = append(classes, fmt.Sprintf("%d %s", r.outClasses[c], c))
	}
	r.stopReason = journal.StopUnavailable
	r.stopDetail = fmt.Sprintf("the last %d trials all failed after their retries (%s)", r.outStreak, strings.Join(classes, ", "))
	r.halt()
}

// charge is what one request counts as spent: the cost of the results that
// arrived (reported, else estimated from their usage), or, when it may have
// been billed without an answer reaching us (timeout, reset, a cut or broken
// body, a gateway error), its reserved upper bound.
func (r *run) charge(j *job, resp *runware.Response) float64 {
	c, priced := resultsCost(resp.Results, sharedUsage(resp, numberResults(j.trial)), r.cfg.Pricing)
	if !priced && (mayHaveBilled(resp) || j.recoverUUID != "") {
		// A recovered task was submitted by an earlier invocation: without
		// its answer, it counts at its bound.
		return j.reserved
	}
	return c
}

// resultsCost is what the results that arrived cost: each one's reported
// cost, else its usage (or, when the request reported one usage for all its
// results, its share of shared) at p's prices. priced is false when no
// result carried either.
func resultsCost(results []runware.Result, shared *journal.Usage, p eval.Pricing) (cost float64, priced bool) {
	for i := range results {
		res := &results[i]
		if res.Err != nil {
			continue
		}
		switch u := res.Usage; {
		case res.Cost != nil:
			cost += *res.Cost
		case u != nil:
			cost += p.Cost(u.PromptTokens, u.CompletionTokens, u.ThinkingTokens)
		case shared != nil:
			cost += p.Cost(shared.Prompt, shared.Completion, shared.Thinking)
		default:
			continue
		}
		priced = true
	}
	return cost, priced
}

// mayHaveBilled reports whether a request that brought no priced answer may
// still have been billed: it left (was dispatched) and then failed in a way
// that does not prove the server refused it. A 4xx, a 429 and a 503 are
// refusals; a timeout, a reset, a cut or undecodable body and other 5xx
// (a gateway may hide a request that ran) are not.
func mayHaveBilled(resp *runware.Response) bool {
	e := resp.Err
	if e == nil {
		// An answer that carried neither cost nor usage was billed at a
		// price we cannot know.
		return true
	}
	if e.Class == classInterrupted {
		return false
	}
	if resp.Timings.Dispatched.IsZero() && e.HTTPStatus == 0 && resp.HTTPStatus == 0 {
		// The request never left: refused connection, DNS, a client check.
		return false
	}
	switch {
	case e.HTTPStatus == 429 || e.HTTPStatus == 503:
		return false
	case e.HTTPStatus >= 400 && e.HTTPStatus < 500:
		return false
	case e.HTTPStatus >= 500:
		return true
	}
	switch e.Class {
	case runware.ClassTimeout, runware.ClassNetwork, runware.ClassMalformed, runware.ClassTruncated,
		runware.ClassServer, runware.ClassProvider, runware.ClassUnknown:
		return true
	}
	return false
}

// observe feeds the answers to one HTTP request to the rate controller, the
// concurrency gate and the counters. A 429 goes to the rate controller
// first: when it cuts the rate, only the retried requests wait out the
// Retry-After, except after the run's first cut from an unlimited bucket,
// which also pauses every dispatch (the burst sent so far fills the server's
// window). A 429 the controller does not take (adaptation off, too few
// requests yet to measure) halves the concurrency cap once per episode and
// pauses for its Retry-After. 503 and 504 pause without shrinking anything;
// anything else counts as clean. observe reports whether the controller
// took the 429s as noise (rateNoise): those are retried at once.
func (r *run) observe(batch []*job, resps []*runware.Response) (noise bool) {
	limited := false
	var retryAfter time.Duration
	for _, resp := range resps {
		e := resp.Err
		switch {
		case e == nil:
			r.gate.succeeded()
		case isRateLimit(e):
			r.prog.RateLimited.Add(1)
			limited = true
			retryAfter = max(retryAfter, r.retryAfter(e))
		case e.HTTPStatus == http.StatusServiceUnavailable || e.HTTPStatus == http.StatusGatewayTimeout:
			r.gate.unavailable(r.retryAfter(e))
		}
	}
	if !limited {
		r.limiter.answered(batch[0].admitted)
		return false
	}
	// The batch left as one request, admitted at one time in one epoch.
	j := batch[0]
	switch r.limiter.rateLimited(j.admitted) {
	case rateUnhandled:
		r.gate.rateLimited(j.epoch, retryAfter)
	case rateLearned:
		r.gate.hold(retryAfter)
	case rateNoise:
		return true
	}
	return false
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

// finish scores a trial's final answer, caches it, settles its budget with
// what the answer counts as spent and hands its records to the collector; the
// returned channel is closed once they are written.
func (r *run) finish(j *job, resp *runware.Response, charge float64, results chan<- outcome) chan struct{} {
	recs := r.records(j, resp)
	completion := 0
	for _, rec := range recs {
		if rec.Usage != nil {
			completion += rec.Usage.Completion
		}
	}
	if j.agent != nil {
		// The loop's other steps paid their tokens as they came.
		for _, rec := range recs {
			r.agentRecord(j, rec, resp)
		}
	}
	r.budget.settle(j.reserved, charge)
	r.payTokens(completion)
	if c := r.cfg.Cache; c != nil && resp.Err == nil {
		_ = c.store(&j.task, r.transport(j.trial), resp)
	} else if c := r.cfg.StepCache; c != nil && resp.Err == nil && j.agent != nil {
		_ = c.store(&j.task, r.transport(j.trial), resp)
	}
	if !j.warmup {
		r.score(j, recs)
	}
	return r.handOver(outcome{recs: recs, warmup: j.warmup}, results)
}

// payTokens pays for a request's completion tokens after the fact: the
// tokens-per-minute bucket goes into debt and later requests wait it off.
func (r *run) payTokens(completion int) {
	if r.tpm != nil && completion > 0 {
		r.tpm.ReserveN(time.Now(), min(completion, r.tpm.Burst()))
	}
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
