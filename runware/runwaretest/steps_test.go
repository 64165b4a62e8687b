package runwaretest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// agentTask is a task asking prompt at a thinking level and seed, offering
// the named function tools.
func agentTask(prompt, level string, seed uint64, tools ...string) *textTask {
	t := &textTask{Messages: []runware.Message{{Role: "user", Content: prompt}}, Thinking: level, Seed: seed, NumberResults: 1}
	for _, n := range tools {
		t.Tools = append(t.Tools, runware.Tool{Type: "function", Name: n})
	}
	return t
}

// runAgent plays the client's agent loop on t: while the model calls
// tools, the calls and result(call) for each go back as messages. It
// returns the generation of every turn.
func runAgent(t *testing.T, h *Handler, task *textTask, result func(genToolCall) string) []*generation {
	t.Helper()
	var gens []*generation
	for range 10 {
		g := h.generate(task, 0)
		gens = append(gens, g)
		if len(g.ToolCalls) == 0 {
			return gens
		}
		am := runware.Message{Role: "assistant"}
		for _, tc := range g.ToolCalls {
			am.Tools = append(am.Tools, runware.MessageTool{ID: tc.ID, Name: tc.Name, Input: tc.Arguments})
		}
		task.Messages = append(task.Messages, am)
		for _, tc := range g.ToolCalls {
			task.Messages = append(task.Messages, runware.Message{Role: "tool", ID: tc.ID, Content: result(tc)})
		}
	}
	t.Fatal("the agent never answered in text")
	return nil
}

func newTestHandler(t *testing.T, scs ...Scenario) *Handler {
	t.Helper()
	h := NewHandler(Options{Scenarios: scs})
	t.Cleanup(h.Close)
	return h
}

func call(name, args string) *ToolCallSpec {
	return &ToolCallSpec{Name: name, Arguments: json.RawMessage(args)}
}

// echoResult answers a call with its name and arguments.
func echoResult(tc genToolCall) string { return tc.Name + string(tc.Arguments) }

// The point of steps: a thinking level that skips the lookup answers
// wrong at once (a premature answer from wrong), one that takes the step
// calls the tool and answers from its result; a scripted wrong action
// replaces the call instead (here: the lookup with the wrong argument).
func TestStepsThinkingLevelDifference(t *testing.T) {
	sc := Scenario{Match: Match{Contains: "price"}, AfterTool: "It costs {result}.", Wrong: []string{"It costs $5."},
		Steps: []Step{{ToolCall: call("lookup_price", `{"sku":"A1"}`), PCorrect: map[string]float64{"none": 0, "high": 1}}}}
	h := newTestHandler(t, sc)
	price := func(tc genToolCall) string {
		return map[string]string{`{"sku":"A1"}`: "$12", `{"sku":"B2"}`: "$40"}[string(tc.Arguments)]
	}
	for seed := range uint64(20) {
		none := runAgent(t, h, agentTask("What is the price?", "none", seed, "lookup_price"), price)
		if len(none) != 1 || none[0].Text != "It costs $5." || *none[0].Correct {
			t.Fatalf("seed %d, none: %d turns, %q", seed, len(none), none[len(none)-1].Text)
		}
		high := runAgent(t, h, agentTask("What is the price?", "high", seed, "lookup_price"), price)
		if len(high) != 2 || high[0].ToolCalls[0].Name != "lookup_price" || high[1].Text != "It costs $12." || !*high[1].Correct {
			t.Fatalf("seed %d, high: %d turns, %q", seed, len(high), high[len(high)-1].Text)
		}
	}
	sc.Steps[0].Wrong = &StepAction{ToolCall: call("lookup_price", `{"sku":"B2"}`)}
	h = newTestHandler(t, sc)
	none := runAgent(t, h, agentTask("What is the price?", "none", 1, "lookup_price"), price)
	if len(none) != 2 || string(none[0].ToolCalls[0].Arguments) != `{"sku":"B2"}` || none[1].Text != "It costs $40." {
		t.Fatalf("scripted wrong action: %d turns, %q", len(none), none[len(none)-1].Text)
	}
}

