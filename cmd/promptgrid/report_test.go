package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
)

// reportCLI runs the root command with args and env and returns stdout,
// stderr and the exit code main would use.
func reportCLI(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd(&streams{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := exitOK
	if err != nil {
		fmt.Fprintln(&errb, "promptgrid:", err)
		code = exitInput
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), errb.String(), code
}

// writeRun writes a run directory whose cells have the given per-case pass
// probabilities, realised deterministically: case k of n passes on seed s
// when (k*7+s*3)%n < pass*n.
func writeRun(t *testing.T, runID string, cells map[string]float64, cases, seeds int) string {
	t.Helper()
	dir := t.TempDir()
	w, err := journal.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for _, lvl := range []string{"none", "low", "high"} {
		p, ok := cells[lvl]
		if !ok {
			continue
		}
		i++
		for k := range cases {
			for s := range seeds {
				e2e, cost := 100.0+float64(k), 0.001
				r := &journal.Record{V: journal.Version, RunID: runID, Suite: "synth", CaseID: fmt.Sprintf("c%02d", k),
					Cell: "settings.thinkingLevel=" + lvl, CellValues: map[string]any{"settings.thinkingLevel": lvl},
					Seed: int64(s), Results: 1, Attempts: 1, TrialKey: fmt.Sprintf("%s-%d-%d", lvl, k, s), Cost: &cost,
					Pass: float64((k*7+s*3)%cases) < p*float64(cases), Text: "answer | with\npipe \x1b",
					Timings: journal.Timings{Scheduled: start.Add(time.Duration(i) * time.Second), E2E: &e2e}}
				if !r.Pass {
					r.Checks = []eval.Outcome{{Check: `contains "x"`, Reason: `expected to contain "x"`}}
				}
				if err := w.Append(r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := journal.WriteMeta(dir, &journal.Meta{RunID: runID, Suite: "synth", Started: start}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReportWritesEveryFormat: `report RUN_DIR --format ...` prints an
// ASCII table when stdout is not a terminal, writes each format's files
// into the run directory and appends Markdown to $GITHUB_STEP_SUMMARY.
func TestReportWritesEveryFormat(t *testing.T) {
	dir := writeRun(t, "r1", map[string]float64{"none": 0.5, "high": 0.9}, 10, 2)
	step := filepath.Join(t.TempDir(), "step-summary.md")
	if err := os.WriteFile(step, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := reportCLI(t, map[string]string{"GITHUB_STEP_SUMMARY": step}, "report", dir, "--format", "table,md,json,csv,junit,html")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "+---") || !strings.Contains(out, "settings.thinkingLevel=high") {
		t.Errorf("stdout should be an ASCII table of the cells:\n%s", out)
	}
	for _, f := range []string{"summary.md", "summary.json", "cells.csv", "samples.csv", "junit.xml", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum reports.Summary
	err = json.Unmarshal(b, &sum)
	if err != nil || sum.Schema != reports.SchemaID || len(sum.Cells) != 2 {
		t.Fatalf("summary.json: %v, %d cells", err, len(sum.Cells))
	}
	md, _ := os.ReadFile(step)
	if !strings.HasPrefix(string(md), "earlier step\n### promptgrid: synth") || !strings.Contains(string(md), `answer \| with<br>pipe`) {
		t.Errorf("step summary should keep earlier content and append escaped Markdown:\n%s", md)
	}
}

// TestReportGates: --fail-under and --fail-on any-fail exit with code 1
// and say which cell failed; a passing gate exits 0.
func TestReportGates(t *testing.T) {
	dir := writeRun(t, "r1", map[string]float64{"none": 0.5, "high": 1}, 10, 1)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		// The none cell passes 50%, under 0.9.
		{"fail-under trips", []string{"--fail-under", "0.9"}, exitGate, "cell settings.thinkingLevel=none: pass rate 50.0% is below --fail-under 90.0%"},
		// Both cells are at or above 0.5.
		{"fail-under holds", []string{"--fail-under", "0.5"}, exitOK, ""},
		// any-fail: the none cell has failing cases.
		{"any-fail trips", []string{"--fail-on", "any-fail"}, exitGate, "cell settings.thinkingLevel=none: 5 of 10 cases fail"},
		// A bad flag value is bad input.
		{"bad fail-on", []string{"--fail-on", "sometimes"}, exitInput, "--fail-on"},
		{"bad format", []string{"--format", "pdf"}, exitInput, `unknown format "pdf"`},
	} {
		_, errOut, code := reportCLI(t, nil, append([]string{"report", dir}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%s: exit %d, want %d with %q; stderr:\n%s", tc.name, code, tc.code, tc.msg, errOut)
		}
	}
}

// TestCompareCommand: compare exits 1 on a regressed cell and names it,
// 0 for two identical runs, and writes compare.md/json into HEAD's directory.
func TestCompareCommand(t *testing.T) {
	base := writeRun(t, "base", map[string]float64{"none": 0.9, "high": 0.9}, 30, 2)
	same := writeRun(t, "same", map[string]float64{"none": 0.9, "high": 0.9}, 30, 2)
	worse := writeRun(t, "worse", map[string]float64{"none": 0.9, "high": 0.4}, 30, 2)

	out, errOut, code := reportCLI(t, nil, "compare", base, same)
	if code != exitOK || !strings.Contains(out, "no detectable change") {
		t.Errorf("identical runs: exit %d, want 0 and no change:\n%s%s", code, out, errOut)
	}
	out, errOut, code = reportCLI(t, nil, "compare", base, worse, "--format", "table,md,json")
	if code != exitGate || !strings.Contains(errOut, "cell settings.thinkingLevel=high regressed") || strings.Contains(errOut, "=none regressed") {
		t.Errorf("regressed run: exit %d, want 1 naming only the high cell:\n%s%s", code, out, errOut)
	}
	for _, f := range []string{"compare.md", "compare.json"} {
		if _, err := os.Stat(filepath.Join(worse, f)); err != nil {
			t.Errorf("%s not written into HEAD: %v", f, err)
		}
	}
	var c reports.Comparison
	b, _ := os.ReadFile(filepath.Join(worse, "compare.json"))
	if err := json.Unmarshal(b, &c); err != nil || c.Regressions != 1 || c.Schema != reports.CompareSchemaID {
		t.Errorf("compare.json: %v, %+v", err, c)
	}
	// A margin wider than the drop is not a regression.
	if _, errOut, code = reportCLI(t, nil, "compare", base, worse, "--margin", "0.6"); code != exitOK {
		t.Errorf("margin 0.6: exit %d, want 0:\n%s", code, errOut)
	}
}

// TestFinishBaseline: run's --baseline goes through reportFlags.finish,
// which compares with the baseline and fails the gate on a regression.
func TestFinishBaseline(t *testing.T) {
	base := writeRun(t, "base", map[string]float64{"none": 0.9, "high": 0.9}, 30, 2)
	worse := writeRun(t, "worse", map[string]float64{"none": 0.9, "high": 0.4}, 30, 2)
	f := reportFlags{formats: []string{"table"}, baseline: base, failUnder: -1, failOn: "regression"}
	var out, errb bytes.Buffer
	err := f.finish(context.Background(), &streams{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}, worse)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitGate || !strings.Contains(err.Error(), "regressed against") {
		t.Fatalf("finish = %v, want a gate failure naming the regression", err)
	}
	if !strings.Contains(out.String(), "Δ pass rate") {
		t.Errorf("the comparison table should be printed:\n%s", out.String())
	}
	f.baseline = worse
	if err := f.finish(context.Background(), &streams{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}, worse); err != nil {
		t.Errorf("comparing a run with itself: %v", err)
	}
}
