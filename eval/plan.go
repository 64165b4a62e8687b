package eval

import (
	"iter"
	"math"
	"time"
	"unicode/utf8"
)

// ModelMaxOutputTokens is Kimi K2.6's output limit on Runware (from the
// model list); plan uses it as the output bound of a task without maxTokens.
const ModelMaxOutputTokens = 49152

// TokenEstimateMethod says how plan estimates prompt tokens.
const TokenEstimateMethod = "ceil(characters/4) of the system prompt and of each message, per sample (the simulator counts the same way; tools and formatting are not counted)"

// EstimateTokens estimates the tokens of a text: ceil(characters/4).
func EstimateTokens(s string) int { return (utf8.RuneCountInString(s) + 3) / 4 }

// CellStats are per-sample means measured in a previous run of the suite,
// for one cell and variant (computed by the caller from its journal).
type CellStats struct {
	Samples          int
	CompletionTokens float64 // includes thinking tokens, as the API reports
	ThinkingTokens   float64
	// Latency is the mean end-to-end latency of a task (0 = unknown).
	Latency time.Duration
}

// PlanKey is the key of PlanOptions.Previous for a cell and variant.
func PlanKey(cell, variant string) string { return cell + "\x00" + variant }

// PlanOptions are the inputs of a plan besides the trials.
type PlanOptions struct {
	// Rate (tasks per second, 0 = unlimited) and Concurrency (in flight,
	// must be > 0) are the effective limits of the run.
	Rate        float64
	Concurrency int
	// Previous holds measured means by PlanKey; nil = no previous run.
	Previous map[string]CellStats
}

// PlanRow is the forecast for one cell and variant, or the total.
type PlanRow struct {
	Cell    string `json:"cell"`
	Variant string `json:"variant,omitempty"`
	Trials  int    `json:"trials"`
	// Tasks is one per trial; Requests counts HTTP requests (async delivery
	// needs at least a submit and one poll); retries are not counted.
	Tasks    int `json:"tasks"`
	Requests int `json:"requests"`
	Samples  int `json:"samples"`
	// PromptTokens is the estimate summed over samples; PromptTokensBound
	// its upper bound (TaskBound); MaxOutputTokens bounds output plus
	// thinking tokens (maxTokens per sample).
	PromptTokens      int64 `json:"promptTokens"`
	PromptTokensBound int64 `json:"promptTokensBound"`
	MaxOutputTokens   int64 `json:"maxOutputTokens"`
	// CostLow prices the prompt estimate only; CostHigh is the sum of the
	// tasks' TaskBound costs: the prompt bound at the input price plus
	// MaxOutputTokens at the higher of the output and thinking prices, the
	// same bound the runner reserves against --max-cost.
	CostLow  float64 `json:"costLow"`
	CostHigh float64 `json:"costHigh"`
	// Expected figures come from a previous run; nil = unknown.
	ExpectedOutputTokens *float64 `json:"expectedOutputTokens"`
	ExpectedCost         *float64 `json:"expectedCost"`
	MeanLatency          *float64 `json:"meanLatencySeconds,omitempty"`
	// busy is Σ tasks × mean latency, for the duration forecast.
	busy float64
}

// Plan is the forecast of a suite's run, computed without calling the API.
type Plan struct {
	Suite string    `json:"suite"`
	Rows  []PlanRow `json:"rows"`
	Total PlanRow   `json:"total"`
	// Pricing is the price table the plan used, with the effective thinking
	// price filled in: a table without one (Thinking 0) prices thinking tokens
	// as output, and Pricing.Thinking then says so in numbers.
	Pricing Pricing `json:"pricing"`
	// ThinkingPricedAsOutput is true when the price table gives no thinking
	// price and Pricing.Thinking was copied from Pricing.Output.
	ThinkingPricedAsOutput bool `json:"thinkingPricedAsOutput"`
	// PricingSource is "suite" or "built-in (Kimi K2.6)".
	PricingSource string `json:"pricingSource"`
	TokenMethod   string `json:"tokenEstimate"`
	// MaxTokensAssumed is true when some task has no settings.maxTokens and
	// ModelMaxOutputTokens bounds it instead.
	MaxTokensAssumed bool `json:"maxTokensAssumed"`
	// MediaTrials counts the trials that send images or videos, whose
	// tokens and cost the plan does not estimate.
	MediaTrials int `json:"mediaTrials,omitempty"`
	// AgentTrials counts the trials of agent cases: each may make up to
	// its maxSteps requests, and their bounds count that many requests of
	// the first one's size (later steps' prompts also carry the answers
	// and tool results before them, which no bound knows in advance).
	AgentTrials int     `json:"agentTrials,omitempty"`
	Rate        float64 `json:"rate"`
	Concurrency int     `json:"concurrency"`
	// MinDuration is the bound set by the rate limit alone (0 without a
	// rate); ExpectedDuration also uses the previous run's mean latency
	// under the concurrency cap (nil = unknown).
	MinDuration      float64  `json:"minDurationSeconds"`
	ExpectedDuration *float64 `json:"expectedDurationSeconds"`
}

