package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ForeignLineError is the error of a journal line whose run id or suite
// hash differ from its run directory's run.json: a line of another run (a
// journal copied or appended to by hand), which resuming, reporting or
// merging must not count as this run's.
type ForeignLineError struct {
	// File and Line say where the line is (Line is 1-based).
	File string
	Line int
	// RunID and SuiteHash are the line's; WantRunID and WantSuiteHash
	// run.json's.
	RunID, SuiteHash         string
	WantRunID, WantSuiteHash string
}

func (e *ForeignLineError) Error() string {
	return fmt.Sprintf("%s:%d: line belongs to run %s (suite hash %s), not this run %s (suite hash %s): remove it or merge the runs with `promptgrid merge`",
		e.File, e.Line, orNone(e.RunID), orNone(e.SuiteHash), orNone(e.WantRunID), orNone(e.WantSuiteHash))
}

// ReadOption changes what Read accepts.
type ReadOption func(*readOptions)

type readOptions struct {
	owner *Meta
}

// OwnedBy makes Read refuse, with a *ForeignLineError, the first line whose runId or suiteHash differ from
// m's (the run's run.json). A field m leaves empty is not compared; a nil m
// checks nothing (a journal outside a run directory).
func OwnedBy(m *Meta) ReadOption {
	return func(o *readOptions) { o.owner = m }
}

// MetaBeside returns the run.json in the directory of the journal at path,
// or nil when that directory has none (a journal outside a run directory,
// as tests and tools make): what OwnedBy should check the journal against.
func MetaBeside(journalPath string) (*Meta, error) {
	dir := filepath.Dir(journalPath)
	if _, err := os.Stat(filepath.Join(dir, MetaFile)); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return ReadMeta(dir)
}

// check returns the error of a line r at name:lineNo that does not belong
// to the run m describes, nil when it does or m is nil.
func (m *Meta) check(name string, lineNo int, r *Record) error {
	if m == nil {
		return nil
	}
	if (m.RunID == "" || r.RunID == m.RunID) && (m.SuiteHash == "" || r.SuiteHash == m.SuiteHash) {
		return nil
	}
	return &ForeignLineError{File: name, Line: lineNo, RunID: r.RunID, SuiteHash: r.SuiteHash,
		WantRunID: m.RunID, WantSuiteHash: m.SuiteHash}
}

// orNone shows an empty id as "(none)" in messages.
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
