package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func rec(caseID string, idx int) *Record {
	cost := 0.25
	return &Record{
		V: Version, RunID: "r1", Suite: "s", CaseID: caseID, Cell: "settings.thinkingLevel=low",
		ResultIndex: idx, TrialKey: "k-" + caseID, Text: "Paris\nis \"quoted\"",
		Usage: &Usage{Prompt: 10, Completion: 30, Total: 40, Thinking: 12}, Cost: &cost,
		Checks: []CheckOutcome{{Check: `contains "Paris"`, Pass: true}}, Pass: true, Score: 1,
		Timings: Timings{E2E: Ms(1500_000_000), TTFT: Ms(200_000_000)},
	}
}

// Records appended by the writer come back from Read unchanged and in order.
func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []*Record{rec("a", 0), rec("a", 1), rec("b", 0)}
	for _, r := range want {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got []*Record
	st, err := Read(filepath.Join(dir, JournalFile), func(r *Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 3 || st.PartialTail {
		t.Errorf("stats = %+v, want 3 records, no partial tail", st)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// Append writes each line before returning, so a reader sees it even while
// the writer is still open (a crash after Append loses nothing).
func TestAppendIsVisibleBeforeClose(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(rec("a", 0)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 1 {
		t.Fatalf("journal has %d lines before Close, want 1", n)
	}
}

// A line cut short by a crash is ignored by readers, and reopening the journal
// for append removes it so the next record starts on its own line.
func TestPartialTailFromCrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	line, _ := MarshalLine(rec("a", 0))
	if err := os.WriteFile(path, append(line, []byte(`{"v":1,"caseId":"b","te`)...), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	st, err := Read(path, func(*Record) error { n++; return nil })
	if err != nil || n != 1 || !st.PartialTail {
		t.Fatalf("read partial journal: n=%d stats=%+v err=%v; want 1 record and PartialTail", n, st, err)
	}
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(rec("c", 0)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var ids []string
	st, err = Read(path, func(r *Record) error { ids = append(ids, r.CaseID); return nil })
	if err != nil || st.PartialTail {
		t.Fatalf("after reopen: stats=%+v err=%v", st, err)
	}
	if diff := cmp.Diff([]string{"a", "c"}, ids); diff != "" {
		t.Errorf("case ids after reopen (-want +got):\n%s", diff)
	}
}

// A corrupt line in the middle is an error naming the file and line.
func TestCorruptLineIsReportedWithPosition(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	line, _ := MarshalLine(rec("a", 0))
	os.WriteFile(path, append(append(line, "not json\n"...), line...), 0o644)
	_, err := Read(path, func(*Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), JournalFile+":2:") {
		t.Fatalf("err = %v, want it to name %s:2", err, JournalFile)
	}
}

// run.json round-trips and is replaced atomically.
func TestMetaRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := &Meta{RunID: "r1", Suite: "s", StopReason: StopCompleted, Trials: 3, Flags: map[string]string{"rate": "5"}}
	if err := WriteMeta(dir, m); err != nil {
		t.Fatal(err)
	}
	m.StopReason = StopBudget
	if err := WriteMeta(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("run dir holds %d files, want only run.json (no temp files left)", len(entries))
	}
}

// Only an interrupted error leaves a trial open for resume.
func TestRecordTerminal(t *testing.T) {
	r := rec("a", 0)
	r.Error = &Error{Class: "rateLimit", Code: "rateLimitExceeded", Message: "slow down"}
	if r.Terminal() != true {
		t.Error("a rate-limit error after retries is terminal")
	}
	r.Error.Class = "interrupted"
	if r.Terminal() {
		t.Error("an interrupted sample must not be terminal, so resume re-runs it")
	}
}
