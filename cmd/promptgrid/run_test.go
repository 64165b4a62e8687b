package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// runCLI runs the root command with args and env, returning stdout, stderr
// (followed by the error main would print) and the exit code main would use.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	s := &streams{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }}
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		fmt.Fprintln(&errb, "promptgrid:", err)
	}
	return out.String(), errb.String(), exitCode(err)
}

// simRun runs suite on the simulator (no simulated latency) into the run
// directory out, writing summary.json, and fails the test unless it exits 0.
func simRun(t *testing.T, out, suite string) {
	t.Helper()
	if _, errOut, code := runCLI(t, nil, "run", "--sim", "--sim-time-scale", "0", "--quiet", "--format", "json", "--out", out, suite); code != exitOK {
		t.Fatalf("run %s: exit %d\n%s", suite, code, errOut)
	}
}

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitInput
}

// readRecords reads a run directory's journal.
func readRecords(t *testing.T, dir string) []*journal.Record {
	t.Helper()
	var recs []*journal.Record
	if _, err := journal.Read(filepath.Join(dir, journal.JournalFile), func(r *journal.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return recs
}

// expectedSamples is trials x numberResults of a suite file.
func expectedSamples(t *testing.T, path string) int {
	t.Helper()
	s, err := eval.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	trials, err := expandAll(s)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tr := range trials {
		n += max(tr.NumberResults, 1)
	}
	return n
}

const quickstart = "../../suites/quickstart.yaml"

// TestRunQuickstartEndToEnd runs the quickstart suite against the in-process
// simulator through the CLI and reads the journal back: one decodable line
// per sample, every line scored, run.json completed, the table printed.
func TestRunQuickstartEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, errOut, code := runCLI(t, nil, "run", "--sim", "--sim-time-scale", "0", "--quiet", "--out", dir, quickstart)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	recs := readRecords(t, dir)
	if want := expectedSamples(t, quickstart); len(recs) != want || want == 0 {
		t.Fatalf("journal has %d lines, want %d", len(recs), want)
	}
	for _, r := range recs {
		if r.Error != nil || len(r.Checks) == 0 || r.TrialKey == "" || r.Suite != "quickstart" || r.Cost == nil {
			t.Fatalf("incomplete record: %+v", r)
		}
	}
	m, err := journal.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.StopReason != journal.StopCompleted || m.Samples != len(recs) || !m.Simulated {
		t.Fatalf("run.json = %+v", m)
	}
	if !strings.Contains(out, "thinkingLevel") {
		t.Fatalf("report table missing from stdout:\n%s", out)
	}
	// The quickstart's output ends with the choice of a thinking level.
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Recommendation: ") || !strings.Contains(last, "thinkingLevel") {
		t.Fatalf("stdout does not end with the recommendation; last line:\n%s", last)
	}
}

// TestRunNeedsKeyOrSim: without RUNWARE_API_KEY and without --sim the run
// exits 2 and says what to do.
func TestRunNeedsKeyOrSim(t *testing.T) {
	_, errOut, code := runCLI(t, nil, "run", "--out", t.TempDir(), quickstart)
	if code != exitInput {
		t.Fatalf("exit %d, want %d", code, exitInput)
	}
	if !strings.Contains(errOut, "set RUNWARE_API_KEY") || !strings.Contains(errOut, "--sim") {
		t.Fatalf("error %q does not say to set RUNWARE_API_KEY or pass --sim", errOut)
	}
}

// TestRunNeverWritesTheKey: a run against an in-test simulator with a real
// looking key leaves no trace of it in the run directory or the output.
func TestRunNeverWritesTheKey(t *testing.T) {
	const key = "rw-secret-key-0123456789abcdef"
	sim := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{key}})
	defer sim.Close()
	dir := filepath.Join(t.TempDir(), "run")
	out, errOut, code := runCLI(t, map[string]string{"RUNWARE_API_KEY": key},
		"run", "--endpoint", sim.URL(), "--quiet", "--format", "table,json,md", "--out", dir, quickstart)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out+errOut, key) {
		t.Fatal("the API key was printed")
	}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(key)) {
				t.Errorf("%s contains the API key", p)
			}
		}
		return nil
	})
	// A wrong key is a fatal API error: exit 4 with the API's message.
	_, errOut, code = runCLI(t, map[string]string{"RUNWARE_API_KEY": "wrong-key-0123456789abcdef"},
		"run", "--endpoint", sim.URL(), "--quiet", "--out", filepath.Join(t.TempDir(), "r"), quickstart)
	if code != exitAPI {
		t.Fatalf("wrong key: exit %d, want %d (%s)", code, exitAPI, errOut)
	}
}

// TestRunBudgetStop: --max-cost far below the suite's cost stops the run
// with exit 3 and stop reason budget in run.json.
func TestRunBudgetStop(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, code := runCLI(t, nil, "run", "--sim", "--sim-time-scale", "0", "--quiet", "--max-cost", "0.01", "--out", dir, quickstart)
	if code != exitBudget {
		t.Fatalf("exit %d, want %d: %s", code, exitBudget, errOut)
	}
	m, err := journal.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.StopReason != journal.StopBudget {
		t.Fatalf("stop reason %q, want budget", m.StopReason)
	}
	var spent float64
	for _, r := range readRecords(t, dir) {
		spent += *r.Cost
	}
	if spent > 0.01 || m.Samples >= expectedSamples(t, quickstart) {
		t.Fatalf("spent $%.4f on %d samples with --max-cost 0.01", spent, m.Samples)
	}
}

