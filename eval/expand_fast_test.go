package eval

import (
	"bytes"
	"encoding/json"
	"iter"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// everythingSuite uses every part of a trial: suite, case and variant
// requests with nested maps and lists, transports, a grid over a nested
// path, object values and numberResults, variants with
// their own prompt, messages and system prompt, tool-call messages,
// images, seeds and repeats.
const everythingSuite = `name: everything
model: moonshotai:kimi@k2.6
transport: websocket
systemPrompt: "Be <terse> & {{.tone}}"
request:
  deliveryMethod: sync
  includeCost: true
  settings: {maxTokens: 64, stopSequences: ["\n\n", END]}
  outputFormat: JSON
grid:
  settings.temperature: [0.2, 1.0]
  numberResults: [1, 3]
  jsonSchema: [{type: object, required: [a], properties: {a: {enum: [1, 2.5, x]}}}, {type: string}]
variants:
  - {name: plain}
  - {name: brief, systemPrompt: "Short, {{.tone}}.", request: {transport: native, settings: {maxTokens: 16}}}
  - {name: rephrased, prompt: "Q: {{.q}}"}
seeds: {count: 2, base: 11}
repeat: 2
cases:
  - id: a
    prompt: "{{.q}} \u2028 日本語"
    tags: [t1, t2]
    vars: {q: "what is 2+2?", tone: dry}
    request: {includeUsage: true, settings: {topP: 0.9}}
    images: [img.png]
  - id: b
    vars: {q: weather, tone: warm}
    messages:
      - {role: user, content: "Weather in {{.q}}?"}
      - role: assistant
        tools: [{id: c1, name: get_weather, input: {city: Tokyo, days: [1, 2]}}]
      - {role: tool, id: c1, content: "22°C"}
`

// pngBytes is a one-pixel PNG, for the images of everythingSuite.
var pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"

// sameTrials compares the trials (and the error) ExpandSeq yields for s
// with the reference expansion's, field by field, and returns how many.
func sameTrials(t testing.TB, what string, s *Suite) int {
	t.Helper()
	ref, stop := iter.Pull2(referenceExpandSeq(s))
	defer stop()
	// A compact casesFrom case is built again on every walk: the same
	// case from the same row.
	opt := cmp.Comparer(func(a, b *Case) bool {
		return a == b || a != nil && b != nil && a.ID == b.ID && a.File == b.File && a.Line == b.Line && a.Prompt == b.Prompt
	})
	n := 0
	for got, gotErr := range ExpandSeq(s) {
		want, wantErr, ok := ref()
		if !ok {
			t.Fatalf("%s: ExpandSeq yields more than the reference's %d trials", what, n)
		}
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("%s: trial %d: error %v; reference %v", what, n, gotErr, wantErr)
		}
		if diff := cmp.Diff(want, got, opt); diff != "" {
			t.Fatalf("%s: trial %d differs from the reference (-reference +ExpandSeq):\n%s", what, n, diff)
		}
		n++
	}
	if _, _, ok := ref(); ok {
		t.Fatalf("%s: ExpandSeq stops after %d trials; the reference yields more", what, n)
	}
	return n
}

// TestExpandMatchesReference protects the trial keys and request hashes
// that resume matches journals by, and everything else a trial carries:
// ExpandSeq yields what the reference expansion yields for the shipped
// suites, the pinned suite, a suite that uses every part of a trial and
// compact casesFrom cases.
func TestExpandMatchesReference(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "suites", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no suites: %v", err)
	}
	for _, p := range paths {
		sameTrials(t, p, mustLoad(t, p))
	}
	sameTrials(t, "pinned", mustLoad(t, writeSuite(t, pinnedSuite)))
	if n := sameTrials(t, "everything", mustLoad(t, writeSuite(t, everythingSuite, "img.png", pngBytes))); n != 2*2*2*8*3 {
		t.Errorf("everything suite: %d trials; want 2 cases × 2 seeds × 2 repeats × 8 cells × 3 variants", n)
	}
	compact, err := LoadWithOptions(writeSuite(t, compactSuite, compactFiles...), LoadOptions{CompactCases: true})
	if err != nil {
		t.Fatal(err)
	}
	sameTrials(t, "compact", compact)
	fixed := mustLoad(t, writeSuite(t, "name: n\nmodel: m\nrequest: {seed: 9007199254740993}\ncases: [{id: a, prompt: hi}]\n"))
	if fixed.FixedSeed == nil {
		t.Fatal("request seed did not fix the seed")
	}
	sameTrials(t, "fixed seed", fixed)
	sameTrials(t, "throughput", throughputSuite(t, 50))
	// A template that does not render: the same error at the same point.
	sameTrials(t, "error", &Suite{Name: "n", Model: "m", Cases: []*Case{{ID: "ok", Prompt: "hi"}, {ID: "bad", Prompt: "{{.missing}}"}}})
}

