package history

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// t0 is the start of the first test run.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// runSpec describes a small run: its run.json fields and, per cell, whether
// each of its cases passes.
type runSpec struct {
	id, suite, hash, commit, branch, shard, stop string
	started                                      time.Time
	// cells maps a cell (journal Cell) to the pass of cases c0, c1, ...
	cells map[string][]bool
}

// allPass returns n true values; allFail n false ones.
func allPass(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

func allFail(n int) []bool { return make([]bool, n) }

// writeRun writes spec as a run directory at dir with journal's RunDir API:
// run.json first, then one sample per case and cell.
func writeRun(t *testing.T, dir string, spec runSpec) string {
	t.Helper()
	if spec.hash == "" {
		spec.hash = "hash-" + spec.suite
	}
	m := &journal.Meta{RunID: spec.id, Suite: spec.suite, SuiteHash: spec.hash, Started: spec.started,
		Ended: spec.started.Add(time.Minute), StopReason: journal.StopCompleted, Commit: spec.commit,
		Branch: spec.branch, Shard: spec.shard}
	if spec.stop != "" {
		m.StopReason = spec.stop
	}
	d, err := journal.CreateRun(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	w, err := d.Journal()
	if err != nil {
		t.Fatal(err)
	}
	var recs []*journal.Record
	cells := sortedKeys(spec.cells)
	for ci, cell := range cells {
		for i, pass := range spec.cells[cell] {
			cost := 0.001
			r := &journal.Record{V: journal.Version, RunID: spec.id, Suite: spec.suite, SuiteHash: spec.hash,
				CaseID: fmt.Sprintf("c%d", i), Cell: cell, Seed: 1, Results: 1, Attempts: 1,
				Delivery: "sync", Pass: pass, Cost: &cost,
				Timings: journal.Timings{Scheduled: spec.started.Add(time.Duration(ci*100+i) * time.Millisecond),
					E2E: journal.Ms(time.Duration(100+10*i) * time.Millisecond)}}
			if pass {
				r.Score = 1
			}
			recs = append(recs, r)
		}
	}
	m.Samples = len(recs)
	if err := w.AppendAll(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteMeta(m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func sortedKeys(m map[string][]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// cellA and cellB are the two grid cells of the test runs.
const (
	cellA = "settings.thinkingLevel=low"
	cellB = "settings.thinkingLevel=none"
)

// threeRuns writes three runs of suite "qa" under root, in directories
// whose names sort against their time order: r1 and r2 pass everything,
// r3 fails every case of cell A (a planted regression), cell B unchanged.
func threeRuns(t *testing.T, root string) (r1, r2, r3 string) {
	t.Helper()
	r1 = writeRun(t, filepath.Join(root, "zz-first"), runSpec{id: "run-1", suite: "qa", commit: "1111111aaaaaaa", branch: "main",
		started: t0, cells: map[string][]bool{cellA: allPass(8), cellB: allPass(8)}})
	r2 = writeRun(t, filepath.Join(root, "mm-second"), runSpec{id: "run-2", suite: "qa", commit: "2222222bbbbbbb", branch: "main",
		started: t0.Add(time.Hour), cells: map[string][]bool{cellA: allPass(8), cellB: allPass(8)}})
	r3 = writeRun(t, filepath.Join(root, "aa-third"), runSpec{id: "run-3", suite: "qa", commit: "3333333ccccccc", branch: "main",
		started: t0.Add(2 * time.Hour), cells: map[string][]bool{cellA: allFail(8), cellB: allPass(8)}})
	return
}
