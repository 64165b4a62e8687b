package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// JudgeCacheDir is where a run directory keeps its judge verdicts (the
// judge's answers, in a response Cache), so that a resumed or re-scored run
// never pays twice for one verdict.
const JudgeCacheDir = "judge-cache"

// judgeReplyAttempts bounds how often a judge is asked again when its reply
// is not the one JSON verdict object it was told to give.
const judgeReplyAttempts = 3

// Judge is eval.Judge over Runware: it asks a model, through sync delivery,
// to score an answer against a rubric. Inside a run (RunTrials attaches one
// to the context of scoring) every judge request goes through the run: the
// same rate bucket and tokens-per-minute bucket, retries of transient
// failures, the request timeout, --max-cost and the attempt log; verdicts
// come from and go to the response cache Config.JudgeCache. A Judge made by
// NewJudge (report --rescore) has retries, the timeout and the cache only.
type Judge struct {
	api     API
	cache   *Cache
	pricing eval.Pricing
	retry   Retry
	timeout time.Duration
	run     *run // nil outside a run

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per request: identical ones in flight pay once
}

// NewJudge returns a Judge outside a run: for re-scoring, with the answers
// cached in cache (nil: none).
func NewJudge(api API, cache *Cache, pricing eval.Pricing, timeout time.Duration) *Judge {
	return &Judge{api: api, cache: cache, pricing: pricing, retry: DefaultRetry, timeout: timeout, locks: map[string]*sync.Mutex{}}
}