// Determinism across levels: every draw depends on the base conversation,
// the seed and the turn only, so at a fixed seed a step (or the final
// answer) that is right at a level is right at every level with a higher
// pCorrect, even when a wrong earlier step made the conversation differ
// (wrong calls here have other arguments, hence other tool results).
func TestStepsHigherPCorrectNeverTurnsRightWrong(t *testing.T) {
	p := map[string]float64{"none": 0.1, "low": 0.3, "medium": 0.5, "high": 0.7, "xhigh": 0.9}
	var steps []Step
	for k := range 3 {
		steps = append(steps, Step{ToolCall: call("look", fmt.Sprintf(`{"step":%d}`, k)), PCorrect: p,
			Wrong: &StepAction{ToolCall: call("look", fmt.Sprintf(`{"step":%d,"sloppy":true}`, k))}})
	}
	h := newTestHandler(t, Scenario{Match: Match{Contains: "plan"}, Answer: "done", PCorrect: p, Steps: steps})
	differ := 0
	for seed := range uint64(300) {
		var prev []bool
		for _, lv := range thinkingLevels {
			gens := runAgent(t, h, agentTask("make a plan", lv, seed, "look"), echoResult)
			if len(gens) != 4 {
				t.Fatalf("seed %d %s: %d turns, want 3 steps and an answer", seed, lv, len(gens))
			}
			var right []bool
			for _, g := range gens {
				right = append(right, *g.Correct)
			}
			for k := range right {
				if prev != nil && prev[k] && !right[k] {
					t.Fatalf("seed %d: turn %d right at a level below %s, wrong at %s", seed, k, lv, lv)
				}
				if prev != nil && prev[k] != right[k] {
					differ++
				}
			}
			prev = right
		}
	}
	if differ == 0 {
		t.Fatal("no turn differs between levels: the test proves nothing")
	}
}

// Parallel calls: one result carries every call of the step, with
// distinct ids, finishReason tool_calls and their tokens as completion
// tokens, natively (sync: a toolCalls array; stream: one toolCalls delta
// per call) and on the chat endpoint (tool_calls with two entries; stream
// deltas indexed 0 and 1).
func TestStepsParallelCalls(t *testing.T) {
	sc := Scenario{Match: Match{Contains: "compare"}, Answer: "x", Steps: []Step{{ToolCalls: []ToolCallSpec{
		*call("get_weather", `{"city": "Oslo"}`), *call("get_weather", `{"city": "Rome"}`)}}}}
	s := newTestServer(t, Options{Scenarios: []Scenario{sc}})
	tools := with("tools", []any{map[string]any{"type": "function", "name": "get_weather"}})
	d := syncResults(t, s, task("compare Oslo and Rome", tools, with("includeUsage", true)))[0]
	calls, _ := d["toolCalls"].([]any)
	if len(calls) != 2 || d["finishReason"] != "tool_calls" || d["text"] != "" {
		t.Fatalf("sync result %v", d)
	}
	a, b := calls[0].(map[string]any), calls[1].(map[string]any)
	if a["id"] == b["id"] || fmt.Sprint(a["arguments"]) != "map[city:Oslo]" || fmt.Sprint(b["arguments"]) != "map[city:Rome]" {
		t.Fatalf("calls %v", calls)
	}
	want := 2 * CountTokens(`get_weather{"city":"Oslo"}`)
	if u := d["usage"].(map[string]any); u["completionTokens"] != float64(want) {
		t.Fatalf("usage %v, want %d completion tokens", u, want)
	}

	r := post(t, s.URL(), testKey, []any{task("compare Oslo and Rome", tools, with("deliveryMethod", "stream"))})
	var ids []string
	for _, ev := range sseEvents(t, r.body) {
		var c struct {
			Delta struct {
				ToolCalls []toolCallJSON `json:"toolCalls"`
			} `json:"delta"`
		}
		json.Unmarshal([]byte(ev), &c)
		for _, tc := range c.Delta.ToolCalls {
			ids = append(ids, tc.ID)
		}
	}
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("stream call ids %v", ids)
	}

	body := chatMsgs(map[string]any{"role": "user", "content": "compare Oslo and Rome"})
	body["tools"] = weatherTools
	var c chatResp
	json.Unmarshal(post(t, chatURL(s), testKey, body).body, &c)
	if tc := c.Choices[0].Message.ToolCalls; len(tc) != 2 || tc[0].ID == tc[1].ID || tc[1].Function.Arguments != `{"city":"Rome"}` || c.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("chat %+v", c)
	}
	body["stream"] = true
	var index []int
	for _, ev := range sseEvents(t, post(t, chatURL(s), testKey, body).body) {
		var ch struct {
			Choices []struct {
				Delta struct {
					ToolCalls []chatToolCall `json:"tool_calls"`
				} `json:"delta"`
			} `json:"choices"`
		}
		json.Unmarshal([]byte(ev), &ch)
		for _, c := range ch.Choices {
			for _, tc := range c.Delta.ToolCalls {
				index = append(index, *tc.Index)
			}
		}
	}
	if fmt.Sprint(index) != "[0 1]" {
		t.Fatalf("chat stream tool call indexes %v, want [0 1]", index)
	}
}

