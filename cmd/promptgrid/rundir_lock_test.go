package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// TestRunDirLockedRefusesWriters: while another holder has a run
// directory's lock, run --resume, merge --out and report --rescore fail at
// once with exit 2 naming the holder, and plain report still reads it.
func TestRunDirLockedRefusesWriters(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "run")
	simRun(t, dir, quickstart)
	holder, err := journal.LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	pid := "pid " + strconv.Itoa(os.Getpid())
	for _, args := range [][]string{
		{"run", "--quiet", "--resume", dir},
		{"report", "--rescore", dir},
	} {
		_, e, code := runCLI(t, nil, args...)
		if code != exitInput || !strings.Contains(e, "locked by another promptgrid") || !strings.Contains(e, pid) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %s", args, code, e, pid)
		}
	}
	if _, e, code := runCLI(t, nil, "report", "--format", "json", dir); code != exitOK {
		t.Errorf("plain report under the lock: exit %d: %s", code, e)
	}
	holder.Close()

	out := filepath.Join(base, "merged")
	h2, err := journal.LockRun(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, e, code := runCLI(t, nil, "merge", "--out", out, dir); code != exitInput || !strings.Contains(e, pid) {
		t.Errorf("merge into a locked --out: exit %d, stderr %q", code, e)
	}
	h2.Close()

	// Released, the resume goes ahead.
	if _, e, code := runCLI(t, nil, "run", "--quiet", "--format", "json", "--resume", dir); code != exitOK {
		t.Fatalf("resume after release: exit %d: %s", code, e)
	}
}

// TestRunWritesNoPartialReports: the report files a run writes in its
// directory leave no temporary files behind (they are renamed into place).
func TestRunWritesNoPartialReports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, e, code := runCLI(t, nil, "run", "--sim", "--sim-time-scale", "0", "--quiet", "--format", "json,html", "--out", dir, quickstart); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, e)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in the run directory", e.Name())
		}
	}
	for _, name := range []string{"summary.json", "report.html", journal.MetaFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
