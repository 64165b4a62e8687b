package eval

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// FuzzLoad feeds arbitrary suite files to the loader: it must return a
// suite or an error, never panic, hang or exhaust memory.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, p := range paths {
		// Big seeds (the 10,000-tool hostile file) make every mutation
		// slow: TestHostileCorpus loads them.
		if b, err := os.ReadFile(p); err == nil && len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Load(p)
		if err == nil {
			if _, err := CountTrials(s); err != nil {
				return
			}
		}
	})
}

// FuzzCheckEval scores arbitrary answers against every kind of
// deterministic check: a model answer must never crash or hang scoring.
func FuzzCheckEval(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2], "b": [1, 2]}`, "```json\n{\"city\": \"Paris\"}\n```", "Paris", `[{"a": 1}, {"a": "x"}]`, "{\"score\": 1}</answer>"} {
		f.Add(s)
	}
	var checks []Check
	for _, src := range []string{
		"contains: Paris",
		"regex: '^P.*s$'",
		"json: true",
		"jsonPath: {path: '$[?(@.a == @.b)]', exists: true}",
		"jsonPath: {path: '$..a', equals: 1}",
		"jsonSchema: {type: object, required: [city]}",
		"expr: 'len(text) < 100 && text contains \"a\"'",
		"anyOf: [{json: true}, {not: {contains: x}}]",
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			f.Fatal(err)
		}
		c, probs := CompileCheck(doc.Content[0], "fuzz.yaml")
		if len(probs) > 0 {
			f.Fatalf("%s: %v", src, probs)
		}
		checks = append(checks, c)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v := Score(context.Background(), Sample{Text: text}, checks, PassRule{})
		for _, o := range v.Outcomes {
			if strings.Contains(o.Reason, "check crashed") {
				t.Errorf("%s crashed on %q: %s", o.Check, text, o.Reason)
			}
		}
	})
}
