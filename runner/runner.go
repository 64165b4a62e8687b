// Package runner executes trials against Runware: it paces requests with one
// shared token bucket, adapts the rate and the concurrency cap to 429s, retries
// transient failures with backoff, journals every sample the moment it
// arrives, and stops early on a fatal API error, a budget cap or Ctrl-C. It
// also resumes, shards and caches runs.
//
// Shape (after vegeta): the scheduler, which runs in Run's goroutine, decides
// when a trial goes (pacer, budget, gate); one goroutine per dispatched
// request decides how (send, retry, score); one collector goroutine owns the
// results channel and the journal.
package runner

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// API is what the runner needs of a Runware client; *runware.Client is one.
type API interface {
	Do(ctx context.Context, tasks []runware.Task) ([]*runware.Response, error)
}

// ChatAPI is implemented by clients that also speak the OpenAI-compatible
// endpoint; trials with Transport "openai" need it.
type ChatAPI interface {
	Chat(ctx context.Context, task runware.Task) (*runware.Response, error)
}

// DefaultConcurrency is the in-flight cap when neither the suite nor a flag
// sets one.
const DefaultConcurrency = 8

// Config is everything a run needs besides its trials.
type Config struct {
	// API sends requests.
	API API
	// RunID, SuiteName and SuiteHash are copied into every record.
	RunID     string
	SuiteName string
	SuiteHash string
	// Pricing estimates costs the API did not report.
	Pricing eval.Pricing
	// Pass is the suite's pass rule; a case's own rule overrides it.
	Pass eval.PassRule
	// Journal receives every sample.
	Journal *journal.Writer
	// WS sends the trials whose transport is "websocket" (a
	// *runware.WSClient); Transport, when set, is the transport of every
	// trial (--transport), whatever the suite says.
	WS        API
	Transport string
	// Attempts, when set, records every request before it leaves and what
	// it counts as spent once answered (the run directory's write-ahead
	// log).
	Attempts *journal.AttemptLog
	// PriorSpent is what earlier invocations of a resumed run spent; it
	// counts against MaxCost.
	PriorSpent float64
	// Recover maps trial keys to the request an earlier, killed invocation
	// had in flight for them (journal.Ledger.Open): an async one is
	// recovered by its taskUUID instead of paid for again; a sync or stream
	// one is sent again and its samples marked Resent.
	Recover map[string]journal.Attempt
	// Rate is requests per second (one shared token bucket); 0 = unlimited.
	Rate float64
	// Concurrency caps requests in flight; 0 = DefaultConcurrency.
	Concurrency int
	// FixedConcurrency turns AIMD off: 429s do not shrink the cap.
	FixedConcurrency bool
	// TokensPerMinute caps prompt plus completion tokens per minute; 0 = none.
	TokensPerMinute int
	// Batch puts up to Batch trials (same delivery, native transport, not
	// stream) in one HTTP request; 0 or 1 = one per request.
	Batch int
	// MaxCost stops scheduling when spend plus the in-flight upper bound
	// would pass it; 0 = no cap.
	MaxCost float64
	// Timeout bounds each attempt; 0 = none (the client's own).
	Timeout time.Duration
	// MaxRetryAfter caps a server's Retry-After pause; 0 =
	// runware.DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// Retry bounds retries of transient failures; zero fields take defaults.
	Retry Retry
	// Cache, when set, answers repeated requests without calling the API.
	Cache *Cache
	// JudgeCache, when set, holds judge checks' answers (a run keeps them
	// in its directory's JudgeCacheDir). Judge checks use the run's Judge
	// unless the context given to RunTrials carries one (eval.WithJudge).
	JudgeCache *Cache
	// StepCache, when set, holds the answered steps of agent loops (a run
	// keeps them in its directory's AgentStepsDir): a loop run again on
	// resume replays the steps already paid for. --cache, when set, takes
	// its place.
	StepCache *Cache
	// Retried marks the records of these trial keys as re-runs (--retry-errors).
	Retried map[string]bool
	// Progress, when set, is updated as the run goes.
	Progress *Progress
	// Load switches to open-loop mode: arrivals follow its schedule.
	Load *Load
	// Seed seeds retry jitter.
	Seed uint64
}

