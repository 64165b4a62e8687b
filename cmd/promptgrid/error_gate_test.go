package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// appendErrorLines adds n samples that got no answer (a timeout) to the run
// in dir, copies of its first line under new trial keys.
func appendErrorLines(t *testing.T, dir string, n int) {
	t.Helper()
	recs := readRecords(t, dir)
	f, err := os.OpenFile(filepath.Join(dir, journal.JournalFile), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range n {
		r := *recs[0]
		r.TrialKey = fmt.Sprintf("%s-timeout-%d", r.TrialKey, i)
		r.Text, r.Pass, r.Score, r.Checks, r.Cost, r.Usage = "", false, 0, nil, nil, nil
		r.Error = &journal.Error{Class: "timeout", Message: "no answer in time"}
		b, err := journal.MarshalLine(&r)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(b)
	}
}

// --max-error-rate gates a report on availability, apart from quality: a
// cell whose share of samples without an answer passes it fails the report
// (exit 1, naming the cell); without the flag the errors do not fail it.
func TestMaxErrorRateGate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	simRun(t, dir, quickstart)
	appendErrorLines(t, dir, 4)
	if _, e, code := runCLI(t, nil, "report", dir); code != exitOK {
		t.Fatalf("report without a gate: exit %d\n%s", code, e)
	}
	_, e, code := runCLI(t, nil, "report", "--max-error-rate", "0.01", dir)
	if code != exitGate || !strings.Contains(e, "exceeds --max-error-rate 1.0%") {
		t.Fatalf("report --max-error-rate 0.01: exit %d\n%s", code, e)
	}
	if _, e, code := runCLI(t, nil, "report", "--max-error-rate", "0.9", dir); code != exitOK {
		t.Fatalf("a gate the errors stay under: exit %d\n%s", code, e)
	}
	if _, e, code := runCLI(t, nil, "report", "--max-error-rate", "2", dir); code != exitInput || !strings.Contains(e, "between 0 and 1") {
		t.Fatalf("--max-error-rate 2: exit %d\n%s", code, e)
	}
}

// A suite with pass: {errors: fail} records the choice in run.json, and its
// report counts the samples without an answer as failing ones.
func TestSuiteErrorsAsFailures(t *testing.T) {
	src, err := os.ReadFile(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	suites := map[string]string{"skip": string(src), "fail": string(src) + "\npass: {errors: fail}\n"}
	rates := map[string]float64{}
	for name, s := range suites {
		p := filepath.Join(tmp, name+".yaml")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(tmp, name)
		simRun(t, dir, p)
		appendErrorLines(t, dir, 6)
		if _, e, code := runCLI(t, nil, "report", "--format", "json", dir); code != exitOK {
			t.Fatalf("%s: exit %d\n%s", name, code, e)
		}
		sum := reportOf(t, dir)
		rates[name] = float64(sum.Total.PassRate.Value)
		m, err := journal.ReadMeta(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Scoring.Pass.ErrorsAsFailures; got != (name == "fail") {
			t.Errorf("%s: run.json records errorsAsFailures %v", name, got)
		}
	}
	if rates["fail"] >= rates["skip"] {
		t.Errorf("pass rate with errors as failures %v, without %v: want lower", rates["fail"], rates["skip"])
	}
}
