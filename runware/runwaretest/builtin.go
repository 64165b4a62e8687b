package runwaretest

import "strings"

// Built-in tools. Runware documents tools of type "search" and
// "codeInterpreter" as executed server-side by the provider: no call
// reaches the client, and no response field reports the run. The simulator
// imitates that with a scripted result, which enlarges the prompt, delays
// the first token and decides the answer's correctness; how is its own
// choice (docs/simulator.md).

// SearchSpec scripts the built-in search tool for a scenario.
type SearchSpec struct {
	// Query is what the model searches for; it documents the scenario and
	// is not sent (Runware documents no field for it).
	Query string `json:"query,omitempty"`
	// Result is what the search returns: it counts as prompt tokens and
	// "{result}" in the answer stands for it.
	Result string `json:"result,omitempty"`
	// PCorrect is, per thinkingLevel, the probability that the answer is
	// right after the search, instead of the scenario's; nil means always.
	PCorrect map[string]float64 `json:"pCorrect,omitempty"`
	// Latency is the time the search takes before the first token, in
	// milliseconds; zero takes 400 ± 100.
	Latency Dist `json:"latency,omitempty"`
}

// CodeInterpreterSpec scripts the built-in codeInterpreter tool for a
// scenario.
type CodeInterpreterSpec struct {
	// Code is what the model runs; it documents the scenario and is not
	// sent (Runware documents no field for it).
	Code string `json:"code,omitempty"`
	// Output is what the run prints: it counts as prompt tokens and
	// "{result}" in the answer stands for it.
	Output string `json:"output,omitempty"`
	// PCorrect is, per thinkingLevel, the probability that the answer is
	// right after the run, instead of the scenario's; nil means always.
	PCorrect map[string]float64 `json:"pCorrect,omitempty"`
	// Latency is the time the run takes before the first token, in
	// milliseconds; zero takes 250 ± 60.
	Latency Dist `json:"latency,omitempty"`
}

// Default latencies of the built-in tools, in milliseconds.
var (
	defaultSearchLatency = Dist{Mean: 400, SD: 100}
	defaultCodeLatency   = Dist{Mean: 250, SD: 60}
)

// builtin is one built-in tool run of a result.
type builtin struct {
	kind     string // the tool type, also the latency draw's purpose
	output   string
	pCorrect map[string]float64
	latency  Dist
}

// builtins are the built-in tool runs of a result, search first.
type builtins []builtin

// builtinsRun lists the built-in tools task t offers that scenario sc
// scripts, unless toolChoice is "none". They run only when the model
// answers in text: a turn with function calls does not use them.
func builtinsRun(t *textTask, sc *compiledScenario) builtins {
	if sc == nil || toolChoiceType(t) == "none" {
		return nil
	}
	var out builtins
	if s := sc.Search; s != nil && offeredType(t, "search") {
		out = append(out, builtin{"search", s.Result, s.PCorrect, orDist(s.Latency, defaultSearchLatency)})
	}
	if c := sc.CodeInterpreter; c != nil && offeredType(t, "codeInterpreter") {
		out = append(out, builtin{"codeInterpreter", c.Output, c.PCorrect, orDist(c.Latency, defaultCodeLatency)})
	}
	return out
}

func orDist(d, def Dist) Dist {
	if d.isZero() {
		return def
	}
	return d
}

// apply adds the runs' outputs to g's prompt tokens and their latency to
// its time to first token.
func (b builtins) apply(full, seed uint64, g *generation) {
	for _, r := range b {
		g.PromptTokens += CountTokens(r.output)
		g.TTFT += msDuration(r.latency.draw(newRand(full, seed, r.kind)))
	}
}

// promptTokens are the tokens the runs add to the prompt.
func (b builtins) promptTokens() int {
	n := 0
	for _, r := range b {
		n += CountTokens(r.output)
	}
	return n
}

// pCorrect is the probability of a right answer after the runs at level
// lv: the product of theirs (each 1 when absent), as each must go right.
func (b builtins) pCorrect(lv string) float64 {
	p := 1.0
	for _, r := range b {
		p *= probability(r.pCorrect, lv)
	}
	return p
}

// output is what "{result}" stands for: the runs' outputs joined by "; ".
func (b builtins) output() string {
	outs := make([]string, len(b))
	for i, r := range b {
		outs[i] = r.output
	}
	return strings.Join(outs, "; ")
}

// checkBuiltins reports an unusable search or codeInterpreter field.
func checkBuiltins(label string, s Scenario) error {
	if s.Search != nil {
		if err := checkPCorrect(label, "search.pCorrect", s.Search.PCorrect); err != nil {
			return err
		}
	}
	if s.CodeInterpreter != nil {
		if err := checkPCorrect(label, "codeInterpreter.pCorrect", s.CodeInterpreter.PCorrect); err != nil {
			return err
		}
	}
	return nil
}
