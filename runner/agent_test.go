package runner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// agentSuite is a support agent: find_order, then order_status and
// carrier_eta in parallel, then an answer quoting the results.
const agentSuite = `name: agent
model: moonshotai:kimi@k2.6
request:
  includeUsage: true
  includeCost: true
  settings: {maxTokens: 64}
  tools:
    - {type: function, name: find_order, schema: {type: object}}
    - {type: function, name: order_status, schema: {type: object}}
    - {type: function, name: carrier_eta, schema: {type: object}}
agent:
  maxSteps: MAXSTEPS
  tools:
    find_order:
      - arguments: {customer: c-17}
        result: {order: o-9}
    order_status:
      - arguments: {order: o-9}
        result: in transit
    carrier_eta:
      - {arguments: {order: o-9}, result: "Friday"}
cases:
  - id: eta
    prompt: "I'm c-17: where is my order?"
    checks:
      - trajectory: [find_order, order_status, carrier_eta]
      - contains: Friday
`

const agentScenario = `[{"name": "eta", "match": {"contains": "where is my order"},
  "steps": [
    {"toolCall": {"name": "find_order", "arguments": {"customer": "c-17"}}},
    {"toolCalls": [{"name": "order_status", "arguments": {"order": "o-9"}}, {"name": "carrier_eta", "arguments": {"order": "o-9"}}]},
    {"answer": "Status: {results}."}
  ]}]`

