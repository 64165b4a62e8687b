package runner

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// collectAll runs the collector over outs, all waiting in the channel before
// it starts, and returns its result, the journal's tally and its lines.
func collectAll(t *testing.T, outs []outcome) (collectorResult, journal.Tally, []string) {
	t.Helper()
	dir := t.TempDir()
	w, err := journal.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{cfg: Config{Journal: w}, prog: &Progress{}}
	results := make(chan outcome, len(outs))
	for _, o := range outs {
		results <- o
	}
	close(results)
	c := r.collect(results)
	tally := w.Tally()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, journal.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return c, tally, lines
}

// trialOutcome is a landed trial of n samples of text.
func trialOutcome(key string, n int, text string) outcome {
	o := outcome{written: make(chan struct{})}
	for i := range n {
		o.recs = append(o.recs, &journal.Record{TrialKey: key, CaseID: key, ResultIndex: i, Text: text})
	}
	return o
}

// The collector writes the trials that are waiting when it wakes in one
// write call (group commit), at most maxBatch of them, each trial's lines
// consecutive, and tells every trial its records are written.
func TestCollectorGroupsWaitingTrials(t *testing.T) {
	var outs []outcome
	for i := range 2*maxBatch + 3 {
		outs = append(outs, trialOutcome(string(rune('a'+i%26))+strings.Repeat("x", i/26), 2, "answer"))
	}
	outs = append(outs, outcome{warmup: true, recs: []*journal.Record{{TrialKey: "warm"}}, written: make(chan struct{})})
	c, tally, lines := collectAll(t, outs)
	if c.err != nil || c.trials != 2*maxBatch+3 || c.samples != 2*(2*maxBatch+3) {
		t.Fatalf("collector: %+v", c)
	}
	if want := 3; tally.Writes != want {
		t.Errorf("%d trials waiting took %d writes, want %d (batches of %d)", len(outs), tally.Writes, want, maxBatch)
	}
	if len(lines) != c.samples {
		t.Fatalf("%d journal lines, want %d", len(lines), c.samples)
	}
	for i := 0; i < len(lines); i += 2 {
		key := `"trialKey":"` + outs[i/2].recs[0].TrialKey + `"`
		a, b := lines[i], lines[i+1]
		if !strings.Contains(a, key) || !strings.Contains(a, `"resultIndex":0`) || !strings.Contains(b, key) || !strings.Contains(b, `"resultIndex":1`) {
			t.Fatalf("lines %d-%d are not trial %d's two samples in order:\n%s\n%s", i, i+1, i/2, a, b)
		}
	}
	for i, o := range outs {
		select {
		case <-o.written:
		default:
			t.Fatalf("outcome %d was never told it was written", i)
		}
	}
}

// A batch stops growing once its answers add up to maxBatchText, so one
// write buffer never holds more than about that much text.
func TestCollectorBoundsBatchText(t *testing.T) {
	big := strings.Repeat("y", maxBatchText/2)
	outs := []outcome{trialOutcome("a", 1, big), trialOutcome("b", 1, big), trialOutcome("c", 1, big)}
	_, tally, lines := collectAll(t, outs)
	if tally.Writes != 2 || len(lines) != 3 {
		t.Fatalf("3 trials of %d bytes: %d writes, %d lines; want 2 writes (the text bound), 3 lines", len(big), tally.Writes, len(lines))
	}
}
