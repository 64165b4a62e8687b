package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fullKey is the reference: the key json.Unmarshal into a Record gives.
func fullKey(line []byte) (Key, error) {
	var rec Record
	err := json.Unmarshal(line, &rec)
	return rec.Key(), err
}

// checkKeyAgrees asserts that decodeKey agrees with the full decoder on one
// trimmed line: the same error for a line that is not JSON or whose
// top-level fields have the wrong types, and otherwise the same key. The
// one documented difference is a valid line with a wrongly typed nested
// value, which only the full decoder rejects; its key must still agree.
func checkKeyAgrees(t *testing.T, line []byte) {
	t.Helper()
	want, werr := fullKey(line)
	var got Key
	gerr := decodeKey(line, &got)
	var syn *json.SyntaxError
	switch {
	case gerr != nil && werr == nil:
		t.Fatalf("decodeKey(%q) = %v, full decoder accepts it", line, gerr)
	case gerr != nil:
		if gerr.Error() != werr.Error() {
			t.Fatalf("decodeKey(%q) error %q, full decoder %q", line, gerr, werr)
		}
		return
	case werr != nil && (errors.As(werr, &syn) || !scannedNested(line, werr)):
		t.Fatalf("decodeKey(%q) accepts a line the full decoder rejects: %v", line, werr)
	}
	if got != want {
		t.Fatalf("decodeKey(%q) = %+v, full decoder %+v", line, got, want)
	}
}

// scannedNested reports whether err, from the full decoder, is about a
// value nested in one of Record's objects or arrays (the residue ReadKeys
// documents), not a top-level field.
func scannedNested(line []byte, err error) bool {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return strings.Contains(te.Field, ".")
	}
	// time.Time's own parse error for timings.scheduled.
	var pe *time.ParseError
	return errors.As(err, &pe) && bytes.Contains(line, []byte(`"timings"`))
}

// runnerLine is a record as the runner writes it, with every field set.
func runnerLine(t *testing.T, i int) []byte {
	t.Helper()
	cost := 0.000271 * float64(i)
	r := &Record{V: Version, RunID: "20261125-213130-919537", Suite: "s", SuiteHash: "b3da", CaseID: "c" + string(rune('0'+i%10)),
		Tags: []string{"smoke", "é"}, Cell: "settings.temperature=0.2", CellValues: map[string]any{"settings.temperature": 0.2},
		Variant: "v1", Seed: int64(i) * 2712018095, Replicate: i % 3, ResultIndex: i % 4, Results: 4,
		TrialKey: "6df32487ff37363836039948d3289195", TaskUUID: "70e48e38", RequestHash: "8819", Model: "m", Delivery: "sync",
		Transport: "native", Vars: map[string]any{"q": []any{"a", 1.0}}, Prompt: "say \"hi\" <b>",
		Timings: Timings{Scheduled: time.Date(2026, 11, 25, 21, 31, 30, 483523229, time.UTC), E2E: Ms(1927225), Queue: Ms(289911)},
		Text:    "Simulated answer to \"question 0\":\n\tclear\u2028 river \x01 ünïcode", Reasoning: "r", FinishReason: "length",
		ToolCalls: []ToolCall{{ID: "t1", Name: "f", Arguments: json.RawMessage(`{"x":[1,{"y":null}]}`)}},
		Usage:     &Usage{Prompt: 3, Completion: 64, Total: 67}, Cost: &cost, CostEstimated: i%2 == 0,
		Attempts: 1, Retried: i%5 == 0, Cached: i%7 == 0,
		Checks: []CheckOutcome{{Check: `contains "Simulated"`, Pass: true}, {Check: "regex /answer/", Pass: false, Reason: "no"}},
		Pass:   i%3 == 0, Score: 0.5}
	if i%4 == 1 {
		r.Error = &Error{Class: "interrupted", Message: "stopped"}
	}
	line, err := MarshalLine(r)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(line)
}

// TestScanKeyTakesRunnerLines protects the point of ReadKeys: on the lines
// the runner writes, the key comes from the scan, never from the full
// decoder (a scan that silently always fell back would still agree).
func TestScanKeyTakesRunnerLines(t *testing.T) {
	for i := range 20 {
		line := runnerLine(t, i)
		var k Key
		if !scanKey(line, &k) {
			t.Fatalf("scanKey gave up on a runner line: %s", line)
		}
		if want, _ := fullKey(line); k != want {
			t.Fatalf("scanKey = %+v, want %+v", k, want)
		}
	}
}