// Result says how a run ended.
type Result struct {
	// StopReason is one of journal's Stop* constants; StopDetail explains it
	// (for a fatal API error, the API's own message).
	StopReason string
	StopDetail string
	// Trials and Samples count what was journaled.
	Trials  int
	Samples int
	// Spent is what the run has spent, earlier invocations of a resumed
	// run included: the cost of every answered request (cached samples are
	// free) and the upper bound of every request whose answer never came.
	Spent float64
}

// run is one execution of Run.
type run struct {
	cfg     Config
	retry   Retry
	gate    *gate
	limiter *rateCtl
	tpm     *rate.Limiter
	budget  *budget
	prog    *Progress
	// offsets is the open-loop arrival schedule.
	offsets []time.Duration
	// reqCtx outlives Ctrl-C so that requests in flight finish.
	reqCtx context.Context

	mu         sync.Mutex
	rnd        *rand.Rand
	stopReason string
	stopDetail string
	halt       context.CancelFunc
	// err is the trial stream's error, which ends the run.
	err error
	// netSeen counts first attempts that failed with network errors
	// (watchNetwork); netLast is the last such error.
	netSeen int
	netLast string
	// outStreak counts the trials in a row that ended with a transient
	// error after their retries, and outClasses their error classes
	// (watchOutage); outLimit is the streak that stops the run.
	outStreak  int
	outClasses map[runware.Class]int
	outLimit   int
}

// outcome is what a worker hands the collector for one trial.
type outcome struct {
	recs   []*journal.Record
	warmup bool
	// written, when set, is closed once the records are written.
	written chan struct{}
}

// RecoverAPI is implemented by clients that can ask for the answer of an
// async task submitted by an earlier process (by its taskUUID), submitting
// it only when the server does not know it; *runware.Client is one.
type RecoverAPI interface {
	Recover(ctx context.Context, tasks []runware.Task) ([]*runware.Response, error)
}

// Trials is the work of a run as a stream. Seq yields the trials in order
// and yields the same ones on every walk (open-loop load cycles through
// them); an error it yields ends the run. Count is the number of trials Seq
// yields and Samples the sum of their NumberResults: the progress total and
// the length of an open-loop pass.
type Trials struct {
	Seq            iter.Seq2[eval.Trial, error]
	Count, Samples int
}

// Filter returns the trials of t that keep accepts. It walks t once to count
// them (building every trial of an expanded suite once more).
func (t Trials) Filter(keep func(*eval.Trial) bool) (Trials, error) {
	seq := t.Seq
	out := Trials{Seq: func(yield func(eval.Trial, error) bool) {
		for tr, err := range seq {
			if err != nil {
				yield(tr, err)
				return
			}
			if keep(&tr) && !yield(tr, nil) {
				return
			}
		}
	}}
	for tr, err := range out.Seq {
		if err != nil {
			return Trials{}, err
		}
		out.Count++
		out.Samples += numberResults(&tr)
	}
	return out, nil
}

