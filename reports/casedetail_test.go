package reports

import (
	"fmt"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// A cell lists at most MaxCaseDetail cases, failing ones first, and counts
// the rest; the statistics still cover every case.
func TestCaseDetailBounded(t *testing.T) {
	var recs []*journal.Record
	for i := range 50 {
		pass := i%5 != 0 // 10 failing cases
		recs = append(recs, &journal.Record{CaseID: fmt.Sprintf("c%02d", i), TrialKey: fmt.Sprint(i), Results: 1, Text: "x", Pass: pass})
	}
	path := writeJournal(t, recs)
	sum, err := Aggregate(path, Options{MaxCaseDetail: 12})
	if err != nil {
		t.Fatal(err)
	}
	c := sum.Cells[0]
	if c.Cases != 50 || c.CasesPassed != 40 || len(c.PerCase) != 12 || c.PerCaseOmitted != 38 {
		t.Fatalf("cases %d passed %d listed %d omitted %d", c.Cases, c.CasesPassed, len(c.PerCase), c.PerCaseOmitted)
	}
	failing := 0
	for _, cs := range c.PerCase {
		if !cs.Pass {
			failing++
		}
	}
	if failing != 10 {
		t.Errorf("%d failing cases listed, want all 10 before passing ones", failing)
	}
	small, _ := Aggregate(path, Options{MaxCaseDetail: 4})
	// More failing cases than the bound: the listed ones are those whose
	// failing samples were kept, so each shows its failure.
	for _, cs := range small.Cells[0].PerCase {
		if cs.Pass || len(cs.Failures) == 0 {
			t.Errorf("listed case %s: pass %v, %d failures; want failing cases with their failures", cs.ID, cs.Pass, len(cs.Failures))
		}
	}
	var b strings.Builder
	Markdown(small)(&b)
	if !strings.Contains(b.String(), "6 more failing cases of (no grid) are not listed") {
		t.Errorf("markdown does not say failing cases were left out:\n%s", b.String())
	}
	all, _ := Aggregate(path, Options{MaxCaseDetail: -1})
	if len(all.Cells[0].PerCase) != 50 || all.Cells[0].PerCaseOmitted != 0 {
		t.Errorf("no bound: listed %d", len(all.Cells[0].PerCase))
	}
	if all.Cells[0].PassRate != c.PassRate {
		t.Errorf("the bound changed the pass rate: %v vs %v", all.Cells[0].PassRate, c.PassRate)
	}
}
