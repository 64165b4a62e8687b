package runwaretest

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
)

// syncResults posts tasks and returns the data items, failing on any error.
func syncResults(t *testing.T, s *Server, tasks ...any) []map[string]any {
	t.Helper()
	r := post(t, s.URL(), testKey, tasks)
	if r.status != http.StatusOK {
		t.Fatalf("status = %d; body %s", r.status, r.body)
	}
	e := r.envelope(t)
	if len(e.Errors) > 0 {
		t.Fatalf("errors: %+v", e.Errors)
	}
	return e.Data
}

func TestNumberResults(t *testing.T) {
	s := newTestServer(t, Options{})
	for n := 1; n <= 4; n++ {
		// numberResults N yields N results sharing the taskUUID, with distinct texts (distinct seeds).
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			tk := task("Tell me something", with("numberResults", n), with("seed", 7))
			data := syncResults(t, s, tk)
			if len(data) != n {
				t.Fatalf("got %d results, want %d", len(data), n)
			}
			texts := map[string]bool{}
			for _, d := range data {
				if d["taskUUID"] != tk["taskUUID"] || d["taskType"] != "textInference" || d["finishReason"] != "stop" {
					t.Fatalf("result %v", d)
				}
				texts[d["text"].(string)] = true
			}
			if len(texts) != n {
				t.Fatalf("texts not distinct: %v", texts)
			}
		})
	}
}

func TestIncludeFlags(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name                string
		cost, usage         bool
		wantCost, wantUsage bool
	}{
		// Neither flag: neither field (the documented defaults are false).
		{"none", false, false, false, false},
		// includeCost adds cost only.
		{"cost", true, false, true, false},
		// includeUsage adds usage only.
		{"usage", false, true, false, true},
		// Both flags add both.
		{"both", true, true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := syncResults(t, s, task("hi", with("includeCost", tc.cost), with("includeUsage", tc.usage)))[0]
			_, hasCost := d["cost"]
			_, hasUsage := d["usage"]
			if hasCost != tc.wantCost || hasUsage != tc.wantUsage {
				t.Fatalf("cost %v usage %v in %v", hasCost, hasUsage, d)
			}
		})
	}
}

// Usage follows the documented token approximation and cost the price table.
func TestUsageAndCost(t *testing.T) {
	s := newTestServer(t, Options{Pricing: Pricing{Input: 1, Output: 2, Thinking: 3}})
	prompt := "What is the capital of France?" // 30 chars = 8 tokens
	d := syncResults(t, s, task(prompt, withSetting("systemPrompt", "Be brief."), withSetting("thinkingLevel", "low"),
		with("includeUsage", true), with("includeCost", true), with("seed", 1)))[0]
	u := d["usage"].(map[string]any)
	pt, ct, tt, th := int(u["promptTokens"].(float64)), int(u["completionTokens"].(float64)), int(u["totalTokens"].(float64)), int(u["thinkingTokens"].(float64))
	if pt != CountTokens(prompt)+CountTokens("Be brief.") {
		t.Fatalf("promptTokens = %d", pt)
	}
	visible := CountTokens(d["text"].(string))
	if ct != visible+th || tt != pt+ct || th <= 0 {
		t.Fatalf("usage %v, visible %d", u, visible)
	}
	want := (float64(pt)*1 + float64(visible)*2 + float64(th)*3) / 1e6
	if got := d["cost"].(float64); math.Abs(got-want) > 1e-15 {
		t.Fatalf("cost = %g, want %g", got, want)
	}
}

func TestDeterminism(t *testing.T) {
	s := newTestServer(t, Options{})
	text := func(prompt string, seed int) string {
		return syncResults(t, s, task(prompt, with("seed", seed)))[0]["text"].(string)
	}
	// Same request and seed: same text, whatever the taskUUID.
	if a, b := text("Describe rivers", 42), text("Describe rivers", 42); a != b {
		t.Fatalf("same seed differs:\n%s\n%s", a, b)
	}
	// Different seeds: different text.
	if a, b := text("Describe rivers", 42), text("Describe rivers", 43); a == b {
		t.Fatalf("different seeds give the same text %q", a)
	}
	// Different prompts: different text.
	if a, b := text("Describe rivers", 42), text("Describe mountains", 42); a == b {
		t.Fatalf("different prompts give the same text %q", a)
	}
	// Result i of a multi-result task equals the single result at seed+i.
	multi := syncResults(t, s, task("Describe rivers", with("seed", 42), with("numberResults", 3)))
	if multi[2]["text"] != text("Describe rivers", 44) {
		t.Fatalf("result 2 at seed 42 differs from result 0 at seed 44")
	}
}

// Without a seed the server draws one, so repeated requests differ.
func TestRandomSeedWhenAbsent(t *testing.T) {
	s := newTestServer(t, Options{})
	a := syncResults(t, s, task("Describe rivers"))[0]["text"]
	b := syncResults(t, s, task("Describe rivers"))[0]["text"]
	if a == b {
		t.Fatalf("two unseeded requests gave the same text %q", a)
	}
}

