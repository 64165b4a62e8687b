package journal

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Tally counts the samples one Writer appended (the records of one
// invocation of a run): how many got an answer, and of the others how many
// failed with each error class.
type Tally struct {
	// Answered counts samples without an error.
	Answered int
	// Errors maps an error class (journal Error.Class) to the samples that
	// failed with it.
	Errors map[string]int
	// Writes counts the write calls that appended them: one per AppendAll,
	// which the runner gives every trial that has landed at once.
	Writes int
}

// add counts one record.
func (t *Tally) add(r *Record) {
	if r.Error == nil {
		t.Answered++
		return
	}
	if t.Errors == nil {
		t.Errors = map[string]int{}
	}
	t.Errors[r.Error.Class]++
}

// Samples is the number of records counted: the lines written.
func (t Tally) Samples() int {
	n := t.Answered
	for _, c := range t.Errors {
		n += c
	}
	return n
}

// NoAnswer reports whether samples were written and not one of them got an
// answer: every request failed (an unreachable endpoint, a server that
// refuses everything).
func (t Tally) NoAnswer() bool { return t.Answered == 0 && len(t.Errors) > 0 }

// ErrorSummary lists the error classes with their counts, most frequent
// first (ties by name), e.g. "24 network, 3 timeout".
func (t Tally) ErrorSummary() string {
	classes := slices.SortedFunc(maps.Keys(t.Errors), func(a, b string) int {
		return cmp.Or(cmp.Compare(t.Errors[b], t.Errors[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(classes))
	for i, c := range classes {
		name := c
		if name == "" {
			name = "unclassified"
		}
		parts[i] = fmt.Sprintf("%d %s", t.Errors[c], name)
	}
	return strings.Join(parts, ", ")
}

// Tally returns the counts of the records appended so far.
func (w *Writer) Tally() Tally {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Tally{Answered: w.tally.Answered, Errors: maps.Clone(w.tally.Errors), Writes: w.tally.Writes}
}
