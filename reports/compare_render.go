package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

var compareHeader = []string{"Cell", "Cases", "Base", "Head", "Δ pass rate [95% CI]", "p (Holm)", "test", "MDE",
	"E2E ratio [95% CI]", "Cost Δ", "Verdict", "Δ error rate [95% CI]", "Availability"}

// fmtPoints formats a difference of rates in percentage points.
func fmtPoints(v Num) string {
	if !v.Defined() {
		return "–"
	}
	return fmt.Sprintf("%+.1f pts", 100*float64(v))
}

// fmtMDE formats a minimum detectable effect (a size, unsigned).
func fmtMDE(v Num) string {
	if !v.Defined() {
		return "–"
	}
	return fmt.Sprintf("%.1f pts", 100*float64(v))
}

func fmtDiff(iv Interval) string {
	if !iv.Lo.Defined() {
		return fmtPoints(iv.Value)
	}
	return fmt.Sprintf("%s [%+.1f, %+.1f]", fmtPoints(iv.Value), 100*float64(iv.Lo), 100*float64(iv.Hi))
}

func fmtRatio(iv Interval) string {
	if !iv.Value.Defined() {
		return "–"
	}
	if !iv.Lo.Defined() {
		return fmt.Sprintf("×%.2f", float64(iv.Value))
	}
	return fmt.Sprintf("×%.2f [%.2f, %.2f]", float64(iv.Value), float64(iv.Lo), float64(iv.Hi))
}

func fmtP(p Num) string {
	if !p.Defined() {
		return "–"
	}
	if p < 0.001 {
		return "<0.001"
	}
	return strconv.FormatFloat(float64(p), 'f', 3, 64)
}

// fmtCostDiff formats a cost difference; undefined means no paired sample
// had a known cost in both runs, which is "unknown", as in report.
func fmtCostDiff(v Num) string {
	if !v.Defined() {
		return "unknown"
	}
	if v < 0 {
		return "-" + fmtUSD(-v)
	}
	return "+" + fmtUSD(v)
}

// fmtCellMDE says why a cell has no minimum detectable effect (too few
// cases for the test to reach significance), and marks one based on the
// design's largest spread because the observed spread is zero.
func fmtCellMDE(d *CellDiff) string {
	switch {
	case d.TooFewCases:
		return nTooSmall
	case d.ZeroSpread:
		return fmtMDE(d.MDE) + " (design)"
	}
	return fmtMDE(d.MDE)
}

// fmtCellDiff marks an interval that is the exact bound for equal
// differences (†) rather than a t interval.
func fmtCellDiff(d *CellDiff) string {
	s := fmtDiff(d.Diff)
	if d.ZeroSpread && d.Diff.Lo.Defined() {
		s += " †"
	}
	return s
}

// costKindLabel is how a compared cost is labelled: "est." for estimated,
// "part est." for mixed, "" for reported.
func costKindLabel(k string) string {
	switch k {
	case CostEstimated:
		return "est."
	case CostMixed:
		return "part est."
	}
	return "reported"
}

// fmtCellCost formats a cell's cost difference, labelled when either side
// is not (only) reported: "+$0.001000 (base reported, head est.)".
func fmtCellCost(d *CellDiff) string {
	s := fmtCostDiff(d.CostDiff)
	if !d.CostDiff.Defined() || (d.BaseCostKind == CostReported && d.HeadCostKind == CostReported) {
		return s
	}
	if d.BaseCostKind == d.HeadCostKind {
		return s + " (" + costKindLabel(d.BaseCostKind) + ")"
	}
	return s + " (base " + costKindLabel(d.BaseCostKind) + ", head " + costKindLabel(d.HeadCostKind) + ")"
}

func compareRow(d *CellDiff) []string {
	return []string{d.Label, strconv.Itoa(d.Cases), fmtPct(d.BaseRate), fmtPct(d.HeadRate), fmtCellDiff(d),
		fmtP(d.PHolm), d.Test, fmtCellMDE(d), fmtRatio(d.Latency), fmtCellCost(d), d.Verdict,
		fmtDiff(d.Availability.Diff), d.Availability.Verdict}
}

// casesNeeded is the smallest number of cases whose MinAttainableP is below
// Alpha.
func casesNeeded() int {
	m := 1
	for !(MinAttainableP(m) < Alpha) {
		m++
	}
	return m
}