// agentTrials loads the agent suite with maxSteps and expands it.
func agentTrials(t *testing.T, maxSteps string) []eval.Trial {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(agentSuite, "MAXSTEPS", maxSteps, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var trials []eval.Trial
	for tr, err := range eval.ExpandSeq(s) {
		if err != nil {
			t.Fatal(err)
		}
		trials = append(trials, tr)
	}
	return trials
}

// firstStepBudget is a --max-cost with room for the first step's bound and
// not for the second's: it is larger (a longer conversation), and the first
// step's cost is spent by then.
func firstStepBudget(t *testing.T, tr *eval.Trial, p eval.Pricing) float64 {
	t.Helper()
	task, err := buildTask(tr)
	if err != nil {
		t.Fatal(err)
	}
	return upperBound(&task, p) + 1e-9
}

func agentHarness(t *testing.T) *harness {
	var sc []runwaretest.Scenario
	if err := json.Unmarshal([]byte(agentScenario), &sc); err != nil {
		t.Fatal(err)
	}
	return newHarness(t, runwaretest.Options{Scenarios: sc})
}

// TestAgentLoopAnswersToolsUntilTheModelAnswers protects the loop: each
// step's calls get the script's results in Runware's native tool messages
// (the model's answer quotes them, so they arrived), and the one sample
// records every step with usage, cost and latency summed over them.
func TestAgentLoopAnswersToolsUntilTheModelAnswers(t *testing.T) {
	h := agentHarness(t)
	_, recs := h.run(context.Background(), h.config(), agentTrials(t, "5"))
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1 sample", len(recs))
	}
	r := recs[0]
	if r.Error != nil || len(r.Steps) != 3 || r.StepLimit {
		t.Fatalf("record error %v, %d steps, stepLimit %v; want 3 steps ending in an answer", r.Error, len(r.Steps), r.StepLimit)
	}
	if got := h.sim.Stats().Requests; got != 3 {
		t.Fatalf("simulator saw %d requests, want one per step (3)", got)
	}
	if r.Text != `Status: {"order":"o-9"}; in transit; Friday.` || !r.Pass {
		t.Fatalf("answer %q pass %v (checks %+v); want the scripted results quoted", r.Text, r.Pass, r.Checks)
	}
	var names []string
	for _, c := range r.ToolCalls {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "find_order,order_status,carrier_eta" {
		t.Fatalf("trajectory %v", names)
	}
	if res := r.Steps[1].ToolResults; len(res) != 2 || res[0].Content != "in transit" || res[1].Content != "Friday" || res[0].ID != r.Steps[1].ToolCalls[0].ID {
		t.Fatalf("step 2 tool results %+v", res)
	}
	var prompt, completion int
	var cost, e2e float64
	attempts := 0
	for _, st := range r.Steps {
		prompt += st.Usage.Prompt
		completion += st.Usage.Completion
		cost += *st.Cost
		e2e += *st.Timings.E2E
		attempts += st.Attempts
	}
	if r.Usage.Prompt != prompt || r.Usage.Completion != completion || *r.Cost != cost || *r.Timings.E2E != e2e || r.Attempts != attempts || attempts != 3 {
		t.Fatalf("sample usage %+v cost %v e2e %v attempts %d; want the steps' sums %d/%d, %v, %v, %d",
			r.Usage, *r.Cost, *r.Timings.E2E, r.Attempts, prompt, completion, cost, e2e, attempts)
	}
	if r.Steps[1].Usage.Prompt <= r.Steps[0].Usage.Prompt || r.Steps[0].RequestHash != r.RequestHash || r.Steps[1].RequestHash == r.RequestHash {
		t.Fatalf("step 2 should send a longer conversation under its own request hash: %+v", r.Steps)
	}
}

// TestAgentLoopStopsAtMaxSteps protects the step limit: the loop ends after
// maxSteps requests with the last calls unanswered, marked StepLimit.
func TestAgentLoopStopsAtMaxSteps(t *testing.T) {
	h := agentHarness(t)
	_, recs := h.run(context.Background(), h.config(), agentTrials(t, "2"))
	r := recs[0]
	if len(r.Steps) != 2 || !r.StepLimit || h.sim.Stats().Requests != 2 || r.Pass {
		t.Fatalf("%d steps, stepLimit %v, %d requests, pass %v; want 2, true, 2, false", len(r.Steps), r.StepLimit, h.sim.Stats().Requests, r.Pass)
	}
	if len(r.ToolCalls) != 3 || len(r.Steps[1].ToolResults) != 0 {
		t.Fatalf("trajectory %+v, last step results %+v: want the last step's calls recorded, unanswered", r.ToolCalls, r.Steps[1].ToolResults)
	}
}

// TestAgentStepsComeFromTheCache protects the response cache per step: a
// second run makes no request and replays every step, marked cached.
func TestAgentStepsComeFromTheCache(t *testing.T) {
	h := agentHarness(t)
	cache, err := OpenCache(t.TempDir(), "sim")
	if err != nil {
		t.Fatal(err)
	}
	cfg := h.config()
	cfg.Cache = cache
	_, first := h.run(context.Background(), cfg, agentTrials(t, "5"))
	h.dir = t.TempDir()
	_, second := h.run(context.Background(), cfg, agentTrials(t, "5"))
	if got := h.sim.Stats().Requests; got != 3 {
		t.Fatalf("%d requests over both runs, want 3 (the second from the cache)", got)
	}
	r := second[0]
	if !r.Cached || len(r.Steps) != 3 || r.Text != first[0].Text || !r.Pass {
		t.Fatalf("cached sample %+v; want the first run's 3 steps and answer", r)
	}
	for _, st := range r.Steps {
		if !st.Cached {
			t.Fatalf("step %+v not marked cached", st)
		}
	}
}

// TestAgentLoopStopsWithinTheBudget protects --max-cost across steps: each
// step reserves its own bound, and a loop whose next step does not fit
// stops the run and is journaled interrupted with the steps it made.
func TestAgentLoopStopsWithinTheBudget(t *testing.T) {
	h := agentHarness(t)
	trials := agentTrials(t, "5")
	cfg := h.config()
	cfg.MaxCost = firstStepBudget(t, &trials[0], cfg.Pricing)
	res, recs := h.run(context.Background(), cfg, trials)
	if res.StopReason != journal.StopBudget || h.sim.Stats().Requests != 1 {
		t.Fatalf("stop %q after %d requests; want budget after 1", res.StopReason, h.sim.Stats().Requests)
	}
	r := recs[0]
	if r.Error == nil || r.Error.Class != "interrupted" || len(r.Steps) != 1 || !strings.Contains(r.Error.Message, "after 1 agent steps") {
		t.Fatalf("record %+v; want interrupted with its one step", r)
	}
	if res.Spent > cfg.MaxCost {
		t.Fatalf("spent %v past the cap %v", res.Spent, cfg.MaxCost)
	}
}

// TestAgentResumeNeverRecoversAStepByUUID protects resume: an async agent
// step in flight when the run died is not asked for by its taskUUID (the
// loop's earlier steps are not journaled); the trial runs again, marked
// resent, and the step's bound counts as spent.
func TestAgentResumeNeverRecoversAStepByUUID(t *testing.T) {
	dir := t.TempDir()
	w, err := journal.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	log, err := journal.OpenAttempts(dir)
	if err != nil {
		t.Fatal(err)
	}
	plain := journal.Attempt{TrialKey: "plain", TaskUUID: "u1", Delivery: runware.DeliveryAsync, Bound: 0.5}
	agent := journal.Attempt{TrialKey: "loop", TaskUUID: "u2", Delivery: runware.DeliveryAsync, Bound: 0.25, Agent: true}
	if err := log.Sent(plain, agent); err != nil {
		t.Fatal(err)
	}
	log.Close()
	res, err := ReadResumption(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recover["plain"].TaskUUID != "u1" || res.Recover["loop"].TaskUUID != "u2" || res.Resent != 1 || res.PriorSpent != 0.25 {
		t.Fatalf("recover %+v, resent %d, prior %v; want the plain task recovered, the agent step resent at its bound", res.Recover, res.Resent, res.PriorSpent)
	}
	trials := agentTrials(t, "5")
	r := &run{cfg: Config{Recover: map[string]journal.Attempt{trials[0].Key: agent}}}
	if j := r.newJob(&trials[0], trials[0].Key); j.recoverUUID != "" || !j.resent {
		t.Fatalf("agent job recoverUUID %q resent %v; want sent again, marked resent", j.recoverUUID, j.resent)
	}
}

// TestBudgetStepsDoNotWaitForEachOther protects budget.step from a
// deadlock: two loops each waiting for room the other holds both give up
// (the run then stops on its budget) instead of waiting forever.
func TestBudgetStepsDoNotWaitForEachOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBudget(1.0, 0)
		for range 2 {
			if ok, _ := b.reserve(context.Background(), 0.4); !ok {
				t.Fatal("reserve refused")
			}
		}
		got := make(chan bool, 2)
		for range 2 {
			go func() {
				ok, _ := b.step(context.Background(), 0.4, 0.3, 0.5)
				got <- ok
			}()
		}
		if <-got || <-got {
			t.Fatal("a step fit that cannot: 0.6 spent + 0.5 > 1.0")
		}
		if b.inflight != 0 || b.reserved > 1e-9 || b.reserved < -1e-9 {
			t.Fatalf("inflight %d reserved %v after both gave up", b.inflight, b.reserved)
		}
	})
}

