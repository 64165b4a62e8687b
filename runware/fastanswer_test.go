package runware

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/internal/jsonscan"
)

// simAnswer is the simulator's answer to one sync textInference task
// (promptgrid sim --result-extras), as the throughput benchmark gets it.
const simAnswer = `{"data":[{"taskType":"textInference","taskUUID":"ee9e31a4-aa9d-4ec3-b76b-000000000001",` +
	`"text":"Simulated answer to \"question 0\": method history final measure direct where river large. theory country was because.",` +
	`"finishReason":"stop","usage":{"promptTokens":3,"completionTokens":52,"totalTokens":55,"thinkingTokens":0},` +
	`"cost":0.0002211,"resultIndex":0,"seed":707632555}]}`

// referenceAnswer is decodeAnswerOnce without scanEnvelope: json.Unmarshal
// into an answerEnvelope, then the same processing; ok false where
// decodeAnswerOnce leaves the body to decodeBody's passes.
func referenceAnswer(obj []byte, status int, body []byte) (env answerEnvelope, out decodedBody, derr *Error, ok bool) {
	if json.Unmarshal(obj, &env) != nil || dataKeys(obj) > 1 {
		return answerEnvelope{}, decodedBody{}, nil, false
	}
	out, derr = env.answer(status, body)
	return env, out, derr, true
}

