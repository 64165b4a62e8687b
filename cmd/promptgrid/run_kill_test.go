package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// killSuite has 4 cases x 40 seeds = 160 trials of 2 results each.
const killSuite = `name: kill-resume
model: moonshotai:kimi@k2.6
request:
  deliveryMethod: sync
  includeCost: true
  includeUsage: true
  settings: {maxTokens: 64}
seeds: {count: 40, base: 1}
numberResults: 2
cases:
  - {id: a, prompt: "question a", checks: [{contains: Simulated}]}
  - {id: b, prompt: "question b", checks: [{contains: Simulated}]}
  - {id: c, prompt: "question c", checks: [{contains: Simulated}]}
  - {id: d, prompt: "question d", checks: [{contains: Simulated}]}
`

// TestKillThenResume builds the binary, starts a run against an in-test
// simulator with some latency, SIGKILLs it mid-run, resumes it, and checks
// that every sample is in the journal exactly once and that the API was
// asked for each trial once, plus at most the requests that were in flight
// when the process died (answered, but never received).
func TestKillThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "promptgrid")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	suite := filepath.Join(tmp, "suite.yaml")
	if err := os.WriteFile(suite, []byte(killSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	const key, concurrency, trials = "kill-test-key-0123456789", 4, 160
	sim := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{key}, TimeScale: 0.02})
	defer sim.Close()
	dir := filepath.Join(tmp, "run")
	command := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "RUNWARE_API_KEY="+key)
		return c
	}

	first := command("run", "--endpoint", sim.URL(), "--concurrency", fmt.Sprint(concurrency), "--quiet", "--out", dir, suite)
	var stderr bytes.Buffer
	first.Stderr = &stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until a fair share of the journal is written, then kill -9.
	deadline := time.Now().Add(30 * time.Second)
	for countLines(filepath.Join(dir, journal.JournalFile)) < 60 {
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatalf("the run wrote too little in 30s; stderr:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	killedAt := countLines(filepath.Join(dir, journal.JournalFile))
	if killedAt >= 2*trials {
		t.Fatalf("the run finished before it was killed (%d lines); slow the simulator down", killedAt)
	}

	second := command("run", "--resume", dir, "--endpoint", sim.URL(), "--quiet", "--format", "json")
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}

	seen := map[string]int{}
	for _, r := range readRecords(t, dir) {
		if r.Error != nil {
			t.Fatalf("error line after resume: %+v", r.Error)
		}
		seen[fmt.Sprintf("%s/%d", r.TrialKey, r.ResultIndex)]++
	}
	if len(seen) != 2*trials {
		t.Fatalf("%d distinct samples, want %d", len(seen), 2*trials)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("sample %s journaled %d times", k, n)
		}
	}
	calls := sim.Stats().Requests
	if calls < trials || calls > trials+concurrency {
		t.Fatalf("the API was asked %d times for %d trials (concurrency %d)", calls, trials, concurrency)
	}
	m, err := journal.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.StopReason != journal.StopCompleted {
		t.Fatalf("run.json stop reason %q after resume", m.StopReason)
	}
}

// countLines counts complete lines in a file (0 if it does not exist).
func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}