// MakePlanSeq forecasts requests, tokens, cost and duration of running a
// stream of trials (from ExpandSeq) of suite s, without holding them in
// memory. It stops at the
// stream's first error.
func MakePlanSeq(s *Suite, trials iter.Seq2[Trial, error], opt PlanOptions) (Plan, error) {
	p := Plan{Suite: s.Name, Pricing: DefaultPricing, PricingSource: "built-in (Kimi K2.6)", TokenMethod: TokenEstimateMethod,
		Rate: opt.Rate, Concurrency: opt.Concurrency}
	if s.Pricing != nil {
		p.Pricing, p.PricingSource = *s.Pricing, "suite"
	}
	if p.Pricing.Thinking == 0 {
		p.Pricing.Thinking, p.ThinkingPricedAsOutput = p.Pricing.Output, true
	}
	thinkPrice := p.Pricing.Thinking

	rows := map[string]*PlanRow{}
	var order []string
	for t, err := range trials {
		if err != nil {
			return Plan{}, err
		}
		k := PlanKey(t.Cell, t.Variant)
		r, ok := rows[k]
		if !ok {
			r = &PlanRow{Cell: t.Cell, Variant: t.Variant}
			rows[k] = r
			order = append(order, k)
		}
		n := max(t.NumberResults, 1)
		steps := 1
		if t.Case != nil && t.Case.Agent != nil {
			steps = t.Case.Agent.MaxSteps
			p.AgentTrials++
		}
		r.Trials++
		r.Tasks++
		r.Requests += steps * requestsPerTask(t.Request)
		r.Samples += n
		if hasMedia(t.Request) {
			p.MediaTrials++
		}
		b := boundRequest(t.Request, n)
		r.PromptTokens += int64(n * b.PromptEstimate)
		r.PromptTokensBound += int64(steps * n * b.PromptTokens)
		if b.OutputAssumed {
			p.MaxTokensAssumed = true
		}
		r.MaxOutputTokens += int64(steps * n * b.OutputTokens)
		r.CostHigh += float64(steps) * b.Cost(p.Pricing)
	}
	total := PlanRow{Cell: "total"}
	expectedKnown, latencyKnown := opt.Previous != nil && len(order) > 0, opt.Previous != nil && len(order) > 0
	var expTokens, expCost float64
	for _, k := range order {
		r := rows[k]
		r.CostLow = float64(r.PromptTokens) * p.Pricing.Input / 1e6
		if st, ok := opt.Previous[k]; ok && st.Samples > 0 {
			out := st.CompletionTokens * float64(r.Samples)
			visible := math.Max(st.CompletionTokens-st.ThinkingTokens, 0)
			cost := r.CostLow + float64(r.Samples)*(visible*p.Pricing.Output+st.ThinkingTokens*thinkPrice)/1e6
			r.ExpectedOutputTokens, r.ExpectedCost = &out, &cost
			expTokens += out
			expCost += cost
			if st.Latency > 0 {
				lat := st.Latency.Seconds()
				r.MeanLatency = &lat
				r.busy = float64(r.Tasks) * lat
			} else {
				latencyKnown = false
			}
		} else {
			expectedKnown, latencyKnown = false, false
		}
		total.Trials += r.Trials
		total.Tasks += r.Tasks
		total.Requests += r.Requests
		total.Samples += r.Samples
		total.PromptTokens += r.PromptTokens
		total.PromptTokensBound += r.PromptTokensBound
		total.MaxOutputTokens += r.MaxOutputTokens
		total.CostLow += r.CostLow
		total.CostHigh += r.CostHigh
		total.busy += r.busy
		p.Rows = append(p.Rows, *r)
	}
	if expectedKnown {
		total.ExpectedOutputTokens, total.ExpectedCost = &expTokens, &expCost
	}
	p.Total = total
	if opt.Rate > 0 {
		p.MinDuration = float64(total.Tasks) / opt.Rate
	}
	if latencyKnown && opt.Concurrency > 0 {
		d := math.Max(p.MinDuration, total.busy/float64(opt.Concurrency))
		p.ExpectedDuration = &d
	}
	return p, nil
}

// requestsPerTask is 1 for sync and stream delivery and at least 2 for
// async (submit, then poll getResponse).
func requestsPerTask(req map[string]any) int {
	if req["deliveryMethod"] == "async" {
		return 2
	}
	return 1
}

// maxTokens returns settings.maxTokens, or the model maximum and false.
func maxTokens(req map[string]any) (int, bool) {
	if st, ok := req["settings"].(map[string]any); ok {
		switch v := st["maxTokens"].(type) {
		case int64:
			return int(v), true
		case float64:
			return int(v), true
		}
	}
	return ModelMaxOutputTokens, false
}
