package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// TestPlanFromJournal checks that plan reads a previous run's journal for
// expected cost and duration, and prints its sources. Hand-computed: 2
// samples of 8 prompt chars (2 tokens); previous mean 100 completion tokens
// of which 40 thinking, 1 s latency; prices 1/2/3 per 1M.
// expected = 2×2×1/1e6 + 2×(60×2 + 40×3)/1e6 = 0.000484.
func TestPlanFromJournal(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(suite, []byte("name: s\nmodel: m\npricing: {input: 1, output: 2, thinking: 3}\nlimits: {rate: 1, concurrency: 1}\nseeds: {count: 2}\ncases: [{id: a, prompt: abcdefgh}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	w, err := journal.Create(run)
	if err != nil {
		t.Fatal(err)
	}
	e2e := 1000.0
	for i := range 2 {
		r := &journal.Record{Suite: "s", CaseID: "a", Replicate: i, Usage: &journal.Usage{Prompt: 2, Completion: 100, Thinking: 40, Total: 102}}
		r.Timings.Scheduled = time.Unix(0, 0)
		r.Timings.E2E = &e2e
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := planRun(&streams{Out: &out, Err: &out}, planOptions{Paths: []string{suite}, From: run, Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var reps []planReport
	if err := json.Unmarshal(out.Bytes(), &reps); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	tot := reps[0].Total
	if tot.ExpectedCost == nil || *tot.ExpectedCost < 0.000484-1e-12 || *tot.ExpectedCost > 0.000484+1e-12 {
		t.Errorf("expected cost %v", tot.ExpectedCost)
	}
	// 2 tasks at 1/s ≥ 2 s; 2 × 1 s busy on one slot = 2 s.
	if d := reps[0].ExpectedDuration; d == nil || *d != 2 {
		t.Errorf("expected duration %v", d)
	}

	out.Reset()
	if err := planRun(&streams{Out: &out, Err: &out}, planOptions{Paths: []string{suite}, Format: "md"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| **total** |", "Pricing: suite", "Expected cost: unknown", "ceil(characters/4)", "model maximum of 49,152"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, out.String())
		}
	}
}
