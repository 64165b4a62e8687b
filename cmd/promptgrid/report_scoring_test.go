package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
)

// TestReportUsesRecordedScoring: run.json records the cell order and the
// pass rules when the run starts, and `report` summarises from them: after
// the suite file is edited (cells reordered, pass rules changed) the run's
// report is the one the run wrote, with its cell order and its "any" rule.
// Without the recording, the edited suite (another hash) would fall back to
// the defaults, which count fewer cases as passing here.
func TestReportUsesRecordedScoring(t *testing.T) {
	src, err := os.ReadFile(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	orig := strings.Replace(string(src), "settings.thinkingLevel: [none, low, high]", "settings.thinkingLevel: [high, none, low]", 1)
	orig = strings.Replace(orig, "\ncases:\n", "\npass: {case: any}\ncases:\n", 1)
	orig = strings.Replace(orig, "    checks:\n      - regex: '\\b391\\b'\n", "    checks:\n      - regex: '\\b391\\b'\n    pass: {case: all}\n", 1)
	if orig == string(src) || !strings.Contains(orig, "pass: {case: all}") {
		t.Fatal("quickstart.yaml changed: the test's edits no longer apply")
	}
	tmp := t.TempDir()
	suite := filepath.Join(tmp, "suite.yaml")
	if err := os.WriteFile(suite, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "run")
	simRun(t, dir, suite)
	m, err := journal.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"settings.thinkingLevel=high", "settings.thinkingLevel=none", "settings.thinkingLevel=low"}
	want := &journal.Scoring{CellOrder: order, Pass: journal.PassRule{Threshold: 1, Case: "any"},
		Cases: map[string]journal.PassRule{"multiply": {Threshold: 1, Case: "all"}}}
	if diff := gocmp.Diff(want, m.Scoring); diff != "" {
		t.Fatalf("run.json scoring (-want +got):\n%s", diff)
	}
	atRun := reportOf(t, dir)

	// The suite file changes after the run: other order, other rules.
	edited := strings.Replace(orig, "[high, none, low]", "[none, low, high]", 1)
	edited = strings.Replace(edited, "pass: {case: any}", "pass: {case: all}", 1)
	if err := os.WriteFile(suite, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, e, code := runCLI(t, nil, "report", "--format", "json", dir); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, e)
	}
	after := reportOf(t, dir)
	if diff := gocmp.Diff(atRun, after, equateNums); diff != "" {
		t.Fatalf("editing the suite changed the run's report (-at run +after edit):\n%s", diff)
	}
	var labels []string
	for _, c := range after.Cells {
		labels = append(labels, c.Label)
	}
	if !slices.Equal(labels, order) {
		t.Fatalf("report cell order %v, want the suite's at run time %v", labels, order)
	}
	// The recorded "any" rule matters for this run: the defaults count
	// fewer passing cases, so a report that ignored run.json would differ.
	def, err := reports.Aggregate(filepath.Join(dir, journal.JournalFile), reports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if def.Total.CasesPassed >= after.Total.CasesPassed {
		t.Fatalf("precondition: the default rule passes %d cases, the recorded one %d; want fewer", def.Total.CasesPassed, after.Total.CasesPassed)
	}
}
