package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// Agent loops (eval.Agent): a trial of an agent case is one conversation.
// Each model request is a step; when its answer calls tools and the loop has
// steps left, the runner records the step, appends the assistant's calls and
// the scripted results to the conversation (Runware's native shape:
// {role: assistant, tools: [{id, name, input}]}, then {role: tool, id,
// content} per call) and sends the next request. The trial keeps its
// reservation across steps: each step's charge moves to spent and the next
// step's own upper bound is reserved before it is sent. Every step's
// request is in the attempt log like any other (marked Agent, so that
// resume never asks for one by its taskUUID: the steps before it would be
// missing) and its answer in the step cache (stepCache), from which a loop
// run again on resume replays the steps it paid for; the sample is
// journaled once, when the loop ends.

// agentContinues is called with the answered response of an agent job's
// step (it has been charged, not yet settled). It reports whether the loop
// goes on: the answer called tools and steps remain. The step is then
// recorded, cached, and the next request built; steps the response cache
// can answer are taken from it at once. When the loop ends on a cached
// answer, that answer is returned as final (with charge 0) for finish.
func (r *run) agentContinues(ctx context.Context, j *job, resp *runware.Response, charge float64) (goOn bool, final *runware.Response, finalCharge float64) {
	if !r.agentMore(j, resp) {
		return false, resp, charge
	}
	if c := r.stepCache(); c != nil {
		_ = c.store(&j.task, r.transport(j.trial), resp)
	}
	r.payTokens(completionTokens(resp))
	r.agentStep(j, resp, false)
	if fin := r.advanceCached(j); fin != nil {
		r.budget.step(ctx, j.reserved, charge, 0)
		j.reserved = 0
		return false, fin, 0
	}
	next := upperBound(&j.task, r.cfg.Pricing)
	ok, err := r.budget.step(ctx, j.reserved, charge, next)
	if err != nil || !ok {
		j.reserved = 0
		if err == nil {
			r.stop(journal.StopBudget, fmt.Sprintf("stopped an agent loop: its next step's upper bound (%s) would pass --max-cost %s after %s spent",
				usd(next), usd(r.cfg.MaxCost), usd(r.budget.total())))
		}
		j.halted = true
		return false, nil, 0
	}
	j.reserved = next
	return true, nil, 0
}

// AgentStepsDir is where a run directory keeps the answers of its agent
// loops' steps (a response Cache), so that a loop interrupted or killed
// between steps replays, on resume, the steps it already paid for.
const AgentStepsDir = "agent-steps"

// stepCache is where agent steps are stored and looked up: the response
// cache (--cache) when there is one, else the run's own StepCache.
func (r *run) stepCache() *Cache {
	if r.cfg.Cache != nil {
		return r.cfg.Cache
	}
	return r.cfg.StepCache
}

// agentMore reports whether resp asks the loop to go on: its answer called
// tools and the agent has steps left.
func (r *run) agentMore(j *job, resp *runware.Response) bool {
	res := answered(resp)
	return res != nil && len(res.ToolCalls) > 0 && len(j.steps)+1 < j.agent.MaxSteps
}

// answered is the response's first successful result, nil when none.
func answered(resp *runware.Response) *runware.Result {
	if resp == nil || resp.Err != nil {
		return nil
	}
	for i := range resp.Results {
		if resp.Results[i].Err == nil {
			return &resp.Results[i]
		}
	}
	return nil
}

// completionTokens are the completion tokens a response reported.
func completionTokens(resp *runware.Response) int {
	n := 0
	for i := range resp.Results {
		if u := resp.Results[i].Usage; u != nil && resp.Results[i].Err == nil {
			n += u.CompletionTokens
		}
	}
	return n
}

// advanceCached answers the job's next steps from the response cache for
// as long as it has them; it returns the answer that ends the loop when
// that came from the cache too, else nil (the next step must be sent).
func (r *run) advanceCached(j *job) *runware.Response {
	c := r.stepCache()
	if c == nil {
		return nil
	}
	for {
		resp, ok := c.lookup(&j.task, r.transport(j.trial), time.Now())
		if !ok {
			return nil
		}
		r.prog.CacheHits.Add(1)
		if !r.agentMore(j, resp) {
			j.finalCached = true
			return resp
		}
		r.agentStep(j, resp, true)
	}
}

// agentStep records an answered step that called tools, answers its calls
// with the agent's scripted results and appends both to the conversation.
func (r *run) agentStep(j *job, resp *runware.Response, cached bool) {
	st := r.stepOf(j, resp, cached)
	n := len(j.steps)
	calls := make([]runware.MessageTool, len(st.ToolCalls))
	msgs := make([]runware.Message, 0, len(st.ToolCalls)+1)
	for i := range st.ToolCalls {
		tc := &st.ToolCalls[i]
		if tc.ID == "" || j.callIDs[tc.ID] {
			// The wire pairs results with calls by id: give an unnamed
			// call (or one reusing an id) one, unique in the conversation.
			tc.ID = fmt.Sprintf("pg_step%d_call%d", n+1, i)
		}
		if j.callIDs == nil {
			j.callIDs = map[string]bool{}
		}
		j.callIDs[tc.ID] = true
		res := j.agent.Answer(*tc)
		st.ToolResults = append(st.ToolResults, res)
		calls[i] = runware.MessageTool{ID: tc.ID, Name: tc.Name, Input: toolInput(tc.Arguments)}
		msgs = append(msgs, runware.Message{Role: "tool", ID: tc.ID, Content: res.Content})
	}
	j.steps = append(j.steps, st)
	// A new slice: the trial's first task shares its messages with others.
	conv := make([]runware.Message, 0, len(j.task.Messages)+len(msgs)+1)
	conv = append(conv, j.task.Messages...)
	conv = append(conv, runware.Message{Role: "assistant", Content: st.Text, Tools: calls})
	j.task.Messages = append(conv, msgs...)
	j.stepBase, j.noise = j.attempts, 0
	j.stepStart = time.Now()
}

