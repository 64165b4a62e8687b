package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// attemptLines returns the kinds and task UUIDs of the attempt log's lines.
func attemptLines(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, AttemptsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		kind := "settled"
		if strings.Contains(line, `"kind":"sent"`) {
			kind = "sent"
		}
		i := strings.Index(line, `"taskUUID":"`) + len(`"taskUUID":"`)
		out = append(out, kind+" "+line[i:i+strings.IndexByte(line[i:], '"')])
	}
	return out
}

// A settled line is held until the next sent line's write, which writes it
// first, in one write call: a request's sent line is in the file before it
// leaves, its settled line follows.
func TestSettledLinesGoWithTheNextSent(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenAttempts(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Sent(Attempt{TrialKey: "a", TaskUUID: "u1", Bound: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Settled(Attempt{TrialKey: "a", TaskUUID: "u1", Charged: 0.5}); err != nil {
		t.Fatal(err)
	}
	if got := attemptLines(t, dir); strings.Join(got, ",") != "sent u1" {
		t.Fatalf("after Settled: %v, want the settled line held", got)
	}
	if err := l.Sent(Attempt{TrialKey: "b", TaskUUID: "u2", Bound: 1}); err != nil {
		t.Fatal(err)
	}
	if got := attemptLines(t, dir); strings.Join(got, ",") != "sent u1,settled u1,sent u2" {
		t.Fatalf("after the next Sent: %v", got)
	}
}

// Without another sent line, held settled lines reach the file within
// SyncEvery, and on Close.
func TestSettledLinesWithinSyncEveryAndOnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		l, err := OpenAttempts(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Settled(Attempt{TrialKey: "a", TaskUUID: "u1"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(SyncEvery + time.Millisecond)
		synctest.Wait()
		if got := attemptLines(t, dir); strings.Join(got, ",") != "settled u1" {
			t.Fatalf("%v after SyncEvery, want the settled line written", got)
		}
		if err := l.Settled(Attempt{TrialKey: "b", TaskUUID: "u2"}); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if got := attemptLines(t, dir); strings.Join(got, ",") != "settled u1,settled u2" {
			t.Fatalf("%v after Close", got)
		}
	})
}
