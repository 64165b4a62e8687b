package eval

import (
	"bytes"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExpandCounts checks trials = cases × cells × variants × seeds ×
// repeat and samples = trials × numberResults.
func TestExpandCounts(t *testing.T) {
	tests := []struct {
		name                  string
		body                  string
		wantTrials, wantSamps int
	}{
		// 2 cases, no grid, no variants, default one seed.
		{"defaults", ``, 2, 2},
		// 2 cases × 3 thinking levels × 3 seeds.
		{"grid and seeds", "grid: {settings.thinkingLevel: [none, low, high]}\nseeds: {count: 3, base: 1}\n", 18, 18},
		// 2 cases × (3 × 2 cells) × 2 variants × 2 seeds, 4 results each.
		{"two axes, variants, numberResults", "grid:\n  settings.thinkingLevel: [none, low, high]\n  settings.temperature: [0.2, 1]\nvariants: [{name: v1}, {name: v2, systemPrompt: Be brief.}]\nseeds: [5, 6]\nnumberResults: 4\n", 48, 192},
		// repeat multiplies trials: 2 cases × 2 seeds × 3 repeats.
		{"repeat", "seeds: {count: 2}\nrepeat: 3\n", 12, 12},
		// a list of models is a grid axis: 2 cases × 2 models × 2 transports.
		{"model list and transport axis", "grid: {transport: [native, openai]}\n", 8, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := "model: moonshotai:kimi@k2.6\n"
			if tt.name == "model list and transport axis" {
				model = "model: [moonshotai:kimi@k2.6, moonshotai-kimi-k2-6]\n"
			}
			p := writeSuite(t, "name: n\n"+model+tt.body+"cases:\n  - {id: a, prompt: hi}\n  - {id: b, prompt: ho}\n")
			trials, err := Expand(mustLoad(t, p))
			if err != nil {
				t.Fatal(err)
			}
			samples := 0
			keys := map[string]bool{}
			for _, tr := range trials {
				samples += tr.NumberResults
				if keys[tr.Key] {
					t.Errorf("duplicate trial key %s (%s %s %s r%d)", tr.Key, tr.CaseID, tr.Cell, tr.Variant, tr.Replicate)
				}
				keys[tr.Key] = true
			}
			if len(trials) != tt.wantTrials || samples != tt.wantSamps {
				t.Errorf("trials, samples = %d, %d; want %d, %d", len(trials), samples, tt.wantTrials, tt.wantSamps)
			}
		})
	}
}

// TestExpandSeedsShared checks common random numbers: the seed of a sample
// depends on the seed base, case id and replicate only, so every cell and
// variant of a case gets the same seeds, across loads, while cases and
// replicates differ.
func TestExpandSeedsShared(t *testing.T) {
	src := `name: n
model: m
grid: {settings.thinkingLevel: [none, high], settings.temperature: [0, 1]}
variants: [{name: v1}, {name: v2, prompt: "Q: {{.q}}"}]
seeds: {count: 3, base: 42}
cases:
  - {id: a, prompt: "{{.q}}", vars: {q: x}}
  - {id: b, prompt: "{{.q}}", vars: {q: y}}
`
	run := func() map[string][]int64 {
		trials, err := Expand(mustLoad(t, writeSuite(t, src)))
		if err != nil {
			t.Fatal(err)
		}
		seeds := map[string][]int64{} // case/replicate -> seeds seen
		for _, tr := range trials {
			k := fmt.Sprintf("%s/%d", tr.CaseID, tr.Replicate)
			seeds[k] = append(seeds[k], tr.Seed)
			if tr.Request["seed"] != tr.Seed {
				t.Errorf("request seed %v != trial seed %d", tr.Request["seed"], tr.Seed)
			}
		}
		return seeds
	}
	first, second := run(), run()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("seeds differ between two loads (-first +second):\n%s", diff)
	}
	distinct := map[int64]string{}
	for k, ss := range first {
		if len(ss) != 8 {
			t.Errorf("%s: %d trials; want 4 cells × 2 variants", k, len(ss))
		}
		for _, s := range ss[1:] {
			if s != ss[0] {
				t.Errorf("%s: seeds differ across cells/variants: %v", k, ss)
				break
			}
		}
		if other, dup := distinct[ss[0]]; dup {
			t.Errorf("%s and %s share seed %d", k, other, ss[0])
		}
		distinct[ss[0]] = k
	}
	if got, want := SampleSeed(42, "a", 0), first["a/0"][0]; got != want {
		t.Errorf("SampleSeed(42, a, 0) = %d; trial has %d", got, want)
	}
}

