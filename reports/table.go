package reports

import (
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// tableHeader returns the columns shared by the terminal table and the
// Markdown summary.
func tableHeader(s *Summary) []string {
	h := []string{"Cell", "Cases", "Samples", "Pass rate [95% CI]"}
	for _, k := range s.Ks {
		if k > 1 {
			h = append(h, fmt.Sprintf("pass@%d", k), fmt.Sprintf("pass^%d", k))
		}
	}
	h = append(h, "E2E p50", "E2E p95", "TTFT p50", "Thinking tok (mean)", "Length / empty")
	if hasSteps(s) {
		h = append(h, "Steps mean / max")
	}
	h = append(h, "Cost", "Errors")
	if hasJudge(s) {
		h = append(h, "Judge")
	}
	return h
}

// hasJudge reports whether any judge check ran in the run.
func hasJudge(s *Summary) bool {
	return s.Total != nil && s.Total.Judge.Calls+s.Total.Judge.Cached > 0
}

// tableRow returns one cell's row; a fresh slice every call, because
// tablewriter keeps the slice it is given.
func tableRow(s *Summary, c *Cell) []string {
	row := []string{c.Label, strconv.Itoa(c.Cases), strconv.Itoa(c.Samples), fmtRate(c.PassRate)}
	for i, k := range s.Ks {
		if k > 1 && i < len(c.PassAtK) {
			at, hat := fmtK(c.PassAtK[i])
			row = append(row, at, hat)
		}
	}
	row = append(row,
		fmtQuantile(c.E2E, 0.5), fmtQuantile(c.E2E, 0.95)+fmtCensoredCount(c.E2E), fmtQuantile(c.TTFT, 0.5),
		fmtMean(c.ThinkingTokens.Mean), fmtTruncation(c.Truncation))
	if hasSteps(s) {
		row = append(row, fmtSteps(c.Steps))
	}
	row = append(row, fmtCost(c.Cost), fmtErrors(c.Errors))
	if hasJudge(s) {
		row = append(row, fmt.Sprintf("%s (%d paid, %d cached)", fmtUSD(c.Judge.Cost), c.Judge.Calls, c.Judge.Cached))
	}
	return row
}

// NewTable returns the project's terminal table: left-aligned, unwrapped
// cells, headers as written, box-drawing borders or, with ascii, plain ASCII
// ones (for logs and pipes).
func NewTable(w io.Writer, ascii bool) *tablewriter.Table {
	style := tw.StyleLight
	if ascii {
		style = tw.StyleASCII
	}
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(style)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithFooterAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithFooterAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft}),
	)
}

// Table renders the per-cell summary as a terminal table, with a footer
// row over all cells. ascii selects plain ASCII borders (for logs and pipes)
// instead of box-drawing characters.
func Table(s *Summary, ascii bool) Renderer {
	return func(w io.Writer) error {
		t := NewTable(w, ascii)
		t.Header(tableHeader(s))
		for _, c := range s.Cells {
			if err := t.Append(tableRow(s, c)); err != nil {
				return fmt.Errorf("render table: %w", err)
			}
		}
		if s.Total != nil && len(s.Cells) > 1 {
			t.Footer(tableRow(s, s.Total))
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
		for _, l := range s.Warnings {
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
		if s.Within != nil {
			return writeWithinTable(w, s.Within, ascii)
		}
		return nil
	}
}