// compareNotes are the lines under a comparison: how it was made, then one
// line per cell whose figures need a caveat (too few cases for any verdict,
// equal differences with an exact-bound interval).
func compareNotes(c *Comparison) []string {
	notes := []string{compareNote(c)}
	for _, d := range c.Cells {
		if d.TooFewCases {
			cases := "cases"
			if d.Cases == 1 {
				cases = "case"
			}
			notes = append(notes, fmt.Sprintf("%s: with %d paired %s the smallest p-value the test can give is %s, not below %.2f, so no change can be detected whatever the results; %d or more cases are needed (more with several cells, after Holm).",
				d.Label, d.Cases, cases, strconv.FormatFloat(float64(d.MinP), 'g', 3, 64), Alpha, casesNeeded()))
		}
		if d.CostDiff.Defined() && d.BaseCostKind != d.HeadCostKind {
			notes = append(notes, fmt.Sprintf("%s: the cost difference compares %s cost in base with %s cost in head (estimated = from the price table, not billed), so part of it may be the estimate, not a change in price.",
				d.Label, d.BaseCostKind, d.HeadCostKind))
		}
		if d.ZeroSpread && d.Diff.Lo.Defined() {
			notes = append(notes, fmt.Sprintf("%s: † every case changed by the same %s, so a t interval would have zero width; the interval is the exact 95%% bound for %d equal differences, not a certainty.",
				d.Label, fmtPoints(d.Diff.Value), d.Cases))
		}
	}
	return notes
}

func compareNote(c *Comparison) string {
	below := "zero"
	if c.Margin > 0 {
		below = fmt.Sprintf("-%.1f pts", 100*c.Margin)
	}
	var s string
	if c.Pairing == PairingCase {
		s = fmt.Sprintf("Head %s vs base %s. Pairing: by case (no sample pairs: the runs' seeds differ); per cell, the mean over cases of head minus base pass rate, t interval over cases, sign-flip test; worse = the whole 95%% interval lies below %s and Holm-adjusted p < %.2f.",
			c.Head.RunID, c.Base.RunID, below, Alpha)
	} else {
		s = fmt.Sprintf("Head %s vs base %s. Pairing: by sample (case, cell, seed and result index); worse = the whole 95%% interval lies below %s and Holm-adjusted p < %.2f.",
			c.Head.RunID, c.Base.RunID, below, Alpha)
	}
	s += " E2E ratio: per case, head over base geometric mean of answered requests' latency; interval over cases."
	s += " Pass rates are over samples answered in both runs; the error rate (no answer: error or timeout) is compared apart, on every pair, worse = its interval lies above zero and Holm p < 0.05."
	if c.FailOnAvailability {
		s += " Decision: " + c.Decision + " (quality regressions and availability changes set it)."
	} else {
		s += " Decision: " + c.Decision + " (quality regressions set it; availability changes are reported only)."
	}
	if c.BaseOnly > 0 || c.HeadOnly > 0 {
		s += fmt.Sprintf(" Unpaired samples left out: %d only in base, %d only in head.", c.BaseOnly, c.HeadOnly)
	}
	return s
}

// CompareTable renders a comparison as a terminal table (ASCII borders when
// ascii is set) followed by notes: how the runs were paired, then caveats
// per cell.
func CompareTable(c *Comparison, ascii bool) Renderer {
	return func(w io.Writer) error {
		t := NewTable(w, ascii)
		t.Header(compareHeader)
		for _, d := range c.Cells {
			if err := t.Append(compareRow(d)); err != nil {
				return fmt.Errorf("render comparison: %w", err)
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("render comparison: %w", err)
		}
		for _, n := range compareNotes(c) {
			if _, err := fmt.Fprintln(w, n); err != nil {
				return err
			}
		}
		return nil
	}
}

// CompareMarkdown renders a comparison as a GitHub-flavoured Markdown table.
func CompareMarkdown(c *Comparison) Renderer {
	return func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		verdict := "no regression"
		if c.Regressions > 0 {
			verdict = fmt.Sprintf("**%d regressed cell(s)**", c.Regressions)
		}
		if c.AvailabilityChanges > 0 {
			verdict += fmt.Sprintf(", %d cell(s) with more errors", c.AvailabilityChanges)
		}
		fmt.Fprintf(bw, "### promptgrid compare: %s\n\n", verdict)
		mdRow(bw, compareHeader)
		mdRawRow(bw, []string{"---", "--:", "--:", "--:", "---", "--:", "---", "--:", "---", "--:", "---", "---", "---"})
		for _, d := range c.Cells {
			mdRow(bw, compareRow(d))
		}
		for _, n := range compareNotes(c) {
			fmt.Fprintf(bw, "\n%s\n", MarkdownCell(n))
		}
		return bw.Flush()
	}
}

// CompareJSON renders a comparison as indented JSON (schema
// promptgrid.compare/v1, docs/report-schema.md).
func CompareJSON(c *Comparison) Renderer {
	return func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("encode comparison: %w", err)
		}
		return nil
	}
}