// Mean thinking tokens grow with thinkingLevel: none 0, then low < medium < high < xhigh.
func TestThinkingTokensGrowWithLevel(t *testing.T) {
	s := newTestServer(t, Options{})
	prev := -1.0
	for _, lv := range thinkingLevels {
		sum := 0.0
		for seed := range 20 {
			d := syncResults(t, s, task("Plan a trip", withSetting("thinkingLevel", lv), with("seed", seed), with("includeUsage", true)))[0]
			sum += d["usage"].(map[string]any)["thinkingTokens"].(float64)
		}
		mean := sum / 20
		if lv == "none" && mean != 0 {
			t.Fatalf("none: mean thinking tokens %g, want 0", mean)
		}
		if lv != "none" && mean <= prev {
			t.Fatalf("%s: mean thinking tokens %g not above %g", lv, mean, prev)
		}
		prev = mean
	}
}

// The share of right answers over many seeds follows pCorrect per level, and
// at a fixed seed a right answer stays right at a level with higher pCorrect.
func TestScenarioCorrectnessRate(t *testing.T) {
	s := newTestServer(t, Options{Scenarios: []Scenario{{
		Match:    Match{Contains: "capital of France"},
		Answer:   "Paris",
		Wrong:    []string{"Lyon", "Marseille"},
		PCorrect: map[string]float64{"none": 0.6, "high": 0.95},
	}}})
	const n = 400
	right := map[string][]bool{}
	for _, lv := range []string{"none", "high"} {
		for seed := range n {
			txt := syncResults(t, s, task("What is the capital of France?", withSetting("thinkingLevel", lv), with("seed", seed)))[0]["text"].(string)
			switch txt {
			case "Paris":
				right[lv] = append(right[lv], true)
			case "Lyon", "Marseille":
				right[lv] = append(right[lv], false)
			default:
				t.Fatalf("unexpected text %q", txt)
			}
		}
	}
	for lv, p := range map[string]float64{"none": 0.6, "high": 0.95} {
		k := 0
		for _, ok := range right[lv] {
			if ok {
				k++
			}
		}
		// 5 standard errors: deterministic seeds make this exact, and the band never flakes.
		if se := math.Sqrt(p * (1 - p) / n); math.Abs(float64(k)/n-p) > 5*se {
			t.Fatalf("%s: %d/%d right, want about %g", lv, k, n, p)
		}
	}
	for i := range n {
		if right["none"][i] && !right["high"][i] {
			t.Fatalf("seed %d right at none but wrong at high", i)
		}
	}
}

// A level missing from pCorrect takes the nearest listed level.
func TestNearestLevel(t *testing.T) {
	m := map[string]float64{"low": 0.2, "xhigh": 0.9}
	tests := []struct {
		level string
		want  float64
	}{
		{"none", 0.2},   // nearest is low
		{"medium", 0.2}, // low is 1 away, xhigh 2
		{"high", 0.9},   // xhigh is 1 away, low 2
		{"xhigh", 0.9},  // listed
	}
	for _, tc := range tests {
		if got, _ := nearestLevel(m, tc.level); got != tc.want {
			t.Errorf("%s: got %g, want %g", tc.level, got, tc.want)
		}
	}
}

func TestMaxTokensAndStopSequences(t *testing.T) {
	s := newTestServer(t, Options{Scenarios: []Scenario{{Match: Match{Exact: "count"}, Answer: "one two three four five six seven eight"}}})
	tests := []struct {
		name   string
		edits  []func(map[string]any)
		text   string
		reason string
	}{
		// No limits: the full answer, finishReason stop.
		{"none", nil, "one two three four five six seven eight", "stop"},
		// maxTokens 3 keeps 12 characters, finishReason length.
		{"maxTokens", []func(map[string]any){withSetting("maxTokens", 3)}, "one two thre", "length"},
		// A stop sequence cuts before its first occurrence, finishReason stop.
		{"stop", []func(map[string]any){withSetting("stopSequences", []any{" four", " two"})}, "one", "stop"},
		// maxTokens above the answer's length changes nothing.
		{"maxTokens large", []func(map[string]any){withSetting("maxTokens", 100)}, "one two three four five six seven eight", "stop"},
		// A stop sequence that cuts within maxTokens ends with stop, not length.
		{"stop before length", []func(map[string]any){withSetting("stopSequences", []any{" three"}), withSetting("maxTokens", 2)}, "one two", "stop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := syncResults(t, s, task("count", tc.edits...))[0]
			if d["text"] != tc.text || d["finishReason"] != tc.reason {
				t.Fatalf("text %q finishReason %v, want %q %s", d["text"], d["finishReason"], tc.text, tc.reason)
			}
		})
	}
}

