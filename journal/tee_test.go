package journal

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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

// leafSetters lists, for every leaf field reachable from a Record (through
// pointers, slices and structs), a function setting it in a record to a
// value its line changes when it can (invalid UTF-8, an int in a map of
// values, raw JSON with spaces, a time with a monotonic clock reading),
// else to some other value; path names the field.
func leafSetters(t reflect.Type, path string, get func(*Record) reflect.Value, out map[string]func(*Record)) {
	switch {
	case t == reflect.TypeFor[time.Time]():
		out[path] = func(r *Record) { get(r).Set(reflect.ValueOf(time.Now())) }
		return
	case t == reflect.TypeFor[json.RawMessage]():
		out[path] = func(r *Record) { get(r).Set(reflect.ValueOf(json.RawMessage(`{ "a" : [ 1 ] }`))) }
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			leafSetters(f.Type, path+"."+f.Name, func(r *Record) reflect.Value { return get(r).Field(i) }, out)
		}
	case reflect.Pointer:
		leafSetters(t.Elem(), path, func(r *Record) reflect.Value {
			v := get(r)
			if v.IsNil() {
				v.Set(reflect.New(t.Elem()))
			}
			return v.Elem()
		}, out)
	case reflect.Slice:
		leafSetters(t.Elem(), path+"[]", func(r *Record) reflect.Value {
			v := get(r)
			if v.Len() == 0 {
				v.Set(reflect.MakeSlice(t, 1, 1))
			}
			return v.Index(0)
		}, out)
	case reflect.Map:
		out[path] = func(r *Record) { get(r).Set(reflect.ValueOf(map[string]any{"n": 3, "s": "x"})) }
	case reflect.String:
		out[path] = func(r *Record) { get(r).SetString("cut \xe2\x82") }
	case reflect.Bool:
		out[path] = func(r *Record) { get(r).SetBool(true) }
	case reflect.Int, reflect.Int64:
		out[path] = func(r *Record) { get(r).SetInt(7) }
	case reflect.Float64:
		out[path] = func(r *Record) { get(r).SetFloat(0.1) }
	default:
		panic(fmt.Sprintf("%s: a field of kind %s: teach leafSetters its lossy value", path, t.Kind()))
	}
}

// The tee hands on a record itself only when that is what Read would give
// back from its line: every leaf field of a Record, set in turn to a value
// its line changes, either makes plainCopy decline (the line is decoded)
// or gives the record Read decodes. A field added to Record whose line
// changes it, and that plainCopy does not check, fails here.
func TestTeePlainCopyIsTheDecodedLine(t *testing.T) {
	setters := map[string]func(*Record){}
	leafSetters(reflect.TypeFor[Record](), "Record", func(r *Record) reflect.Value { return reflect.ValueOf(r).Elem() }, setters)
	declined := 0
	for path, set := range setters {
		for _, cells := range []bool{false, true} {
			r := rec("a", 0)
			r.Timings.Scheduled = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
			if cells {
				r.CellValues = map[string]any{"settings.maxTokens": 64, "settings.temperature": 0.2}
			}
			set(r)
			line, err := appendRecord(nil, r)
			if err != nil {
				continue
			}
			tt := &tee{cells: map[unsafe.Pointer]map[string]any{}}
			p, ok := tt.plainCopy(r, line)
			if !ok {
				declined++
				continue
			}
			want, err := decodeRecord(&tt.dec, line)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, p, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("%s (cellValues %v): plainCopy is not the decoded line (-decoded +copy):\n%s", path, cells, d)
			}
		}
	}
	if len(setters) < 60 || declined == 0 {
		t.Fatalf("%d leaf fields, %d declined: the walk missed the record", len(setters), declined)
	}
}
