package journal

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/internal/jsonscan"
)

// checkRecordAgrees asserts that recDecoder, when it takes a line, gives
// exactly what json.Unmarshal into a zero Record gives, and that
// json.Unmarshal accepts the line.
func checkRecordAgrees(t *testing.T, d *recDecoder, line []byte) bool {
	t.Helper()
	var want Record
	werr := json.Unmarshal(line, &want)
	var got Record
	if !d.decode(line, &got) {
		return false
	}
	if werr != nil {
		t.Fatalf("recDecoder took %q, json.Unmarshal refuses it: %v", line, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("recDecoder(%q) =\n%#v\njson.Unmarshal:\n%#v", line, got, want)
	}
	return true
}

// agentLine is a record of an agent case: steps, tool calls, media, an
// error with every field, stream timings.
func agentLine(t *testing.T) []byte {
	t.Helper()
	cost := 0.5
	r := &Record{V: Version, RunID: "r", SuiteHash: "h", CaseID: "agent", Cell: "", Seed: -3, Results: 1, TrialKey: "k",
		Media:     []string{"image a.png sha256:00", "video https://x/y"},
		Timings:   Timings{Scheduled: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)), TTFT: Ms(3), TTFO: Ms(4), Late: Ms(0)},
		ToolCalls: []ToolCall{{ID: "a", Name: "search", Arguments: json.RawMessage(`{"q":"x"}`)}},
		Steps: []Step{{TaskUUID: "u", Text: "t", ToolCalls: []ToolCall{{ID: "a", Name: "search", Arguments: json.RawMessage(`null`)}},
			ToolResults: []ToolResult{{ID: "a", Name: "search", Content: "c", Rule: -1}}, Usage: &Usage{Prompt: 1}, Cost: &cost,
			Timings: StepTimings{Dispatched: Ms(1)}, Attempts: 2}},
		StepLimit: true, UsageShared: true, Resent: true,
		Error:  &Error{Class: "api", Code: "c", Message: "m \u00e9", Parameter: "p", HTTPStatus: 500},
		Checks: []CheckOutcome{{Check: "judge", Weight: 2, JudgeCost: 0.01, JudgeTokens: 30, JudgeCached: true, Unjudged: true}},
		Score:  -1.5e-7}
	line, err := MarshalLine(r)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(line)
}

// TestRecDecoderTakesRunnerLines protects the point of recDecoder: the lines
// the runner writes are decoded by it, not by the fallback (a decoder that
// always gave up would still agree).
func TestRecDecoderTakesRunnerLines(t *testing.T) {
	var d recDecoder
	for i := range 40 {
		if line := runnerLine(t, i); !checkRecordAgrees(t, &d, line) {
			t.Fatalf("recDecoder gave up on a runner line: %s", line)
		}
	}
	if line := agentLine(t); !checkRecordAgrees(t, &d, line) {
		t.Fatalf("recDecoder gave up on an agent line: %s", line)
	}
}

