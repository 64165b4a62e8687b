package history

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// LatestBaseline picks the most recent run of the suite on the branch that
// started before the given time, whatever the directory names.
func TestLatestBaseline(t *testing.T) {
	root := t.TempDir()
	run := func(dir, id, suite, branch, stop string, at time.Duration) string {
		return writeRun(t, filepath.Join(root, dir), runSpec{id: id, suite: suite, branch: branch, stop: stop,
			started: t0.Add(at), cells: map[string][]bool{cellA: allPass(1)}})
	}
	run("z-old", "main-1", "qa", "main", "", 0)
	want := run("a-newest-before", "main-2", "qa", "main", "", 3*time.Hour)
	run("b-feature", "feat-1", "qa", "feature", "", 4*time.Hour)
	run("c-other-suite", "other-1", "other", "main", "", 4*time.Hour)
	run("d-no-answer", "main-3", "qa", "main", journal.StopNoAnswer, 4*time.Hour)
	run("d-outage", "main-5", "qa", "main", journal.StopUnavailable, 4*time.Hour+time.Minute)
	run("e-after", "main-4", "qa", "main", "", 6*time.Hour)
	run("f-no-branch", "old-1", "qa", "", "", 5*time.Hour)
	before := t0.Add(5 * time.Hour)

	for _, branch := range []string{"", "main"} {
		got, err := LatestBaseline([]string{root}, "qa", branch, before)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("branch %q: baseline %s, want %s", branch, got, want)
		}
	}
	got, err := LatestBaseline([]string{root}, "qa", "feature", before)
	if err != nil || filepath.Base(got) != "b-feature" {
		t.Errorf("branch feature: baseline %s (%v), want b-feature", got, err)
	}
	got, err = LatestBaseline([]string{root}, "other", "main", before)
	if err != nil || filepath.Base(got) != "c-other-suite" {
		t.Errorf("suite other: baseline %s (%v), want c-other-suite", got, err)
	}
	// Started exactly at "before" is not earlier.
	got, err = LatestBaseline([]string{root}, "qa", "main", t0.Add(3*time.Hour))
	if err != nil || filepath.Base(got) != "z-old" {
		t.Errorf("before main-2's start: baseline %s (%v), want z-old", got, err)
	}
	// A zero time sets no bound.
	got, err = LatestBaseline([]string{root}, "qa", "main", time.Time{})
	if err != nil || filepath.Base(got) != "e-after" {
		t.Errorf("no bound: baseline %s (%v), want e-after", got, err)
	}
	_, err = LatestBaseline([]string{root}, "qa", "main", t0)
	if !errors.Is(err, ErrNoBaseline) {
		t.Errorf("nothing earlier: err = %v, want ErrNoBaseline", err)
	}
	if _, err := LatestBaseline([]string{root}, "missing-suite", "main", before); !errors.Is(err, ErrNoBaseline) {
		t.Errorf("unknown suite: err = %v, want ErrNoBaseline", err)
	}
	if _, err := LatestBaseline([]string{filepath.Join(root, "nope")}, "qa", "main", before); err == nil || errors.Is(err, ErrNoBaseline) {
		t.Errorf("missing folder: err = %v, want a path error", err)
	}
}