// {result} is the last tool message's content and {results} every tool
// content since the last user message, joined with "; ", in step answers
// and afterTool alike; earlier exchanges do not count.
func TestStepsResultPlaceholders(t *testing.T) {
	sc := Scenario{Match: Match{Contains: "go"}, Answer: "a", AfterTool: "after: {result} / {results}",
		Steps: []Step{{ToolCalls: []ToolCallSpec{*call("f", ""), *call("g", "")}}, {Answer: "step: {result} / {results}"}}}
	h := newTestHandler(t, sc)
	gens := runAgent(t, h, agentTask("go", "low", 3, "f", "g"), echoResult)
	if got := gens[len(gens)-1].Text; got != "step: g{} / f{}; g{}" {
		t.Fatalf("step answer %q", got)
	}
	// After an earlier exchange, only the tool messages after the last user
	// message count; with no step left, afterTool answers.
	sc.Steps = sc.Steps[:1]
	h = newTestHandler(t, sc)
	task := agentTask("go", "low", 3, "f", "g")
	task.Messages = []runware.Message{{Role: "user", Content: "go"},
		{Role: "assistant", Tools: []runware.MessageTool{{ID: "old", Name: "f", Input: json.RawMessage(`{}`)}}},
		{Role: "tool", ID: "old", Content: "stale"}, {Role: "user", Content: "go again"}}
	gens = runAgent(t, h, task, echoResult)
	if got := gens[len(gens)-1].Text; got != "after: g{} / f{}; g{}" {
		t.Fatalf("afterTool %q", got)
	}
}