// TestAgentStepGivesCallsUniqueIDs protects the pairing of results with
// calls: a call without an id, or reusing one, gets a fresh id, and each
// tool message answers its call's id with the script's result.
func TestAgentStepGivesCallsUniqueIDs(t *testing.T) {
	trials := agentTrials(t, "5")
	r := &run{cfg: Config{Pricing: eval.DefaultPricing}}
	j := r.newJob(&trials[0], trials[0].Key)
	calls := func(ids ...string) *runware.Response {
		res := runware.Result{FinishReason: "tool_calls"}
		for _, id := range ids {
			res.ToolCalls = append(res.ToolCalls, runware.ToolCall{ID: id, Name: "order_status", Arguments: json.RawMessage(`"{\"order\":\"o-9\"}"`)})
		}
		return &runware.Response{Results: []runware.Result{res}}
	}
	r.agentStep(j, calls("a", "a"), false)
	r.agentStep(j, calls("", "a"), false)
	seen := map[string]bool{}
	for _, st := range j.steps {
		for k, c := range st.ToolCalls {
			if seen[c.ID] || c.ID == "" || st.ToolResults[k].ID != c.ID || st.ToolResults[k].Content != "in transit" {
				t.Fatalf("call %+v result %+v (ids so far %v)", c, st.ToolResults[k], seen)
			}
			seen[c.ID] = true
		}
	}
	msgs := j.task.Messages
	if len(msgs) != 1+2*3 || msgs[1].Role != "assistant" || string(msgs[1].Tools[0].Input) != `{"order":"o-9"}` || msgs[2].Role != "tool" || msgs[2].ID != msgs[1].Tools[0].ID {
		t.Fatalf("conversation %+v", msgs)
	}
}