// TestExpandRequest checks the request of one trial: defaults, case and
// variant overrides, the cell's value, the system prompt in settings,
// messages, seed, numberResults, transport, and the cell label order.
func TestExpandRequest(t *testing.T) {
	p := writeSuite(t, `name: n
model: moonshotai:kimi@k2.6
transport: openai
systemPrompt: Be terse.
request:
  deliveryMethod: stream
  includeCost: true
  settings: {maxTokens: 64, temperature: 0.3}
grid:
  settings.thinkingLevel: [low]
  settings.topP: [0.5]
variants:
  - name: long
    request: {settings: {maxTokens: 512}}
cases:
  - id: c
    messages:
      - {role: user, content: "Say {{.w}}"}
      - {role: assistant, content: "{{.w}}"}
      - {role: user, content: again}
    vars: {w: hi}
    request: {settings: {maxTokens: 128, temperature: 0.9}, includeUsage: true}
`)
	trials, err := Expand(mustLoad(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 1 {
		t.Fatalf("%d trials", len(trials))
	}
	tr := trials[0]
	want := map[string]any{
		"model":          "moonshotai:kimi@k2.6",
		"deliveryMethod": "stream",
		"includeCost":    true,
		"includeUsage":   true,
		"settings": map[string]any{
			"maxTokens": int64(512), "temperature": 0.9, "thinkingLevel": "low", "topP": 0.5,
			"systemPrompt": "Be terse.",
		},
		"messages": []any{
			map[string]any{"role": "user", "content": "Say hi"},
			map[string]any{"role": "assistant", "content": "hi"},
			map[string]any{"role": "user", "content": "again"},
		},
		"seed":          tr.Seed,
		"numberResults": int64(1),
	}
	if diff := cmp.Diff(want, tr.Request); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if tr.Cell != "settings.thinkingLevel=low settings.topP=0.5" || tr.Variant != "long" || tr.Transport != "openai" {
		t.Errorf("cell %q variant %q transport %q", tr.Cell, tr.Variant, tr.Transport)
	}
}

// TestTrialKeyStable checks that the key is the same across loads and
// changes with anything in the request.
func TestTrialKeyStable(t *testing.T) {
	src := "name: n\nmodel: m\nseeds: [1]\ncases: [{id: a, prompt: hi}]\n"
	k1 := mustExpand(t, src)[0].Key
	k2 := mustExpand(t, src)[0].Key
	k3 := mustExpand(t, "name: n\nmodel: m\nseeds: [1]\nrequest: {settings: {topK: 5}}\ncases: [{id: a, prompt: hi}]\n")[0].Key
	if k1 != k2 {
		t.Errorf("key changed between loads: %s %s", k1, k2)
	}
	if k1 == k3 {
		t.Error("key did not change with the request")
	}
}

func mustExpand(t *testing.T, src string) []Trial {
	t.Helper()
	trials, err := Expand(mustLoad(t, writeSuite(t, src)))
	if err != nil {
		t.Fatal(err)
	}
	return trials
}

// TestCountTrials checks that CountTrials, which does not build trials,
// agrees with the trials Expand builds, including numberResults set per
// case, per variant and as a grid axis.
func TestCountTrials(t *testing.T) {
	tests := []struct {
		name, body, caseB string
		wantSamples       int
	}{
		// The plain shape: one numberResults for everything (2 cases × 3 seeds × 3).
		{"suite numberResults", "seeds: {count: 3, base: 1}\nnumberResults: 3\n", "{id: b, prompt: ho}", 18},
		// Case b overrides the suite's 2 with 1, variant v2 overrides both
		// with 4: a: 2 + 4, b: 1 + 4.
		{"case and variant overrides", "numberResults: 2\nvariants: [{name: v1}, {name: v2, request: {numberResults: 4}}]\n",
			"{id: b, prompt: ho, request: {numberResults: 1}}", 11},
		// numberResults is a grid axis, crossed with another axis and
		// repeat: 2 cases × 2 repeats × 2 temperatures × (1 + 3).
		{"numberResults axis", "grid: {numberResults: [1, 3], settings.temperature: [0.2, 1]}\nrepeat: 2\n", "{id: b, prompt: ho}", 32},
		// Nothing sets numberResults: one sample per trial.
		{"no numberResults", "grid: {settings.temperature: [0.2, 1]}\n", "{id: b, prompt: ho}", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustLoad(t, writeSuite(t, "name: n\nmodel: m\n"+tt.body+"cases:\n  - {id: a, prompt: hi}\n  - "+tt.caseB+"\n"))
			trials, err := Expand(s)
			if err != nil {
				t.Fatal(err)
			}
			want := Count{Trials: len(trials)}
			for _, tr := range trials {
				want.Samples += tr.NumberResults
			}
			if want.Samples != tt.wantSamples {
				t.Fatalf("Expand yields %d samples; the row expects %d", want.Samples, tt.wantSamples)
			}
			got, err := CountTrials(s)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("CountTrials = %+v; Expand has %+v", got, want)
			}
		})
	}
}