// TestRecDecoderTable pins json.Unmarshal's quirks the decoder must
// reproduce or give up on.
func TestRecDecoderTable(t *testing.T) {
	var d recDecoder
	for _, line := range []string{
		`{}`,
		`{"trialKey":"k","resultIndex":2}`,
		// Repeated fields: the last scalar wins, null keeps a scalar and
		// clears a pointer, objects merge into the earlier one.
		`{"trialKey":"a","trialKey":"b","resultIndex":1,"resultIndex":null}`,
		`{"cost":1,"cost":null,"usage":{"prompt":1},"usage":{"total":2}}`,
		`{"timings":{"e2eMs":1},"timings":{"queueMs":2,"e2eMs":null},"timings":null}`,
		`{"vars":{"a":1,"b":{"c":[1,"x",null,true]}},"vars":{"a":"z"},"cellValues":{}}`,
		`{"error":{"class":"a"},"error":{"message":"m"},"text":null,"error":null}`,
		`{"tags":[],"checks":[]}`,
		`{"tags":["a",null],"checks":[null,{"check":"c","pass":true,"pass":false}]}`,
		`{"tags":["a"],"tags":["b"]}`,
		`{"checks":[{"check":"a"}],"checks":[{"reason":"b"}]}`,
		`{"tags":null,"tags":["b"]}`,
		// Case-insensitive and Unicode-folded keys.
		`{"TrialKey":"a","RESULTINDEX":3}`,
		`{"timings":{"E2EMS":3}}`,
		`{"usage":{"Prompt":3}}`,
		"{\"trial\u212aey\":\"a\"}",
		`{"tr\u0069alKey":"a"}`,
		// Escapes and UTF-8.
		`{"text":"a\"b\\c\/d\b\f\n\r\t\u00e9\u2028\uFFFD\u0000"}`,
		`{"text":"\ud83d\ude00"}`,
		`{"text":"\ud83d"}`,
		"{\"text\":\"\xff\xfe\"}",
		`{"caseId":"café","cell":"日本","vars":{"é":"ü"}}`,
		`{"text":"\u00G0"}`,
		`{"text":"\u12"}`,
		// Unknown fields of any shape.
		`{"extra":{"a":[1,2,{"b":"\u0041"}]},"trialKey":"k","more":[],"n":-0.5e+3}`,
		`{"timings":{"other":[1]},"usage":{"x":null},"error":{"y":{}},"checks":[{"z":1}]}`,
		// Numbers.
		`{"seed":-0,"score":-0,"cost":1e-5,"replicate":9223372036854775807}`,
		`{"seed":1.0}`,
		`{"seed":1e3}`,
		`{"seed":99999999999999999999}`,
		`{"cost":1e400}`,
		`{"vars":{"x":1e400}}`,
		`{"score":01}`,
		`{"score":1.}`,
		`{"score":-}`,
		// Wrong types.
		`{"resultIndex":"1"}`,
		`{"pass":"yes"}`,
		`{"text":5}`,
		`{"timings":[]}`,
		`{"checks":{}}`,
		`{"tags":"a"}`,
		`{"tags":[1]}`,
		`{"vars":[]}`,
		`{"usage":{"prompt":"x"}}`,
		`{"usage":5}`,
		`{"error":"x"}`,
		`{"checks":[1]}`,
		`{"checks":[{"pass":1}]}`,
		`{"timings":{"scheduled":"yesterday"}}`,
		`{"timings":{"scheduled":5}}`,
		`{"timings":{"scheduled":null}}`,
		`{"timings":{"scheduled":"2026-01-02T03:04:05.123+01:00"}}`,
		`{"timings":{"scheduled":"2026-01-02T03:04:05Z","e2eMs":"1"}}`,
		`{"steps":[{"timings":{"e2eMs":"x"}}]}`,
		`{"toolCalls":[{"arguments":null}],"media":["a",null]}`,
		`{"media":5}`,
		// Syntax errors.
		`{"trialKey":"k",}`,
		`{"trialKey":"k"} x`,
		`{"trialKey":"k","text":"a` + "\x01" + `"}`,
		`{"trialKey":"k","text":"\q"}`,
		`{"trialKey":"k","o":{"a" 1}}`,
		`{"trialKey":"k","o":[1 2]}`,
		`{"trialKey":"k","b":tru}`,
		`{"pass":nul}`,
		`{"trialKey" "k"}`,
		`{"trialKey":"k"`,
		`{"vars":{"a":1,}}`,
		`{"vars":{"a" 1}}`,
		`{"tags":["a",]}`,
		`[1]`,
		`null`,
		`"s"`,
		`{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
		`{"vars":{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`,
	} {
		checkRecordAgrees(t, &d, []byte(line))
	}
}

// TestRecDecoderMutations: runner lines with bytes deleted, duplicated or
// replaced by JSON-significant ones must decode as json.Unmarshal decodes
// them whenever recDecoder takes them.
func TestRecDecoderMutations(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("{}[]:,\"\\ 0123456789-+.eEtrufalsnuU\x00\x1f\xc3\xa9\xff")
	var d recDecoder
	taken := 0
	for i := range 5000 {
		line := runnerLine(t, i%40)
		if i%10 == 0 {
			line = agentLine(t)
		}
		b := mutate(rnd, line, alphabet)
		if checkRecordAgrees(t, &d, bytes.TrimSpace(b)) {
			taken++
		}
	}
	if taken < 500 {
		t.Fatalf("recDecoder took only %d of 5000 mutated lines; the test is not testing it", taken)
	}
}

// FuzzDecodeRecord runs the same agreement check on fuzzer inputs.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"trialKey":"k","resultIndex":2,"vars":{"a":[1,{"b":null}]}}`))
	f.Add([]byte(`{"timings":{"scheduled":"2026-01-02T03:04:05Z","e2eMs":1.5},"checks":[{"check":"c","pass":true}],"text":"a\n\u00e9"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		line := bytes.TrimSpace(b)
		if len(line) == 0 {
			return
		}
		var d recDecoder
		checkRecordAgrees(t, &d, line)
	})
}

// TestRecDecoderKnowsEveryField protects recDecoder from a field added to a
// journal struct later: a name missing from the folded sets would be
// skipped as unknown, and its value silently lost, instead of sending the
// line to json.Unmarshal.
func TestRecDecoderKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		typ    reflect.Type
		folded jsonscan.Names
	}{
		{reflect.TypeFor[Record](), recFolded},
		{reflect.TypeFor[Timings](), timingsFolded},
		{reflect.TypeFor[Usage](), usageFolded},
		{reflect.TypeFor[Error](), errorFolded},
		{reflect.TypeFor[CheckOutcome](), checkFolded},
	} {
		names := map[string]bool{}
		for f := range c.typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			names[jsonscan.LowerASCII(name)] = true
		}
		if !reflect.DeepEqual(jsonscan.Names(names), c.folded) {
			t.Errorf("%s: json fields %v, recDecoder knows %v", c.typ, names, c.folded)
		}
	}
}
