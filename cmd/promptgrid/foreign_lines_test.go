package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// appendForeign appends to dir's journal a copy of its first line changed by
// edit (another run id or suite hash) and returns the new line's number.
func appendForeign(t *testing.T, dir string, edit func(*journal.Record)) int {
	t.Helper()
	recs := readRecords(t, dir)
	r := *recs[0]
	edit(&r)
	line, err := journal.MarshalLine(&r)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, journal.JournalFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(line); err != nil {
		t.Fatal(err)
	}
	return len(recs) + 1
}

// TestForeignLinesRefused: a run's journal with one line of another run (or
// of the same run id under another suite hash) appended is refused by
// `report`, `run --resume` and `merge`, each naming the file and line, the
// line's run and this run's, and what to do; nothing is sent or written.
func TestForeignLinesRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*journal.Record)
		want string
	}{
		{"other run", func(r *journal.Record) { r.RunID = "20250101-000000-abcdef" }, "line belongs to run 20250101-000000-abcdef"},
		{"other suite hash", func(r *journal.Record) { r.SuiteHash = "0123456789abcdef" }, "(suite hash 0123456789abcdef), not this run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "run")
			simRun(t, dir, quickstart)
			m, err := journal.ReadMeta(dir)
			if err != nil {
				t.Fatal(err)
			}
			n := appendForeign(t, dir, tc.edit)
			where := fmt.Sprintf("%s:%d: ", filepath.Join(dir, journal.JournalFile), n)
			this := fmt.Sprintf("not this run %s (suite hash %s): remove it or merge the runs with `promptgrid merge`", m.RunID, m.SuiteHash)
			before, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"report", "--format", "json", dir},
				{"run", "--quiet", "--resume", dir},
				{"merge", "--out", filepath.Join(tmp, "merged"), dir},
			} {
				_, e, code := runCLI(t, nil, args...)
				if code != exitInput || !strings.Contains(e, where) || !strings.Contains(e, tc.want) || !strings.Contains(e, this) {
					t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 2 with %q, %q and %q", args[0], code, e, where, tc.want, this)
				}
			}
			if after, _ := os.ReadFile(filepath.Join(dir, "summary.json")); string(after) != string(before) {
				t.Error("report rewrote summary.json from a journal it refused")
			}
			if _, err := os.Stat(filepath.Join(tmp, "merged", journal.JournalFile)); err == nil {
				t.Error("merge wrote a journal from a run it refused")
			}
			if got := len(readRecords(t, dir)); got != n {
				t.Errorf("resume appended to the journal: %d lines, want %d", got, n)
			}
		})
	}
}