// TestAgentLoopReplaysPaidStepsOnResume protects resume of a loop stopped
// between steps: the run's step cache (StepCache, RUN_DIR/agent-steps)
// replays the steps already paid for, so only the rest is sent.
func TestAgentLoopReplaysPaidStepsOnResume(t *testing.T) {
	h := agentHarness(t)
	trials := agentTrials(t, "5")
	cfg := h.config()
	cfg.StepCache = LazyCache(filepath.Join(t.TempDir(), AgentStepsDir), "sim")
	cfg.MaxCost = firstStepBudget(t, &trials[0], cfg.Pricing)
	if res, _ := h.run(context.Background(), cfg, trials); res.StopReason != journal.StopBudget {
		t.Fatalf("first invocation stopped %q, want budget", res.StopReason)
	}
	cfg.MaxCost = 0
	h.dir = t.TempDir()
	_, recs := h.run(context.Background(), cfg, trials)
	r := recs[0]
	if got := h.sim.Stats().Requests; got != 3 {
		t.Fatalf("%d requests over both invocations, want 3 (step 1 once)", got)
	}
	if len(r.Steps) != 3 || !r.Steps[0].Cached || r.Steps[1].Cached || r.Cached || !r.Pass {
		t.Fatalf("steps %+v cached %v pass %v; want step 1 replayed, the rest sent", r.Steps, r.Cached, r.Pass)
	}
}

// TestAgentLoopOverEveryTransport protects the loop over the
// OpenAI-compatible endpoint (calls and results as tool_calls and role tool
// messages) and the WebSocket (sync and async delivery): the answer quotes
// the scripted results, so they arrived.
func TestAgentLoopOverEveryTransport(t *testing.T) {
	const key = "ws-test-key-0123456789abcdef"
	for _, tc := range []struct{ transport, delivery string }{
		{"openai", "sync"}, {"websocket", "sync"}, {"websocket", "async"},
	} {
		t.Run(tc.transport+"-"+tc.delivery, func(t *testing.T) {
			var sc []runwaretest.Scenario
			if err := json.Unmarshal([]byte(agentScenario), &sc); err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, runwaretest.Options{APIKeys: []string{key}, Scenarios: sc})
			cfg := h.config()
			cfg.API = runware.NewClient(key, runware.WithEndpoint(h.sim.URL()), runware.WithHTTPClient(h.sim.Client()))
			ws, err := runware.NewWS(key, h.sim.URL(), runware.WithPollInterval(time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			cfg.WS, cfg.Transport = ws, tc.transport
			trials := agentTrials(t, "5")
			trials[0].Request["deliveryMethod"] = tc.delivery
			_, recs := h.run(context.Background(), cfg, trials)
			r := recs[0]
			if r.Error != nil || len(r.Steps) != 3 || r.Transport != tc.transport || r.Delivery != tc.delivery || r.Text != `Status: {"order":"o-9"}; in transit; Friday.` {
				t.Fatalf("record error %v, %d steps, transport %q, text %q", r.Error, len(r.Steps), r.Transport, r.Text)
			}
		})
	}
}
