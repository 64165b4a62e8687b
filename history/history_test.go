package history

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
)

func runIDs(s *Suite) []string {
	var out []string
	for _, r := range s.Runs {
		out = append(out, r.RunID)
	}
	return out
}

func cell(t *testing.T, s *Suite, label string) *CellHistory {
	t.Helper()
	for _, c := range s.Cells {
		if c.Label == label {
			return c
		}
	}
	t.Fatalf("suite %s has no cell %s", s.Name, label)
	return nil
}

// Runs are ordered by the time they started, not by directory name or by
// the order of the arguments, and each suite's runs are apart.
func TestLoadOrdersRunsInTimeAndGroupsBySuite(t *testing.T) {
	root := t.TempDir()
	r1, r2, r3 := threeRuns(t, root)
	// Another suite, started between the runs of qa.
	writeRun(t, filepath.Join(root, "other"), runSpec{id: "other-1", suite: "json", started: t0.Add(90 * time.Minute),
		cells: map[string][]bool{"": allPass(3)}})
	h, err := Load([]string{r3, r1, filepath.Join(root, "other"), r2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Suites) != 2 || h.Suites[0].Name != "json" || h.Suites[1].Name != "qa" {
		t.Fatalf("suites = %+v, want json then qa", h.Suites)
	}
	if got, want := runIDs(h.Suites[1]), []string{"run-1", "run-2", "run-3"}; !slices.Equal(got, want) {
		t.Errorf("qa runs = %v, want %v (time order)", got, want)
	}
	if got := runIDs(h.Suites[0]); !slices.Equal(got, []string{"other-1"}) {
		t.Errorf("json runs = %v, want only other-1", got)
	}
	qa := h.Suites[1]
	a := cell(t, qa, cellA)
	if len(a.Points) != 3 {
		t.Fatalf("cell A has %d points, want 3", len(a.Points))
	}
	for i, p := range a.Points {
		if p.Run != i || p.RunID != qa.Runs[i].RunID {
			t.Errorf("point %d belongs to run %d (%s), want %d", i, p.Run, p.RunID, i)
		}
	}
	if a.Points[0].Step != nil {
		t.Errorf("the first run has a step: %+v", a.Points[0].Step)
	}
	if got := float64(a.Points[2].PassRate.Value); got != 0 {
		t.Errorf("run-3 cell A pass rate = %v, want 0", got)
	}
	if got := float64(a.Points[0].Cost.Total); got < 0.0079 || got > 0.0081 {
		t.Errorf("run-1 cell A cost = %v, want 0.008", got)
	}
	if !a.Points[0].E2EP50.Value.Defined() {
		t.Errorf("run-1 cell A has no E2E p50")
	}
	if qa.Runs[2].Commit != "3333333ccccccc" || qa.Runs[2].SuiteHash != "hash-qa" {
		t.Errorf("run-3 = %+v, want its commit and suite hash from run.json", qa.Runs[2])
	}
}

// The planted regression (cell A: 8 cases from pass to fail) is marked on
// run-3's step, as compare decides it; the null steps (run-1 → run-2 in both
// cells, run-2 → run-3 in cell B) are not.
func TestRegressionStepsAreThoseCompareFailsOn(t *testing.T) {
	root := t.TempDir()
	_, r2, r3 := threeRuns(t, root)
	h, err := Load([]string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	qa := h.Suites[0]
	a, b := cell(t, qa, cellA), cell(t, qa, cellB)
	for _, c := range []*CellHistory{a, b} {
		if s := c.Points[1].Step; s == nil || s.Regression || s.Verdict != reports.VerdictNoChange || s.From != "run-1" {
			t.Errorf("%s: null step run-1 → run-2 = %+v, want no detectable change, not a regression", c.Label, s)
		}
	}
	if s := a.Points[2].Step; s == nil || !s.Regression || s.Verdict != reports.VerdictWorse || s.From != "run-2" {
		t.Errorf("cell A: planted step run-2 → run-3 = %+v, want a regression", s)
	}
	if s := b.Points[2].Step; s == nil || s.Regression {
		t.Errorf("cell B: unchanged step run-2 → run-3 = %+v, want no regression", s)
	}
	if qa.Regressions != 1 || qa.Runs[2].Regressions != 1 || qa.Runs[1].Regressions != 0 {
		t.Errorf("regressions: suite %d, run-2 %d, run-3 %d; want 1, 0, 1", qa.Regressions, qa.Runs[1].Regressions, qa.Runs[2].Regressions)
	}
	// The same numbers as compare's own comparison of the two runs.
	c, err := reports.Compare(filepath.Join(r2, journal.JournalFile), filepath.Join(r3, journal.JournalFile), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Cells {
		s := cell(t, qa, d.Label).Points[2].Step
		if s.Verdict != d.Verdict || s.PHolm != d.PHolm || s.Diff != d.Diff {
			t.Errorf("%s: step %+v differs from compare's %+v", d.Label, s, d)
		}
	}
	// Recovering (cell A back to passing) is a step for the better, not a
	// regression.
	writeRun(t, filepath.Join(root, "00-fourth"), runSpec{id: "run-4", suite: "qa", started: t0.Add(3 * time.Hour),
		cells: map[string][]bool{cellA: allPass(8), cellB: allPass(8)}})
	h, err = Load([]string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := cell(t, h.Suites[0], cellA).Points[3].Step; s.Verdict != reports.VerdictBetter || s.Regression {
		t.Errorf("cell A: recovery step run-3 → run-4 = %+v, want better, no regression", s)
	}
	if h.Suites[0].Regressions != 1 {
		t.Errorf("with the recovery, %d regressions, want still 1", h.Suites[0].Regressions)
	}
	// A margin wider than the drop's interval allows is no regression,
	// as with compare --margin.
	h, err = Load([]string{root}, Options{Margin: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	if h.Suites[0].Regressions != 0 {
		t.Errorf("with margin 0.95, %d regressions, want 0", h.Suites[0].Regressions)
	}
}

// A cell new in a run has no paired samples in the previous one: its step
// says "not compared" and is no regression.
func TestNewCellIsNotCompared(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "1"), runSpec{id: "r1", suite: "qa", started: t0, cells: map[string][]bool{cellA: allPass(8)}})
	writeRun(t, filepath.Join(root, "2"), runSpec{id: "r2", suite: "qa", started: t0.Add(time.Hour),
		cells: map[string][]bool{cellA: allPass(8), cellB: allFail(8)}})
	h, err := Load([]string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := cell(t, h.Suites[0], cellB)
	if len(b.Points) != 1 || b.Points[0].Run != 1 {
		t.Fatalf("cell B points = %+v, want one, of the second run", b.Points)
	}
	if s := b.Points[0].Step; s == nil || s.Verdict != VerdictNotCompared || s.Regression {
		t.Errorf("new cell's step = %+v, want not compared", s)
	}
}

// Folders are walked down to the depth bound; a run directory's own
// subfolders, hidden folders and folders past the bound are not searched; a
// run.json argument stands for its directory; a missing path is an error.
func TestFindWalksFoldersBounded(t *testing.T) {
	root := t.TempDir()
	spec := func(id string) runSpec {
		return runSpec{id: id, suite: "qa", started: t0, cells: map[string][]bool{cellA: allPass(1)}}
	}
	shallow := writeRun(t, filepath.Join(root, "artifacts", "promptgrid-run-1"), spec("a"))
	atBound := writeRun(t, filepath.Join(root, "l1", "l2", "l3", "l4"), spec("b"))
	writeRun(t, filepath.Join(root, "l1", "l2", "l3", "l4x", "l5"), spec("too-deep"))
	writeRun(t, filepath.Join(shallow, "nested"), spec("inside-a-run"))
	writeRun(t, filepath.Join(root, ".cache", "run"), spec("hidden"))
	if err := os.MkdirAll(filepath.Join(root, "empty", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Find([]string{root}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{shallow, atBound}; !slices.Equal(got, want) {
		t.Errorf("Find = %v, want %v", got, want)
	}
	got, err = Find([]string{root}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{shallow}; !slices.Equal(got, want) {
		t.Errorf("Find depth 2 = %v, want %v", got, want)
	}
	// A run directory given directly, a run.json file, and the same run
	// twice: listed once.
	got, err = Find([]string{shallow, filepath.Join(shallow, journal.MetaFile), filepath.Join(root, "artifacts")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{shallow}; !slices.Equal(got, want) {
		t.Errorf("Find of one run three ways = %v, want %v", got, want)
	}
	if _, err := Find([]string{filepath.Join(root, "missing")}, 0); err == nil {
		t.Error("Find of a missing path: no error")
	}
	if _, err := Find([]string{filepath.Join(shallow, journal.JournalFile)}, 0); err == nil {
		t.Error("Find of a journal file: no error")
	}
}

// Shards, directories without a journal and second copies of a run are
// left out and said why.
func TestLoadSkipsShardsCopiesAndRunsWithoutJournal(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "a"), runSpec{id: "r1", suite: "qa", started: t0, cells: map[string][]bool{cellA: allPass(2)}})
	writeRun(t, filepath.Join(root, "b-copy"), runSpec{id: "r1", suite: "qa", started: t0, cells: map[string][]bool{cellA: allPass(2)}})
	writeRun(t, filepath.Join(root, "c-shard"), runSpec{id: "s1", suite: "qa", shard: "1/2", started: t0.Add(time.Hour), cells: map[string][]bool{cellA: allPass(2)}})
	noJournal := filepath.Join(root, "d-nojournal")
	if err := os.MkdirAll(noJournal, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := journal.WriteMeta(noJournal, &journal.Meta{RunID: "r9", Suite: "qa", Started: t0}); err != nil {
		t.Fatal(err)
	}
	h, err := Load([]string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := runIDs(h.Suites[0]); !slices.Equal(got, []string{"r1"}) {
		t.Errorf("runs = %v, want only r1", got)
	}
	reasons := map[string]string{}
	for _, s := range h.Skipped {
		reasons[filepath.Base(s.Dir)] = s.Reason
	}
	for dir, want := range map[string]string{"b-copy": "same run", "c-shard": "shard 1/2", "d-nojournal": "no journal"} {
		if !strings.Contains(reasons[dir], want) {
			t.Errorf("skipped %s: reason %q, want it to say %q", dir, reasons[dir], want)
		}
	}
}

// --suite and --branch keep only the runs asked for.
func TestLoadFilters(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "1"), runSpec{id: "m1", suite: "qa", branch: "main", started: t0, cells: map[string][]bool{cellA: allPass(2)}})
	writeRun(t, filepath.Join(root, "2"), runSpec{id: "f1", suite: "qa", branch: "feature", started: t0.Add(time.Hour), cells: map[string][]bool{cellA: allPass(2)}})
	writeRun(t, filepath.Join(root, "3"), runSpec{id: "o1", suite: "other", branch: "main", started: t0, cells: map[string][]bool{cellA: allPass(2)}})
	h, err := Load([]string{root}, Options{Suite: "qa", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Suites) != 1 || !slices.Equal(runIDs(h.Suites[0]), []string{"m1"}) {
		t.Errorf("suite qa on main: %+v, want only m1", h.Suites)
	}
}

// The HTML page is self-contained: inline SVG, no script, no reference to
// the network; the regression step is drawn as one; labels are escaped.
func TestHTMLIsSelfContained(t *testing.T) {
	root := t.TempDir()
	threeRuns(t, root)
	writeRun(t, filepath.Join(root, "evil"), runSpec{id: "e1", suite: "<script>x</script>", started: t0,
		cells: map[string][]bool{`v=<img src=x.png onerror=alert(1)>`: allPass(2)}})
	h, err := Load([]string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := HTML(h)(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"http://", "https://", "<script", "<img", "<link", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if n := strings.Count(page, "<svg"); n != 3 {
		t.Errorf("page has %d charts, want 3 (one per cell)", n)
	}
	if n := strings.Count(page, `class="pt regression"`); n != 1 {
		t.Errorf("page marks %d regression points, want 1", n)
	}
	if n := strings.Count(page, `class="line regression"`); n != 1 {
		t.Errorf("page draws %d regression segments, want 1", n)
	}
	if n := strings.Count(page, `<tr class="regression">`); n != 1 {
		t.Errorf("page marks %d regression rows, want 1", n)
	}
	if !strings.Contains(page, "3333333") {
		t.Error("page does not label runs by their short commit")
	}
}

// The table and the Markdown mark the regression step on run-3's cell A
// row only; the JSON carries it and decodes.
func TestTextFormatsMarkTheRegression(t *testing.T) {
	root := t.TempDir()
	threeRuns(t, root)
	h, err := Load([]string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]reports.Renderer{"table": Table(h, true), "md": Markdown(h)} {
		var buf bytes.Buffer
		if err := r(&buf); err != nil {
			t.Fatal(err)
		}
		var marked []string
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, "REGRESSION") && strings.Contains(l, "|") {
				marked = append(marked, l)
			}
		}
		if len(marked) != 1 || !strings.Contains(marked[0], "run-3") || !strings.Contains(marked[0], "thinkingLevel=low") {
			t.Errorf("%s: rows marked REGRESSION: %q, want run-3's cell A row only", name, marked)
		}
		if !strings.Contains(buf.String(), "1111111") || strings.Contains(buf.String(), "1111111a") {
			t.Errorf("%s: commits are not shown short", name)
		}
	}
	var buf bytes.Buffer
	if err := JSON(h)(&buf); err != nil {
		t.Fatal(err)
	}
	var back History
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != SchemaID || back.Suites[0].Regressions != 1 || !cell(t, back.Suites[0], cellA).Points[2].Step.Regression {
		t.Errorf("JSON does not carry the regression: %s", buf.String())
	}
}
