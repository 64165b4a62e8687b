package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/promptgrid/promptgrid/eval"
)

// TestValidateCountsAsExpand protects validate's summary line now that it
// counts trials without building them: for every shipped suite, and for one
// whose grid sets numberResults per cell, the trials and samples it prints
// are those of the expanded trial list.
func TestValidateCountsAsExpand(t *testing.T) {
	perCell := filepath.Join(t.TempDir(), "percell.yaml")
	if err := os.WriteFile(perCell, []byte("name: p\nmodel: moonshotai:kimi@k2.6\nrequest: {settings: {maxTokens: 8}}\n"+
		"grid: {numberResults: [1, 3]}\nseeds: {count: 2, base: 1}\ncases:\n  - {id: a, prompt: hi}\n  - {id: b, prompt: ho}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join("..", "..", "suites", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped suites: %v", err)
	}
	for _, p := range append(paths, perCell) {
		var errb bytes.Buffer
		s := &streams{Out: &bytes.Buffer{}, Err: &errb, Getenv: func(string) string { return "" }}
		suite, err := loadSuite(s, p, "")
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		trials, err := expandAll(suite)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		n := eval.Count{Trials: len(trials)}
		for _, tr := range trials {
			n.Samples += tr.NumberResults
		}
		var out bytes.Buffer
		if err := validateRun(&streams{Out: &out, Err: &errb, Getenv: s.Getenv}, validateOptions{Paths: []string{p}}); err != nil {
			t.Fatalf("%s: %v (%s)", p, err, errb.String())
		}
		if want := p + ": ok — " + suiteSummary(suite, n) + "\n"; out.String() != want {
			t.Errorf("validate %s printed %q, want %q", p, out.String(), want)
		}
	}
}
