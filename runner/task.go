package runner

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// job is one trial on its way through the runner: the trial, the task built
// from it (without taskUUID; every attempt gets a fresh one) and what has
// happened to it so far.
type job struct {
	trial *eval.Trial
	// key is the trial key written to the journal; in open-loop mode a
	// trial sent again gets a suffixed key so that every arrival is its own.
	key  string
	task runware.Task
	// scheduled is when the trial was first meant to be sent (the intended
	// time in open-loop mode); attemptScheduled is when the current attempt
	// was queued; admitted is when pacing and the concurrency gate let it go.
	scheduled        time.Time
	attemptScheduled time.Time
	admitted         time.Time
	attempts         int
	// noise counts the attempts retried outside the attempt limit (429s
	// taken as noise or paced by a Retry-After; see Retry): attempts-noise
	// is what MaxAttempts bounds.
	noise int
	// reserved is the budget held for this trial while it is in flight.
	reserved float64
	// epoch is the AIMD epoch at dispatch, so that the 429s of one episode
	// shrink concurrency once.
	epoch uint64
	// warmup arrivals (open-loop --warmup) are sent but not journaled.
	warmup  bool
	retried bool
	// late is how far behind its intended time an open-loop arrival left.
	late *time.Duration
	// invalid is set when the trial's request does not fit a task.
	invalid *runware.Error
	// tpm is the prompt-token estimate taken from the tokens-per-minute
	// bucket when the trial was admitted.
	tpm int
	// recoverUUID is the taskUUID of an async request an earlier, killed
	// invocation of the run had in flight: the trial asks for its answer
	// instead of paying again. resent marks a sync or stream trial that was
	// in flight then and is sent again (it may be billed twice).
	recoverUUID string
	resent      bool

	// agent is the case's agent for an agent loop (agent.go), nil
	// otherwise. steps are the loop's answered steps so far; stepBase and
	// stepStart are attempts and the time when the current step began (its
	// retries are counted from them); finalCached marks a loop whose last
	// answer came from the response cache; halted, one stopped between
	// steps (budget, Ctrl-C).
	agent       *eval.Agent
	steps       []journal.Step
	stepBase    int
	stepStart   time.Time
	finalCached bool
	halted      bool
	callIDs     map[string]bool // the loop's tool call ids so far
}

// buildTask turns a trial's request (the native task fields as decoded JSON)
// into a runware.Task: directly for the common fields, else by a JSON round
// trip, so that every field the suite language knows reaches the wire under
// its own name.
func buildTask(t *eval.Trial) (runware.Task, error) {
	task, ok := runware.TaskFromRequest(t.Request)
	if !ok {
		b, err := json.Marshal(t.Request)
		if err != nil {
			return task, fmt.Errorf("case %q: encode request: %w", t.CaseID, err)
		}
		if err := json.Unmarshal(b, &task); err != nil {
			return task, fmt.Errorf("case %q: request does not fit a textInference task: %w", t.CaseID, err)
		}
	}
	task.TaskType = runware.TaskTextInference
	task.TaskUUID = ""
	if t.NumberResults > 0 {
		task.NumberResults = t.NumberResults
	}
	return task, nil
}

// numberResults is how many samples a trial yields.
func numberResults(t *eval.Trial) int {
	if t.NumberResults > 0 {
		return t.NumberResults
	}
	return 1
}

// delivery is the trial's delivery method with the API's default filled in.
func delivery(task *runware.Task) string {
	if task.DeliveryMethod == "" {
		return runware.DeliverySync
	}
	return task.DeliveryMethod
}

// transport is the trial's transport with the default filled in.
func transport(t *eval.Trial) string {
	if t.Transport == "" {
		return "native"
	}
	return t.Transport
}

// transport is the trial's transport in this run: --transport, else the
// trial's own.
func (r *run) transport(t *eval.Trial) string {
	if r.cfg.Transport != "" {
		return r.cfg.Transport
	}
	return transport(t)
}

// baseRecord fills the fields every sample of a trial shares.
func (r *run) baseRecord(j *job, idx int) *journal.Record {
	t := j.trial
	return &journal.Record{
		V:           journal.Version,
		RunID:       r.cfg.RunID,
		Suite:       r.cfg.SuiteName,
		SuiteHash:   r.cfg.SuiteHash,
		CaseID:      t.CaseID,
		Tags:        t.Tags,
		Cell:        t.Cell,
		CellValues:  t.CellValues,
		Variant:     t.Variant,
		Seed:        t.Seed,
		Replicate:   t.Replicate,
		ResultIndex: idx,
		Results:     numberResults(t),
		TrialKey:    j.key,
		RequestHash: t.RequestHash,
		Model:       j.task.Model,
		Delivery:    delivery(&j.task),
		Transport:   r.transport(t),
		Vars:        t.Vars,
		Media:       t.Media,
		Attempts:    j.attempts,
		Retried:     j.retried,
		Resent:      j.resent,
	}
}

