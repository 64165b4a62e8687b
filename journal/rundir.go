package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// Lock file names inside a run directory. LockFile is the flock target and
// stays empty; HolderFile (written atomically once the lock is held) names
// the process holding it, so that a refused second process can say who.
const (
	LockFile   = ".lock"
	HolderFile = "lock.json"
)

// ErrLocked is returned (wrapped, with the holder) when another process holds
// a run directory's lock.
var ErrLocked = errors.New("run directory is locked by another promptgrid")

// Holder is the content of HolderFile: who holds a run directory's lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// RunDir is a run directory held under an exclusive lock: the only process
// that may append to its journal or rewrite its run.json and reports. Plain
// reading (report without --rescore) needs no RunDir.
type RunDir struct {
	// Path is the directory.
	Path string
	lock *flock.Flock
}

// LockRun creates dir if needed and takes its exclusive lock without waiting.
// When another process holds it, the error wraps ErrLocked and names the
// holder (pid, host, start time).
func LockRun(dir string) (*RunDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	l := flock.New(filepath.Join(dir, LockFile))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if !ok {
		who := "an unknown process"
		if b, err := os.ReadFile(filepath.Join(dir, HolderFile)); err == nil {
			var h Holder
			if json.Unmarshal(b, &h) == nil {
				who = fmt.Sprintf("pid %d on %s since %s", h.PID, h.Host, h.Started.Format(time.RFC3339))
			}
		}
		return nil, fmt.Errorf("%s: %w (%s); wait for it to finish or stop it", dir, ErrLocked, who)
	}
	host, _ := os.Hostname()
	h := Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC()}
	d := &RunDir{Path: dir, lock: l}
	if err := d.writeJSON(HolderFile, h); err != nil {
		l.Unlock()
		return nil, err
	}
	return d, nil
}

// CreateRun locks dir for a new run and writes m as its run.json before any
// journal exists. It refuses a directory that already holds a journal or a
// run.json: that is another run's (continue it with --resume).
func CreateRun(dir string, m *Meta) (*RunDir, error) {
	d, err := LockRun(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{JournalFile, MetaFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			d.Close()
			return nil, fmt.Errorf("%s already holds a run's %s: continue it with --resume %s, or choose another directory", dir, name, dir)
		}
	}
	if err := d.WriteMeta(m); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// OpenRun locks an existing run directory and reads its run.json. A directory
// with a journal but no run.json (left by a promptgrid older than RunDir,
// which created the journal first) is reported with what to do.
func OpenRun(dir string) (*RunDir, *Meta, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("open run directory: %w", err)
	}
	d, err := LockRun(dir)
	if err != nil {
		return nil, nil, err
	}
	m, err := ReadMeta(dir)
	if err != nil {
		d.Close()
		if _, jerr := os.Stat(filepath.Join(dir, JournalFile)); jerr == nil && errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s holds a journal but no run.json (the run was killed before writing it); its settings are unknown: start a new run", dir)
		}
		return nil, nil, err
	}
	return d, m, nil
}

// Journal opens the run's journal for appending. run.json must exist first,
// so that no journal is ever without the metadata that says what it is.
func (d *RunDir) Journal() (*Writer, error) {
	if _, err := os.Stat(filepath.Join(d.Path, MetaFile)); err != nil {
		return nil, fmt.Errorf("%s: open journal: run.json must be written first: %w", d.Path, err)
	}
	return createWriter(d.Path)
}

// WriteMeta rewrites the run's run.json atomically.
func (d *RunDir) WriteMeta(m *Meta) error { return WriteMeta(d.Path, m) }

// WriteFile writes the file name in the run directory atomically with
// WriteAtomic.
func (d *RunDir) WriteFile(name string, fn func(io.Writer) error) error {
	return WriteAtomic(filepath.Join(d.Path, name), fn)
}

func (d *RunDir) writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return d.WriteFile(name, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err })
}

// Close removes the holder file and releases the lock.
func (d *RunDir) Close() error {
	os.Remove(filepath.Join(d.Path, HolderFile))
	return d.lock.Unlock()
}

// WriteAtomic replaces the file at path with what fn writes, so that a
// reader or a crash sees the old file or the whole new one, never a part:
// fn writes a temporary file in the same directory, which is fsynced,
// renamed over path, and the directory fsynced.
func WriteAtomic(path string, fn func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fn(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	df, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer df.Close()
	if err := df.Sync(); err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return nil
}
