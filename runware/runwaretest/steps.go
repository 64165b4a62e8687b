package runwaretest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/promptgrid/promptgrid/runware"
)

// Multi-step (agent) scripting. A scenario's Steps say what the model does
// at each of its turns in a conversation that goes model → tool calls →
// tool results → model, and whether it does it right at a thinking level.
// All of it is the simulator's choice (docs/simulator.md): Runware
// documents tools, not how a model uses them.

// Step is what the model does at one turn of an agent conversation: one
// action (ToolCall, ToolCalls or Answer), taken with probability PCorrect
// at the task's thinking level; otherwise Wrong is taken instead.
type Step struct {
	// ToolCall is a single tool call.
	ToolCall *ToolCallSpec `json:"toolCall,omitempty"`
	// ToolCalls are parallel calls, all in one result.
	ToolCalls []ToolCallSpec `json:"toolCalls,omitempty"`
	// Answer is a final text answer at this turn; "{result}" and
	// "{results}" in it stand for tool results (see Scenario).
	Answer string `json:"answer,omitempty"`
	// PCorrect is, per thinkingLevel, the probability that the step's
	// action is taken; levels as in Scenario.PCorrect; nil means always.
	PCorrect map[string]float64 `json:"pCorrect,omitempty"`
	// Wrong is the action taken when the draw says wrong. Nil means a
	// premature wrong answer: one of the scenario's Wrong texts (the
	// generic wrong text when Wrong is empty).
	Wrong *StepAction `json:"wrong,omitempty"`
}

// StepAction is one action of a step: exactly one of its fields is set.
type StepAction struct {
	// ToolCall is a single tool call.
	ToolCall *ToolCallSpec `json:"toolCall,omitempty"`
	// ToolCalls are parallel calls, all in one result.
	ToolCalls []ToolCallSpec `json:"toolCalls,omitempty"`
	// Answer is a final text answer.
	Answer string `json:"answer,omitempty"`
}

func (s Step) action() StepAction {
	return StepAction{ToolCall: s.ToolCall, ToolCalls: s.ToolCalls, Answer: s.Answer}
}

// calls lists the action's tool calls (none for an answer).
func (a StepAction) calls() []ToolCallSpec {
	if a.ToolCall != nil {
		return []ToolCallSpec{*a.ToolCall}
	}
	return a.ToolCalls
}

// check reports an action that has not exactly one of its fields, or a bad
// call; p is its path ("steps[0]", "steps[0].wrong").
func (a StepAction) check(label, p string) error {
	n := 0
	for _, set := range []bool{a.ToolCall != nil, len(a.ToolCalls) > 0, a.Answer != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s: %s needs exactly one of toolCall, toolCalls (a non-empty list) or answer (a non-empty string)", label, p)
	}
	if a.ToolCall != nil {
		return checkToolCallSpec(label, p+".toolCall", *a.ToolCall)
	}
	for j, tc := range a.ToolCalls {
		if err := checkToolCallSpec(label, fmt.Sprintf("%s.toolCalls[%d]", p, j), tc); err != nil {
			return err
		}
	}
	return nil
}