// TestExpandReflectiveCase protects the fast path against fields added
// later to Case, Message, MessageTool, MediaInput or Variant: a case and a
// variant with every field set (by reflection, so a new field is set too)
// expand as the reference expands them.
func TestExpandReflectiveCase(t *testing.T) {
	var c Case
	fillFields(t, reflect.ValueOf(&c).Elem(), "c")
	c.Prompt, c.Messages[0].Content, c.SystemPrompt = "p {{.k}}", "m {{.k}}", "s {{.k}}"
	c.Vars = map[string]any{"k": "v"}
	var v Variant
	fillFields(t, reflect.ValueOf(&v).Elem(), "v")
	v.Prompt, v.SystemPrompt, v.Messages = "", "", nil // the case's own conversation
	s := &Suite{Name: "n", Model: "m", Request: map[string]any{"settings": map[string]any{"maxTokens": int64(5)}},
		Grid: []GridAxis{{Path: "settings.temperature", Values: []any{0.5, int64(1)}}}, Variants: []Variant{{Name: "base"}, v},
		Cases: []*Case{&c}, Seeds: []int64{3, 4}, Repeat: 2}
	if n := sameTrials(t, "reflective", s); n != 16 {
		t.Errorf("%d trials; want 2 cells × 2 variants × 2 seeds × 2 repeats", n)
	}
	// The variant's conversation replaces the case's.
	fillFields(t, reflect.ValueOf(&s.Variants[1]).Elem(), "w")
	sameTrials(t, "reflective variant", s)
}

// fillFields sets every exported field of struct v that expansion can
// carry to a non-zero value derived from prefix and the field's name;
// Checks, Pass and Agent (not part of a request) stay unset.
func fillFields(t *testing.T, v reflect.Value, prefix string) {
	t.Helper()
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		name := prefix + "." + sf.Name
		switch sf.Name {
		case "Checks", "Pass", "Agent":
			continue
		}
		switch {
		case f.Kind() == reflect.String:
			f.SetString(name)
		case f.Kind() == reflect.Int:
			f.SetInt(7)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Type() == reflect.TypeFor[map[string]any]():
			f.Set(reflect.ValueOf(map[string]any{name: []any{name, int64(1)}, "settings": map[string]any{name: true}}))
		case f.Type() == reflect.TypeFor[[]string]():
			f.Set(reflect.ValueOf([]string{name}))
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			s := reflect.MakeSlice(f.Type(), 1, 1)
			fillFields(t, s.Index(0), name)
			f.Set(s)
		default:
			t.Fatalf("fillFields: field %s of type %s: teach fillFields (and check that expansion handles it)", name, f.Type())
		}
	}
}

// TestTrialFieldsFilled protects Trial against a field added later that
// the expansion does not fill: in a suite that gives every field a
// non-zero value, a trial has them all non-zero.
func TestTrialFieldsFilled(t *testing.T) {
	s := mustLoad(t, writeSuite(t, everythingSuite, "img.png", pngBytes))
	for tr, err := range ExpandSeq(s) {
		if err != nil {
			t.Fatal(err)
		}
		if tr.Repeat == 0 || tr.Replicate == 0 || tr.NumberResults < 2 {
			continue
		}
		v := reflect.ValueOf(tr)
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("Trial.%s is not filled", v.Type().Field(i).Name)
			}
		}
		return
	}
	t.Fatal("no trial with a repeat, a replicate and numberResults > 1")
}

