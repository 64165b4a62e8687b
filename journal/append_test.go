package journal

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppendAllWritesMarshalLines protects the journal's byte format now
// that AppendAll encodes into a pooled buffer instead of calling
// MarshalLine: the file holds exactly MarshalLine's lines, for records with
// HTML characters, line separators, invalid UTF-8 and a text large enough
// to keep its buffer out of the pool; and a record that cannot be encoded
// fails the call and writes none of its trial's lines.
func TestAppendAllWritesMarshalLines(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	odd := rec("odd", 1)
	odd.Text = "<a href=\"x\">&</a>\u2028\u2029\xff\xfe end"
	big := rec("big", 0)
	big.Text = strings.Repeat("z", 2<<20)
	batches := [][]*Record{{rec("a", 0), rec("a", 1)}, {odd}, {big}, {runnerRecord(t, 3), runnerRecord(t, 4)}, {rec("b", 0)}}
	var want []byte
	for _, b := range batches {
		if err := w.AppendAll(b); err != nil {
			t.Fatal(err)
		}
		for _, r := range b {
			line, err := MarshalLine(r)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, line...)
		}
	}
	bad := rec("nan", 0)
	bad.Score = math.NaN()
	if err := w.AppendAll([]*Record{rec("c", 0), bad}); err == nil {
		t.Error("AppendAll of a record with a NaN score succeeded")
	}
	if err := w.Append(rec("d", 0)); err != nil {
		t.Fatal(err)
	}
	line, _ := MarshalLine(rec("d", 0))
	want = append(want, line...)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("journal bytes differ from MarshalLine's: %d bytes, want %d", len(got), len(want))
	}
}

// runnerRecord is runnerLine's record.
func runnerRecord(t *testing.T, i int) *Record {
	var r Record
	if err := json.Unmarshal(runnerLine(t, i), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}
