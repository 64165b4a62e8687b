package runner

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/promptgrid/promptgrid/eval"
)

// plan's "cost high" and the budget's reservation are one bound: the sum of
// the runner's upper bounds over a suite's trials equals plan's total, for
// tasks with and without maxTokens (the model's output limit then stands
// in, never a smaller guess).
func TestPlanAndBudgetShareOneBound(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "suite.yaml")
	src := `name: bound
model: moonshotai:kimi@k2.6
systemPrompt: "Réponds en français."
variants:
  - {name: capped, request: {settings: {maxTokens: 64}}}
  - {name: open}
seeds: {count: 2}
numberResults: 3
cases:
  - {id: a, prompt: "Quelle est la capitale de la France ?"}
  - {id: b, prompt: "東京は日本の首都ですか？"}
  - id: c
    messages:
      - {role: user, content: "What is the weather in Tokyo?"}
      - {role: assistant, tools: [{id: call-1, name: get_weather, input: {city: Tokyo, units: [c, f]}}]}
      - {role: tool, id: call-1, content: "22°C"}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.LoadWithOptions(path, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := eval.MakePlanSeq(s, eval.ExpandSeq(s), eval.PlanOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	sum, unbounded := 0.0, 0
	for tr, err := range eval.ExpandSeq(s) {
		if err != nil {
			t.Fatal(err)
		}
		task, err := buildTask(&tr)
		if err != nil {
			t.Fatal(err)
		}
		sum += upperBound(&task, plan.Pricing)
		if task.Settings == nil || task.Settings.MaxTokens == nil {
			unbounded++
			if b := taskBound(&task); b.OutputTokens != eval.ModelMaxOutputTokens {
				t.Errorf("a task without maxTokens is bounded at %d output tokens, want the model's %d", b.OutputTokens, eval.ModelMaxOutputTokens)
			}
		}
	}
	if unbounded == 0 {
		t.Fatal("the grid has no task without maxTokens")
	}
	if math.Abs(sum-plan.Total.CostHigh) > 1e-12 {
		t.Errorf("budget bounds sum to %v, plan's cost high is %v: want one bound", sum, plan.Total.CostHigh)
	}
}