// TestExpandSeqWalksAgain checks that the stream can be walked more than
// once (open-loop load cycles through it) with the same trials every time,
// and that a consumer may stop it early.
func TestExpandSeqWalksAgain(t *testing.T) {
	s := mustLoad(t, writeSuite(t, "name: n\nmodel: m\ngrid: {settings.temperature: [0.2, 1]}\nvariants: [{name: v1}, {name: v2}]\nseeds: {count: 2}\ncases:\n  - {id: a, prompt: hi}\n  - {id: b, prompt: ho}\n"))
	walk := func(limit int) []Trial {
		var out []Trial
		for tr, err := range ExpandSeq(s) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tr)
			if len(out) == limit {
				break
			}
		}
		return out
	}
	first, second := walk(-1), walk(-1)
	if len(first) != 16 {
		t.Fatalf("%d trials; want 2 cases × 2 cells × 2 variants × 2 seeds", len(first))
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second walk differs (-first +second):\n%s", diff)
	}
	if part := walk(5); len(part) != 5 || part[4].Key != first[4].Key {
		t.Errorf("stopped walk yielded %d trials", len(part))
	}
	// Trials of one walk do not share request maps: changing one must not
	// change another.
	first[0].Request["settings"].(map[string]any)["maxTokens"] = 1
	if _, ok := first[1].Request["settings"].(map[string]any)["maxTokens"]; ok {
		t.Error("trials share a request map")
	}
}