// records turns the final response of a trial into one record per sample:
// numberResults of them whatever happened, each carrying either a result or
// the error that took its place.
func (r *run) records(j *job, resp *runware.Response) []*journal.Record {
	n := numberResults(j.trial)
	recs := make([]*journal.Record, n)
	byIndex := make([]*runware.Result, n)
	var loose []*runware.Result
	for i := range resp.Results {
		res := &resp.Results[i]
		if res.ResultIndex != nil && *res.ResultIndex >= 0 && *res.ResultIndex < n && byIndex[*res.ResultIndex] == nil {
			byIndex[*res.ResultIndex] = res
			continue
		}
		loose = append(loose, res)
	}
	for i := range byIndex {
		if byIndex[i] == nil && len(loose) > 0 {
			byIndex[i], loose = loose[0], loose[1:]
		}
	}
	// A result that arrived has the request's full timings even when other
	// results of the request failed (a partly failed multi-result task).
	tm := r.timings(j, &resp.Timings, resp.Err == nil)
	tmOK := tm
	if resp.Err != nil {
		tmOK = r.timings(j, &resp.Timings, true)
	}
	shared := sharedUsage(resp, n)
	for i := range recs {
		rec := r.baseRecord(j, i)
		rec.TaskUUID = resp.TaskUUID
		rec.Timings = tm
		res := byIndex[i]
		switch {
		case res != nil && res.Err != nil:
			rec.Error = journalError(res.Err)
		case res != nil:
			rec.Timings = tmOK
			if res.Usage == nil && shared != nil {
				rec.Usage, rec.UsageShared = shared, true
			}
			r.fillResult(rec, res)
		case resp.Err != nil:
			rec.Error = journalError(resp.Err)
		default:
			rec.Error = &journal.Error{Class: string(runware.ClassMalformed),
				Message: fmt.Sprintf("response carried no result %d of %d", i, n)}
		}
		if rec.Error != nil {
			rec.Timings.ToSuccess = nil
		}
		recs[i] = rec
	}
	return recs
}

// sharedUsage is a request-level usage (one usage reported for several
// results) divided evenly over the request's n results, rounding up so that
// no token is lost; nil when the request reported none.
func sharedUsage(resp *runware.Response, n int) *journal.Usage {
	u := resp.Usage
	if u == nil {
		return nil
	}
	n = max(n, 1)
	div := func(v int) int { return (v + n - 1) / n }
	return &journal.Usage{Prompt: div(u.PromptTokens), Completion: div(u.CompletionTokens),
		Total: div(u.TotalTokens), Thinking: div(u.ThinkingTokens)}
}

// fillResult copies one result's content, usage and cost into rec, estimating
// the cost from the price table when the API sent none.
func (r *run) fillResult(rec *journal.Record, res *runware.Result) {
	rec.Text = res.Text
	rec.Reasoning = res.ReasoningContent
	rec.FinishReason = res.FinishReason
	for _, tc := range res.ToolCalls {
		rec.ToolCalls = append(rec.ToolCalls, journal.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
	}
	if u := res.Usage; u != nil {
		rec.Usage = &journal.Usage{Prompt: u.PromptTokens, Completion: u.CompletionTokens,
			Total: u.TotalTokens, Thinking: u.ThinkingTokens}
	}
	switch {
	case res.Cost != nil:
		c := *res.Cost
		rec.Cost = &c
	case rec.Usage != nil:
		c := r.cfg.Pricing.Cost(rec.Usage.Prompt, rec.Usage.Completion, rec.Usage.Thinking)
		rec.Cost = &c
		rec.CostEstimated = true
	}
}

// interruptedRecords are the lines of a trial the run stopped before it could
// finish (a retry cancelled by Ctrl-C): not terminal, so resume runs it again.
func (r *run) interruptedRecords(j *job, last *runware.Error) []*journal.Record {
	msg := "run stopped before the trial finished"
	if last != nil {
		msg += "; last attempt: " + last.Error()
	}
	msg += agentNote(j)
	recs := make([]*journal.Record, numberResults(j.trial))
	for i := range recs {
		rec := r.baseRecord(j, i)
		rec.Timings.Scheduled = j.scheduled
		rec.Error = &journal.Error{Class: "interrupted", Message: msg}
		if j.agent != nil {
			r.agentRecord(j, rec, nil)
		}
		recs[i] = rec
	}
	return recs
}

// journalError converts a client error into its journal form.
func journalError(e *runware.Error) *journal.Error {
	return &journal.Error{Class: string(e.Class), Code: e.Code, Message: e.Message,
		Parameter: e.Parameter, HTTPStatus: e.HTTPStatus}
}

// timings converts an attempt's monotonic timestamps into offsets from the
// trial's scheduled time (DESIGN §5).
func (r *run) timings(j *job, at *runware.Timings, ok bool) journal.Timings {
	s := j.scheduled
	off := func(t time.Time) *float64 {
		if t.IsZero() {
			return nil
		}
		return journal.Ms(t.Sub(s))
	}
	tm := journal.Timings{
		Scheduled:        s,
		AttemptScheduled: off(j.attemptScheduled),
		Admitted:         off(j.admitted),
		Dispatched:       off(at.Dispatched),
		FirstByte:        off(at.FirstByte),
		FirstReasoning:   off(at.FirstReasoning),
		FirstText:        off(at.FirstText),
		LastDelta:        off(at.LastDelta),
		Done:             off(at.Done),
	}
	if !at.Dispatched.IsZero() {
		first := at.FirstReasoning
		if first.IsZero() || (!at.FirstText.IsZero() && at.FirstText.Before(first)) {
			first = at.FirstText
		}
		if !first.IsZero() {
			tm.TTFT = journal.Ms(first.Sub(at.Dispatched))
		}
		if !at.FirstText.IsZero() {
			tm.TTFO = journal.Ms(at.FirstText.Sub(at.Dispatched))
		}
		if !at.Done.IsZero() && ok {
			tm.E2E = journal.Ms(at.Done.Sub(at.Dispatched))
		}
		if !j.attemptScheduled.IsZero() {
			tm.Queue = journal.Ms(at.Dispatched.Sub(j.attemptScheduled))
		}
	}
	if ok && !at.Done.IsZero() {
		tm.ToSuccess = journal.Ms(at.Done.Sub(s))
	}
	if j.late != nil {
		tm.Late = journal.Ms(*j.late)
	}
	return tm
}