// checkScanEnvelope fails when scanEnvelope takes body (under status) and
// its envelope, results or errors differ from the reference path's, or the
// reference path does not take it. It reports whether scanEnvelope took it.
func checkScanEnvelope(t *testing.T, status int, body []byte) bool {
	t.Helper()
	obj := bytes.TrimSpace(body)
	if len(obj) == 0 || obj[0] != '{' {
		return false // decodeBody never gets here
	}
	var got answerEnvelope
	if !scanEnvelope(obj, &got) {
		return false
	}
	want, wantOut, wantErr, ok := referenceAnswer(obj, status, body)
	if !ok {
		t.Fatalf("scanEnvelope took %q, the reference path refuses it", body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("scanEnvelope(%q) =\n%#v\njson.Unmarshal:\n%#v", body, got, want)
	}
	gotOut, gotErr := got.answer(status, body)
	if !reflect.DeepEqual(gotOut, wantOut) || !reflect.DeepEqual(gotErr, wantErr) {
		t.Fatalf("status %d, body %q: answer %+v, %+v; reference %+v, %+v", status, body, gotOut, gotErr, wantOut, wantErr)
	}
	return true
}

// TestScanEnvelopeTakesAnswers protects the point of scanEnvelope: the
// usual answers are decoded by it, not by the fallback (a decoder that
// always gave up would agree with the reference too).
func TestScanEnvelopeTakesAnswers(t *testing.T) {
	for _, body := range []string{
		simAnswer,
		decodeAnswerCases[0].body,
		`{"data":[{"taskType":"textInference","taskUUID":"a","status":"processing"}]}`,
		`{"data":[{"taskUUID":"a","status":"error","error":{"code":"timeoutProvider","message":"t"}}]}`,
		`{"data":[{"taskUUID":"a","text":"","toolCalls":[{"id":"c","name":"f","arguments":{"q":[1,"x"]}}]}]}`,
		`{"errors":[{"code":"invalidModel","message":"m","taskUUID":"b"}]}`,
	} {
		if !checkScanEnvelope(t, 200, []byte(body)) {
			t.Errorf("scanEnvelope gave up on %s", body)
		}
	}
}

// scanEnvelopeTaken are bodies with json.Unmarshal's quirks that
// scanEnvelope must reproduce, not give up on.
var scanEnvelopeTaken = []string{
	`{}`, `{"data":[]}`, `{"data":null}`, `{"data":[null,{}]}`, ` {"data" : [ { } ] } `,
	// Nulls: a string keeps its value, a pointer, slice or Usage is
	// cleared, flexString and RawMessage take them as values.
	`{"data":[{"taskUUID":"a","taskUUID":null,"text":"x","text":null,"usage":{"totalTokens":1},"usage":null}]}`,
	`{"data":[{"cost":1,"cost":null,"seed":1,"seed":null,"resultIndex":2,"resultIndex":null,"toolCalls":null}]}`,
	`{"data":[{"code":null,"message":null,"error":null,"status":"error"}],"error":null,"errors":null,"taskUUID":null}`,
	`{"data":[{"usage":{"promptTokens":null,"totalTokens":3}}]}`,
	`{"data":[{"toolCalls":[null,{"id":null,"name":"f","arguments":null}]}]}`,
	// Repeated fields: the last wins, Usage merges (but not into one set
	// to null since).
	`{"data":[{"taskUUID":"a","taskUUID":"b","text":"x","text":"y","code":1,"code":"c"}]}`,
	`{"data":[{"usage":{"promptTokens":1},"usage":{"totalTokens":2,"totalTokens":3}}]}`,
	`{"data":[{"usage":{"promptTokens":1},"usage":null,"usage":{"totalTokens":2}}]}`,
	`{"data":[{"text":"a","text":null,"text":"b","cost":1,"cost":null,"cost":2,"seed":1,"seed":null,"seed":2}]}`,
	`{"data":[{"usage":{"promptTokens":1},"cost":1},{"usage":{"totalTokens":2}},{"cost":null}]}`,
	`{"data":[{"toolCalls":null,"toolCalls":[{"id":"a"}]}]}`,
	`{"errors":[1],"errors":[{"message":"m"}],"taskType":"x","taskType":"y"}`,
	// Keys that name no field, in any case.
	`{"data":[{"err":"x","Err":"y","-":1,"Result":{}}]}`,
	`{"extra":{"a":[1,2,{"b":"\u0041"}]},"data":[{"imageURL":"x","more":[],"n":-0.5e+3,"t":true,"f":false,"z":null}]}`,
	`{"data":[{"usage":{"cachedTokens":{"a":1}},"toolCalls":[{"type":"function","x":{"k\"":{"\u00e9":1}}}]}],"y":{"k\"":2}}`,
	// Strings: escapes, surrogates, invalid UTF-8, as values of every kind
	// of field.
	`{"data":[{"text":"a\"b\\c\/d\b\f\n\r\t\u00e9\u2028\uFFFD\u0000","taskUUID":"\ud83d\ude00"}]}`,
	`{"data":[{"text":"\ud83d","finishReason":"\ude00\ud83d","status":"\ud83d\u0041"}]}`,
	"{\"data\":[{\"text\":\"\xff\xfe\",\"taskType\":\"\xed\xa0\x80\",\"code\":\"\xc3\"}]}",
	"{\"data\":[{\"code\":\"\\n\xff\",\"message\":\"m\\u00e9\",\"error\":\"\\u00e9\xff\"}],\"taskUUID\":\"\\\"\"}",
	`{"data":[{"toolCalls":[{"id":"\u0041","name":"\ud800","arguments":"\u00e9"}]}]}`,
	`{"data":[{"text":"caf` + "\u00e9 \u65e5\u672c" + `"}]}`,
	// flexString and RawMessage of every shape.
	`{"data":[{"status":"error","code":{"a" : [1, 2]},"message":[true],"error":  {"code" : 7}  }],"taskType":-1.5e3}`,
	`{"data":[{"status":"error","code":true,"message":false,"error":[{"message":"m"}]}],"error":"str"}`,
	`{"data":[{"status":"error","error":"just text"}],"errors":{"message":{"nested":true}},"taskUUID":{"x":1}}`,
	`{"data":[{"toolCalls":[{"arguments":[1, {"b" : "\u0041"}]},{"arguments":1e5},{"arguments":"s"}]}]}`,
	// Numbers at the edges, and the deepest nesting json.Unmarshal takes.
	`{"data":[{"seed":-0,"cost":-0,"resultIndex":9223372036854775807,"usage":{"totalTokens":-9223372036854775808}}]}`,
	`{"data":[{"cost":1e-400}]}`, `{"data":[{"cost":0.1e1,"x":1e400}]}`,
	`{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
	`{"data":[{"x":` + strings.Repeat("[", 9997) + strings.Repeat("]", 9997) + `}]}`,
}

// scanEnvelopeCases are bodies scanEnvelope may give up on, and must when
// it cannot give json.Unmarshal's result.
var scanEnvelopeCases = []string{
	// Repeated slices: json.Unmarshal decodes into the earlier one.
	`{"data":[{"toolCalls":[],"toolCalls":[{"id":"a"}]}]}`, `{"data":[],"data":[]}`, `{"data":null,"data":[{"text":"x"}]}`,
	// Case-insensitive, escaped and Unicode-folded keys.
	`{"Data":[{"text":"x"}]}`, `{"data":[{"TEXT":"x"}]}`, `{"data":[{"usage":{"TotalTokens":1}}]}`,
	`{"data":[{"toolCalls":[{"ID":"x"}]}]}`, `{"ERRORS":"x"}`, `{"d\u0061ta":[]}`, `{"data":[{"t\u0065xt":"x"}]}`,
	"{\"data\":[{\"taſkUUID\":\"a\"}]}", "{\"data\":[{\"\u212aey\":\"a\"}]}", `{"data":[{"x\u0041":1}]}`,
	`{"data":[],"\u00e9":1}`,
	// Numbers json.Unmarshal refuses for the field.
	`{"data":[{"seed":1.0}]}`, `{"data":[{"seed":1e3}]}`, `{"data":[{"seed":99999999999999999999}]}`,
	`{"data":[{"resultIndex":1.5}]}`, `{"data":[{"usage":{"promptTokens":2E1}}]}`, `{"data":[{"cost":1e400}]}`,
	`{"data":[{"cost":01}]}`, `{"data":[{"cost":1.}]}`, `{"data":[{"cost":-}]}`, `{"data":[{"cost":.5}]}`,
	`{"data":[{"cost":+1}]}`, `{"data":[{"cost":1e}]}`,
	// Wrong types: json.Unmarshal fails the whole body.
	`{"data":[{"text":5}]}`, `{"data":[{"taskUUID":true}]}`, `{"data":[{"usage":5}]}`, `{"data":[{"usage":[]}]}`,
	`{"data":[{"usage":{"promptTokens":"1"}}]}`, `{"data":[{"cost":"1"}]}`, `{"data":[{"seed":"1"}]}`,
	`{"data":[{"toolCalls":{}}]}`, `{"data":[{"toolCalls":[1]}]}`, `{"data":[{"toolCalls":[{"id":1}]}]}`,
	`{"data":[1]}`, `{"data":["x"]}`, `{"data":{}}`, `{"data":"x"}`, `{"data":[[]]}`,
	// Syntax errors.
	`{"data":[{"text":"x"},]}`, `{"data":[{"text":"x",}]}`, `{"data":[{"text":"x"}]} x`, `{"data":[{"text":"x"}]`,
	"{\"data\":[{\"text\":\"a\x01\"}]}", `{"data":[{"text":"\q"}]}`, `{"data":[{"text":"\u12"}]}`,
	`{"data":[{"o":{"a" 1}}]}`, `{"data":[{"o":[1 2]}]}`, `{"data":[{"b":tru}]}`, `{"data":[{"text":nul}]}`,
	`{"data" []}`, `{"data":[{"text":"x"}]}}`, `{"data":[{"x":` + "\"\xff\"" + `,}]}`, `{,}`, `{"a":1 "b":2}`,
	`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"data":[{"x":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}]}`,
}

// TestScanEnvelopeTable checks both tables, the answers of
// decodeAnswerCases and simAnswer against the reference path, and that
// scanEnvelope takes the bodies it must.
func TestScanEnvelopeTable(t *testing.T) {
	for _, body := range scanEnvelopeTaken {
		for _, status := range []int{200, 400, 500} {
			if !checkScanEnvelope(t, status, []byte(body)) {
				t.Errorf("scanEnvelope gave up on %.200q", body)
			}
		}
	}
	for _, body := range scanEnvelopeCases {
		for _, status := range []int{200, 400, 500} {
			checkScanEnvelope(t, status, []byte(body))
		}
	}
	for _, c := range decodeAnswerCases {
		checkScanEnvelope(t, c.status, []byte(c.body))
	}
}

// referencePayloads returns the native JSON payloads of the shared
// reference set with the status each came with.
func referencePayloads(t *testing.T) map[string]int {
	t.Helper()
	dir := sharedPayloads(t, "native-json")
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no payloads in %s: %v", dir, err)
	}
	out := map[string]int{}
	for _, name := range names {
		body, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		status := 200
		if strings.Contains(name, "http400") {
			status = 400
		}
		out[string(body)] = status
	}
	return out
}

// Every native JSON payload of the reference set that scanEnvelope takes
// decodes as the reference path decodes it.
func TestScanEnvelopeReferencePayloads(t *testing.T) {
	for body, status := range referencePayloads(t) {
		checkScanEnvelope(t, status, []byte(body))
	}
}

// FuzzScanEnvelope runs the reference check on fuzzer inputs.
func FuzzScanEnvelope(f *testing.F) {
	f.Add(200, []byte(simAnswer))
	for _, body := range append(scanEnvelopeTaken, scanEnvelopeCases...) {
		if len(body) < 1000 {
			f.Add(200, []byte(body))
		}
	}
	for _, c := range decodeAnswerCases {
		f.Add(c.status, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		checkScanEnvelope(t, status, body)
	})
}

// TestScanEnvelopeNames: the name sets hold every field's JSON name,
// promoted fields of embedded structs included, and nothing else.
func TestScanEnvelopeNames(t *testing.T) {
	for names, want := range map[*jsonscan.Names][]string{
		&envelopeNames: {"data", "errors", "error", "taskUUID", "taskType"},
		&itemNames: {"taskType", "taskUUID", "status", "text", "reasoningContent", "finishReason",
			"usage", "cost", "resultIndex", "seed", "toolCalls", "error", "code", "message"},
		&usageNames:    {"promptTokens", "completionTokens", "totalTokens", "thinkingTokens"},
		&toolCallNames: {"id", "name", "arguments"},
	} {
		if w := jsonscan.NewNames(want...); !reflect.DeepEqual(*names, w) {
			t.Errorf("names %v, want %v", *names, w)
		}
	}
}

// TestScanEnvelopeDecodesEveryField protects scanEnvelope from a field
// added to one of the structs it decodes and not decoded by it: an envelope
// with every field set (by reflection, so a new field is set too) and
// marshalled must be taken by scanEnvelope and decode as json.Unmarshal
// decodes it.
func TestScanEnvelopeDecodesEveryField(t *testing.T) {
	for _, status := range []string{statusSuccess, statusError} {
		var env answerEnvelope
		fill(t, reflect.ValueOf(&env).Elem(), 1)
		for i := range env.Data {
			env.Data[i].Status = status
		}
		body, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		if !checkScanEnvelope(t, 200, body) {
			t.Fatalf("scanEnvelope gave up on every field set: %s", body)
		}
		var got answerEnvelope
		scanEnvelope(body, &got)
		// Result.Text is shadowed by wireItem.Text, Result.Err is not on
		// the wire: every other field must come back as it was set.
		for i := range env.Data {
			env.Data[i].Result.Text, env.Data[i].Result.Err = "", nil
		}
		if !reflect.DeepEqual(got, env) {
			t.Fatalf("scanEnvelope(%s) =\n%#v\nwant\n%#v", body, got, env)
		}
	}
}

// fill sets every settable field of v to a value that is not zero, n
// telling fields apart; RawMessages get a small object, flexStrings and
// strings their own text, slices two elements.
func fill(t *testing.T, v reflect.Value, n int) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[json.RawMessage]():
		v.SetBytes([]byte(`{"code":"c","n":` + strconv.Itoa(n) + `}`))
		return
	case v.Type() == reflect.TypeFor[*Error]():
		return // Result.Err: not on the wire
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(n) + "\u00e9\n")
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Float64:
		v.SetFloat(float64(n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n*10+i)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			// An embedded struct's fields are the JSON object's, even
			// when its type is unexported (envelopeErrors).
			if f := v.Type().Field(i); f.IsExported() || f.Anonymous {
				fill(t, v.Field(i), n*100+i)
			}
		}
	default:
		t.Fatalf("fill: no value for %s", v.Type())
	}
}
