package eval

import (
	"math"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestPlanFigures checks every plan figure against values computed by hand.
//
// System prompt "Be brief." (9 chars) = 3 tokens, prompt "What is 2+2?"
// (12 chars) = 3 tokens: 6 prompt tokens per sample. Per cell: 1 case × 2
// seeds = 2 trials, × numberResults 3 = 6 samples, 36 prompt tokens, 600
// output tokens at most (maxTokens 100). Prices 1 / 2 / 3 USD per 1M. The
// prompt's bound (TaskBound) is its bytes plus 8 per message: 9+8 + 12+8 =
// 37 per sample, 222 per cell.
func TestPlanFigures(t *testing.T) {
	s := mustLoad(t, writeSuite(t, `name: p
model: m
systemPrompt: Be brief.
request: {settings: {maxTokens: 100}}
grid: {settings.thinkingLevel: [none, high]}
seeds: {count: 2}
numberResults: 3
pricing: {input: 1, output: 2, thinking: 3}
cases: [{id: a, prompt: "What is 2+2?"}]
`))
	trials, err := Expand(s)
	if err != nil {
		t.Fatal(err)
	}
	prev := map[string]CellStats{
		PlanKey("settings.thinkingLevel=none", ""): {Samples: 6, CompletionTokens: 10, ThinkingTokens: 0, Latency: 2 * time.Second},
		PlanKey("settings.thinkingLevel=high", ""): {Samples: 6, CompletionTokens: 110, ThinkingTokens: 100, Latency: 4 * time.Second},
	}
	p := MakePlan(s, trials, PlanOptions{Rate: 1, Concurrency: 1, Previous: prev})
	if p.PricingSource != "suite" || p.MaxTokensAssumed {
		t.Errorf("pricing source %q, maxTokens assumed %v", p.PricingSource, p.MaxTokensAssumed)
	}
	// A suite's own thinking price is kept as given.
	if p.Pricing.Thinking != 3 || p.ThinkingPricedAsOutput {
		t.Errorf("thinking price %v (as output %v), want the suite's 3", p.Pricing.Thinking, p.ThinkingPricedAsOutput)
	}
	if len(p.Rows) != 2 {
		t.Fatalf("%d rows", len(p.Rows))
	}
	for _, r := range p.Rows {
		if r.Trials != 2 || r.Tasks != 2 || r.Requests != 2 || r.Samples != 6 || r.PromptTokens != 36 || r.PromptTokensBound != 222 || r.MaxOutputTokens != 600 {
			t.Errorf("%s: %+v", r.Cell, r)
		}
		// low: 36 × 1 / 1e6; high: (222 × 1 + 600 × max(2, 3)) / 1e6
		if !near(r.CostLow, 0.000036) || !near(r.CostHigh, 0.002022) {
			t.Errorf("%s: cost %g..%g", r.Cell, r.CostLow, r.CostHigh)
		}
	}
	// none: 0.000036 + 6 × (10 × 2) / 1e6 = 0.000156
	// high: 0.000036 + 6 × (10 × 2 + 100 × 3) / 1e6 = 0.001956
	if c := p.Rows[0].ExpectedCost; c == nil || !near(*c, 0.000156) {
		t.Errorf("none expected cost %v", c)
	}
	if c := p.Rows[1].ExpectedCost; c == nil || !near(*c, 0.001956) {
		t.Errorf("high expected cost %v", c)
	}
	tot := p.Total
	if tot.Samples != 12 || tot.PromptTokens != 72 || tot.MaxOutputTokens != 1200 || !near(tot.CostHigh, 0.004044) {
		t.Errorf("total %+v", tot)
	}
	if tot.ExpectedCost == nil || !near(*tot.ExpectedCost, 0.002112) || *tot.ExpectedOutputTokens != 720 {
		t.Errorf("total expected %v tokens %v", tot.ExpectedCost, tot.ExpectedOutputTokens)
	}
	// 4 tasks at 1/s: at least 4 s; busy time 2×2 s + 2×4 s = 12 s on one slot.
	if p.MinDuration != 4 || p.ExpectedDuration == nil || *p.ExpectedDuration != 12 {
		t.Errorf("duration min %v expected %v", p.MinDuration, p.ExpectedDuration)
	}
}

// TestPlanDefaults checks the built-in Kimi K2.6 prices, the model maximum
// as output bound without maxTokens, async requests, and unknown expected
// figures without a previous run.
func TestPlanDefaults(t *testing.T) {
	s := mustLoad(t, writeSuite(t, "name: p\nmodel: m\nrequest: {deliveryMethod: async}\ncases: [{id: a, prompt: abcdefgh}]\n"))
	trials, err := Expand(s)
	if err != nil {
		t.Fatal(err)
	}
	p := MakePlan(s, trials, PlanOptions{Concurrency: 8})
	r := p.Total
	if p.PricingSource != "built-in (Kimi K2.6)" || !p.MaxTokensAssumed {
		t.Errorf("source %q assumed %v", p.PricingSource, p.MaxTokensAssumed)
	}
	// The built-in table has no thinking price: the plan states the price it
	// used (output's 4.20), not 0, and says where it came from.
	if p.Pricing.Thinking != 4.20 || !p.ThinkingPricedAsOutput {
		t.Errorf("thinking price %v (as output %v), want 4.20 taken from output", p.Pricing.Thinking, p.ThinkingPricedAsOutput)
	}
	// 8 chars = 2 prompt tokens, 2 × 0.90 / 1e6; bound 8+8 bytes, so
	// high = 16 × 0.90 / 1e6 + 49152 × 4.20 / 1e6.
	if r.Requests != 2 || r.PromptTokens != 2 || r.MaxOutputTokens != 49152 || !near(r.CostLow, 1.8e-6) || !near(r.CostHigh, 1.44e-5+0.2064384) {
		t.Errorf("total %+v", r)
	}
	if r.ExpectedCost != nil || p.ExpectedDuration != nil || p.MinDuration != 0 {
		t.Errorf("expected figures should be unknown: %v %v %v", r.ExpectedCost, p.ExpectedDuration, p.MinDuration)
	}
}
