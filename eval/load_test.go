package eval

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeSuite writes a suite file (and optional extra files) into a temp dir
// and returns the suite's path.
func writeSuite(t *testing.T, src string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i+1 < len(extra); i += 2 {
		p := filepath.Join(dir, extra[i])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(extra[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "suite.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t *testing.T, path string) *Suite {
	t.Helper()
	s, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return s
}

// TestShippedSuitesLoad protects the promise that every suite in suites/
// validates and expands.
func TestShippedSuitesLoad(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "suites", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no suites found in ../suites")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			s := mustLoad(t, p)
			trials, err := Expand(s)
			if err != nil {
				t.Fatalf("Expand: %v", err)
			}
			if len(trials) == 0 {
				t.Fatal("no trials")
			}
			if len(s.Sim) == 0 {
				t.Error("a shipped suite must script the simulator (sim:) so it runs with --sim")
			}
		})
	}
}

// TestLoadSkeletonFields checks that the walking-skeleton fields are read:
// name, model, request defaults, grid, seeds, numberResults and cases with
// vars and checks.
func TestLoadSkeletonFields(t *testing.T) {
	p := writeSuite(t, `
name: caps
model: moonshotai:kimi@k2.6
request:
  includeUsage: true
  settings: {maxTokens: 100, temperature: 0.5}
grid:
  settings.thinkingLevel: [none, high]
seeds: [7, 8]
numberResults: 2
cases:
  - id: fr
    prompt: "Capital of {{.country}}?"
    vars: {country: France}
    checks: [{contains: Paris}, {regex: "^P"}]
`)
	s := mustLoad(t, p)
	if s.Name != "caps" || s.Model != DefaultModel || s.NumberResults != 2 {
		t.Errorf("name/model/numberResults = %q %q %d", s.Name, s.Model, s.NumberResults)
	}
	if diff := cmp.Diff([]int64{7, 8}, s.Seeds); diff != "" {
		t.Errorf("seeds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]GridAxis{{Path: "settings.thinkingLevel", Values: []any{"none", "high"}}}, s.Grid); diff != "" {
		t.Errorf("grid (-want +got):\n%s", diff)
	}
	if len(s.Cases) != 1 || len(s.Cases[0].Checks) != 2 || s.Cases[0].Vars["country"] != "France" {
		t.Fatalf("cases = %+v", s.Cases)
	}
	wantReq := map[string]any{"includeUsage": true, "numberResults": int64(2), "settings": map[string]any{"maxTokens": int64(100), "temperature": 0.5}}
	if diff := cmp.Diff(wantReq, s.Request); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

// TestLoadReportsEveryProblem checks that problems are collected, not
// stopped at the first, and rendered with file:line:col and a caret.
func TestLoadReportsEveryProblem(t *testing.T) {
	p := writeSuite(t, `name: x
model: moonshotai:kimi@k2.6
request:
  settings: {temperature: 3}
cases:
  - id: a
    promt: hi
`)
	_, err := Load(p)
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want *Problems, got %v", err)
	}
	got := ps.Error()
	for _, want := range []string{
		p + ":4:27: settings.temperature must be between 0 and 2; got 3\n      settings: {temperature: 3}\n                              ^",
		p + `:7:5: unknown key "promt" in a case (did you mean "prompt"?)`,
		p + `:6:5: case "a" needs a prompt (or messages)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
