package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// TestResumeRestoresEndpointAndFlags: a run on --endpoint X (a local
// simulator) stopped by its budget and resumed with only a higher
// --max-cost sends every task to X (the simulator's counters), finishes
// every sample without error, and records the change in run.json; a
// resume that changes a flag shaping the run is refused naming both values.
func TestResumeRestoresEndpointAndFlags(t *testing.T) {
	sim := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{"k-0123456789abcdef"}})
	defer sim.Close()
	env := map[string]string{"RUNWARE_API_KEY": "k-0123456789abcdef"}
	dir := filepath.Join(t.TempDir(), "run")
	_, e, code := runCLI(t, env, "run", "--quiet", "--endpoint", sim.URL(), "--max-cost", "0.01", "--format", "json", "--out", dir, quickstart)
	if code != exitBudget {
		t.Fatalf("first run: exit %d, want %d: %s", code, exitBudget, e)
	}
	if _, e, code := runCLI(t, env, "run", "--quiet", "--filter", "nothing-like-this", "--resume", dir); code != exitInput ||
		!strings.Contains(e, "--filter nothing-like-this") || !strings.Contains(e, "not set") {
		t.Fatalf("resume with another --filter: exit %d, stderr %q; want exit 2 naming the flag and both values", code, e)
	}
	if _, e, code := runCLI(t, env, "run", "--quiet", "--max-cost", "0.005", "--resume", dir); code != exitInput || !strings.Contains(e, "can only rise") {
		t.Fatalf("resume with a lower --max-cost: exit %d, stderr %q", code, e)
	}
	if _, e, code := runCLI(t, env, "run", "--quiet", "--max-cost", "100", "--format", "json", "--resume", dir); code != exitOK {
		t.Fatalf("resume: exit %d: %s", code, e)
	}
	recs := readRecords(t, dir)
	want := expectedSamples(t, quickstart)
	if len(recs) != want {
		t.Fatalf("journal has %d samples, want %d", len(recs), want)
	}
	for _, r := range recs {
		if r.Error != nil {
			t.Fatalf("sample failed (sent elsewhere than --endpoint?): %+v", r.Error)
		}
	}
	if st := sim.Stats(); st.Results != int64(want) {
		t.Fatalf("simulator at --endpoint generated %d results, want all %d", st.Results, want)
	}
	m, err := journal.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Endpoint != sim.URL() || m.Flags["endpoint"] != sim.URL() || m.Flags["max-cost"] != "100" {
		t.Fatalf("run.json endpoint %q, flags %v", m.Endpoint, m.Flags)
	}
	if len(m.Resumes) != 1 || m.Resumes[0].Changed["max-cost"] != "100" {
		t.Fatalf("run.json resumes = %+v, want one recording --max-cost 100", m.Resumes)
	}
}

// TestRunRefusesUnreachableEndpointScheme: an --endpoint with a mistyped
// scheme is bad input (exit 2) before any request, and no run directory
// holds a journal.
func TestRunRefusesUnreachableEndpointScheme(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	env := map[string]string{"RUNWARE_API_KEY": "k-0123456789abcdef"}
	for _, ep := range []string{"htp://127.0.0.1:1/v1", "127.0.0.1:1", "https:///v1"} {
		_, e, code := runCLI(t, env, "run", "--quiet", "--endpoint", ep, "--out", dir, quickstart)
		if code != exitInput || !strings.Contains(e, "--endpoint") || !strings.Contains(e, "http://") {
			t.Errorf("--endpoint %s: exit %d, stderr %q; want exit 2 saying what an endpoint looks like", ep, code, e)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, journal.JournalFile)); err == nil {
		t.Error("a journal was created for a run that could send nothing")
	}
}

// An --endpoint carrying credentials (userinfo, query values) is never
// written to the run directory: run.json keeps it redacted, and a resume
// without --endpoint is refused rather than sent to the redacted URL; given
// again, the endpoint is used and the run completes.
func TestEndpointCredentialsNotStored(t *testing.T) {
	sim := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{"k-0123456789abcdef"}})
	defer sim.Close()
	env := map[string]string{"RUNWARE_API_KEY": "k-0123456789abcdef"}
	u := strings.Replace(sim.URL(), "http://", "http://proxyuser:pw-Secret-4711@", 1) + "?token=tok-Secret-0815"
	dir := filepath.Join(t.TempDir(), "run")
	if _, e, code := runCLI(t, env, "run", "--quiet", "--endpoint", u, "--max-cost", "0.01", "--format", "json", "--out", dir, quickstart); code != exitBudget {
		t.Fatalf("first run: exit %d, want %d: %s", code, exitBudget, e)
	}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("pw-Secret-4711")) || bytes.Contains(b, []byte("tok-Secret-0815")) {
				t.Errorf("%s holds the endpoint's credentials", p)
			}
		}
		return nil
	})
	m, err := journal.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Endpoint, "redacted@127.0.0.1") || !strings.Contains(m.Flags["endpoint"], "token=redacted") {
		t.Errorf("run.json endpoint %q, flag %q: want them redacted", m.Endpoint, m.Flags["endpoint"])
	}
	if _, e, code := runCLI(t, env, "run", "--quiet", "--max-cost", "100", "--resume", dir); code != exitInput || !strings.Contains(e, "carried credentials") {
		t.Fatalf("resume without --endpoint: exit %d, stderr %q; want exit 2 asking for it", code, e)
	}
	if _, e, code := runCLI(t, env, "run", "--quiet", "--max-cost", "100", "--endpoint", u, "--format", "json", "--resume", dir); code != exitOK {
		t.Fatalf("resume with --endpoint: exit %d: %s", code, e)
	}
}