// TestTrialRequestsShareNothing protects the independence of trials'
// requests (a consumer may change one): no map or list is reachable from
// two trials' requests, of one walk or of two.
func TestTrialRequestsShareNothing(t *testing.T) {
	s := mustLoad(t, writeSuite(t, everythingSuite, "img.png", pngBytes))
	owner := map[uintptr]string{}
	var alive []Trial // so that no address is freed and used again
	for walk := range 2 {
		for tr, err := range ExpandSeq(s) {
			if err != nil {
				t.Fatal(err)
			}
			alive = append(alive, tr)
			who := strconv.Itoa(walk) + "/" + tr.Key
			containers(tr.Request, func(p uintptr, path string) {
				if prev, ok := owner[p]; ok {
					t.Fatalf("%s of trial %s is also in trial %s", path, who, prev)
				}
				owner[p] = who
			}, "request")
		}
	}
	if len(owner) < 3*len(alive) {
		t.Fatalf("%d maps and lists in %d trials", len(owner), len(alive))
	}
}

// containers calls see with the address of every map and non-empty list
// in v and its path.
func containers(v any, see func(uintptr, string), path string) {
	switch x := v.(type) {
	case map[string]any:
		see(reflect.ValueOf(x).Pointer(), path)
		for k, e := range x {
			containers(e, see, path+"."+k)
		}
	case []any:
		if len(x) > 0 {
			see(reflect.ValueOf(x).Pointer(), path)
		}
		for i, e := range x {
			containers(e, see, path+"["+strconv.Itoa(i)+"]")
		}
	}
}

// decodeJSON decodes src as the loader's values (integers as int64), or
// returns false.
func decodeJSON(src string) (any, bool) {
	d := json.NewDecoder(bytes.NewReader([]byte(src)))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil || d.More() {
		return nil, false
	}
	return fromNumbers(v), true
}

// fromNumbers turns json.Numbers into int64 or float64.
func fromNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = fromNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fromNumbers(e)
		}
	}
	return v
}

// FuzzExpandMatchesReference protects trial keys, request hashes and
// requests on arbitrary requests, grid paths and values, ids, labels,
// variants, transports, seeds and repeats: ExpandSeq yields what the
// reference yields, and SampleSeed what fmt's hashing gave.
func FuzzExpandMatchesReference(f *testing.F) {
	f.Add(`{"deliveryMethod":"sync","settings":{"maxTokens":64}}`, "settings.temperature", `[0.2, 1.0]`, "", `[]`, "c1", "question 1", "", `{}`, "", "", uint8(1), int64(1), false)
	f.Add(`{"transport":"openai","numberResults":3,"settings":5}`, "settings.x..y", `[{"a":[1]}, null]`, "numberResults", `[2, 4]`, "ü\x00", "<&> \u2028", "v", `{"settings":{"maxTokens":1}}`, "sys {{.k}}", "websocket", uint8(3), int64(-9007199254740993), true)
	f.Add(`{"a":{"b":[{"c":{}}]}}`, "", `["x"]`, "a.b", `[1e300, -0.0]`, "", "", "", `{"a":{"d":1}}`, "", "", uint8(0), int64(0), false)
	f.Add(`{}`, "transport", `["native", 7]`, "messages", `[[], "m"]`, "id", "hi", "x", `{"seed":1}`, "", "", uint8(2), int64(5), false)
	f.Fuzz(func(t *testing.T, request, path1, values1, path2, values2, id, prompt, variant, varReq, sys, transport string, repeat uint8, base int64, fixed bool) {
		if got, want := SampleSeed(base, id, int(repeat)), referenceSampleSeed(base, id, int(repeat)); got != want {
			t.Fatalf("SampleSeed(%d, %q, %d) = %d; fmt's hash gives %d", base, id, repeat, got, want)
		}
		s := &Suite{Name: "fuzz", Model: "m", Transport: transport, SystemPrompt: sys, Repeat: int(repeat % 4), Seeds: []int64{base, base + 1}}
		if r, ok := decodeJSON(request); ok {
			s.Request, _ = r.(map[string]any)
		}
		for _, ax := range []struct{ path, values string }{{path1, values1}, {path2, values2}} {
			if vs, ok := decodeJSON(ax.values); ok {
				if l, ok := vs.([]any); ok && len(l) > 0 && len(l) <= 4 {
					s.Grid = append(s.Grid, GridAxis{Path: ax.path, Values: l})
				}
			}
		}
		v := Variant{Name: variant}
		if r, ok := decodeJSON(varReq); ok {
			v.Request, _ = r.(map[string]any)
		}
		s.Variants = []Variant{{Name: "base"}, v}
		if fixed {
			s.FixedSeed = &base
		}
		s.Cases = []*Case{{ID: id, Prompt: prompt, Vars: map[string]any{"k": "v"}}, {ID: id + "2", Prompt: prompt, Request: s.Request}}
		sameTrials(t, "fuzz", s)
	})
}

