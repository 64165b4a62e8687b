package reports

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs from golden file (-want +got):\n%s", name, d)
	}
}

// writeJournal writes records to a journal in a fresh run directory and
// returns the journal's path.
func writeJournal(t *testing.T, recs []*journal.Record) string {
	t.Helper()
	dir := t.TempDir()
	w, err := journal.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, journal.JournalFile)
}

func ms(v float64) *float64  { return &v }
func usd(v float64) *float64 { return &v }

var fixtureStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixtureRecords is a small run with every feature reports show: three
// cells over thinkingLevel, three cases, two seeds, numberResults 2, a
// timeout, a retried sample, a cached one, an estimated cost, identical
// results, model text with `|`, newlines and control characters, and in
// the "high" cell two answers cut at maxTokens, one of them empty.
func fixtureRecords() []*journal.Record {
	levels := []string{"none", "low", "high"}
	cases := []string{"france", "japan", "weird"}
	var recs []*journal.Record
	for li, lvl := range levels {
		cell := "settings.thinkingLevel=" + lvl
		for ci, cs := range cases {
			for seed := int64(1); seed <= 2; seed++ {
				for ri := 0; ri < 2; ri++ {
					i := li*100 + ci*10 + int(seed)*2 + ri
					e2e := 200 + float64(li)*300 + float64(ci)*40 + float64(seed)*7 + float64(ri)*3
					r := &journal.Record{
						V: journal.Version, RunID: "run-fixture", Suite: "capitals", SuiteHash: "abc123",
						CaseID: cs, Cell: cell, CellValues: map[string]any{"settings.thinkingLevel": lvl},
						Seed: seed, ResultIndex: ri, Results: 2,
						TrialKey: fmt.Sprintf("t-%s-%s-%d", lvl, cs, seed), Delivery: "stream",
						Timings: journal.Timings{
							Scheduled: fixtureStart.Add(time.Duration(li) * time.Second),
							Queue:     ms(float64(i%5) + 1), TTFT: ms(50 + float64(li)*100 + float64(ci)),
							TTFO: ms(60 + float64(li)*200 + float64(ci)), E2E: ms(e2e), ToSuccess: ms(e2e + 5),
						},
						Usage:    &journal.Usage{Prompt: 20 + ci, Completion: 10 + 40*li + ri, Thinking: 35 * li, Total: 30 + ci + 10 + 40*li + ri},
						Cost:     usd(float64(30+ci+10+40*li) * 4e-6),
						Attempts: 1,
					}
					switch cs {
					case "france":
						r.Text = "Paris"
						r.Pass = li > 0 || seed == 1
						if !r.Pass {
							r.Text = "Lyon, I think."
						}
					case "japan":
						r.Text = "Tokyo" // identical results: distinct share 0.5
						r.Pass = true
					case "weird":
						r.Text = fmt.Sprintf("a|b\nline two\x00\x01\x1b[31m <tag> & \"q\" %d", i)
						r.Pass = li == 2 && ri == 0
					}
					if !r.Pass {
						r.Checks = []eval.Outcome{{Check: `contains "Paris"`, Reason: fmt.Sprintf("expected to contain %q; got %q", "Paris", r.Text)}}
					} else {
						r.Checks = []eval.Outcome{{Check: `contains "Paris"`, Pass: true}}
						r.Score = 1
					}
					recs = append(recs, r)
				}
			}
		}
	}
	// A timeout after two retries in the "low" cell replaces a success.
	for _, r := range recs {
		if r.Cell == "settings.thinkingLevel=low" && r.CaseID == "japan" && r.Seed == 2 && r.ResultIndex == 1 {
			r.Error = &journal.Error{Class: "timeout", Message: "no response within 30s"}
			r.Attempts = 3
			r.Pass, r.Score, r.Text, r.Usage, r.Cost = false, 0, "", nil, nil
			r.Timings.E2E, r.Timings.TTFT, r.Timings.TTFO, r.Timings.ToSuccess = nil, nil, nil, nil
			r.Checks = []eval.Outcome{{Check: `contains "Paris"`, Reason: "request failed: timeout: no response within 30s"}}
		}
		if r.Cell == "settings.thinkingLevel=high" && r.CaseID == "france" {
			r.CostEstimated = true
		}
		if r.Cell == "settings.thinkingLevel=none" && r.CaseID == "japan" && r.Seed == 2 {
			r.Cached = true
		}
		if r.Error == nil {
			r.FinishReason = "stop"
		}
		// In the "high" cell, thinking uses up maxTokens: one answer is cut
		// (finishReason length) and one is left empty as well.
		if r.Cell == "settings.thinkingLevel=high" && r.CaseID == "weird" && r.ResultIndex == 1 {
			r.FinishReason = FinishLength
			if r.Seed == 1 {
				r.Text = ""
				r.Checks = []eval.Outcome{{Check: `contains "Paris"`, Reason: `expected to contain "Paris"; got ""`}}
			}
		}
	}
	return recs
}

// fixtureSummary aggregates fixtureRecords.
func fixtureSummary(t *testing.T) *Summary {
	t.Helper()
	s, err := Aggregate(writeJournal(t, fixtureRecords()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
