package journal

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// checkLineMatchesMarshal asserts appendRecord writes json.Marshal's bytes,
// and errs exactly when json.Marshal does.
func checkLineMatchesMarshal(t *testing.T, r *Record) {
	t.Helper()
	want, werr := json.Marshal(r)
	got, gerr := appendRecord(nil, r)
	if (werr == nil) != (gerr == nil) || werr == nil && string(got) != string(want) {
		t.Fatalf("record %+v:\n got %s (%v)\nwant %s (%v)", r, got, gerr, want, werr)
	}
}

// fill sets every field reachable from v to a value that is not its zero
// (choosing among a few with rnd), so that a field added to Record later is
// written by the test's records whether or not appendRecord knows it.
func fill(v reflect.Value, rnd *rand.Rand, depth int) {
	strs := []string{"x", "say \"hi\" <b>&", "tab\t\n\r\b\f\x01\x7f", "é ünï", "\u2028\u2029", "bad \xff\xfe utf8", "\\"}
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 12, 3, 8, 9, 10, rnd.IntN(1e9), time.FixedZone("z", 3600*rnd.IntN(3)))))
		return
	case v.Type() == reflect.TypeFor[json.RawMessage]():
		v.SetBytes([]byte(`{"q": [1, "<a>", null]}`))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strs[rnd.IntN(len(strs))])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt([]int64{1, -7, 1 << 40, math.MinInt64}[rnd.IntN(4)])
	case reflect.Float64:
		v.SetFloat([]float64{0.5, 1e-7, 3.96e-05, 1e21, -2.25, 123456789.125}[rnd.IntN(6)])
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), rnd, depth)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1+rnd.IntN(2), 2)
		for i := range s.Len() {
			fill(s.Index(i), rnd, depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"b", "a<", "B", "\u00e9"}[:1+rnd.IntN(4)] {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, rnd, depth+1)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	case reflect.Interface:
		vals := []any{strs[rnd.IntN(len(strs))], 0.2, 1e-7, true, 3, nil, []any{"a", 1.0}, map[string]any{"z": 1.0}}
		if x := vals[rnd.IntN(len(vals))]; x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && rnd.IntN(4) > 0 {
				fill(v.Field(i), rnd, depth+1)
			}
		}
	}
}

// TestAppendRecordMatchesMarshal protects the journal's format: a line
// written without reflection is byte for byte json.Marshal's, for records
// with any subset of their fields set (every field, nested ones included),
// strings that need escaping and floats in both of encoding/json's forms.
func TestAppendRecordMatchesMarshal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	checkLineMatchesMarshal(t, &Record{})
	for range 3000 {
		var r Record
		fill(reflect.ValueOf(&r).Elem(), rnd, 0)
		checkLineMatchesMarshal(t, &r)
	}
	// Every field set at once.
	var r Record
	all := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		fill(reflect.ValueOf(&r).Elem(), all, 0)
	}
	checkLineMatchesMarshal(t, &r)
}

// TestAppendRecordRefusesWhatMarshalRefuses: values json.Marshal cannot
// write are an error, not a line.
func TestAppendRecordRefusesWhatMarshalRefuses(t *testing.T) {
	nan := math.NaN()
	for name, r := range map[string]*Record{
		"NaN cost":      {Cost: &nan},
		"Inf score":     {Score: math.Inf(1)},
		"NaN e2e":       {Timings: Timings{E2E: &nan}},
		"NaN weight":    {Checks: []CheckOutcome{{Weight: nan}}},
		"year 10000":    {Timings: Timings{Scheduled: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		"bad arguments": {ToolCalls: []ToolCall{{Arguments: json.RawMessage(`{`)}}},
		"NaN in vars":   {Vars: map[string]any{"x": nan}},
		"NaN step cost": {Steps: []Step{{Cost: &nan}}},
	} {
		if _, err := appendRecord(nil, r); err == nil {
			t.Errorf("%s: appendRecord wrote a line json.Marshal refuses", name)
		}
	}
}

// FuzzAppendRecord: any text, id and numbers write json.Marshal's bytes.
func FuzzAppendRecord(f *testing.F) {
	f.Add("Simulated answer", "c-1", 0.000282, int64(7), 1.5)
	f.Add("<script>\u2028\xff", "\"", math.NaN(), int64(-1), 1e-9)
	f.Fuzz(func(t *testing.T, text, id string, cost float64, seed int64, ms float64) {
		r := &Record{Text: text, CaseID: id, Prompt: text, Reasoning: id, Cost: &cost, Seed: seed,
			Timings: Timings{E2E: &ms}, Checks: []CheckOutcome{{Check: id, Reason: text, JudgeCost: cost}}, Score: ms,
			Error: &Error{Class: id, Message: text}, Tags: []string{text, id}}
		checkLineMatchesMarshal(t, r)
	})
}

// BenchmarkRecordLine: one journal line by appendRecord and by
// json.Marshal (BENCHMARKS.md).
func BenchmarkRecordLine(b *testing.B) {
	cost := 0.000282
	r := &Record{V: Version, RunID: "20261203-120849-cb109b", Suite: "throughput", SuiteHash: "d5463e2337e837e9", CaseID: "c-4711",
		Cell: "settings.temperature=0.2", CellValues: map[string]any{"settings.temperature": 0.2}, Seed: 1307741551, Results: 1,
		TrialKey: "a88a4f57ae5c01cfe808ceaf380643d6", TaskUUID: "88164e0a-6f9a-474d-8a87-e070300b9378",
		RequestHash: "572862d021c52ac1c71f1517273d3e3d", Model: "moonshotai:kimi@k2.6", Delivery: "sync", Transport: "native",
		Timings: Timings{Scheduled: time.Now().UTC(), AttemptScheduled: Ms(1), Admitted: Ms(2), Dispatched: Ms(3), FirstByte: Ms(4),
			Done: Ms(5), E2E: Ms(2), Queue: Ms(3), ToSuccess: Ms(5)},
		Text: "Simulated answer to \"question 4711\": City4711.", FinishReason: "stop", Usage: &Usage{Prompt: 12, Completion: 20, Total: 32},
		Cost: &cost, Attempts: 1, Checks: []CheckOutcome{{Check: `contains "City4711"`, Pass: true}, {Check: "regex /^[A-Z]/", Pass: true}},
		Pass: true, Score: 1}
	b.Run("append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = appendRecord(buf[:0], r)
		}
	})
	b.Run("marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(r)
		}
	})
}