// judgeTask builds the textInference task of a judge request (without
// taskUUID): rubric, prompt, variables and answer go in as separate data
// blocks under boundary (eval.BuildJudgePrompt).
func judgeTask(req eval.JudgeRequest, boundary string) (runware.Task, error) {
	var settings runware.Settings
	if len(req.Settings) > 0 {
		b, err := json.Marshal(req.Settings)
		if err != nil {
			return runware.Task{}, fmt.Errorf("judge settings: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&settings); err != nil {
			return runware.Task{}, fmt.Errorf("judge settings: %w", err)
		}
	}
	system, user := eval.BuildJudgePrompt(req, boundary)
	settings.SystemPrompt = system
	return runware.Task{
		TaskType:       runware.TaskTextInference,
		Model:          req.Model,
		Messages:       []runware.Message{{Role: "user", Content: user}},
		Settings:       &settings,
		DeliveryMethod: runware.DeliverySync,
		IncludeCost:    true,
		IncludeUsage:   true,
		NumberResults:  1,
	}, nil
}

// Judge implements eval.Judge.
func (j *Judge) Judge(ctx context.Context, req eval.JudgeRequest) (eval.JudgeVerdict, error) {
	// The cache key is the request's content under a fixed boundary; the
	// task sent carries a fresh random one.
	keyed, err := judgeTask(req, "")
	if err != nil {
		return eval.JudgeVerdict{}, err
	}
	key := j.cache.key(&keyed, "native")
	lock := j.lock(key)
	lock.Lock()
	defer lock.Unlock()
	if j.cache != nil {
		if resp, ok := j.cache.lookup(&keyed, "native", time.Now()); ok {
			if v, err := j.verdict(resp); err == nil {
				v.Cached = true
				return v, nil
			}
		}
	}
	var lastErr error
	for range judgeReplyAttempts {
		task, err := judgeTask(req, eval.NewJudgeBoundary())
		if err != nil {
			return eval.JudgeVerdict{}, err
		}
		resp, charge, err := j.ask(ctx, "judge:"+key[:16], task)
		if err != nil {
			return eval.JudgeVerdict{}, err
		}
		v, err := j.verdict(resp)
		v.Cost = charge
		if err == nil {
			if j.cache != nil {
				_ = j.cache.store(&keyed, "native", resp)
			}
			return v, nil
		}
		lastErr = err
		if !errors.Is(err, eval.ErrJudgeReply) {
			return v, err
		}
	}
	return eval.JudgeVerdict{}, fmt.Errorf("%w (asked %d times)", lastErr, judgeReplyAttempts)
}

// verdict parses the judge's answer.
func (j *Judge) verdict(resp *runware.Response) (eval.JudgeVerdict, error) {
	if len(resp.Results) == 0 {
		return eval.JudgeVerdict{}, errors.New("judge request: the response carried no result")
	}
	res := resp.Results[0]
	var v eval.JudgeVerdict
	if u := res.Usage; u != nil {
		v.PromptTokens, v.CompletionTokens = u.PromptTokens, u.CompletionTokens
	}
	v.Cost, _ = resultsCost(resp.Results[:1], nil, j.pricing)
	parsed, err := eval.ParseJudgeReply(res.Text)
	if err != nil {
		return v, err
	}
	v.Score, v.Reason = parsed.Score, parsed.Reason
	return v, nil
}

// ask sends one judge task, retrying transient failures, and returns its
// answer and what it counts as spent. Inside a run it waits for the rate
// and tokens-per-minute buckets (not for a concurrency slot: the trial being
// scored holds one already), reserves the task's upper bound against
// --max-cost and records every attempt in the attempt log.
func (j *Judge) ask(ctx context.Context, key string, task runware.Task) (*runware.Response, float64, error) {
	r := j.run
	bound := upperBound(&task, j.pricing)
	if r != nil {
		ok, err := r.budget.reserve(ctx, bound)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			return nil, 0, fmt.Errorf("judge request not sent: its upper bound (%s) would pass --max-cost %s after %s spent",
				usd(bound), usd(r.cfg.MaxCost), usd(r.budget.total()))
		}
	}
	spent := 0.0
	defer func() {
		if r != nil {
			r.budget.settle(bound, spent)
		}
	}()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		if r != nil {
			if err := r.limiter.wait(ctx); err != nil {
				return nil, spent, err
			}
			if r.tpm != nil {
				if err := r.tpm.WaitN(ctx, min(promptTokens(&task)+1, r.tpm.Burst())); err != nil {
					return nil, spent, err
				}
			}
			r.limiter.dispatched()
			r.prog.Calls.Add(1)
		}
		task.TaskUUID = runware.NewTaskUUID()
		var attempts *journal.AttemptLog
		if r != nil {
			attempts = r.cfg.Attempts
		}
		if err := attempts.Sent(journal.Attempt{TrialKey: key, TaskUUID: task.TaskUUID, Delivery: runware.DeliverySync, Judge: true, Bound: bound}); err != nil {
			return nil, spent, err
		}
		resp := j.send(ctx, task)
		c := j.charge(resp, bound)
		spent += c
		if r != nil {
			r.prog.addSpent(c)
		}
		if err := attempts.Settled(journal.Attempt{TrialKey: key, TaskUUID: task.TaskUUID, Judge: true, Charged: c}); err != nil {
			return nil, spent, err
		}
		e := resp.Err
		if e == nil {
			return resp, spent, nil
		}
		if !e.Class.Transient() || ctx.Err() != nil {
			return nil, spent, fmt.Errorf("judge request: %w", e)
		}
		var wait time.Duration
		var ok bool
		if r != nil {
			wait, ok = r.retry.next(attempt, time.Since(start), r.retryAfter(e), r.jitter())
		} else {
			d, _ := runware.CapRetryAfter(time.Duration(e.RetryAfter), 0)
			wait, ok = j.retry.next(attempt, time.Since(start), d, jitterSource())
		}
		if !ok {
			return nil, spent, fmt.Errorf("judge request: %w (after %d attempts)", e, attempt)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, spent, err
		}
	}
}

// send makes one judge request under the timeout.
func (j *Judge) send(ctx context.Context, task runware.Task) *runware.Response {
	if j.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, j.timeout)
		defer cancel()
	}
	resps, err := j.api.Do(ctx, []runware.Task{task})
	if err == nil && len(resps) != 1 {
		err = errors.New("client returned a response count that does not match the tasks")
	}
	if err != nil {
		return &runware.Response{TaskUUID: task.TaskUUID, Err: &runware.Error{Class: runware.ClassValidation, Message: err.Error()}}
	}
	return resps[0]
}

// charge is what one judge request counts as spent (see run.charge).
func (j *Judge) charge(resp *runware.Response, bound float64) float64 {
	c, priced := resultsCost(resp.Results, nil, j.pricing)
	if !priced && mayHaveBilled(resp) {
		return bound
	}
	return c
}

// jitterSource is a random source for backoff outside a run.
func jitterSource() *rand.Rand {
	return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15))
}

func (j *Judge) lock(key string) *sync.Mutex {
	j.mu.Lock()
	defer j.mu.Unlock()
	l := j.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		j.locks[key] = l
	}
	return l
}
