package journal

import (
	"bytes"
	"fmt"
	"reflect"
	"unicode/utf8"
	"unsafe"
)

// Tee passes every record AppendAll writes from now on to add as a reader
// of the file would see it, in file order: the record itself when its line
// gives it back (plainCopy, most records), else the line decoded with the
// decoder Read uses. It is for a run's live report: with it the journal is
// not read back when the run ends. add is called after the write, on the
// goroutine that called AppendAll (under the Writer's lock), and must not
// change the record. Tee reports false, and tees nothing, when the file held
// lines before this Writer opened it: a reader would see those too. A line
// that does not decode (a bug: the Writer wrote it) ends the tee with a
// call of fail. Call Tee before the first AppendAll.
func (w *Writer) Tee(add func(*Record), fail func(error)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.fresh || w.tally.Writes > 0 {
		return false
	}
	w.tee = &tee{add: add, fail: fail, cells: map[unsafe.Pointer]map[string]any{}}
	return true
}

// tee is where Tee passes the records written.
type tee struct {
	add  func(*Record)
	fail func(error)
	dec  recDecoder
	// cells maps a CellValues map (every trial of a grid cell shares its
	// cell's) to what its lines decode it to: YAML's ints come back as
	// float64s. At most maxTeeCells are kept; others are decoded each time.
	cells map[unsafe.Pointer]map[string]any
}

// maxTeeCells bounds tee.cells.
const maxTeeCells = 4096

// pass hands the records rs, whose lines are b, to the tee.
func (t *tee) pass(b []byte, rs []*Record) *tee {
	for _, r := range rs {
		i := bytes.IndexByte(b, '\n')
		line := b[:i]
		b = b[i+1:]
		if p, ok := t.plainCopy(r, line); ok {
			t.add(p)
			continue
		}
		rec, err := decodeRecord(&t.dec, line)
		if err != nil {
			t.fail(fmt.Errorf("journal tee: decode the line written: %w", err))
			return nil
		}
		t.add(rec)
	}
	return t
}

// plainCopy returns a copy of r that is what Read gives back from its line
// (line), when r is a plain record: every string valid UTF-8 (the line
// holds U+FFFD for invalid bytes), no tool calls or agent steps (their raw
// JSON is compacted), vars of the types JSON decodes into. The copy drops
// the monotonic clock reading of Timings.Scheduled (the line has the wall
// clock only) and holds its cell's CellValues as decoded from the line.
// TestTeePlainCopyIsTheDecodedLine sets every field of a record in turn to
// a value its line changes: plainCopy either declines or gives the decoded
// record.
func (t *tee) plainCopy(r *Record, line []byte) (*Record, bool) {
	if len(r.ToolCalls)+len(r.Steps) > 0 || !plainStrings(r) || !jsonValues(r.Vars) {
		return nil, false
	}
	p := *r
	p.Timings.Scheduled = r.Timings.Scheduled.Round(0)
	if len(r.CellValues) > 0 {
		key := reflect.ValueOf(r.CellValues).UnsafePointer()
		vals, ok := t.cells[key]
		if !ok {
			rec, err := decodeRecord(&t.dec, line)
			if err != nil {
				return nil, false
			}
			vals = rec.CellValues
			if len(t.cells) < maxTeeCells {
				t.cells[key] = vals
			}
		}
		p.CellValues = vals
	}
	return &p, true
}

// plainStrings reports whether every string of r is valid UTF-8.
func plainStrings(r *Record) bool {
	for _, s := range [...]string{r.RunID, r.Suite, r.SuiteHash, r.CaseID, r.Cell, r.Variant, r.TrialKey,
		r.TaskUUID, r.RequestHash, r.Model, r.Delivery, r.Transport, r.Prompt, r.Text, r.Reasoning, r.FinishReason} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, list := range [...][]string{r.Tags, r.Media} {
		for _, s := range list {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	if e := r.Error; e != nil && !(utf8.ValidString(e.Class) && utf8.ValidString(e.Code) &&
		utf8.ValidString(e.Message) && utf8.ValidString(e.Parameter)) {
		return false
	}
	for i := range r.Checks {
		if c := &r.Checks[i]; !utf8.ValidString(c.Check) || !utf8.ValidString(c.Reason) {
			return false
		}
	}
	return true
}

// jsonValues reports whether m holds only what JSON decodes into: strings
// (valid UTF-8), float64s, booleans, nil, and lists and maps of those.
func jsonValues(m map[string]any) bool {
	for k, v := range m {
		if !utf8.ValidString(k) || !jsonValue(v) {
			return false
		}
	}
	return true
}

// jsonValue is jsonValues for one value.
func jsonValue(v any) bool {
	switch v := v.(type) {
	case nil, bool, float64:
		return true
	case string:
		return utf8.ValidString(v)
	case []any:
		for _, x := range v {
			if !jsonValue(x) {
				return false
			}
		}
		return true
	case map[string]any:
		return jsonValues(v)
	}
	return false
}
