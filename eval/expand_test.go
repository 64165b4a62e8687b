package eval

import (
	"fmt"
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