// TestShardAndMerge: three shards merged report exactly like the unsharded
// run (latency aside, which no two runs share).
func TestShardAndMerge(t *testing.T) {
	base := t.TempDir()
	whole := filepath.Join(base, "whole")
	args := []string{"run", "--sim", "--sim-time-scale", "0", "--quiet", "--format", "table,json"}
	if _, e, code := runCLI(t, nil, append(args, "--out", whole, quickstart)...); code != exitOK {
		t.Fatalf("whole run: exit %d: %s", code, e)
	}
	var shards []string
	for i := 1; i <= 3; i++ {
		d := filepath.Join(base, fmt.Sprintf("shard%d", i))
		if _, e, code := runCLI(t, nil, append(args, "--shard", fmt.Sprintf("%d/3", i), "--out", d, quickstart)...); code != exitOK {
			t.Fatalf("shard %d: exit %d: %s", i, code, e)
		}
		shards = append(shards, d)
	}
	merged := filepath.Join(base, "merged")
	if _, e, code := runCLI(t, nil, append([]string{"merge", "--format", "table,json", "--out", merged}, shards...)...); code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, e)
	}
	if diff := gocmp.Diff(reportOf(t, whole), reportOf(t, merged), equateNums); diff != "" {
		t.Fatalf("merged report differs from the unsharded one (-whole +merged):\n%s", diff)
	}
	m, _ := journal.ReadMeta(merged)
	if m.Samples != expectedSamples(t, quickstart) || m.StopReason != journal.StopCompleted || len(m.Merged) != 3 {
		t.Fatalf("merged run.json = %+v", m)
	}
}

// reportOf reads the JSON report the CLI wrote in a run directory, without
// what no two runs share: the run id, latency distributions, and the order
// in which concurrent requests finished (failure examples are sorted).
func reportOf(t *testing.T, dir string) *reports.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, reports.FileNames("json", "")[0]))
	if err != nil {
		t.Fatal(err)
	}
	var sum reports.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	sum.RunID = ""
	cells := append([]*reports.Cell{sum.Total}, sum.Cells...)
	for _, c := range cells {
		c.TTFT, c.TTFO, c.E2E, c.Queue, c.ToSuccess = reports.Dist{}, reports.Dist{}, reports.Dist{}, reports.Dist{}, reports.Dist{}
		for _, pc := range c.PerCase {
			pc.TTFT, pc.TTFO, pc.E2E = reports.Dist{}, reports.Dist{}, reports.Dist{}
			slices.SortFunc(pc.Failures, func(x, y reports.Failure) int {
				return cmp.Or(cmp.Compare(x.Seed, y.Seed), cmp.Compare(x.ResultIndex, y.ResultIndex))
			})
		}
	}
	if sum.Within != nil {
		// A ratio of median latencies: no two runs share it either.
		for _, wc := range sum.Within.Cells {
			wc.LatencyRatio = 0
		}
	}
	return &sum
}

// equateNums compares statistics up to float summation order (1e-5
// relative: the report rounds to 6 significant digits, so one ulp before
// rounding can move the last digit), undefined values equal to each other.
var equateNums = gocmp.Comparer(func(a, b reports.Num) bool {
	if !a.Defined() || !b.Defined() {
		return a.Defined() == b.Defined()
	}
	return math.Abs(float64(a-b)) <= 1e-5*math.Max(1, math.Abs(float64(a)))
})

// expandAll collects a suite's trials.
func expandAll(s *eval.Suite) ([]eval.Trial, error) {
	var out []eval.Trial
	for t, err := range eval.ExpandSeq(s) {
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// The shipped vision suite runs on the simulator and passes: its three cases
// ask the same question, and the simulator tells them apart only by the
// image sent (match: {image: FILE}), so a pass shows the file reached the
// wire as its content.
func TestVisionSuiteAnswersByImage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	simRun(t, dir, "../../suites/vision.yaml")
	for _, r := range readRecords(t, dir) {
		if !r.Pass || len(r.Media) != 1 || !strings.Contains(r.Media[0], "sha256:") {
			t.Errorf("case %s: pass %v text %q media %v", r.CaseID, r.Pass, r.Text, r.Media)
		}
	}
}

// TestAgentToolsSuiteSeparatesThinkingLevels protects the agent demo: every
// sample is a loop of steps whose sums are the sample's cost, and the
// simulator's scripted procedure is followed more often at higher thinking
// levels (high follows it every time).
func TestAgentToolsSuiteSeparatesThinkingLevels(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	simRun(t, dir, "../../suites/agent-tools.yaml")
	pass := map[string]int{}
	for _, r := range readRecords(t, dir) {
		if len(r.Steps) == 0 || r.Cost == nil {
			t.Fatalf("case %s %s: %d steps, cost %v; want an agent loop", r.CaseID, r.Cell, len(r.Steps), r.Cost)
		}
		var cost float64
		for _, st := range r.Steps {
			cost += *st.Cost
		}
		if d := cost - *r.Cost; d > 1e-12 || d < -1e-12 {
			t.Fatalf("case %s: cost %v, steps sum to %v", r.CaseID, *r.Cost, cost)
		}
		if r.Pass {
			pass[r.Cell]++
		}
	}
	// 7 cases x 4 seeds a cell: the procedure is followed more often the
	// more the model thinks, by margins the report's paired test detects.
	none, low, high := pass["settings.thinkingLevel=none"], pass["settings.thinkingLevel=low"], pass["settings.thinkingLevel=high"]
	if high < 25 || !(none < low && low < high) {
		t.Fatalf("passes per cell %v; want none < low < high and high at least 25 of 28", pass)
	}
}
