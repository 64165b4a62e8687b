package runner

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// scheduleClosed is the closed-loop pacer: it walks the trials in order and,
// for each HTTP request, waits for the budget, a concurrency slot and a token
// of the rate bucket before handing the request to a worker goroutine. Each
// trial is taken from the stream only when it is its turn.
func (r *run) scheduleClosed(ctx context.Context, trials iter.Seq2[eval.Trial, error], results chan<- outcome, wg *sync.WaitGroup) {
	pull, done := iter.Pull2(trials)
	defer done()
	workers := newPool(int(r.gate.max), func(batch []*job) { r.execute(ctx, batch, results, wg) })
	defer workers.close()
	var held *job // a job read ahead while filling a batch
	next := func() *job {
		if held != nil {
			j := held
			held = nil
			return j
		}
		t, err, ok := pull()
		if !ok {
			return nil
		}
		if err != nil {
			r.fail(err)
			return nil
		}
		return r.newJob(&t, t.Key)
	}
	for {
		if ctx.Err() != nil {
			return
		}
		j := next()
		if j == nil {
			return
		}
		if j.invalid != nil {
			r.reject(j, results)
			continue
		}
		if r.serveCached(j, results) {
			continue
		}
		if !r.reserve(ctx, j, "trial") {
			return
		}
		batch := []*job{j}
		for r.batchable(j) && len(batch) < r.cfg.Batch {
			k := next()
			if k == nil {
				break
			}
			if k.invalid != nil || !r.batchable(k) || delivery(&k.task) != delivery(&j.task) {
				held = k
				break
			}
			if r.serveCached(k, results) {
				continue
			}
			k.reserved = upperBound(&k.task, r.cfg.Pricing)
			if !r.budget.tryReserve(k.reserved) {
				held = k
				break
			}
			batch = append(batch, k)
		}
		if err := r.admit(ctx, batch, true); err != nil {
			for _, b := range batch {
				r.budget.settle(b.reserved, 0)
			}
			return
		}
		if ctx.Err() != nil {
			// Stopped (fatal error, budget, Ctrl-C) while waiting for a slot.
			r.gate.release()
			for _, b := range batch {
				r.budget.settle(b.reserved, 0)
			}
			return
		}
		wg.Add(1)
		workers.do(batch)
	}
}

// batchable reports whether a trial may share an HTTP request with others.
func (r *run) batchable(j *job) bool {
	return r.cfg.Batch > 1 && r.transport(j.trial) == "native" && delivery(&j.task) != runware.DeliveryStream && j.agent == nil
}

// admit waits for a concurrency slot, a token of the rate bucket and the
// prompt tokens of the batch in the tokens-per-minute bucket.
func (r *run) admit(ctx context.Context, batch []*job, paced bool) error {
	now := time.Now()
	for _, j := range batch {
		j.attemptScheduled = now
	}
	epoch, err := r.gate.acquire(ctx)
	if err != nil {
		return err
	}
	if paced {
		if err := r.limiter.wait(ctx); err != nil {
			r.gate.release()
			return err
		}
	}
	if r.tpm != nil {
		for _, j := range batch {
			j.tpm = min(promptTokens(&j.task)+1, r.tpm.Burst())
			if err := r.tpm.WaitN(ctx, j.tpm); err != nil {
				r.gate.release()
				return err
			}
		}
	}
	now = r.limiter.dispatched()
	for _, j := range batch {
		j.admitted, j.epoch = now, epoch
	}
	return nil
}

// serveCached answers a trial from the response cache, if it is there.
func (r *run) serveCached(j *job, results chan<- outcome) bool {
	if r.cfg.Cache == nil && (j.agent == nil || r.cfg.StepCache == nil) {
		return false
	}
	j.attemptScheduled = j.scheduled
	j.admitted = j.scheduled
	var resp *runware.Response
	if j.agent != nil {
		// The steps the cache has are taken from it; the loop is sent
		// from the first one it has not.
		if resp = r.advanceCached(j); resp == nil {
			return false
		}
	} else {
		var ok bool
		if resp, ok = r.cfg.Cache.lookup(&j.task, r.transport(j.trial), time.Now()); !ok {
			return false
		}
		r.prog.CacheHits.Add(1)
	}
	recs := r.records(j, resp)
	for _, rec := range recs {
		rec.Cached = true
		if j.agent != nil {
			r.agentRecord(j, rec, resp)
		}
	}
	r.score(j, recs)
	results <- outcome{recs: recs, warmup: j.warmup}
	return true
}

// usd formats a dollar amount for messages.
func usd(v float64) string { return formatUSD(v) }

// reserve books the upper bound of j's cost against the budget. It reports
// false when scheduling must stop: the context ended, or the bound would pass
// --max-cost (then the run stops with reason budget; what names the unit in
// the message: "trial" or "arrival").
func (r *run) reserve(ctx context.Context, j *job, what string) bool {
	j.reserved = upperBound(&j.task, r.cfg.Pricing)
	ok, err := r.budget.reserve(ctx, j.reserved)
	if err != nil {
		return false
	}
	if !ok {
		r.stop(journal.StopBudget, fmt.Sprintf("stopped scheduling: the next %s's upper bound (%s) would pass --max-cost %s after %s spent",
			what, usd(j.reserved), usd(r.cfg.MaxCost), usd(r.budget.total())))
		return false
	}
	return true
}
