package journal

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Tee hands on every record AppendAll writes as Read decodes its line (a
// string with invalid UTF-8 comes back as the file holds it), in order,
// and refuses a journal that held lines before the Writer opened it.
func TestTeeSeesWhatReadSees(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	var teed []*Record
	if !w.Tee(func(r *Record) { teed = append(teed, r) }, func(err error) { t.Errorf("tee failed: %v", err) }) {
		t.Fatal("Tee refused a fresh journal")
	}
	bad := rec("b", 0)
	bad.Text = "cut \xe2\x82"
	if err := w.AppendAll([]*Record{rec("a", 0), rec("a", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := w.AppendAll([]*Record{bad}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var read []*Record
	if _, err := Read(filepath.Join(dir, JournalFile), func(r *Record) error { read = append(read, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(read, teed); d != "" || len(teed) != 3 {
		t.Errorf("teed records differ from Read's (-read +teed):\n%s", d)
	}
	if teed[2].Text == bad.Text {
		t.Errorf("teed text %q is the record's, not the line's", teed[2].Text)
	}

	w, err = Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Tee(func(*Record) {}, func(error) {}) {
		t.Error("Tee accepted a journal that already held lines")
	}
}
