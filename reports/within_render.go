package reports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// withinTitle is the line above the within-run table.
func withinTitle(wr *WithinRun) string {
	others := fmt.Sprintf("the %d other cells", len(wr.Cells)-1)
	if len(wr.Cells) == 2 {
		others = "the other cell"
	}
	s := fmt.Sprintf("Choosing a cell: each cell against %s (%s), paired by case and seed, Holm across %s, margin %s",
		wr.Reference, wr.ReferenceBy, others, points(wr.Margin))
	if wr.FailUnder > 0 {
		s += ", fail-under " + pct0(wr.FailUnder)
	}
	if wr.ReferenceNotFound != "" {
		s += fmt.Sprintf("; no cell matches reference %q", wr.ReferenceNotFound)
	}
	return s + "."
}

// withinHeader and withinRow are the within-run table of every format.
func withinHeader() []string {
	return []string{"Cell", "Pass rate [95% CI]", "Diff vs reference [95% CI]", "p (Holm)", "MDE", "Cost / sample",
		"Cost ratio", "E2E p50 ratio", "Verdict", "Pareto front"}
}

func withinRow(wc *WithinCell) []string {
	diff, p, mde := "–", "–", "–"
	if !wc.Reference {
		diff, p = fmtDiff(wc.Diff), fmtP(wc.PHolm)
		mde = nTooSmall
		if !wc.TooFewCases {
			mde = fmtPoints(wc.MDE)
		}
	}
	front := "no"
	if wc.Front {
		front = "yes"
	}
	return []string{wc.Label, fmtRate(wc.PassRate), diff, p, mde, shortUSD(wc.CostPerSample),
		fmtTimes(wc.CostRatio), fmtTimes(wc.LatencyRatio), wc.Verdict, front}
}

// writeWithinTable writes the terminal section: a blank line, the title,
// the table and the recommendation as the last line.
func writeWithinTable(w io.Writer, wr *WithinRun, ascii bool) error {
	if _, err := fmt.Fprintf(w, "\n%s\n", withinTitle(wr)); err != nil {
		return err
	}
	t := NewTable(w, ascii)
	t.Header(withinHeader())
	for _, wc := range wr.Cells {
		if err := t.Append(withinRow(wc)); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	_, err := fmt.Fprintln(w, wr.Recommendation)
	return err
}

// writeWithinMarkdown writes the Markdown section.
func writeWithinMarkdown(bw *bufio.Writer, wr *WithinRun) {
	fmt.Fprintf(bw, "\n#### Choosing a cell\n\n%s\n\n", MarkdownCell(withinTitle(wr)))
	mdRow(bw, withinHeader())
	mdRawRow(bw, mdSeps(len(withinHeader())))
	for _, wc := range wr.Cells {
		mdRow(bw, withinRow(wc))
	}
	fmt.Fprintf(bw, "\n**%s**\n", MarkdownCell(wr.Recommendation))
}

// withinCSVHeader are the columns of cells.csv that compare each cell with
// the reference; withinCSVRow fills them for one row (empty when the run
// has one cell, and for the total row except recommendation).
func withinCSVHeader() []string {
	return []string{"ref_cell", "is_reference", "diff_vs_ref", "diff_vs_ref_lo", "diff_vs_ref_hi", "p_holm_vs_ref",
		"mde_vs_ref", "verdict_vs_ref", "cost_ratio_vs_ref", "e2e_p50_ratio_vs_ref", "pareto_front", "recommended",
		"recommendation"}
}

func withinCSVRow(wr *WithinRun, label string, total bool) []string {
	row := make([]string, len(withinCSVHeader()))
	if wr == nil {
		return row
	}
	if total {
		row[len(row)-1] = wr.Recommendation
		return row
	}
	for _, wc := range wr.Cells {
		if wc.Label != label {
			continue
		}
		return []string{wr.Reference, strconv.FormatBool(wc.Reference), csvNum(wc.Diff.Value), csvNum(wc.Diff.Lo),
			csvNum(wc.Diff.Hi), csvNum(wc.PHolm), csvNum(wc.MDE), wc.Verdict, csvNum(wc.CostRatio),
			csvNum(wc.LatencyRatio), strconv.FormatBool(wc.Front), strconv.FormatBool(wr.Recommended == wc.Label), ""}
	}
	return row
}

// withinProperties are a cell's JUnit testsuite properties: its verdict
// against the reference, whether it is on the Pareto front, and the
// recommendation.
func withinProperties(wr *WithinRun, label string) []junitProperty {
	if wr == nil {
		return nil
	}
	var ps []junitProperty
	for _, wc := range wr.Cells {
		if wc.Label == label {
			ps = append(ps, junitProperty{Name: "withinRun.verdict", Value: xmlSafe(wc.Verdict)},
				junitProperty{Name: "withinRun.paretoFront", Value: strconv.FormatBool(wc.Front)})
		}
	}
	return append(ps, junitProperty{Name: "recommendation", Value: xmlSafe(wr.Recommendation)})
}

// htmlWithin is the HTML section "Choosing a cell".
type htmlWithin struct {
	Title, Recommendation string
	Header                []string
	Rows                  [][]string
}

func newHTMLWithin(wr *WithinRun) *htmlWithin {
	if wr == nil {
		return nil
	}
	h := &htmlWithin{Title: withinTitle(wr), Recommendation: wr.Recommendation, Header: withinHeader()}
	for _, wc := range wr.Cells {
		h.Rows = append(h.Rows, withinRow(wc))
	}
	return h
}