// maxTokens bounds thinking and visible tokens together, so a cost bound of
// maxTokens output tokens per result always holds: thinking that fits leaves
// the rest of the allowance to the text; thinking that does not fit is capped
// and leaves no text.
func TestMaxTokensBoundsThinking(t *testing.T) {
	s := newTestServer(t, Options{Scenarios: []Scenario{{
		Match:          Match{Exact: "count"},
		Answer:         "one two three four five six seven eight",
		ThinkingTokens: map[string]Dist{"high": {Mean: 6}},
	}}})
	tests := []struct {
		name      string
		maxTokens int
		text      string
		thinking  float64
		reason    string
	}{
		// 6 thinking tokens of 8 leave 2 tokens (8 characters) of text.
		{"room left", 8, "one two ", 6, "length"},
		// 6 thinking tokens of 20 leave room for the whole answer (10 tokens).
		{"fits", 20, "one two three four five six seven eight", 6, "stop"},
		// Thinking capped at 4 uses the whole allowance: no text.
		{"thinking exhausts", 4, "", 4, "length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := syncResults(t, s, task("count", withSetting("thinkingLevel", "high"), withSetting("maxTokens", tc.maxTokens), with("includeUsage", true)))[0]
			u := d["usage"].(map[string]any)
			if d["text"] != tc.text || d["finishReason"] != tc.reason || u["thinkingTokens"] != tc.thinking {
				t.Fatalf("text %q finishReason %v usage %v; want %q %s with %g thinking tokens", d["text"], d["finishReason"], u, tc.text, tc.reason, tc.thinking)
			}
			if c := u["completionTokens"].(float64); c > float64(tc.maxTokens) {
				t.Fatalf("completionTokens %g exceed maxTokens %d", c, tc.maxTokens)
			}
		})
	}
}

// In a batch with an invalid task, the valid tasks are answered in data and
// the invalid one is reported in errors, with HTTP 200.
func TestBatchPartialFailure(t *testing.T) {
	s := newTestServer(t, Options{})
	good1, bad, good2 := task("a"), task("b", withSetting("temperature", 7)), task("c", with("numberResults", 2))
	r := post(t, s.URL(), testKey, []any{good1, bad, good2})
	e := r.envelope(t)
	if r.status != http.StatusOK || len(e.Data) != 3 || len(e.Errors) != 1 {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if e.Errors[0].TaskUUID != bad["taskUUID"] || e.Errors[0].Code != "invalidTemperature" {
		t.Fatalf("error %+v", e.Errors[0])
	}
	got := map[any]int{}
	for _, d := range e.Data {
		got[d["taskUUID"]]++
	}
	if got[good1["taskUUID"]] != 1 || got[good2["taskUUID"]] != 2 {
		t.Fatalf("results per task %v", got)
	}
}

// ShuffleResults reorders data so that clients must match by taskUUID.
func TestShuffleResults(t *testing.T) {
	s := newTestServer(t, Options{ShuffleResults: true, Seed: 3})
	var tasks []any
	for i := range 8 {
		tasks = append(tasks, task(fmt.Sprint("q", i)))
	}
	data := syncResults(t, s, tasks...)
	moved := false
	for i, d := range data {
		if d["taskUUID"] != tasks[i].(map[string]any)["taskUUID"] {
			moved = true
		}
	}
	if !moved {
		t.Fatal("8 results came back in request order")
	}
}

// ResultExtras adds resultIndex, seed and reasoningContent; without it they are absent.
func TestResultExtras(t *testing.T) {
	for _, extras := range []bool{false, true} {
		s := newTestServer(t, Options{ResultExtras: extras})
		data := syncResults(t, s, task("hi", with("seed", 10), with("numberResults", 2), withSetting("thinkingLevel", "low")))
		_, hasIdx := data[1]["resultIndex"]
		_, hasReason := data[1]["reasoningContent"]
		if hasIdx != extras || hasReason != extras {
			t.Fatalf("extras %v: %v", extras, data[1])
		}
		if extras && (data[1]["seed"].(float64) != 11 || data[1]["resultIndex"].(float64) != 1) {
			t.Fatalf("result 1: %v", data[1])
		}
	}
}

// The generic text refers to the prompt and the wrong answer never contains the right one.
func TestDefaultTexts(t *testing.T) {
	s := newTestServer(t, Options{Scenarios: []Scenario{{Match: Match{Regex: `^Who`}, Answer: "Ada", PCorrect: map[string]float64{"none": 0}}}})
	d := syncResults(t, s, task("Who wrote the first program?", with("seed", 1)))[0]
	if strings.Contains(d["text"].(string), "Ada") || d["text"] == "" {
		t.Fatalf("wrong answer %q", d["text"])
	}
	g := syncResults(t, s, task("Name a river", with("seed", 1)))[0]
	if !strings.Contains(g["text"].(string), "Name a river") {
		t.Fatalf("generic text %q", g["text"])
	}
}
