package runware

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// checkTasksMatchMarshal asserts that encodeTasks writes json.Marshal's
// bytes, and fails exactly when json.Marshal does, with its error.
func checkTasksMatchMarshal(t *testing.T, tasks []Task) {
	t.Helper()
	want, werr := json.Marshal(tasks)
	got, gerr := encodeTasks(tasks)
	if werr != nil || gerr != nil {
		if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
			t.Fatalf("tasks %#v: error %v, json.Marshal's %v", tasks, gerr, werr)
		}
		return
	}
	if string(got) != string(want) {
		t.Fatalf("tasks %#v:\n got %s\nwant %s", tasks, got, want)
	}
}

// encodeStrings need every kind of escape json.Marshal writes: quotes and
// backslashes, the short and the \u00XX control escapes, HTML's <>&,
// U+2028/U+2029, invalid UTF-8 (as U+FFFD) and multi-byte text left as is.
var encodeStrings = []string{"", "x", "say \"hi\" <b>&amp;", "tab\t\n\r\b\f\x01\x1f\x7f", "é ünï 日本 🎉",
	"\u2028\u2029", "bad \xff\xfe utf8 \xe2\x80", "\\", "\x00", "</script>", "\ufffd"}

// encodeFloats are json.Marshal's two float forms and their edges: the
// exponent form below 1e-6 and from 1e21, negative zero, integers, the
// extremes.
var encodeFloats = []float64{0, math.Copysign(0, -1), 0.2, 1, -3, 1e-7, 9.99e-7, 1e-6, 1e20, 1e21, 123456789.125,
	3.96e-05, math.MaxFloat64, math.SmallestNonzeroFloat64, -1.5e300, 1 << 53}

// encodeRaws are raw JSON values as a tool's schema or a replayed call's
// input may hold them: with whitespace to compact, HTML and U+2028 inside
// strings, scalars; nil and empty are the values Message.MarshalJSON and
// omitempty treat specially.
var encodeRaws = []json.RawMessage{nil, {}, json.RawMessage(`{}`), json.RawMessage(" {\n \"q\" : [1, \"<a>&\", null, 1e5] }\t"),
	json.RawMessage("\"\u2028 x\""), json.RawMessage(`null`), json.RawMessage(`[ ]`), json.RawMessage(`-0.5`)}

// fillEncodable sets every field reachable from v to a value that is not
// its zero, when all is set, or each field to zero or a random value
// otherwise. A field added to Task or anything nested is therefore written
// by json.Marshal in the test's tasks whether or not appendTask knows it,
// and a kind the filler cannot set fails the test (extend both then).
func fillEncodable(t *testing.T, v reflect.Value, rnd *rand.Rand, all bool) {
	t.Helper()
	if v.Type() == reflect.TypeFor[json.RawMessage]() {
		raw := encodeRaws[2+rnd.IntN(len(encodeRaws)-2)]
		if !all {
			raw = encodeRaws[rnd.IntN(len(encodeRaws))]
		}
		v.SetBytes(raw)
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(encodeStrings[1+rnd.IntN(len(encodeStrings)-1)])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt([]int64{1, -7, 1 << 40, math.MinInt64, math.MaxInt64}[rnd.IntN(5)])
	case reflect.Float64:
		v.SetFloat(encodeFloats[rnd.IntN(len(encodeFloats))])
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillEncodable(t, p.Elem(), rnd, all)
		v.Set(p)
	case reflect.Slice:
		n := 1 + rnd.IntN(2)
		if !all {
			n = rnd.IntN(3)
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillEncodable(t, s.Index(i), rnd, all)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				t.Fatalf("%s has the unexported field %s: check that encodeTasks needs nothing for it", v.Type(), v.Type().Field(i).Name)
			}
			if all || rnd.IntN(3) > 0 {
				fillEncodable(t, v.Field(i), rnd, all)
			}
		}
	default:
		t.Fatalf("fillEncodable cannot set a %s (%s): teach it and appendTask the new field", v.Kind(), v.Type())
	}
}