// A step calls only the function tools the task offers, and none under
// toolChoice "none": then the model answers as when the steps are done
// (the scenario's answer, with its pCorrect). Under toolChoice "tool" the
// forced tool is called even at an answer step.
func TestStepsCallsNeedOfferedTools(t *testing.T) {
	sc := Scenario{Match: Match{Contains: "q"}, Answer: "from memory", Steps: []Step{
		{ToolCalls: []ToolCallSpec{*call("f", `{"a":1}`), *call("g", "")}}, {Answer: "from tools"}}}
	h := newTestHandler(t, sc)
	if g := h.generate(agentTask("q", "low", 1), 0); g.Text != "from memory" {
		t.Fatalf("no tools: %+v", g)
	}
	tk := agentTask("q", "low", 1, "f", "g")
	tk.ToolChoice = &runware.ToolChoice{Type: "none"}
	if g := h.generate(tk, 0); g.Text != "from memory" || len(g.ToolCalls) != 0 {
		t.Fatalf("toolChoice none: %+v", g)
	}
	if g := h.generate(agentTask("q", "low", 1, "g"), 0); len(g.ToolCalls) != 1 || g.ToolCalls[0].Name != "g" {
		t.Fatalf("only g offered: %+v", g.ToolCalls)
	}
	tk = agentTask("q", "low", 1, "f", "g")
	tk.ToolChoice = &runware.ToolChoice{Type: "tool", Name: "g"}
	gens := runAgent(t, h, tk, echoResult)
	if len(gens) != 3 || gens[1].ToolCalls[0].Name != "g" || gens[2].Text != "from memory" {
		t.Fatalf("forced g: %d turns, last %+v", len(gens), gens[len(gens)-1])
	}
}

