package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// killSuite has 4 cases x seeds trials of numberResults results each, in one
// delivery method.
func killSuite(delivery string, seeds, results int) string {
	return fmt.Sprintf(`name: kill-resume
model: moonshotai:kimi@k2.6
request:
  deliveryMethod: %s
  includeCost: true
  includeUsage: true
  settings: {maxTokens: 64}
seeds: {count: %d, base: 1}
numberResults: %d
cases:
  - {id: a, prompt: "question a", checks: [{contains: Simulated}]}
  - {id: b, prompt: "question b", checks: [{contains: Simulated}]}
  - {id: c, prompt: "question c", checks: [{contains: Simulated}]}
  - {id: d, prompt: "question d", checks: [{contains: Simulated}]}
`, delivery, seeds, results)
}

// TestKillThenResume builds the binary and, for each delivery method, starts
// a run against an in-test simulator with some latency, SIGKILLs it twice at
// points drawn from a fixed seed, resumes it to the end, and checks that
// every sample is in the journal exactly once; that the simulator accepted
// each async task once (requests in flight were recovered by taskUUID, none
// paid twice); and that sync and stream trials were sent again at most the
// concurrency per kill, each marked resent.
func TestKillThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "promptgrid")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		delivery       string
		seeds, results int
	}{
		{"sync", 40, 2},
		{"stream", 40, 1},
		{"async", 10, 2},
	} {
		t.Run(tc.delivery, func(t *testing.T) {
			killAndResume(t, bin, tc.delivery, tc.seeds, tc.results)
		})
	}
}

func killAndResume(t *testing.T, bin, delivery string, seeds, results int) {
	tmp := t.TempDir()
	suite := filepath.Join(tmp, "suite.yaml")
	if err := os.WriteFile(suite, []byte(killSuite(delivery, seeds, results)), 0o644); err != nil {
		t.Fatal(err)
	}
	const key, concurrency, kills = "kill-test-key-0123456789", 4, 2
	trials := 4 * seeds
	sim := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{key}, TimeScale: 0.02})
	defer sim.Close()
	dir := filepath.Join(tmp, "run")
	command := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "RUNWARE_API_KEY="+key)
		return c
	}
	rnd := rand.New(rand.NewPCG(7, uint64(len(delivery))))
	journalPath := filepath.Join(dir, journal.JournalFile)
	for k := range kills {
		args := []string{"run", "--endpoint", sim.URL(), "--concurrency", fmt.Sprint(concurrency), "--quiet", "--out", dir, suite}
		if k > 0 {
			args = []string{"run", "--resume", dir, "--quiet"}
		}
		c := command(args...)
		var stderr bytes.Buffer
		c.Stderr = &stderr
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill -9 once a random share of what is left has been written.
		before := countLines(journalPath)
		target := before + 1 + rnd.IntN(max(1, (trials*results-before)/3))
		deadline := time.Now().Add(60 * time.Second)
		for countLines(journalPath) < target {
			if time.Now().After(deadline) {
				c.Process.Kill()
				t.Fatalf("kill %d: the run wrote too little in 60s; stderr:\n%s", k+1, stderr.String())
			}
			time.Sleep(2 * time.Millisecond)
		}
		if err := c.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		c.Wait()
		if countLines(journalPath) >= trials*results {
			t.Fatalf("kill %d: the run finished before it was killed; slow the simulator down", k+1)
		}
	}
	final := command("run", "--resume", dir, "--quiet", "--format", "json")
	if out, err := final.CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}

	seen := map[string]int{}
	resent := map[string]bool{}
	for _, r := range readRecords(t, dir) {
		if r.Error != nil {
			t.Fatalf("error line after resume: %+v", r.Error)
		}
		seen[fmt.Sprintf("%s/%d", r.TrialKey, r.ResultIndex)]++
		if r.Resent {
			resent[r.TrialKey] = true
		}
	}
	if len(seen) != trials*results {
		t.Fatalf("%d distinct samples, want %d", len(seen), trials*results)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("sample %s journaled %d times", k, n)
		}
	}
	tasks := int(sim.Stats().Tasks)
	switch delivery {
	case "async":
		if tasks != trials {
			t.Errorf("the simulator accepted %d async tasks for %d trials: some were paid for twice", tasks, trials)
		}
		if len(resent) != 0 {
			t.Errorf("%d async trials marked resent; they are recovered, not sent again", len(resent))
		}
	default:
		if tasks < trials || tasks > trials+kills*concurrency {
			t.Errorf("the simulator accepted %d tasks for %d trials (concurrency %d, %d kills)", tasks, trials, concurrency, kills)
		}
		// A trial can be in flight at both kills (resent twice, marked
		// once), and one killed before its request left is marked but
		// was paid once: so only "some are marked when some were paid
		// twice" and "no more than were in flight" hold.
		if extra := tasks - trials; extra > 0 && len(resent) == 0 || len(resent) > kills*concurrency {
			t.Errorf("%d trials were paid for twice and %d are marked resent", extra, len(resent))
		}
	}
	m, err := journal.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.StopReason != journal.StopCompleted {
		t.Fatalf("run.json stop reason %q after resume", m.StopReason)
	}
	if len(m.Resumes) != kills {
		t.Errorf("run.json records %d resumes, want %d", len(m.Resumes), kills)
	}
}

// countLines counts complete lines in a file (0 if it does not exist).
func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}