// TestEncodeTasksEveryField protects the request body: every field of a
// task and of everything nested in it (messages, replayed tool calls,
// settings, tools, tool choice, inputs) is written as json.Marshal writes
// it, for tasks with all fields set (so that a field added later and not
// written fails here) and with random subsets of them.
func TestEncodeTasksEveryField(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		var task Task
		fillEncodable(t, reflect.ValueOf(&task).Elem(), rnd, true)
		checkTasksMatchMarshal(t, []Task{task})
	}
	for range 5000 {
		var tasks []Task
		fillEncodable(t, reflect.ValueOf(&tasks).Elem(), rnd, false)
		checkTasksMatchMarshal(t, tasks)
	}
}

// TestEncodeTasksZeroNilEmpty protects the omitempty rules and nil against
// empty: a nil messages slice is null and an empty one [], empty optional
// slices are left out, a non-nil pointer to zero settings or inputs is {},
// a pointer to a zero number is written, an assistant message with tool
// calls and no text has no content and its calls' missing inputs are {}.
func TestEncodeTasksZeroNilEmpty(t *testing.T) {
	zero, zeroInt, zeroSeed := 0.0, 0, int64(0)
	for name, tasks := range map[string][]Task{
		"nil array":              nil,
		"empty array":            {},
		"zero task":              {{}},
		"empty messages":         {{Messages: []Message{}}},
		"zero message":           {{Messages: []Message{{}}}},
		"empty message tools":    {{Messages: []Message{{Role: "assistant", Tools: []MessageTool{}}}}},
		"zero message tool":      {{Messages: []Message{{Tools: []MessageTool{{}}}}}},
		"empty input":            {{Messages: []Message{{Content: "c", Tools: []MessageTool{{Input: json.RawMessage{}}}}}}},
		"tool reply":             {{Messages: []Message{ToolResultMessage("call-1", "42")}}},
		"zero settings":          {{Settings: &Settings{}}},
		"empty stop sequences":   {{Settings: &Settings{StopSequences: []string{}}}},
		"empty stop sequence":    {{Settings: &Settings{StopSequences: []string{""}}}},
		"pointers to zero":       {{Settings: &Settings{Temperature: &zero, TopK: &zeroInt, MaxTokens: &zeroInt, RepetitionPenalty: &zero}, Seed: &zeroSeed}},
		"only last setting":      {{Settings: &Settings{PromptCacheKey: "k"}}},
		"only first setting":     {{Settings: &Settings{SystemPrompt: "s"}}},
		"empty tools":            {{Tools: []Tool{}}},
		"zero tool":              {{Tools: []Tool{{}}}},
		"empty schema":           {{Tools: []Tool{{Type: "function", Schema: json.RawMessage{}}}}},
		"zero tool choice":       {{ToolChoice: &ToolChoice{}}},
		"zero inputs":            {{Inputs: &Inputs{}}},
		"empty inputs":           {{Inputs: &Inputs{Images: []string{}, Videos: []string{}}}},
		"only videos":            {{Inputs: &Inputs{Videos: []string{"v"}}}},
		"only images":            {{Inputs: &Inputs{Images: []string{"i", ""}}}},
		"two zero tasks":         {{}, {}},
		"false flags, 0 results": {{IncludeCost: false, IncludeUsage: false, NumberResults: 0}},
		"negative results":       {{NumberResults: -1}},
	} {
		t.Run(name, func(t *testing.T) { checkTasksMatchMarshal(t, tasks) })
	}
}

