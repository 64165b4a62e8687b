package journal

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadLatestMatchesNaive protects the exactness of the compact
// last-line-wins pass: on a journal with resumed and retried samples spread
// through it, with and without trial keys, it passes the same lines and
// counts the same superseded and incomplete samples as a pass that keeps
// every key. The journal is large enough relative to its size in bytes that
// the Bloom filter reports false positives, which must cost nothing but map
// entries.
func TestReadLatestMatchesNaive(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var recs []*Record
	for i := range 6000 {
		r := &Record{CaseID: "c", Seed: int64(i % 7), ResultIndex: rnd.IntN(3), Results: 3, Text: fmt.Sprint(i)}
		switch rnd.IntN(10) {
		case 0: // a hand-made line without a trial key
			r.Replicate = rnd.IntN(50)
		case 1: // interrupted
			r.TrialKey = fmt.Sprintf("k%d", rnd.IntN(1500))
			r.Error = &Error{Class: "interrupted", Message: "stopped"}
		default:
			r.TrialKey = fmt.Sprintf("k%d", rnd.IntN(1500))
		}
		recs = append(recs, r)
	}
	path := writeJournal(t, recs)

	last := map[string]int{}
	for i, r := range recs {
		last[SampleKey(r)] = i
	}
	want := ReadInfo{Lines: len(recs), Superseded: len(recs) - len(last)}
	var wantText []string
	for i, r := range recs {
		if last[SampleKey(r)] != i {
			continue
		}
		if !r.Terminal() {
			want.Incomplete++
			continue
		}
		wantText = append(wantText, r.Text)
	}

	var gotText []string
	got, err := ReadLatest(path, func(r *Record) error {
		gotText = append(gotText, r.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want.Superseded == 0 || want.Incomplete == 0 {
		t.Fatalf("fixture has no superseded (%d) or incomplete (%d) samples", want.Superseded, want.Incomplete)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("info (-naive +ReadLatest):\n%s", diff)
	}
	if diff := cmp.Diff(wantText, gotText); diff != "" {
		t.Errorf("lines passed (-naive +ReadLatest):\n%s", diff)
	}
}

// writeJournal writes recs as a journal in a new directory and returns its
// path.
func writeJournal(t *testing.T, recs []*Record) string {
	t.Helper()
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, JournalFile)
}