// TestArmCanonicalIsCanonicalJSON protects the arm-encoded canonical
// request: for every trial of the shipped suites, the pinned suite and the
// everything suite, appendArmCanonical takes its fast path (no fallback to
// encoding the whole map) and writes what encoding/json writes.
func TestArmCanonicalIsCanonicalJSON(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "suites", "*.yaml"))
	suites := map[string]*Suite{
		"pinned":     mustLoad(t, writeSuite(t, pinnedSuite)),
		"everything": mustLoad(t, writeSuite(t, everythingSuite, "img.png", pngBytes)),
	}
	for _, p := range paths {
		suites[p] = mustLoad(t, p)
	}
	for name, s := range suites {
		x := newExpansion(s)
		n := 0
		for c, err := range s.AllCases() {
			if err != nil {
				t.Fatal(err)
			}
			for vi := range x.variants {
				a, err := x.arm(c, vi)
				if err != nil {
					t.Fatal(err)
				}
				for ci := range x.cells {
					cell := &x.cells[ci]
					tr := x.trial(c, ci, &a, draw{seed: 5, value: int64(5)}, 1, false)
					req := referenceClone(tr.Request).(map[string]any)
					applyMedia(req, c, true) // the hashed form
					got, ok := x.appendArmCanonical(nil, req, &a, ci)
					if !ok {
						t.Fatalf("%s: case %s cell %q: appendArmCanonical fell back", name, c.ID, cell.Label)
					}
					if want := encoderJSON(req); !bytes.Equal(got, want) {
						t.Fatalf("%s: case %s cell %q:\n got %s\nwant %s", name, c.ID, cell.Label, got, want)
					}
					n++
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no trials", name)
		}
	}
}

// TestExpandFallbackValues protects the fallback to encoding/json for
// values jsonenc does not encode (a json.Number, a typed list), in the
// suite's request and in a cell: the trials are the reference's.
func TestExpandFallbackValues(t *testing.T) {
	s := &Suite{Name: "n", Model: "m",
		Request: map[string]any{"settings": map[string]any{"maxTokens": json.Number("12")}, "stop": []string{"a", "b"}},
		Grid:    []GridAxis{{Path: "settings.topK", Values: []any{json.Number("3"), int64(4)}}},
		Cases:   []*Case{{ID: "a", Prompt: "hi"}, {ID: "b", Prompt: "ho", Request: map[string]any{"x": json.Number("1.5")}}}}
	if n := sameTrials(t, "fallback", s); n != 4 {
		t.Errorf("%d trials; want 4", n)
	}
}

// TestOwnKeysSorted protects the merge of an arm's canonical fields, which
// takes ownKeys to be in key order.
func TestOwnKeysSorted(t *testing.T) {
	if !slices.IsSorted(ownKeys[:]) {
		t.Errorf("ownKeys %q are not sorted", ownKeys)
	}
}

// TestArmCanonicalKeyGuard protects the fallback of the arm-encoded
// canonical request when a trial's request has a key the arm and cell do
// not list (a key set by code added later): appendArmCanonical reports it,
// and canonicalRequest encodes the whole map instead.
func TestArmCanonicalKeyGuard(t *testing.T) {
	s := throughputSuite(t, 1)
	x := newExpansion(s)
	a, err := x.arm(s.Cases[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	tr := x.trial(s.Cases[0], 1, &a, draw{seed: 5, value: int64(5)}, 0, false)
	if _, ok := x.appendArmCanonical(nil, tr.Request, &a, 1); !ok {
		t.Fatal("fast path not taken for the trial's own request")
	}
	tr.Request["extra"] = "x"
	if _, ok := x.appendArmCanonical(nil, tr.Request, &a, 1); ok {
		t.Error("a key the arm does not list went unnoticed")
	}
	if got, want := x.canonicalRequest(tr.Request, &a, 1), encoderJSON(tr.Request); !bytes.Equal(got, want) {
		t.Errorf("canonicalRequest with an unlisted key:\n got %s\nwant %s", got, want)
	}
}