// TestEncodeTasksStringsAndFloats protects the escaping and number
// formats: every string of encodeStrings in every kind of string member
// (HTML escaped, as json.Marshal escapes), every float of encodeFloats in
// every float setting, integers at their extremes.
func TestEncodeTasksStringsAndFloats(t *testing.T) {
	for _, s := range encodeStrings {
		checkTasksMatchMarshal(t, []Task{{TaskType: s, TaskUUID: s, Model: s, OutputFormat: s, WebhookURL: s, DeliveryMethod: s,
			Messages:   []Message{{Role: s, Content: s, ID: s}, {Role: s, Tools: []MessageTool{{ID: s, Name: s}}, ID: s}},
			Settings:   &Settings{SystemPrompt: s, StopSequences: []string{s, s}, ThinkingLevel: s, PromptCacheKey: s},
			Tools:      []Tool{{Type: s, Name: s, Description: s}},
			ToolChoice: &ToolChoice{Type: s, Name: s}, Inputs: &Inputs{Images: []string{s}, Videos: []string{s}}}})
	}
	for _, f := range encodeFloats {
		f, neg := f, -f
		checkTasksMatchMarshal(t, []Task{{Settings: &Settings{Temperature: &f, TopP: &neg, MinP: &f, FrequencyPenalty: &neg,
			PresencePenalty: &f, RepetitionPenalty: &neg}}})
	}
	for _, n := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MaxInt32 + 1} {
		n, i := n, int(n)
		checkTasksMatchMarshal(t, []Task{{Seed: &n, NumberResults: i, Settings: &Settings{TopK: &i, MaxTokens: &i}}})
	}
}

