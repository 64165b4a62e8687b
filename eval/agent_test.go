package eval

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestAgentLoadsAtSuiteAndCase protects agent: at suite level (every
// case's default, templated with each case's vars) and at case level
// (replacing the suite's), and maxSteps' default.
func TestAgentLoadsAtSuiteAndCase(t *testing.T) {
	p := writeSuite(t, `name: ag
model: moonshotai:kimi@k2.6
agent:
  tools:
    lookup:
      - arguments: {id: "{{.id}}"}
        result: {found: "{{.name}}"}
      - error: not found
cases:
  - id: a
    vars: {id: "7", name: Ada}
    prompt: find 7
  - id: b
    prompt: hello
    agent:
      maxSteps: 2
      tools:
        echo: [{result: ok}]
`)
	s := mustLoad(t, p)
	a, b := s.Cases[0].Agent, s.Cases[1].Agent
	if a == nil || b == nil {
		t.Fatalf("agents = %v, %v; want both set", a, b)
	}
	if a.MaxSteps != DefaultAgentSteps || b.MaxSteps != 2 {
		t.Fatalf("maxSteps = %d, %d; want %d, 2", a.MaxSteps, b.MaxSteps, DefaultAgentSteps)
	}
	if _, ok := b.Tools["lookup"]; ok {
		t.Fatalf("case b's agent kept the suite's tools: %v", b.Tools)
	}
	call := func(name, args string) ToolCall {
		return ToolCall{ID: "c1", Name: name, Arguments: json.RawMessage(args)}
	}
	if got := a.Answer(call("lookup", `{"id": "7"}`)); got.Content != `{"found":"Ada"}` || got.Error || got.Rule != 0 {
		t.Fatalf("templated rule answered %+v", got)
	}
	if got := a.Answer(call("lookup", `{"id": "8"}`)); got.Content != "not found" || !got.Error || got.Rule != 1 {
		t.Fatalf("error rule answered %+v", got)
	}
}

// TestAgentAnswer protects how a scripted tool answers a call: the first
// rule whose arguments (subset) or schema match, a catch-all last, and an
// error result (Rule -1) for an unknown tool or unmatched arguments.
func TestAgentAnswer(t *testing.T) {
	p := writeSuite(t, `name: ag
model: moonshotai:kimi@k2.6
cases:
  - id: a
    prompt: q
    agent:
      maxSteps: 3
      tools:
        weather:
          - arguments: {city: Tokyo}
            result: "22°C"
          - argumentsSchema: {required: [city], properties: {city: {type: string, pattern: "^L"}}}
            result: "rain"
        search:
          - result: [1, 2]
`)
	a := mustLoad(t, p).Cases[0].Agent
	call := func(name, args string) ToolCall {
		return ToolCall{ID: "x", Name: name, Arguments: json.RawMessage(args)}
	}
	for _, row := range []struct {
		name    string
		call    ToolCall
		content string
		err     bool
		rule    int
	}{
		{"arguments subset", call("weather", `{"city":"Tokyo","units":"C"}`), "22°C", false, 0},
		{"arguments as an OpenAI string", call("weather", `"{\"city\":\"Tokyo\"}"`), "22°C", false, 0},
		{"schema", call("weather", `{"city":"Lima"}`), "rain", false, 1},
		{"no rule matches", call("weather", `{"city":"Oslo"}`), `error: weather has no result for the arguments "{\"city\":\"Oslo\"}"`, true, -1},
		{"catch-all, JSON result", call("search", `{}`), "[1,2]", false, 0},
		{"unknown tool", call("fly", `{}`), `error: no tool named "fly" (this agent's tools: search, weather)`, true, -1},
	} {
		got := a.Answer(row.call)
		if got.Content != row.content || got.Error != row.err || got.Rule != row.rule || got.ID != "x" || got.Name != row.call.Name {
			t.Errorf("%s: got %+v, want content %q error %v rule %d", row.name, got, row.content, row.err, row.rule)
		}
	}
}

// TestAgentProblems protects the agent's load errors, each at its node.
func TestAgentProblems(t *testing.T) {
	p := writeSuite(t, `name: bad
model: moonshotai:kimi@k2.6
numberResults: 2
cases:
  - id: a
    prompt: q
    agent:
      tool: {}
  - id: b
    prompt: q
    agent:
      maxSteps: 2
      tools:
        "bad name": [{result: x}]
        f:
          - result: any
          - arguments: {a: 1}
            result: never
        g:
          - {arguments: {a: 1}, result: x, error: y}
          - {arguments: 3, result: x}
          - {arguments: {a: 2}}
        h: []
  - id: c
    prompt: q
    agent: {maxSteps: 0, tools: {f: [{result: x}]}}
  - id: d
    prompt: q
    agent: {tools: {f: [{result: x}]}}
`)
	got := loadErr(t, p, LoadOptions{})
	for _, want := range []string{
		p + `:26:23: agent maxSteps must be between 1 and 64; got 0`,
		p + `:8:7: unknown agent option "tool" (did you mean "tools"?)`,
		p + `:14:9: agent tool name "bad name" is not a tool name`,
		p + `:17:13: this rule of tool f is never used: the rule at line 16 has no arguments and answers every call (put it last)`,
		p + `:20:51: a rule answers with result or error, not both`,
		p + `:21:25: rule arguments takes a mapping of expected arguments, got an integer`,
		p + `:22:13: a rule needs result (what the tool returns) or error (how it fails)`,
		p + `:23:12: agent tool h takes a non-empty list of rules`,
		p + `:29:12: case "d": an agent loop is one conversation per trial, so numberResults must be 1 (the suite sets more); use seeds for more samples`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// TestTrajectoryCheck protects trajectory: expected calls as an ordered
// subsequence by default, in any order (each matched by its own call),
// and with only: no other calls.
func TestTrajectoryCheck(t *testing.T) {
	call := func(name, args string) ToolCall {
		return ToolCall{ID: "c", Name: name, Arguments: json.RawMessage(args)}
	}
	traj := Sample{ToolCalls: []ToolCall{call("find", `{"q":"a"}`), call("log", `{}`), call("get", `{"id":1}`), call("get", `{"id":2}`)}}
	rows := []checkRow{
		{name: "ordered subsequence", check: "trajectory: [find, {name: get, arguments: {id: 2}}]", sample: traj, pass: true},
		{name: "ordered, out of order", check: "trajectory: [{name: get, arguments: {id: 2}}, find]", sample: traj,
			reason: `expected call 2 of 2, toolCall "find", after the ones before it; the calls were find("{\"q\":\"a\"}"), log("{}"), get("{\"id\":1}"), get("{\"id\":2}")`},
		{name: "any order", check: "trajectory: {calls: [{name: get, arguments: {id: 2}}, find], ordered: false}", sample: traj, pass: true},
		// Greedy would give the first expected get the id-1 call... and
		// the matching must then move it: each expected call its own.
		{name: "any order needs a matching", check: "trajectory: {calls: [get, {name: get, arguments: {id: 1}}], ordered: false}", sample: traj, pass: true},
		{name: "any order, one call for two", check: "trajectory: {calls: [find, {name: find, arguments: {q: a}}], ordered: false}", sample: traj,
			reason: `expected toolCall "find" with {"q":"a"} among the calls (each expected call matched by a different call); the calls were find("{\"q\":\"a\"}"), log("{}"), get("{\"id\":1}"), get("{\"id\":2}")`},
		{name: "only, extra calls", check: "trajectory: {calls: [find, get, get], only: true}", sample: traj,
			reason: `expected exactly 3 tool calls; got 4: find("{\"q\":\"a\"}"), log("{}"), get("{\"id\":1}"), get("{\"id\":2}")`},
		{name: "only, exact", check: "trajectory: {calls: [find, log, get, get], only: true}", sample: traj, pass: true},
		{name: "only, none expected", check: "trajectory: {calls: [], only: true}", sample: Sample{Text: "hi"}, pass: true},
		{name: "no calls", check: "trajectory: [find]", sample: Sample{Text: "hi"},
			reason: `expected call 1 of 1, toolCall "find", after the ones before it; the calls were none`},
	}
	runRows(t, context.Background(), rows)
}

// TestStepsCheck protects steps: the number of model requests, exactly or
// within bounds, with the step limit named when it was hit.
func TestStepsCheck(t *testing.T) {
	rows := []checkRow{
		{name: "exact", check: "steps: 3", sample: Sample{Steps: 3}, pass: true},
		{name: "max", check: "steps: {max: 2}", sample: Sample{Steps: 3, StepLimit: true},
			reason: "expected at most 2 model requests; the sample made 3 and stopped at the agent's maxSteps without a final answer"},
		{name: "min", check: "steps: {min: 2}", sample: Sample{},
			reason: "expected at least 2 model requests; the sample made 1"},
		{name: "range", check: "steps: {min: 2, max: 4}", sample: Sample{Steps: 4}, pass: true},
	}
	runRows(t, context.Background(), rows)
}

// TestPlanCountsAgentSteps protects plan's bound for agent cases: maxSteps
// requests each.
func TestPlanCountsAgentSteps(t *testing.T) {
	src := `name: ag
model: moonshotai:kimi@k2.6
request: {settings: {maxTokens: 100}}
cases:
  - id: a
    prompt: q
AGENT`
	plain := mustLoad(t, writeSuite(t, strings.Replace(src, "AGENT", "", 1)))
	agent := mustLoad(t, writeSuite(t, strings.Replace(src, "AGENT", "    agent: {maxSteps: 4, tools: {f: [{result: x}]}}\n", 1)))
	pp, err := MakePlanSeq(plain, ExpandSeq(plain), PlanOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := MakePlanSeq(agent, ExpandSeq(agent), PlanOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if pa.Total.Requests != 4*pp.Total.Requests || pa.Total.MaxOutputTokens != 4*pp.Total.MaxOutputTokens || pa.AgentTrials != 1 || pp.AgentTrials != 0 {
		t.Fatalf("agent plan %+v vs plain %+v: want 4× requests and output bound", pa.Total, pp.Total)
	}
	if d := pa.Total.CostHigh - 4*pp.Total.CostHigh; d > 1e-12 || d < -1e-12 {
		t.Fatalf("cost high %v, want 4 × %v", pa.Total.CostHigh, pp.Total.CostHigh)
	}
}