// RunTrials executes a stream of trials and journals every sample. Each
// trial is built when it is scheduled and dropped once it is journaled, so
// memory does not grow with the suite. It returns when every dispatched
// trial has been journaled; the error reports only failures that end a run
// (journal I/O, a trial the stream could not build), never a failed request,
// which is a row in the journal.
func RunTrials(ctx context.Context, cfg Config, trials Trials) (res *Result, err error) {
	if cfg.API == nil || cfg.Journal == nil {
		return nil, errors.New("runner: Config.API and Config.Journal are required")
	}
	conc := cfg.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	r := &run{
		cfg:    cfg,
		retry:  cfg.Retry.withDefaults(),
		gate:   newGate(conc, !cfg.FixedConcurrency),
		budget: newBudget(cfg.MaxCost, cfg.PriorSpent),
		prog:   cfg.Progress,
		reqCtx: context.WithoutCancel(ctx),
		rnd:    rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		// The trials in flight when a server goes down fail together: the
		// streak must outlast them.
		outLimit: max(outageTrials, 2*conc),
	}
	if r.prog == nil {
		r.prog = &Progress{}
	}
	r.prog.addSpent(cfg.PriorSpent)
	if eval.JudgeFrom(ctx) == nil {
		r.reqCtx = eval.WithJudge(r.reqCtx, &Judge{api: cfg.API, cache: cfg.JudgeCache, pricing: cfg.Pricing,
			retry: r.retry, timeout: cfg.Timeout, run: r, locks: map[string]*sync.Mutex{}})
	}
	// The bucket adapts to 429s unless AIMD is off or the run is open-loop
	// (where --rate is the arrival rate and the bucket is not used).
	if cfg.Load == nil {
		r.limiter = newRateCtl(cfg.Rate, !cfg.FixedConcurrency)
	} else {
		r.limiter = newRateCtl(0, false)
	}
	if cfg.TokensPerMinute > 0 {
		r.tpm = rate.NewLimiter(rate.Limit(float64(cfg.TokensPerMinute)/60), cfg.TokensPerMinute)
	}
	if cfg.Load != nil && trials.Count > 0 {
		if r.offsets, err = cfg.Load.Schedule(); err != nil {
			return nil, err
		}
		first, err := firstTrial(trials.Seq)
		if err != nil {
			return nil, err
		}
		n := len(r.offsets) - cfg.Load.Warmup
		r.prog.Total.Add(int64(n * numberResults(&first)))
	} else if cfg.Load == nil {
		r.prog.Total.Add(int64(trials.Samples))
	}

	schedCtx, halt := context.WithCancel(ctx)
	r.halt = halt
	results := make(chan outcome, 2*conc)
	collected := make(chan collectorResult, 1)
	var workers sync.WaitGroup
	go func() { collected <- r.collect(results) }()
	// Shutdown order, once the scheduler has returned (all trials dispatched,
	// or scheduling stopped): wait for every worker (requests in flight and
	// their retries finish and are journaled), release the scheduling
	// context, close the results channel, wait for the collector to drain
	// it, then report.
	defer func() {
		workers.Wait()
		halt()
		close(results)
		c := <-collected
		if err == nil {
			err = c.err
		}
		if err == nil {
			r.mu.Lock()
			err = r.err
			r.mu.Unlock()
		}
		res = r.result(ctx, c)
	}()

	if cfg.Load != nil {
		r.scheduleOpen(schedCtx, trials, results, &workers)
	} else {
		r.scheduleClosed(schedCtx, trials.Seq, results, &workers)
	}
	return nil, nil
}

// firstTrial returns the first trial of a stream.
func firstTrial(seq iter.Seq2[eval.Trial, error]) (eval.Trial, error) {
	for t, err := range seq {
		return t, err
	}
	return eval.Trial{}, errors.New("runner: the trial stream is empty")
}

// fail ends the run on an error of the trial stream: scheduling stops and
// Run returns the error once what is in flight has been journaled.
func (r *run) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = fmt.Errorf("trials: %w", err)
	}
	r.mu.Unlock()
	r.stop(journal.StopInterrupted, err.Error())
}

// stop records the first reason the run stops early and halts scheduling.
func (r *run) stop(reason, detail string) {
	r.mu.Lock()
	if r.stopReason == "" {
		r.stopReason, r.stopDetail = reason, detail
	}
	r.mu.Unlock()
	r.halt()
}

// result assembles the run's Result once everything has been journaled.
func (r *run) result(ctx context.Context, c collectorResult) *Result {
	r.mu.Lock()
	reason, detail := r.stopReason, r.stopDetail
	r.mu.Unlock()
	if reason == "" {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			reason = journal.StopDeadline
		case ctx.Err() != nil:
			reason, detail = journal.StopInterrupted, "stopped by the user"
		default:
			reason = journal.StopCompleted
		}
	}
	if c.err != nil && reason == journal.StopCompleted {
		reason, detail = journal.StopInterrupted, c.err.Error()
	}
	return &Result{StopReason: reason, StopDetail: detail, Trials: c.trials, Samples: c.samples, Spent: r.budget.total()}
}

