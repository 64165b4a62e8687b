package journal

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRunDirLockRefusesSecondProcess holds a run directory's lock here and
// tries it from a second process (this test binary re-executed): the second
// fails at once and names the holder's pid.
func TestRunDirLockRefusesSecondProcess(t *testing.T) {
	if dir := os.Getenv("PROMPTGRID_LOCK_CHILD"); dir != "" {
		_, err := LockRun(dir)
		if err == nil {
			os.Stdout.WriteString("LOCKED\n")
			os.Exit(0)
		}
		os.Stdout.WriteString(err.Error() + "\n")
		os.Exit(3)
	}
	dir := t.TempDir()
	d, err := CreateRun(dir, &Meta{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunDirLockRefusesSecondProcess$")
	cmd.Env = append(os.Environ(), "PROMPTGRID_LOCK_CHILD="+dir)
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("second process: err %v, output %q; want it refused (exit 3)", err, out)
	}
	if !strings.Contains(string(out), "locked by another promptgrid") || !strings.Contains(string(out), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("refusal %q does not name the holder pid %d", out, os.Getpid())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Released: the next process gets it.
	cmd = exec.Command(os.Args[0], "-test.run=^TestRunDirLockRefusesSecondProcess$")
	cmd.Env = append(os.Environ(), "PROMPTGRID_LOCK_CHILD="+dir)
	out, err = cmd.Output()
	if err != nil || !strings.Contains(string(out), "LOCKED") {
		t.Fatalf("after release: err %v, output %q; want the lock taken", err, out)
	}
}

// TestRunDirInProcessSecondLock: a second open of the same directory in one
// process (another file description) is refused too, wrapping ErrLocked.
func TestRunDirInProcessSecondLock(t *testing.T) {
	dir := t.TempDir()
	d, err := LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := LockRun(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second LockRun: %v, want ErrLocked", err)
	}
}

// TestCreateRunWritesMetaBeforeJournal: run.json exists as soon as the
// directory is created and before any journal; Journal refuses a directory
// without run.json; CreateRun refuses a directory that holds a run.
func TestCreateRunWritesMetaBeforeJournal(t *testing.T) {
	dir := t.TempDir()
	d, err := CreateRun(dir, &Meta{RunID: "r1", SuiteHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, JournalFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("journal exists before Journal(): %v", err)
	}
	if m, err := ReadMeta(dir); err != nil || m.RunID != "r1" {
		t.Fatalf("run.json: %+v, %v", m, err)
	}
	w, err := d.Journal()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	d.Close()
	if _, err := CreateRun(dir, &Meta{RunID: "r2"}); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("CreateRun on a used directory: %v, want a refusal pointing at --resume", err)
	}

	bare := t.TempDir()
	d2, err := LockRun(bare)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if _, err := d2.Journal(); err == nil {
		t.Fatal("Journal() without run.json succeeded")
	}
}

// TestOpenRunJournalWithoutMeta: a directory left with a journal and no
// run.json (by an older promptgrid) is refused with what happened.
func TestOpenRunJournalWithoutMeta(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, JournalFile), []byte("{}\n"), 0o644)
	_, _, err := OpenRun(dir)
	if err == nil || !strings.Contains(err.Error(), "no run.json") {
		t.Fatalf("OpenRun: %v", err)
	}
	// The refusal released the lock.
	d, err := LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// TestWriteAtomicKeepsOldFileOnFailure: a write that fails part-way leaves
// the previous file whole and no temporary file behind.
func TestWriteAtomicKeepsOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "summary.json")
	if err := WriteAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "old"); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("killed mid-render")
	err := WriteAtomic(p, func(w io.Writer) error { io.WriteString(w, "new, half"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("file is %q after a failed write, want the old content", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only summary.json", len(ents))
	}
}