// TestDecodeKeyTable pins the cases where the scan must give up or must
// reproduce json.Unmarshal's quirks.
func TestDecodeKeyTable(t *testing.T) {
	for _, line := range []string{
		// The minimal record and an empty object.
		`{"trialKey":"k","resultIndex":2}`,
		`{}`,
		// Keys written without a trial key identify the sample by its parts.
		`{"caseId":"c","variant":"v","cell":"a=1","seed":-7,"replicate":3,"resultIndex":0}`,
		// A repeated field: the last value wins, and null keeps the earlier one.
		`{"trialKey":"a","trialKey":"b","resultIndex":1,"resultIndex":null}`,
		// json.Unmarshal matches keys case-insensitively: the scan defers to it.
		`{"TrialKey":"a","RESULTINDEX":3}`,
		// ... and Unicode folding: the Kelvin sign folds to k.
		"{\"trial\u212aey\":\"a\"}",
		// A key value with escapes or invalid UTF-8 is decoded by the full decoder.
		`{"trialKey":"a\"b\u00e9","caseId":"x\/y"}`,
		"{\"caseId\":\"\xff\xfe\"}",
		// Valid non-ASCII key values are taken as they are.
		`{"caseId":"café","cell":"日本"}`,
		// Unknown fields are ignored, whatever their shape.
		`{"extra":{"a":[1,2,{"b":"\u0041"}]},"trialKey":"k","more":[],"n":-0.5e+3}`,
		// Wrong top-level types are the full decoder's errors.
		`{"resultIndex":"1"}`,
		`{"resultIndex":1.5}`,
		`{"seed":1e3}`,
		`{"seed":99999999999999999999}`,
		`{"cost":1e400}`,
		`{"pass":"yes"}`,
		`{"text":5}`,
		`{"timings":[]}`,
		`{"checks":{}}`,
		`{"tags":"a"}`,
		// Wrong nested types: only the full decoder sees them (documented).
		`{"trialKey":"k","usage":{"prompt":"x"}}`,
		`{"trialKey":"k","timings":{"scheduled":"yesterday"}}`,
		// Syntax errors anywhere give the full decoder's error.
		`{"trialKey":"k",}`,
		`{"trialKey":"k"} x`,
		`{"trialKey":"k","text":"a` + "\x01" + `"}`,
		`{"trialKey":"k","text":"\q"}`,
		`{"trialKey":"k","n":01}`,
		`{"trialKey":"k","n":1.}`,
		`{"trialKey":"k","n":-}`,
		`{"trialKey":"k","o":{"a" 1}}`,
		`{"trialKey":"k","o":[1 2]}`,
		`{"trialKey":"k","b":tru}`,
		`{"trialKey" "k"}`,
		`{"trialKey":"k"`,
		`[1]`,
		`null`,
		`"s"`,
		// Deep nesting past the decoder's limit.
		`{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	} {
		checkKeyAgrees(t, []byte(line))
	}
}

// TestDecodeKeyMutations is a fuzz-style table: runner lines with bytes
// deleted, duplicated or replaced by JSON-significant ones at random places
// must get the same key or the same error from decodeKey as from the full
// decoder.
func TestDecodeKeyMutations(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("{}[]:,\"\\ 0123456789-+.eEtrufalsn\x00\x1f\xc3\xa9\xff")
	for i := range 5000 {
		line := runnerLine(t, i%40)
		b := mutate(rnd, line, alphabet)
		checkKeyAgrees(t, bytes.TrimSpace(b))
	}
}

// FuzzDecodeKey runs the same agreement check on fuzzer inputs.
func FuzzDecodeKey(f *testing.F) {
	f.Add([]byte(`{"trialKey":"k","resultIndex":2}`))
	f.Add([]byte(`{"caseId":"c","seed":-7,"replicate":3,"cost":null,"checks":[{"pass":true}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		line := bytes.TrimSpace(b)
		if len(line) == 0 {
			return
		}
		checkKeyAgrees(t, line)
	})
}

// TestReadKeysMatchesRead protects ReadKeys as a stand-in for Read in a
// first pass: over a journal with blank lines, a line longer than the read
// buffer, superseded lines and a partial tail, it yields the keys of the
// same lines with the same stats; on a corrupt line it stops with the same
// error after the same records.
func TestReadKeysMatchesRead(t *testing.T) {
	var buf bytes.Buffer
	for i := range 300 {
		buf.Write(runnerLine(t, i%17))
		buf.WriteString("\n")
		if i%50 == 0 {
			buf.WriteString("  \t\n\n")
		}
		if i == 120 {
			long := &Record{TrialKey: "long", Text: strings.Repeat("x", 600*1024)}
			l, _ := MarshalLine(long)
			buf.Write(l)
		}
	}
	good := bytes.Clone(buf.Bytes())
	buf.WriteString(`{"trialKey":"cut`)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
	}{
		// A whole journal whose last write was cut short.
		{"partial", buf.String()},
		// A line in the middle that is not JSON.
		{"corrupt", string(good[:len(good)/2]) + "\n{not json}\n" + string(good[len(good)/2:])},
		// A line in the middle whose top-level field has the wrong type.
		{"mistyped", string(good[:len(good)/3]) + "\n{\"resultIndex\":\"0\"}\n" + string(good[len(good)/3:])},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		var want, got []Key
		wst, werr := Read(path, func(r *Record) error { want = append(want, r.Key()); return nil })
		gst, gerr := ReadKeys(path, func(k *Key) error { got = append(got, *k); return nil })
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Errorf("%s: ReadKeys error %v, Read %v", tc.name, gerr, werr)
		}
		if wst != gst {
			t.Errorf("%s: ReadKeys stats %+v, Read %+v", tc.name, gst, wst)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: keys (-Read +ReadKeys):\n%s", tc.name, diff)
		}
		if len(want) < 100 {
			t.Errorf("%s: only %d records read; the fixture is broken", tc.name, len(want))
		}
	}
}

// mutate returns a copy of line with one to three bytes deleted,
// duplicated or replaced by one of alphabet.
func mutate(rnd *rand.Rand, line, alphabet []byte) []byte {
	b := bytes.Clone(line)
	for range 1 + rnd.IntN(3) {
		p := rnd.IntN(len(b))
		switch rnd.IntN(3) {
		case 0:
			b = append(b[:p], b[p+1:]...)
		case 1:
			b = append(b[:p], append([]byte{b[p]}, b[p:]...)...)
		default:
			b[p] = alphabet[rnd.IntN(len(alphabet))]
		}
	}
	return b
}
