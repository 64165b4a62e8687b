package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/promptgrid/promptgrid/reports"
)

// countAggregates makes aggregateJournal count its calls for the test.
func countAggregates(t *testing.T) *int {
	t.Helper()
	n := new(int)
	prev := aggregateJournal
	aggregateJournal = func(path string, opts reports.Options) (*reports.Summary, error) {
		*n++
		return prev(path, opts)
	}
	t.Cleanup(func() { aggregateJournal = prev })
	return n
}

// A fresh run reports from the records as it journaled them (reports.Live)
// instead of reading its journal back, and every report format it writes is
// byte for byte what `promptgrid report` writes from the journal file.
func TestRunReportsLiveAsTheJournalReads(t *testing.T) {
	formats := "table,json,md,csv,junit,html"
	for _, suite := range []string{"quickstart.yaml", "agent-tools.yaml", "json-extraction.yaml", "tool-calling.yaml", "prompt-regression.yaml"} {
		t.Run(suite, func(t *testing.T) {
			calls := countAggregates(t)
			dir := filepath.Join(t.TempDir(), "run")
			runOut, errOut, code := runCLI(t, nil, "run", "--sim", "--sim-time-scale", "0", "--quiet", "--format", formats, "--out", dir, filepath.Join("..", "..", "suites", suite))
			if code != exitOK && code != exitGate {
				t.Fatalf("run: exit %d\n%s", code, errOut)
			}
			if *calls != 0 {
				t.Fatalf("the run read its journal back for the report (%d aggregations), want the live summary", *calls)
			}
			live := readReportFiles(t, dir)
			reportOut, errOut, code := runCLI(t, nil, "report", "--format", formats, dir)
			if code != exitOK && code != exitGate {
				t.Fatalf("report: exit %d\n%s", code, errOut)
			}
			if runOut != reportOut {
				t.Errorf("the run's table differs from report's:\nrun:\n%s\nreport:\n%s", runOut, reportOut)
			}
			if *calls != 1 {
				t.Fatalf("report aggregated the journal %d times, want 1", *calls)
			}
			read := readReportFiles(t, dir)
			if len(live) < 5 || !slices.Equal(mapKeys(live), mapKeys(read)) {
				t.Fatalf("files: run wrote %v, report %v", mapKeys(live), mapKeys(read))
			}
			for name, b := range live {
				if string(b) != string(read[name]) {
					t.Errorf("%s differs between the run's live report and `report`:\nrun:    %.400s\nreport: %.400s", name, b, read[name])
				}
			}
		})
	}
}

// readReportFiles reads the report files of a run directory.
func readReportFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".json", ".md", ".csv", ".xml", ".html":
			if e.Name() == "run.json" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
	}
	return out
}

// mapKeys lists a map's keys in order.
func mapKeys(m map[string][]byte) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}