// newJob prepares a trial for dispatch. Tasks are built as trials are
// scheduled, not up front, so that memory does not grow with the suite. A
// request that does not fit a task fails the trial (a journal row, not an
// abort).
func (r *run) newJob(t *eval.Trial, key string) *job {
	task, err := buildTask(t)
	j := &job{trial: t, key: key, task: task, retried: r.cfg.Retried[t.Key], scheduled: time.Now()}
	j.stepStart = j.scheduled
	if err != nil {
		j.invalid = &runware.Error{Class: runware.ClassValidation, Message: err.Error()}
	}
	if t.Case != nil && t.Case.Agent != nil {
		j.agent = t.Case.Agent
		if msg := agentInvalid(t); msg != "" && j.invalid == nil {
			j.invalid = &runware.Error{Class: runware.ClassValidation, Message: msg}
		}
	}
	if a, ok := r.cfg.Recover[key]; ok && err == nil {
		// An agent step is never recovered by its taskUUID: the loop's
		// earlier steps are not in the journal, so it runs again.
		if a.Delivery == runware.DeliveryAsync && delivery(&task) == runware.DeliveryAsync && r.transport(t) == "native" && j.agent == nil {
			j.recoverUUID = a.TaskUUID
		} else {
			j.resent = true
		}
	}
	return j
}

// reject journals a trial whose request could not be built.
func (r *run) reject(j *job, results chan<- outcome) {
	recs := r.records(j, &runware.Response{Err: j.invalid})
	r.score(j, recs)
	results <- outcome{recs: recs, warmup: j.warmup}
}

// collectorResult is what the collector counted.
type collectorResult struct {
	trials, samples int
	err             error
	// recs is the scratch list of a batch's records.
	recs []*journal.Record
}

// collect owns the results channel: it journals the samples of the trials
// that have landed and keeps the progress counters. Outcomes already waiting
// in the channel when the collector wakes go out together in one write
// (group commit, at most maxBatch trials): under load dozens of trials land
// between two writes, and a write call per trial cost more than encoding
// them. Nothing waits to fill a batch, so a record is written as soon as the
// collector is free, as before; each trial's lines stay consecutive.
func (r *run) collect(results <-chan outcome) collectorResult {
	var c collectorResult
	batch := make([]outcome, 0, maxBatch)
	for o := range results {
		batch = append(batch[:0], o)
		size := o.textBytes()
		// The worker that sent o made this goroutine run next on its
		// thread, before any other worker could land a trial: yield once,
		// so that those landing meanwhile join the batch.
		runtime.Gosched()
	drain:
		for len(batch) < maxBatch && size < maxBatchText {
			select {
			case o, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, o)
				size += o.textBytes()
			default:
				break drain
			}
		}
		c.take(r, batch)
		for i := range batch {
			if batch[i].written != nil {
				close(batch[i].written)
			}
			batch[i] = outcome{}
		}
	}
	return c
}

// maxBatch bounds the trials of one journal write, and maxBatchText the
// answer text a batch may add up to before it is written (the write buffer
// holds it all once more, encoded).
const (
	maxBatch     = 64
	maxBatchText = 1 << 20
)

// textBytes is the answer and reasoning text of an outcome's records.
func (o *outcome) textBytes() int {
	n := 0
	for _, r := range o.recs {
		n += len(r.Text) + len(r.Reasoning)
	}
	return n
}

// take journals the outcomes of a batch in one write.
func (c *collectorResult) take(r *run, batch []outcome) {
	if c.err != nil {
		return
	}
	recs := c.recs[:0]
	for i := range batch {
		if !batch[i].warmup {
			recs = append(recs, batch[i].recs...)
		}
	}
	if len(recs) == 0 {
		return
	}
	err := r.cfg.Journal.AppendAll(recs)
	clear(recs)
	c.recs = recs[:0]
	if err != nil {
		c.err = fmt.Errorf("journal: %w", err)
		r.stop(journal.StopInterrupted, c.err.Error())
		return
	}
	for i := range batch {
		if o := &batch[i]; !o.warmup {
			c.trials++
			c.samples += len(o.recs)
			r.prog.record(o.recs)
		}
	}
}

// score fills each record's check outcomes, pass and score.
func (r *run) score(j *job, recs []*journal.Record) {
	rule := r.cfg.Pass
	var checks []eval.Check
	if c := j.trial.Case; c != nil {
		checks = c.Checks
		if c.Pass != nil {
			rule = *c.Pass
		}
	}
	for _, rec := range recs {
		eval.ApplyVerdict(rec, eval.Score(r.reqCtx, eval.SampleOf(rec), checks, rule))
	}
}

// jitter draws a uniform number for backoff.
func (r *run) jitter() *rand.Rand {
	r.mu.Lock()
	defer r.mu.Unlock()
	return rand.New(rand.NewPCG(r.rnd.Uint64(), r.rnd.Uint64()))
}