// TestExpandSeqError checks that a case whose template does not render
// yields Expand's error before any of that case's trials, and that
// CountTrials reports the same error.
func TestExpandSeqError(t *testing.T) {
	s := &Suite{Name: "n", Model: "m", Cases: []*Case{
		{ID: "ok", Prompt: "hi"},
		{ID: "bad", Prompt: "{{.missing}}"},
		{ID: "later", Prompt: "ho"},
	}}
	_, want := Expand(s)
	if want == nil || !strings.Contains(want.Error(), `case "bad"`) {
		t.Fatalf("Expand error = %v; want one naming case bad", want)
	}
	var cases []string
	var got error
	for tr, err := range ExpandSeq(s) {
		if err != nil {
			got = err
			continue
		}
		cases = append(cases, tr.CaseID)
	}
	if got == nil || got.Error() != want.Error() {
		t.Errorf("ExpandSeq error = %v; want %v", got, want)
	}
	if diff := cmp.Diff([]string{"ok"}, cases); diff != "" {
		t.Errorf("trials yielded (-want +got):\n%s", diff)
	}
	if _, err := CountTrials(s); err == nil || err.Error() != want.Error() {
		t.Errorf("CountTrials error = %v; want %v", err, want)
	}
}

// BenchmarkExpandSeq measures building one trial of the stream (what a run
// pays per trial, and a shard or resume selection per walk): 10 cases ×
// 5,000 seeds, numberResults 4.
func BenchmarkExpandSeq(b *testing.B) {
	var cases strings.Builder
	for i := range 10 {
		fmt.Fprintf(&cases, "  - {id: c%d, prompt: \"question %d\"}\n", i, i)
	}
	path := filepath.Join(b.TempDir(), "suite.yaml")
	src := "name: n\nmodel: moonshotai:kimi@k2.6\nrequest: {deliveryMethod: sync, includeCost: true, includeUsage: true, settings: {maxTokens: 64}}\nseeds: {count: 5000, base: 1}\nnumberResults: 4\ncases:\n" + cases.String()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	next, stop := iter.Pull2(ExpandSeq(s))
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		_, err, ok := next()
		if !ok {
			stop()
			next, stop = iter.Pull2(ExpandSeq(s))
			_, err, _ = next()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestCanonicalJSONOfShippedSuites protects the trial keys of runs made
// before the hand-written canonical encoding: for every trial of every
// shipped suite, it writes what the json.Encoder writes, and the keys of a
// suite with a grid, HTML and non-ASCII text are those that encoder gave.
func TestCanonicalJSONOfShippedSuites(t *testing.T) {
	var keys []string
	for _, tr := range mustExpand(t, pinnedSuite) {
		if got, want := canonicalJSON(tr.Request), encoderJSON(tr.Request); !bytes.Equal(got, want) {
			t.Fatalf("pinned suite:\n got %s\nwant %s", got, want)
		}
		keys = append(keys, tr.Key)
	}
	t.Logf("pinned keys %q", keys)
	if !slices.Equal(keys, pinnedKeys) {
		t.Errorf("keys %q, want %q (the keys of earlier runs)", keys, pinnedKeys)
	}
	paths, err := filepath.Glob(filepath.Join("..", "suites", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no suites: %v", err)
	}
	for _, p := range paths {
		s, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		trials, err := Expand(s)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, tr := range trials {
			if got, want := canonicalJSON(tr.Request), encoderJSON(tr.Request); !bytes.Equal(got, want) {
				t.Fatalf("%s: trial %s:\n got %s\nwant %s", p, tr.Key, got, want)
			}
		}
	}
}

// pinnedSuite's trial keys, as the json.Encoder made them, are pinnedKeys.
const pinnedSuite = `name: pinned
model: moonshotai:kimi@k2.6
systemPrompt: "Answer <briefly> & \u00e9l\u00e9gamment"
request: {settings: {maxTokens: 64, topP: 0.95}, includeCost: true}
grid: {settings.temperature: [0.2, 1.0e-7]}
seeds: [1, 9007199254740993]
cases:
  - {id: a, prompt: "Say \"hi\"\t\u2028 in 日本語", checks: [{contains: hi}]}
`

var pinnedKeys = []string{"59caf582d6f7105fee9bcec5dfeb59ca", "892a748e76dfb6de0be46f205737cca3", "34428a85d940c3d09e3eb74f92c7f0bf", "2792b28943ff3be0f64b7473230f8770"}
