package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// stringCases are string texts whose decoding must equal json.Unmarshal's,
// or fail where it fails: escapes, surrogate pairs and lone surrogates,
// invalid UTF-8, control bytes, bad escapes.
var stringCases = []string{
	`""`, `"plain"`, `"café 日本"`,
	`"a\"b\\c\/d\b\f\n\r\t\u00e9\u2028\uFFFD\u0000"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`,
	"\"\xff\xfe\"", "\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\"", "\"x\\n\xff\"",
	`"\u00G0"`, `"\u12"`, `"\q"`, `"\'"`, "\"a\x01\"", `"open`, `"\`, `x`, ``,
}

// checkString fails when String decodes text otherwise than json.Unmarshal
// into a string, or takes a text json.Unmarshal refuses.
func checkString(t *testing.T, text string) {
	t.Helper()
	var want string
	werr := json.Unmarshal([]byte(text), &want)
	var s Scanner
	s.Reset([]byte(text))
	s.WS()
	got, ok := s.String()
	ok = ok && s.End()
	if werr != nil {
		if ok {
			t.Fatalf("String took %q, json.Unmarshal refuses it: %v", text, werr)
		}
		return
	}
	if !ok || string(got) != want {
		t.Fatalf("String(%q) = %q, %v; json.Unmarshal gives %q", text, got, ok, want)
	}
}

// TestStringAsUnmarshal protects the decoding of strings: it must equal
// encoding/json's byte for byte, U+FFFD replacements included.
func TestStringAsUnmarshal(t *testing.T) {
	for _, c := range stringCases {
		checkString(t, c)
	}
}

// TestPlainString: only strings json.Unmarshal gives back unchanged are
// plain.
func TestPlainString(t *testing.T) {
	for text, plain := range map[string]bool{`"a"`: true, `"é"`: true, `"a\n"`: false, "\"\xff\"": false, `"a`: false} {
		var s Scanner
		s.Reset([]byte(text))
		if _, ok := s.PlainString(); ok != plain {
			t.Errorf("PlainString(%q) ok = %v, want %v", text, ok, plain)
		}
	}
}

// checkValue fails when Value's verdict on text differs from json.Valid's.
func checkValue(t *testing.T, text string) {
	t.Helper()
	var s Scanner
	s.Reset([]byte(text))
	s.WS()
	got := s.Value() && s.End()
	if want := json.Valid([]byte(text)); got != want {
		t.Fatalf("Value(%.80q) = %v, json.Valid = %v", text, got, want)
	}
}

// TestValueAsValid protects the syntax check, the nesting limit included.
func TestValueAsValid(t *testing.T) {
	for _, c := range []string{
		`{}`, `[]`, `{"a":[1,-0.5e+3,true,false,null,"x",{"\u0041":{}}]}`, ` [ 1 , 2 ] `,
		`{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{1:2}`, `01`, `1.`, `-`, `1e`, `.5`, `tru`, `nul`, `"a`,
		`{"a":"\x"}`, "[\"\x01\"]", `[] x`, `{"k":` + "\"\xff\"}",
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
		`{"x":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
		`{"x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
	} {
		checkValue(t, c)
	}
}

// FuzzString runs the string check on fuzzer inputs, quoted or not.
func FuzzString(f *testing.F) {
	for _, c := range stringCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkString(t, text)
		checkString(t, `"`+text+`"`)
	})
}

// FuzzValue runs the syntax check on fuzzer inputs.
func FuzzValue(f *testing.F) {
	f.Add(`{"a":[1,-0.5e+3,true,false,null,"x",{"b":{}}]}`)
	f.Add(`[{"\ud83d":"\xff"}, 1e400]`)
	f.Fuzz(func(t *testing.T, text string) { checkValue(t, text) })
}

// numberCases are number texts at the edges of what json.Unmarshal takes
// into an int64 or a float64.
var numberCases = []string{
	`0`, `-0`, `1`, `-1`, `9223372036854775807`, `-9223372036854775808`, `9223372036854775808`,
	`1.0`, `1e3`, `1E-3`, `-0.5e+3`, `1e400`, `1e-400`, `01`, `1.`, `.5`, `+1`, `-`, `1e`, `0x10`, `1_0`,
	`Infinity`, `NaN`, `"1"`,
}

// checkNumber fails when Int64 or Float64 takes text otherwise than
// json.Unmarshal into an int64 or a float64 does.
func checkNumber(t *testing.T, text string) {
	t.Helper()
	var s Scanner
	s.Reset([]byte(text))
	n, ok := s.Int64()
	ok = ok && s.End()
	var wantN int64
	if err := json.Unmarshal([]byte(text), &wantN); (err == nil) != ok || ok && n != wantN {
		t.Fatalf("Int64(%q) = %d, %v; json.Unmarshal: %d, %v", text, n, ok, wantN, err)
	}
	s.Reset([]byte(text))
	f, ok := s.Float64()
	ok = ok && s.End()
	var wantF float64
	if err := json.Unmarshal([]byte(text), &wantF); (err == nil) != ok || ok && f != wantF {
		t.Fatalf("Float64(%q) = %v, %v; json.Unmarshal: %v, %v", text, f, ok, wantF, err)
	}
}

// TestNumbersAsUnmarshal protects Int64 and Float64: the numbers they take,
// and their values, are json.Unmarshal's.
func TestNumbersAsUnmarshal(t *testing.T) {
	for _, c := range numberCases {
		checkNumber(t, c)
	}
}

// FuzzNumber runs the number check on fuzzer inputs.
func FuzzNumber(f *testing.F) {
	for _, c := range numberCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.TrimSpace(text) != text {
			return // json.Unmarshal takes surrounding space, Int64 does not
		}
		checkNumber(t, text)
	})
}
