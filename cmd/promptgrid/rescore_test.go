package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

const rescoreSuite = `name: rescore
model: moonshotai:kimi@k2.6
request:
  includeCost: true
  includeUsage: true
grid:
  settings.thinkingLevel: [none, high]
seeds: {count: 2, base: 1}
numberResults: 2
cases:
  - id: a
    prompt: Say something about apples.
    checks:
      - CHECK
  - id: b
    prompt: Say something about bananas.
    checks:
      - CHECK
`

// TestRescoreMakesNoAPICalls: `report --rescore` re-evaluates the stored
// responses with the suite's current checks, writes the re-scored journal
// and reports beside the originals, and sends nothing to the API even with
// a key and endpoint at hand, as the simulator's counters show.
func TestRescoreMakesNoAPICalls(t *testing.T) {
	srv := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{"test-key-0123456789abcdef"}})
	defer srv.Close()
	tmp := t.TempDir()
	suite := filepath.Join(tmp, "suite.yaml")
	if err := os.WriteFile(suite, []byte(strings.ReplaceAll(rescoreSuite, "CHECK", "contains: never-in-any-answer")), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RUNWARE_API_KEY": "test-key-0123456789abcdef"}
	dir := filepath.Join(tmp, "run")
	if _, errOut, code := reportCLI(t, env, "run", "--endpoint", srv.URL(), "--out", dir, suite); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	before := srv.Stats()
	if before.Tasks != 8 {
		t.Fatalf("the run sent %d tasks, want 8 (2 cases x 2 cells x 2 seeds)", before.Tasks)
	}

	// The checks change: every non-empty answer passes now.
	if err := os.WriteFile(suite, []byte(strings.ReplaceAll(rescoreSuite, "CHECK", `regex: '(?s).+'`)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := reportCLI(t, env, "report", dir, "--rescore", "--endpoint", srv.URL(), "--format", "table,json,junit")
	if code != exitOK {
		t.Fatalf("report --rescore: exit %d\n%s", code, errOut)
	}
	if after := srv.Stats(); after.Requests != before.Requests {
		t.Errorf("re-scoring sent %d requests to the API, want 0", after.Requests-before.Requests)
	}
	if !strings.Contains(errOut, "re-scored 16 samples") || !strings.Contains(errOut, "16 now pass, 0 now fail") {
		t.Errorf("stderr should count the flipped verdicts:\n%s", errOut)
	}
	if !strings.Contains(out, "100.0%") {
		t.Errorf("the re-scored table should show every cell passing:\n%s", out)
	}
	var orig, rescored int
	for name, n := range map[string]*int{journal.JournalFile: &orig, rescoredJournal: &rescored} {
		if _, err := journal.Read(filepath.Join(dir, name), func(r *journal.Record) error {
			if r.Pass {
				*n++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if orig != 0 || rescored != 16 {
		t.Errorf("passing samples: original journal %d (want 0, untouched), re-scored %d (want 16)", orig, rescored)
	}
	for _, f := range []string{"summary.rescored.json", "junit.rescored.xml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}