// Invalid steps are refused with their path.
func TestCheckScenariosSteps(t *testing.T) {
	for _, tc := range []struct {
		steps []Step
		other func(*Scenario)
		want  string
	}{
		{[]Step{{}}, nil, "steps[0] needs exactly one of toolCall, toolCalls"},
		{[]Step{{Answer: "a", ToolCall: call("f", "")}}, nil, "steps[0] needs exactly one"},
		{[]Step{{Answer: "a"}, {ToolCalls: []ToolCallSpec{*call("f", ""), *call("bad name", "")}}}, nil, `steps[1].toolCalls[1].name "bad name" is not a valid tool name`},
		{[]Step{{ToolCall: call("f", `[1]`)}}, nil, "steps[0].toolCall.arguments must be a JSON object"},
		{[]Step{{Answer: "a", PCorrect: map[string]float64{"high": 2}}}, nil, "steps[0].pCorrect[high] = 2 is not a probability"},
		{[]Step{{Answer: "a", PCorrect: map[string]float64{"max": 1}}}, nil, `steps[0].pCorrect: unknown thinking level "max"`},
		{[]Step{{Answer: "a", Wrong: &StepAction{}}}, nil, "steps[0].wrong needs exactly one"},
		{[]Step{{Answer: "a"}}, func(s *Scenario) { s.ToolCall = call("f", "") }, "toolCall and steps exclude each other"},
		{nil, func(s *Scenario) { s.Search = &SearchSpec{PCorrect: map[string]float64{"low": -1}} }, "search.pCorrect[low] = -1"},
		{nil, func(s *Scenario) { s.CodeInterpreter = &CodeInterpreterSpec{PCorrect: map[string]float64{"x": 1}} }, `codeInterpreter.pCorrect: unknown thinking level "x"`},
	} {
		sc := Scenario{Name: "s", Steps: tc.steps}
		if tc.other != nil {
			tc.other(&sc)
		}
		err := CheckScenarios([]Scenario{sc})
		if err == nil || !strings.Contains(err.Error(), "scenario 1 (s): "+tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// The built-in search runs server-side when offered: no call reaches the
// client, its result counts as prompt tokens, its latency comes before the
// first token, {result} is its result and its pCorrect replaces the
// scenario's. Not offered (or under toolChoice "none"), the scenario is as
// without the field.
func TestSearchOfferedRunsServerSide(t *testing.T) {
	sc := Scenario{Match: Match{Contains: "population"}, Answer: "About {result}.", Wrong: []string{"About 3 million."},
		PCorrect: map[string]float64{"none": 0}, TTFT: map[string]Dist{"none": {Mean: 300}},
		Search: &SearchSpec{Query: "Tokyo population", Result: "14 million", Latency: Dist{Mean: 700}}}
	s := newTestServer(t, Options{Scenarios: []Scenario{sc}})
	prompt := "What is the population of Tokyo?"
	search := []any{map[string]any{"type": "search"}}
	usage := with("includeUsage", true)
	for _, tc := range []struct {
		name   string
		edits  []func(map[string]any)
		text   string
		tokens int
	}{
		{"offered", []func(map[string]any){with("tools", search)}, "About 14 million.", CountTokens(prompt) + CountTokens("14 million")},
		// toolChoice any cannot make a built-in a call: it still runs.
		{"any", []func(map[string]any){with("tools", search), with("toolChoice", map[string]any{"type": "any"})}, "About 14 million.", CountTokens(prompt) + CountTokens("14 million")},
		{"not offered", nil, "About 3 million.", CountTokens(prompt)},
		{"toolChoice none", []func(map[string]any){with("tools", search), with("toolChoice", map[string]any{"type": "none"})}, "About 3 million.", CountTokens(prompt)},
	} {
		d := syncResults(t, s, task(prompt, append(tc.edits, usage, withSetting("thinkingLevel", "none"))...))[0]
		if d["text"] != tc.text || d["toolCalls"] != nil || d["finishReason"] != "stop" {
			t.Errorf("%s: result %v, want %q", tc.name, d, tc.text)
		}
		if got := d["usage"].(map[string]any)["promptTokens"]; got != float64(tc.tokens) {
			t.Errorf("%s: promptTokens %v, want %d", tc.name, got, tc.tokens)
		}
	}

	h := newTestHandler(t, sc)
	tk := agentTask(prompt, "none", 1)
	if g := h.generate(tk, 0); g.TTFT != 300*time.Millisecond {
		t.Fatalf("TTFT without search %v", g.TTFT)
	}
	tk.Tools = []runware.Tool{{Type: "search"}}
	if g := h.generate(tk, 0); g.TTFT != time.Second {
		t.Fatalf("TTFT with search %v, want 300 ms + 700 ms", g.TTFT)
	}
	// The dry-run bound covers the search result's tokens.
	bare := agentTask(prompt, "none", 1)
	bare.MaxTokens = 10
	tk.MaxTokens = 10
	if d := h.costBound(tk) - h.costBound(bare); d <= 0 {
		t.Fatalf("dry-run bound with search is %g higher", d)
	}
}

// codeInterpreter works the same way, with its default latency when none
// is scripted; with search it runs too: {result} joins both outputs and
// the answer is right with the product of their pCorrect.
func TestCodeInterpreterWithSearch(t *testing.T) {
	sc := Scenario{Match: Match{Contains: "sum"}, Answer: "It is {result}.", Wrong: []string{"It is 7."}, TTFT: map[string]Dist{"low": {Mean: 300}},
		CodeInterpreter: &CodeInterpreterSpec{Code: "print(sum(range(10)))", Output: "45", PCorrect: map[string]float64{"low": 0.5}},
		Search:          &SearchSpec{Result: "n=10", PCorrect: map[string]float64{"low": 0.5}, Latency: Dist{Mean: 100}}}
	h := newTestHandler(t, sc)
	right := 0
	for seed := range uint64(400) {
		tk := agentTask("the sum", "low", seed)
		tk.Tools = []runware.Tool{{Type: "codeInterpreter"}}
		g := h.generate(tk, 0)
		if extra := g.TTFT - 300*time.Millisecond; extra <= 0 || extra > time.Second {
			t.Fatalf("codeInterpreter latency %v", extra)
		}
		if g.PromptTokens != CountTokens("the sum")+CountTokens("45") {
			t.Fatalf("prompt tokens %d", g.PromptTokens)
		}
		tk.Tools = append(tk.Tools, runware.Tool{Type: "search"})
		g = h.generate(tk, 0)
		if *g.Correct {
			right++
			if g.Text != "It is n=10; 45." {
				t.Fatalf("both: %q", g.Text)
			}
		}
	}
	if right < 60 || right > 140 { // p = 0.25 of 400
		t.Fatalf("%d of 400 right with both tools, want about 100", right)
	}
}
