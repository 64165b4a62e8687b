package journal

import "testing"

// TestWriterTally: a Writer counts what it appended: answers, and failures by
// class, listed most frequent first; a journal with one answer is not
// "no answer", nor is one with no samples at all.
func TestWriterTally(t *testing.T) {
	w, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Tally().NoAnswer() {
		t.Fatal("a writer that appended nothing reports no answer")
	}
	fail := func(class string, n int) {
		for range n {
			r := rec("c", 0)
			r.Error = &Error{Class: class, Message: "x"}
			if err := w.Append(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	fail("timeout", 3)
	fail("network", 24)
	fail("auth", 3)
	tl := w.Tally()
	if !tl.NoAnswer() {
		t.Fatalf("tally %+v: want no answer", tl)
	}
	if got, want := tl.ErrorSummary(), "24 network, 3 auth, 3 timeout"; got != want {
		t.Fatalf("ErrorSummary() = %q, want %q", got, want)
	}
	if err := w.AppendAll([]*Record{rec("d", 0)}); err != nil {
		t.Fatal(err)
	}
	if tl := w.Tally(); tl.NoAnswer() || tl.Answered != 1 {
		t.Fatalf("after one answer: tally %+v", tl)
	}
}
