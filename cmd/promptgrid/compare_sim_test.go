package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/reports"
)

// simRegressionSuite writes a suite of n arithmetic cases over thinkingLevel
// none and high, 3 seeds each, whose simulator script answers correctly with
// probability pNone and pHigh.
func simRegressionSuite(t *testing.T, dir, name string, n int, pNone, pHigh float64) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `name: planted
model: moonshotai:kimi@k2.6
request:
  deliveryMethod: sync
  includeCost: true
  includeUsage: true
  settings: {maxTokens: 4096}
grid:
  settings.thinkingLevel: [none, high]
seeds: {count: 3, base: 11}
cases:
`)
	for i := range n {
		fmt.Fprintf(&b, "  - {id: q%02d, prompt: \"What is %d plus %d?\", checks: [{contains: \"%d\"}]}\n", i, i, 1000, i+1000)
	}
	b.WriteString("sim:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {match: {exact: \"What is %d plus %d?\"}, answer: \"%d\", wrong: [\"%d\"], pCorrect: {none: %g, high: %g}}\n",
			i, 1000, i+1000, i+999, pNone, pHigh)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A 20-point drop in one cell's accuracy, planted in the simulator's script
// between two real runs (same cases, same seeds), is declared a regression of
// that cell only, and compare exits 1; a rerun of the unchanged suite is not.
func TestCompareDetectsRegressionPlantedInSimulator(t *testing.T) {
	dir := t.TempDir()
	baseSuite := simRegressionSuite(t, dir, "base.yaml", 40, 0.7, 0.9)
	headSuite := simRegressionSuite(t, dir, "head.yaml", 40, 0.7, 0.7)
	run := func(suite, out string) { t.Helper(); simRun(t, out, suite) }
	base, same, head := filepath.Join(dir, "base"), filepath.Join(dir, "same"), filepath.Join(dir, "head")
	run(baseSuite, base)
	run(baseSuite, same)
	run(headSuite, head)

	if out, errOut, code := runCLI(t, nil, "compare", base, same); code != exitOK {
		t.Fatalf("compare of two runs of the same suite: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := runCLI(t, nil, "compare", "--format", "json", base, head)
	if code != exitGate {
		t.Fatalf("compare base head: exit %d, want %d (regression)\n%s%s", code, exitGate, out, errOut)
	}
	var c reports.Comparison
	b, err := os.ReadFile(filepath.Join(head, "compare.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]string{}
	for _, d := range c.Cells {
		verdicts[d.Label] = d.Verdict
	}
	want := map[string]string{
		"settings.thinkingLevel=none": reports.VerdictNoChange,
		"settings.thinkingLevel=high": reports.VerdictWorse,
	}
	for label, v := range want {
		if verdicts[label] != v {
			t.Errorf("%s: verdict %q, want %q (all: %v)", label, verdicts[label], v, verdicts)
		}
	}
}
