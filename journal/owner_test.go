package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeLines writes a journal of n records of run r1 (suite hash h1) with a
// blank line after every tenth, and returns its path and the file line
// number of each record.
func writeLines(t *testing.T, n int, edit func(i int, r *Record)) (string, []int) {
	t.Helper()
	var b strings.Builder
	var lineOf []int
	line := 0
	for i := range n {
		r := rec(fmt.Sprint("c", i), 0)
		r.SuiteHash = "h1"
		edit(i, r)
		l, err := MarshalLine(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(l)
		line++
		lineOf = append(lineOf, line)
		if i%10 == 9 {
			b.WriteString("\n")
			line++
		}
	}
	path := filepath.Join(t.TempDir(), JournalFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, lineOf
}

// TestOwnedByRefusesForeignLines: Read with OwnedBy stops at the first line
// of another run id or suite hash, with an error naming the file and its
// real line number (blank lines counted, far past the first decode chunk),
// both runs and what to do; fn never sees that line. A field the run.json
// leaves empty is not compared, and OwnedBy(nil) checks nothing.
func TestOwnedByRefusesForeignLines(t *testing.T) {
	const n, bad = 5 * chunkLines, 3*chunkLines + 7
	for _, tc := range []struct {
		name string
		edit func(*Record)
		want string
	}{
		{"run id", func(r *Record) { r.RunID = "r2" }, "line belongs to run r2 (suite hash h1), not this run r1 (suite hash h1)"},
		{"suite hash", func(r *Record) { r.SuiteHash = "h2" }, "line belongs to run r1 (suite hash h2), not this run r1 (suite hash h1)"},
		{"no suite hash", func(r *Record) { r.SuiteHash = "" }, "line belongs to run r1 (suite hash (none)), not this run r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, lineOf := writeLines(t, n, func(i int, r *Record) {
				if i == bad {
					tc.edit(r)
				}
			})
			seen := 0
			_, err := Read(path, func(*Record) error { seen++; return nil }, OwnedBy(&Meta{RunID: "r1", SuiteHash: "h1"}))
			var fe *ForeignLineError
			if !errors.As(err, &fe) {
				t.Fatalf("Read: %v, want a ForeignLineError", err)
			}
			where := fmt.Sprintf("%s:%d: ", path, lineOf[bad])
			if msg := err.Error(); !strings.HasPrefix(msg, where) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "promptgrid merge") {
				t.Fatalf("error %q, want it to start with %q and say %q and what to do", msg, where, tc.want)
			}
			if seen != bad {
				t.Fatalf("fn saw %d lines, want the %d before the foreign one", seen, bad)
			}
		})
	}
	path, _ := writeLines(t, n, func(i int, r *Record) {
		if i == bad {
			r.RunID, r.SuiteHash = "r2", "h2"
		}
	})
	for _, m := range []*Meta{nil, {}} {
		if st, err := Read(path, func(*Record) error { return nil }, OwnedBy(m)); err != nil || st.Records != n {
			t.Fatalf("OwnedBy(%+v): %d records, %v; want all %d", m, st.Records, err, n)
		}
	}
	if _, err := Read(path, func(*Record) error { return nil }, OwnedBy(&Meta{SuiteHash: "h1"})); err == nil {
		t.Fatal("a run.json with only a suite hash did not refuse a line of another suite hash")
	}
}

// TestMetaBeside: the run.json next to a journal is what its lines are
// checked against; a journal without one (outside a run directory) has
// none, and an unreadable run.json is an error, not "no run".
func TestMetaBeside(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, JournalFile)
	if m, err := MetaBeside(p); m != nil || err != nil {
		t.Fatalf("no run.json: %+v, %v; want nil, nil", m, err)
	}
	if err := WriteMeta(dir, &Meta{RunID: "r1", SuiteHash: "h1"}); err != nil {
		t.Fatal(err)
	}
	if m, err := MetaBeside(p); err != nil || m.RunID != "r1" || m.SuiteHash != "h1" {
		t.Fatalf("MetaBeside = %+v, %v", m, err)
	}
	if err := os.WriteFile(filepath.Join(dir, MetaFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := MetaBeside(p); err == nil || !strings.Contains(err.Error(), MetaFile) {
		t.Fatalf("corrupt run.json: %v, want an error naming it", err)
	}
}

// TestReadMetaBound: a run.json over MaxMetaSize is refused with the bound
// and what to do, not read whole into memory.
func TestReadMetaBound(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, MetaFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, MetaFile), MaxMetaSize+1); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMeta(dir); err == nil || !strings.Contains(err.Error(), "64 MiB") || !strings.Contains(err.Error(), "start a new run") {
		t.Fatalf("ReadMeta of an oversized run.json: %v", err)
	}
}