// toolInput is a call's arguments as the object an assistant message
// replays: a JSON object as it came (or from the string the OpenAI-compatible
// endpoint wraps it in); anything else, which no object can carry, as {}.
func toolInput(raw json.RawMessage) json.RawMessage {
	b := bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(b, &s) == nil {
		b = bytes.TrimSpace([]byte(s))
	}
	var obj map[string]json.RawMessage
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &obj) != nil {
		return json.RawMessage("{}")
	}
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return json.RawMessage("{}")
	}
	return out.Bytes()
}

// stepOf is the journal form of one step's response.
func (r *run) stepOf(j *job, resp *runware.Response, cached bool) journal.Step {
	st := journal.Step{TaskUUID: resp.TaskUUID, RequestHash: j.trial.RequestHash, Attempts: j.attempts - j.stepBase, Cached: cached}
	if len(j.steps) > 0 {
		st.RequestHash = taskHash(&j.task)
	}
	if cached {
		st.Attempts = 0
	}
	res := answered(resp)
	tm := r.timings(j, &resp.Timings, res != nil)
	st.Timings = journal.StepTimings{Dispatched: tm.Dispatched, Done: tm.Done, TTFT: tm.TTFT, TTFO: tm.TTFO, E2E: tm.E2E}
	switch {
	case res != nil:
		var rec journal.Record
		r.fillResult(&rec, res)
		st.Text, st.FinishReason, st.ToolCalls = rec.Text, rec.FinishReason, rec.ToolCalls
		st.Usage, st.Cost, st.CostEstimated = rec.Usage, rec.Cost, rec.CostEstimated
	case resp.Err != nil:
		st.Error = journalError(resp.Err)
	case len(resp.Results) > 0 && resp.Results[0].Err != nil:
		st.Error = journalError(resp.Results[0].Err)
	default:
		st.Error = &journal.Error{Class: string(runware.ClassMalformed), Message: "response carried no result"}
	}
	return st
}

// taskHash identifies a step's request: its canonical JSON without the
// taskUUID.
func taskHash(task *runware.Task) string {
	t := *task
	t.TaskUUID = ""
	b, err := json.Marshal(&t)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:32]
}

// agentRecord completes the record of an agent loop's sample from its steps
// and the response that ended it (nil for a loop the run stopped): Steps,
// the trajectory, and usage, cost, E2E and attempts summed over the steps
// (TTFT and TTFO are the first step's).
func (r *run) agentRecord(j *job, rec *journal.Record, final *runware.Response) {
	steps := append([]journal.Step(nil), j.steps...)
	if final != nil {
		last := r.stepOf(j, final, j.finalCached)
		if len(last.ToolCalls) > 0 && last.Error == nil {
			rec.StepLimit = true
		}
		steps = append(steps, last)
	}
	rec.Steps = steps
	rec.ToolCalls = nil
	var usage journal.Usage
	var cost, e2e float64
	hasUsage, hasCost, estimated, allE2E, allCached := false, false, false, true, true
	attempts := 0
	for i := range steps {
		st := &steps[i]
		rec.ToolCalls = append(rec.ToolCalls, st.ToolCalls...)
		if u := st.Usage; u != nil {
			hasUsage = true
			usage.Prompt += u.Prompt
			usage.Completion += u.Completion
			usage.Total += u.Total
			usage.Thinking += u.Thinking
		}
		if st.Cost != nil {
			hasCost = true
			cost += *st.Cost
			estimated = estimated || st.CostEstimated
		}
		if st.Timings.E2E != nil {
			e2e += *st.Timings.E2E
		} else {
			allE2E = false
		}
		allCached = allCached && st.Cached
		attempts += st.Attempts
	}
	rec.Usage, rec.Cost, rec.CostEstimated = nil, nil, false
	if hasUsage {
		rec.Usage = &usage
	}
	if hasCost {
		rec.Cost, rec.CostEstimated = &cost, estimated
	}
	rec.Attempts = attempts
	// A loop replayed from the run's own step cache was paid for by an
	// earlier invocation: only --cache makes a sample free.
	rec.Cached = allCached && len(steps) > 0 && r.cfg.Cache != nil
	rec.Timings.E2E = nil
	if rec.Error == nil && allE2E && len(steps) > 0 {
		rec.Timings.E2E = &e2e
	}
	if len(steps) > 0 {
		rec.Timings.TTFT, rec.Timings.TTFO = steps[0].Timings.TTFT, steps[0].Timings.TTFO
	}
	if n := len(steps); n > 0 && final != nil {
		rec.Text = steps[n-1].Text
	}
}

// agentInvalid says why a trial cannot run as an agent loop ("" = it can).
func agentInvalid(t *eval.Trial) string {
	if n := numberResults(t); n > 1 {
		return fmt.Sprintf("case %q: an agent loop is one conversation per trial; numberResults is %d (use seeds for more samples)", t.CaseID, n)
	}
	return ""
}

// agentNote is the message of an agent trial the run stopped between steps.
func agentNote(j *job) string {
	if len(j.steps) == 0 {
		return ""
	}
	var names []string
	for _, st := range j.steps {
		for _, c := range st.ToolCalls {
			names = append(names, c.Name)
		}
	}
	return fmt.Sprintf(" after %d agent steps (calls: %s); resume replays them from the run's step cache and goes on", len(j.steps), strings.Join(names, ", "))
}
