package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/promptgrid/promptgrid/journal"
)

// closedPort returns the URL of a 127.0.0.1 port that was listening a moment
// ago and no longer is: every connection to it is refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}

// noAnswerSuite writes a suite of three sync trials into dir.
func noAnswerSuite(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "suite.yaml")
	src := `name: unreachable
model: moonshotai:kimi@k2.6
request:
  deliveryMethod: sync
seeds: {count: 3, base: 1}
cases:
  - id: hello
    prompt: Say hello.
    checks:
      - contains: hello
`
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunNoAnswerExits4: a run against an endpoint where every connection is
// refused goes through its trials, then exits 4 (not 0 "completed") saying
// which error classes occurred, counted from the samples it journaled, and
// records the stop reason in run.json. synctest's fake clock lets the
// retries' backoff pass at once.
func TestRunNoAnswerExits4(t *testing.T) {
	tmp := t.TempDir()
	suite := noAnswerSuite(t, tmp)
	ep := closedPort(t)
	dir := filepath.Join(tmp, "run")
	var e string
	var code int
	synctest.Test(t, func(t *testing.T) {
		_, e, code = runCLI(t, map[string]string{"RUNWARE_API_KEY": "k-0123456789abcdef"}, "run", "--quiet", "--endpoint", ep, "--out", dir, suite)
	})
	if code != exitAPI {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitAPI, e)
	}
	// 3 trials of 6 attempts pass the 16 first attempts after which an
	// endpoint that refused them all stops the run.
	if !strings.Contains(e, "the first 16 requests all failed with network errors") || !strings.Contains(e, ep) {
		t.Fatalf("stderr does not say which error classes occurred and where:\n%s", e)
	}
	if strings.Contains(e, "completed") {
		t.Fatalf("stderr calls a run without one answer completed:\n%s", e)
	}
	m, err := journal.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.StopReason != journal.StopNoAnswer || !strings.Contains(m.StopDetail, "network errors") {
		t.Fatalf("run.json stop reason %q (%q), want %q", m.StopReason, m.StopDetail, journal.StopNoAnswer)
	}
	if recs := readRecords(t, dir); len(recs) != 3 {
		t.Fatalf("journal has %d samples, want 3 (one failed sample per trial)", len(recs))
	}
}

// TestStopErrorOfAnUnavailableAPI: a run the runner stopped as unavailable
// (an outage: runner.TestRefusingEverythingEnds) exits 4, not 0 with a
// report of failed samples, and says what to do once the API is back.
func TestStopErrorOfAnUnavailableAPI(t *testing.T) {
	meta := &journal.Meta{RunID: "r", StopReason: journal.StopUnavailable,
		StopDetail: "the last 32 trials all failed after their retries (32 rateLimit)"}
	err := stopError(meta, meta.StopDetail, "https://api.runware.ai/v1", "runs/r")
	if err == nil {
		t.Fatal("no error for a run stopped as unavailable")
	}
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitAPI {
		t.Errorf("error %v: want exit %d", err, exitAPI)
	}
	for _, want := range []string{"32 rateLimit", "down or out of quota", "--resume runs/r --retry-errors"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := stopError(&journal.Meta{StopReason: journal.StopCompleted}, "", "", "d"); err != nil {
		t.Errorf("a completed run stops with %v", err)
	}
}
