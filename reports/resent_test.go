package reports

import (
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// Samples sent again after a crash (Resent) are counted and warned about in
// every format that prints warnings: they may have been billed twice.
func TestResentSamplesWarned(t *testing.T) {
	recs := []*journal.Record{
		{CaseID: "a", TrialKey: "t1", Results: 1, Text: "x", Pass: true},
		{CaseID: "b", TrialKey: "t2", Results: 1, Text: "x", Pass: true, Resent: true},
	}
	sum, err := Aggregate(writeJournal(t, recs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resent != 1 {
		t.Errorf("resent = %d, want 1", sum.Resent)
	}
	if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "possibly billed twice") {
		t.Fatalf("warnings = %q", sum.Warnings)
	}
	for name, r := range map[string]Renderer{"table": Table(sum, true), "md": Markdown(sum)} {
		var b strings.Builder
		if err := r(&b); err != nil {
			t.Fatal(err)
		}
		if out := b.String(); !strings.Contains(out, "possibly billed twice") {
			t.Errorf("%s does not warn:\n%s", name, out)
		}
	}
}