// checkSteps reports the first unusable step of s.
func checkSteps(label string, s Scenario) error {
	if len(s.Steps) > 0 && s.ToolCall != nil {
		return fmt.Errorf("%s: toolCall and steps exclude each other: make the call steps[0]", label)
	}
	for k, st := range s.Steps {
		p := fmt.Sprintf("steps[%d]", k)
		if err := st.action().check(label, p); err != nil {
			return err
		}
		if err := checkPCorrect(label, p+".pCorrect", st.PCorrect); err != nil {
			return err
		}
		if st.Wrong != nil {
			if err := st.Wrong.check(label, p+".wrong"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkToolCallSpec reports a call whose name is not a tool name or whose
// arguments are not a JSON object; p is its path.
func checkToolCallSpec(label, p string, tc ToolCallSpec) error {
	if !toolNameRe.MatchString(tc.Name) {
		return fmt.Errorf("%s: %s.name %q is not a valid tool name", label, p, tc.Name)
	}
	if len(tc.Arguments) > 0 {
		var m map[string]any
		if err := json.Unmarshal(tc.Arguments, &m); err != nil {
			return fmt.Errorf("%s: %s.arguments must be a JSON object: %w", label, p, err)
		}
	}
	return nil
}

// checkPCorrect reports an unknown thinking level or a value that is not a
// probability in a pCorrect map at path p.
func checkPCorrect(label, p string, m map[string]float64) error {
	for lv, v := range m {
		if !validLevel(lv) {
			return fmt.Errorf("%s: %s: unknown thinking level %q", label, p, lv)
		}
		if v < 0 || v > 1 {
			return fmt.Errorf("%s: %s[%s] = %g is not a probability", label, p, lv, v)
		}
	}
	return nil
}

// probability is the value of a pCorrect map at level lv (nearest listed
// level); a nil map, or one with no level, means 1.
func probability(m map[string]float64, lv string) float64 {
	if v, ok := nearestLevel(m, lv); ok {
		return v
	}
	return 1
}

// agentTurn is k, the model's turn in the current exchange: the number of
// assistant messages carrying tool calls after the last user message.
func agentTurn(msgs []runware.Message) int {
	k := 0
	for i := len(msgs) - 1; i >= 0 && msgs[i].Role != "user"; i-- {
		if msgs[i].Role == "assistant" && len(msgs[i].Tools) > 0 {
			k++
		}
	}
	return k
}

// draw is the uniform draw behind a correctness decision ("step" or
// "answer") at turn k. It is keyed by the base conversation (baseHash: up
// to the last user message), the seed and k only, never by what earlier
// turns called or got back, so that at a fixed seed a higher probability
// never turns a right step wrong, whatever happened before.
func draw(t *textTask, seed uint64, k int, what string) float64 {
	purpose := "correct" // the purpose of the single draw before steps existed
	if what != "answer" || k > 0 {
		purpose = what + "/" + strconv.Itoa(k)
	}
	return newRand(t.baseHash(), seed, purpose).Float64()
}

// respond decides result seed of task t: tool calls, or a text answer
// (scripted when sc is set, generic otherwise). Built-in tools that ran add
// their tokens and latency to g.
func (h *Handler) respond(t *textTask, sc *compiledScenario, full, seed uint64, g *generation) ([]genToolCall, string) {
	if sc == nil {
		if tc := pickToolCall(t, nil); tc != nil {
			return []genToolCall{*tc}, ""
		}
		return nil, genericText(t, newRand(full, seed, "text"))
	}
	ran := builtinsRun(t, sc)
	calls, text := h.scripted(t, sc, ran, full, seed, g)
	if len(calls) > 0 {
		return calls, ""
	}
	ran.apply(full, seed, g)
	return nil, fillResults(text, t.Messages, ran)
}

// scripted is a matched scenario's action at this turn: its step when one
// is left, else its answer. The text keeps its {result} placeholders.
func (h *Handler) scripted(t *textTask, sc *compiledScenario, ran builtins, full, seed uint64, g *generation) ([]genToolCall, string) {
	if len(sc.Steps) == 0 {
		if tc := pickToolCall(t, sc); tc != nil {
			return []genToolCall{*tc}, ""
		}
		return nil, h.finalAnswer(t, sc, ran, agentTurn(t.Messages), full, seed, g)
	}
	k := agentTurn(t.Messages)
	if k >= len(sc.Steps) {
		return nil, h.finalAnswer(t, sc, ran, k, full, seed, g)
	}
	st := sc.Steps[k]
	correct := draw(t, seed, k, "step") < probability(st.PCorrect, t.Thinking)
	g.Correct = &correct
	act := st.action()
	if !correct {
		if st.Wrong != nil {
			act = *st.Wrong
		} else {
			act = StepAction{Answer: wrongText(t, sc, sc.Answer, full, seed)}
		}
	}
	if calls := stepCalls(t, act.calls()); len(calls) > 0 {
		return calls, ""
	}
	if act.Answer != "" {
		return nil, act.Answer
	}
	// The step's tools are not on offer: the model answers from what it has.
	return nil, h.finalAnswer(t, sc, ran, k, full, seed, g)
}

// finalAnswer is the scenario's text answer at turn k: right (afterTool
// after a tool result, else answer) with the probability of the built-in
// tools that ran, or else of the scenario's pCorrect; otherwise wrong.
func (h *Handler) finalAnswer(t *textTask, sc *compiledScenario, ran builtins, k int, full, seed uint64, g *generation) string {
	p := probability(sc.PCorrect, t.Thinking)
	if len(ran) > 0 {
		p = ran.pCorrect(t.Thinking)
	}
	correct := draw(t, seed, k, "answer") < p
	g.Correct = &correct
	answer := scenarioAnswer(t, sc)
	if correct {
		return answer
	}
	return wrongText(t, sc, fillResults(answer, t.Messages, ran), full, seed)
}

// wrongText is a wrong answer: one of the scenario's Wrong texts, or a
// generic one that does not contain the right answer.
func wrongText(t *textTask, sc *compiledScenario, answer string, full, seed uint64) string {
	if len(sc.Wrong) > 0 {
		return sc.Wrong[newRand(full, seed, "wrong").IntN(len(sc.Wrong))]
	}
	for _, w := range []string{"I am not sure about this one.", "I don't know.", "No idea."} {
		if answer == "" || !strings.Contains(strings.ToLower(w), strings.ToLower(answer)) {
			return w
		}
	}
	return "-"
}

// stepCalls are the calls a step makes: those of specs whose function tool
// is offered (only the forced one under toolChoice "tool"); with none, under
// toolChoice "tool" or "any", the forced call as in pickToolCall; never any
// under toolChoice "none".
func stepCalls(t *textTask, specs []ToolCallSpec) []genToolCall {
	choice := toolChoiceType(t)
	if choice == "none" {
		return nil
	}
	var out []genToolCall
	for _, s := range specs {
		if offeredFunction(t, s.Name) && (choice != "tool" || s.Name == t.ToolChoice.Name) {
			out = append(out, genToolCall{Name: s.Name, Arguments: specArguments(s)})
		}
	}
	if len(out) > 0 {
		return out
	}
	if name := forcedTool(t); name != "" {
		return []genToolCall{{Name: name, Arguments: json.RawMessage(`{}`)}}
	}
	return nil
}

// specArguments is a call's compact arguments, {} when it has none (or
// null, as an empty YAML value decodes).
func specArguments(s ToolCallSpec) json.RawMessage {
	if len(s.Arguments) == 0 || string(s.Arguments) == "null" {
		return json.RawMessage(`{}`)
	}
	return compactJSON(s.Arguments)
}

// toolResults are the contents of the tool messages after the last user
// message, in order.
func toolResults(msgs []runware.Message) []string {
	var out []string
	for i := len(msgs) - 1; i >= 0 && msgs[i].Role != "user"; i-- {
		if msgs[i].Role == "tool" {
			out = append(out, msgs[i].Content)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// fillResults replaces "{result}" in a scripted text by the output of the
// built-in tools that ran, else by the content of the last tool message,
// and "{results}" by every tool message's content since the last user
// message, joined with "; ".
func fillResults(text string, msgs []runware.Message, ran builtins) string {
	if !strings.Contains(text, "{result") {
		return text
	}
	res := toolResults(msgs)
	last := ""
	if len(res) > 0 {
		last = res[len(res)-1]
	}
	if len(ran) > 0 {
		last = ran.output()
	}
	return strings.NewReplacer("{result}", last, "{results}", strings.Join(res, "; ")).Replace(text)
}