// TestEncodeTasksRefusesWhatMarshalRefuses: a task json.Marshal cannot
// write (a NaN or infinite setting, invalid raw JSON in a schema or a
// replayed input) is json.Marshal's error, not a body.
func TestEncodeTasksRefusesWhatMarshalRefuses(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(-1)
	for name, task := range map[string]Task{
		"NaN temperature": {Settings: &Settings{Temperature: &nan}},
		"Inf topP":        {Settings: &Settings{TopP: &inf}},
		"NaN minP":        {Settings: &Settings{MinP: &nan}},
		"Inf penalty":     {Settings: &Settings{RepetitionPenalty: &inf}},
		"bad schema":      {Tools: []Tool{{Type: "function", Schema: json.RawMessage(`{"a":`)}}},
		"two values":      {Tools: []Tool{{Type: "function", Schema: json.RawMessage(`1 2`)}}},
		"bad input":       {Messages: []Message{{Role: "assistant", Content: "c", Tools: []MessageTool{{Input: json.RawMessage(`{x}`)}}}}},
		"bad input alone": {Messages: []Message{{Role: "assistant", Tools: []MessageTool{{Input: json.RawMessage(`[`)}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := encodeTasks([]Task{task}); err == nil {
				t.Fatal("encodeTasks wrote a body json.Marshal refuses")
			}
			checkTasksMatchMarshal(t, []Task{task})
		})
	}
}

// FuzzEncodeTasks: tasks built from any texts, numbers and raw bytes (as a
// tool's schema and a replayed call's input) are written as json.Marshal
// writes them, or refused as it refuses them.
func FuzzEncodeTasks(f *testing.F) {
	f.Add("question 0", "user", 0.2, int64(707632555), 64, []byte(`{"type":"object"}`), uint8(0))
	f.Add("<script>\u2028\xff\x01", "\"", math.NaN(), int64(-1), -3, []byte(" [1, \"&\"] "), uint8(255))
	f.Add("", "", 1e-7, int64(0), 0, []byte(nil), uint8(0x55))
	f.Add("x", "tool", 1e21, int64(math.MinInt64), 1, []byte(`{`), uint8(0xaa))
	f.Fuzz(func(t *testing.T, text, word string, temp float64, seed int64, n int, raw []byte, shape uint8) {
		bit := func(i uint) bool { return shape&(1<<i) != 0 }
		task := Task{TaskType: word, TaskUUID: text, Model: word, Messages: []Message{{Role: word, Content: text}},
			DeliveryMethod: word, IncludeCost: bit(0), IncludeUsage: bit(1), NumberResults: n, Seed: &seed}
		if bit(2) {
			task.Settings = &Settings{SystemPrompt: text, Temperature: &temp, MaxTokens: &n, StopSequences: []string{word, text}}
		}
		if bit(3) {
			task.Tools = []Tool{{Type: word, Name: text, Schema: raw}}
			task.ToolChoice = &ToolChoice{Type: word, Name: text}
		}
		if bit(4) {
			content := text
			if bit(5) {
				content = ""
			}
			task.Messages = append(task.Messages, Message{Role: "assistant", Content: content,
				Tools: []MessageTool{{ID: word, Name: text, Input: raw}}}, ToolResultMessage(word, text))
		}
		if bit(6) {
			task.Inputs = &Inputs{Images: strings.Fields(text), Videos: []string{word}}
		}
		if bit(7) {
			task.Messages = nil
		}
		checkTasksMatchMarshal(t, []Task{task, {TaskUUID: word, OutputFormat: text, WebhookURL: word}})
	})
}

// captureTransport keeps the last request it is given and its body, and
// answers with an empty task list.
type captureTransport struct {
	req  *http.Request
	body []byte
}

func (c *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.req = req
	c.body, _ = io.ReadAll(req.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader([]byte(`{"data":[]}`))), Request: req}, nil
}

// TestSendBoundedRequest protects what a request carries: its body is
// json.Marshal's for a task array (encodeTasks) and for any other payload,
// and its headers are exactly those req.Header.Set would have set (the
// bearer token, the JSON content type, the user agent, Accept only when
// asked for), each value its own slice, so that appending to one header
// cannot overwrite another.
func TestSendBoundedRequest(t *testing.T) {
	capture := &captureTransport{}
	c := NewClient(testKey, WithHTTPClient(&http.Client{Transport: capture}))
	nan := math.NaN()
	for _, accept := range []string{"", "application/json", "text/event-stream"} {
		for _, payload := range []any{[]Task{textTask("a"), textTask("b<&>")}, map[string]any{"model": "m<", "n": 1}, []Task(nil)} {
			ex, err := c.sendBounded(context.Background(), "http://example.invalid/v1", payload, accept)
			if err != nil {
				t.Fatalf("sendBounded: %v", err)
			}
			_ = ex.resp.Body.Close()
			want, _ := json.Marshal(payload)
			if !bytes.Equal(capture.body, want) {
				t.Errorf("body %s, want json.Marshal's %s", capture.body, want)
			}
			wantHeader := http.Header{}
			wantHeader.Set("Authorization", "Bearer "+testKey)
			wantHeader.Set("Content-Type", "application/json")
			wantHeader.Set("User-Agent", userAgent)
			if accept != "" {
				wantHeader.Set("Accept", accept)
			}
			if got := capture.req.Header; !reflect.DeepEqual(got, wantHeader) {
				t.Errorf("accept %q: headers %v, want %v", accept, got, wantHeader)
			}
			for k := range capture.req.Header {
				capture.req.Header[k] = append(capture.req.Header[k], "appended")
			}
			for k, v := range capture.req.Header {
				if len(v) != 2 || v[0] != wantHeader.Get(k) {
					t.Errorf("appending to the headers changed %s to %q", k, v)
				}
			}
		}
	}
	// What json.Marshal refuses is its error, and nothing is sent.
	capture.req = nil
	_, err := c.sendBounded(context.Background(), "http://example.invalid/v1", []Task{{Settings: &Settings{Temperature: &nan}}}, "")
	_, werr := json.Marshal([]Task{{Settings: &Settings{Temperature: &nan}}})
	if err == nil || err.Message != "encode request: "+werr.Error() || capture.req != nil {
		t.Errorf("NaN temperature: error %v, sent %v; want json.Marshal's error %v", err, capture.req != nil, werr)
	}
}

// BenchmarkEncodeTask: the body of one typical task (the throughput
// benchmark's) by encodeTasks and by json.Marshal.
func BenchmarkEncodeTask(b *testing.B) {
	temp, maxTokens, seed := 0.2, 64, int64(707632555)
	tasks := []Task{{TaskType: TaskTextInference, TaskUUID: "88164e0a-6f9a-474d-8a87-e070300b9378", Model: KimiK26AIR,
		Messages: []Message{{Role: "user", Content: "question 0"}}, Settings: &Settings{Temperature: &temp, MaxTokens: &maxTokens},
		DeliveryMethod: DeliverySync, IncludeCost: true, IncludeUsage: true, NumberResults: 1, Seed: &seed}}
	b.Run("encodeTasks", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeTasks(tasks); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(tasks); err != nil {
				b.Fatal(err)
			}
		}
	})
}
