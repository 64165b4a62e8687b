package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// TestPilotTQuantile checks eval's t quantile (eval cannot import reports)
// against the reports package's reference implementation.
func TestPilotTQuantile(t *testing.T) {
	for _, df := range []float64{1, 1.3, 2, 2.5, 3, 4.7, 7, 10, 15.5, 29, 30, 31.2, 50, 100, 1000, 1e6} {
		got, want := eval.TQuantile975(df), reports.StudentTQuantile(0.975, df)
		if math.Abs(got-want) > 1e-6*want {
			t.Errorf("TQuantile975(%g) = %.8f, reports.StudentTQuantile = %.8f", df, got, want)
		}
	}
}

// pilotSuite writes a suite of 4 thinking levels × cases × seeds trials.
func pilotSuite(t *testing.T, dir string, cases, seeds int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `name: pilot-acceptance
model: moonshotai:kimi@k2.6
request:
  includeCost: true
  includeUsage: true
  settings: {maxTokens: 4096}
grid:
  settings.thinkingLevel: [none, low, medium, high]
seeds: {count: %d, base: 11}
limits: {maxCost: 50}
cases:
`, seeds)
	for i := range cases {
		fmt.Fprintf(&b, "  - id: c%d\n    prompt: Question number %d, answer in one word%s.\n    checks: [{wordCount: {max: 400}}]\n", i, i, strings.Repeat(" please", i))
	}
	p := filepath.Join(dir, "suite.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pilotJSON runs plan --pilot with args and decodes its JSON report.
func pilotJSON(t *testing.T, env map[string]string, args ...string) pilotReportJSON {
	t.Helper()
	out, errOut, code := runCLI(t, env, append([]string{"plan", "--format", "json", "--quiet"}, args...)...)
	if code != exitOK {
		t.Fatalf("plan %v: exit %d\n%s", args, code, errOut)
	}
	var reps []pilotReportJSON
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 1 {
		t.Fatalf("plan %v: %v\n%s", args, err, out)
	}
	return reps[0]
}

// pilotReportJSON is the part of plan --pilot's JSON the tests read.
type pilotReportJSON struct {
	Pilot struct {
		Trials int    `json:"trials"`
		Dir    string `json:"dir"`
		Cache  string `json:"cache"`
	} `json:"pilot"`
	Forecast struct {
		Cells []struct {
			Trials, Piloted int
		} `json:"cells"`
		Total struct {
			Trials int `json:"trials"`
			Cost   struct {
				Mean      float64
				Low, High *float64
			} `json:"cost"`
		} `json:"total"`
	} `json:"forecast"`
	ExceedProbability *float64 `json:"exceedProbability"`
	FullRun           string   `json:"fullRunCommand"`
}

// journalCost sums the cost of a run directory's journal; trialKeys lists
// its trials.
func journalCost(t *testing.T, dir string) (float64, []string) {
	t.Helper()
	var cost float64
	seen := map[string]bool{}
	var keys []string
	for _, r := range readRecords(t, dir) {
		if r.Cost != nil {
			cost += *r.Cost
		}
		if !seen[r.TrialKey] {
			seen[r.TrialKey] = true
			keys = append(keys, r.TrialKey)
		}
	}
	slices.Sort(keys)
	return cost, keys
}

// TestPilotCacheSavesExactlyThePilot runs a pilot against a simulator
// started by the test, then the printed full-run command against the same
// simulator: the full run sends exactly (suite trials − pilot trials) tasks,
// where a run without the cache sends them all.
func TestPilotCacheSavesExactlyThePilot(t *testing.T) {
	dir := t.TempDir()
	suite := pilotSuite(t, dir, 3, 5) // 4 × 3 × 5 = 60 trials
	srv := runwaretest.NewServer(runwaretest.Options{})
	defer srv.Close()
	env := map[string]string{"RUNWARE_API_KEY": "test-key-0123456789abcdef"}
	pilotDir := filepath.Join(dir, "pilot")
	rep := pilotJSON(t, env, "--pilot", "10", "--seed", "5", "--endpoint", srv.URL(), "--out", pilotDir, suite)
	if got := srv.Stats().Tasks; got != 10 || rep.Pilot.Trials != 10 {
		t.Fatalf("pilot sent %d tasks, reported %d trials; want 10", got, rep.Pilot.Trials)
	}
	for i, c := range rep.Forecast.Cells {
		if c.Piloted < 1 {
			t.Errorf("cell %d not piloted: %+v", i, c)
		}
	}
	wantCmd := "promptgrid run " + suite + " --cache " + filepath.Join(pilotDir, "cache") + " --endpoint " + srv.URL()
	if rep.FullRun != wantCmd || rep.Pilot.Cache != filepath.Join(pilotDir, "cache") {
		t.Fatalf("full-run command %q, want %q", rep.FullRun, wantCmd)
	}
	if strings.Contains(rep.FullRun, env["RUNWARE_API_KEY"]) {
		t.Fatal("the command carries the API key")
	}
	// The printed command, as the user would run it.
	args := strings.Fields(rep.FullRun)[1:]
	before := srv.Stats().Tasks
	if _, errOut, code := runCLI(t, env, append(args, "--quiet", "--out", filepath.Join(dir, "full"))...); code != exitOK {
		t.Fatalf("full run: exit %d\n%s", code, errOut)
	}
	if got := srv.Stats().Tasks - before; got != 60-10 {
		t.Errorf("full run with the pilot's cache sent %d tasks, want 50", got)
	}
	cached := 0
	for _, r := range readRecords(t, filepath.Join(dir, "full")) {
		if r.Cached {
			cached++
		}
	}
	if cached != 10 {
		t.Errorf("%d cached samples in the full run, want 10", cached)
	}
	// Control: without the cache every trial is sent.
	before = srv.Stats().Tasks
	if _, errOut, code := runCLI(t, env, "run", suite, "--endpoint", srv.URL(), "--quiet", "--out", filepath.Join(dir, "nocache")); code != exitOK {
		t.Fatalf("run without cache: exit %d\n%s", code, errOut)
	}
	if got := srv.Stats().Tasks - before; got != 60 {
		t.Errorf("run without the cache sent %d tasks, want 60", got)
	}
}

// TestPilotCoverage is the acceptance test of issue 15: on the simulator,
// the 95% interval of a 5% pilot contains the full run's actual cost in at
// least 90% of 30 pilots with different seeds. The suite has 320 trials
// over four thinking levels, whose costs differ by orders of magnitude.
func TestPilotCoverage(t *testing.T) {
	dir := t.TempDir()
	suite := pilotSuite(t, dir, 4, 20) // 4 × 4 × 20 = 320 trials
	full := filepath.Join(dir, "full")
	simRun(t, full, suite)
	truth, allKeys := journalCost(t, full)
	if len(allKeys) != 320 {
		t.Fatalf("full run has %d trials, want 320", len(allKeys))
	}
	const reps = 30
	covered := 0
	var widths []float64
	var firstKeys []string
	for seed := range reps {
		out := filepath.Join(dir, fmt.Sprintf("pilot-%d", seed))
		rep := pilotJSON(t, nil, "--pilot", "5%", "--seed", fmt.Sprint(seed), "--sim", "--sim-time-scale", "0", "--out", out, suite)
		if rep.Pilot.Trials != 16 || rep.Forecast.Total.Trials != 320 {
			t.Fatalf("seed %d: pilot of %d trials of %d, want 16 of 320", seed, rep.Pilot.Trials, rep.Forecast.Total.Trials)
		}
		for i, c := range rep.Forecast.Cells {
			if c.Piloted != 4 {
				t.Fatalf("seed %d: cell %d piloted %d times, want 4", seed, i, c.Piloted)
			}
		}
		c := rep.Forecast.Total.Cost
		if c.Low == nil || c.High == nil {
			t.Fatalf("seed %d: no interval: %+v", seed, c)
		}
		// The pilot's answers are the full run's (the simulator is
		// deterministic per request): its spend is part of the truth.
		spent, keys := journalCost(t, out)
		if spent > truth {
			t.Fatalf("seed %d: pilot spent %g, more than the full run's %g", seed, spent, truth)
		}
		if seed == 0 {
			firstKeys = keys
		}
		if seed == 1 && slices.Equal(keys, firstKeys) {
			t.Errorf("seeds 0 and 1 piloted the same trials")
		}
		if *c.Low <= truth && truth <= *c.High {
			covered++
		}
		widths = append(widths, (*c.High-*c.Low)/truth)
	}
	// The same seed picks the same trials.
	again := filepath.Join(dir, "pilot-0-again")
	pilotJSON(t, nil, "--pilot", "5%", "--seed", "0", "--sim", "--sim-time-scale", "0", "--out", again, suite)
	if _, keys := journalCost(t, again); !slices.Equal(keys, firstKeys) {
		t.Errorf("seed 0 twice piloted different trials")
	}
	slices.Sort(widths)
	t.Logf("full run cost $%.4f; covered in %d of %d pilots; median interval width %.0f%% of the cost", truth, covered, reps, 100*widths[reps/2])
	if covered < reps*9/10 {
		t.Errorf("the 95%% interval contained the full run's cost in %d of %d pilots, want at least 27 (90%%)", covered, reps)
	}
	// Not vacuous: the intervals are far narrower than the hard bounds.
	if widths[reps/2] > 0.6 {
		t.Errorf("median interval width %.0f%% of the cost: too wide to mean anything", 100*widths[reps/2])
	}
}
