package reports

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// outageRuns returns a base run and a head run whose only change is an
// outage: the head is the base with most samples (3 of 4, drawn with a
// fixed seed) turned into 503 errors, and its answered samples unchanged.
func outageRuns(t *testing.T) (basePath, headPath string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(12, 6))
	base := synthRun(rng, "base", synthCells[:2], caseProbs(rng, 2, 30), 3, []float64{300, 600})
	var head []*journal.Record
	for _, b := range base {
		h := *b
		h.RunID = "head"
		if rng.Float64() < 0.75 {
			h.Pass, h.Timings.E2E, h.Cost = false, nil, nil
			h.Error = &journal.Error{Class: "server", Code: "503", Message: "service unavailable"}
		}
		head = append(head, &h)
	}
	return writeJournal(t, base), writeJournal(t, head)
}

// TestCompareOutageIsNotRegression is issue 12's acceptance test: an outage
// alone is no quality regression, an availability change, and the decision
// passes unless FailOnAvailability is set; counting errors as failures
// (ErrorsAsFailures) turns it into a quality regression.
func TestCompareOutageIsNotRegression(t *testing.T) {
	basePath, headPath := outageRuns(t)
	c, err := Compare(basePath, headPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Regressions != 0 || c.Decision != DecisionPass {
		t.Errorf("regressions %d, decision %q; want 0 and pass", c.Regressions, c.Decision)
	}
	if c.AvailabilityChanges != len(c.Cells) {
		t.Errorf("availability changes %d, want %d (every cell)", c.AvailabilityChanges, len(c.Cells))
	}
	for _, d := range c.Cells {
		if d.Verdict != VerdictNoChange || float64(d.Diff.Value) != 0 {
			t.Errorf("%s: quality verdict %q diff %v; want no change, exactly 0 (answered samples unchanged)", d.Label, d.Verdict, d.Diff)
		}
		a := d.Availability
		if a.Verdict != VerdictWorse || !(a.Diff.Lo > 0.5) || a.BaseErrorRate != 0 || !(a.HeadErrorRate > 0.6) {
			t.Errorf("%s: availability %+v; want worse, error rate from 0 to about 0.75", d.Label, a)
		}
		if a.Pairs != 90 || !(d.Pairs < 40) {
			t.Errorf("%s: %d error-rate pairs, %d quality pairs; want 90 and only the answered ones", d.Label, a.Pairs, d.Pairs)
		}
	}
	c, err = CompareWith(basePath, headPath, 0, Options{FailOnAvailability: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Decision != DecisionFail || c.Regressions != 0 || !c.FailOnAvailability {
		t.Errorf("FailOnAvailability: decision %q regressions %d; want fail on availability alone", c.Decision, c.Regressions)
	}
	c, err = CompareWith(basePath, headPath, 0, Options{ErrorsAsFailures: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Regressions != len(c.Cells) || c.Decision != DecisionFail {
		t.Errorf("ErrorsAsFailures: regressions %d decision %q; want every cell worse and fail", c.Regressions, c.Decision)
	}
}

// TestCompareNoErrorsAvailability: runs without errors have no availability
// change and an error-rate difference of exactly 0.
func TestCompareNoErrorsAvailability(t *testing.T) {
	base, head := flipRecords(12, 2, 0, nil, nil)
	c := compareRecords(base, head, 0)
	a := c.Cells[0].Availability
	if a.Verdict != VerdictNoChange || a.Diff.Value != 0 || a.P != 1 || c.AvailabilityChanges != 0 || c.Decision != DecisionPass {
		t.Errorf("availability %+v, changes %d, decision %q; want no change at p 1 and pass", a, c.AvailabilityChanges, c.Decision)
	}
}

// TestCompareOutageRendered: the table shows the error-rate change and the
// availability verdict beside the quality one, and says what decided.
func TestCompareOutageRendered(t *testing.T) {
	basePath, headPath := outageRuns(t)
	c, err := Compare(basePath, headPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := CompareTable(c, true)(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Δ error rate [95% CI]", "Availability", "Decision: pass (quality regressions set it; availability changes are reported only)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := CompareMarkdown(c)(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "no regression, 2 cell(s) with more errors") {
		t.Errorf("markdown title lacks the availability change:\n%s", b.String())
	}
}

// TestMaxErrorRateGate: a cell whose error rate exceeds MaxErrorRate is
// marked and listed; at or below it, or with no gate (0), it is not.
func TestMaxErrorRateGate(t *testing.T) {
	_, headPath := outageRuns(t)
	for _, tc := range []struct {
		max  float64
		want int
	}{{0, 0}, {0.5, 2}, {0.99, 0}} {
		s, err := Aggregate(headPath, Options{MaxErrorRate: tc.max})
		if err != nil {
			t.Fatal(err)
		}
		fails := s.ErrorRateFailures(tc.max)
		marked := 0
		for _, c := range s.Cells {
			if c.OverMaxErrorRate {
				marked++
			}
		}
		if len(fails) != tc.want || marked != tc.want {
			t.Errorf("max %g: %d failures %q, %d marked; want %d", tc.max, len(fails), fails, marked, tc.want)
		}
		if tc.want > 0 && !strings.Contains(fails[0], "exceeds --max-error-rate 50.0%") {
			t.Errorf("failure line %q does not say what it exceeds", fails[0])
		}
	}
}
