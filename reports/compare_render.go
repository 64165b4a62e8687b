package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

var compareHeader = []string{"Cell", "Cases", "Base", "Head", "Δ pass rate [95% CI]", "p (Holm)", "test", "MDE",
	"E2E ratio [95% CI]", "Cost Δ", "Verdict"}

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

func fmtSignedUSD(v Num) string {
	if !v.Defined() {
		return "–"
	}
	if v < 0 {
		return "-" + fmtUSD(-v)
	}
	return "+" + fmtUSD(v)
}

func compareRow(d *CellDiff) []string {
	return []string{d.Label, strconv.Itoa(d.Cases), fmtPct(d.BaseRate), fmtPct(d.HeadRate), fmtDiff(d.Diff),
		fmtP(d.PHolm), d.Test, fmtMDE(d.MDE), fmtRatio(d.Latency), fmtSignedUSD(d.CostDiff), d.Verdict}
}

func compareNote(c *Comparison) string {
	below := "zero"
	if c.Margin > 0 {
		below = fmt.Sprintf("-%.1f pts", 100*c.Margin)
	}
	s := fmt.Sprintf("Head %s vs base %s. Paired by case, cell, seed and result index; worse = the whole 95%% interval lies below %s and Holm-adjusted p < %.2f.",
		c.Head.RunID, c.Base.RunID, below, Alpha)
	if c.BaseOnly > 0 || c.HeadOnly > 0 {
		s += fmt.Sprintf(" Unpaired samples left out: %d only in base, %d only in head.", c.BaseOnly, c.HeadOnly)
	}
	return s
}

// CompareTable renders a comparison as a terminal table (ASCII borders when
// ascii is set) followed by a one-line note.
func CompareTable(c *Comparison, ascii bool) Renderer {
	return func(w io.Writer) error {
		style := tw.StyleLight
		if ascii {
			style = tw.StyleASCII
		}
		t := tablewriter.NewTable(w,
			tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(style)})),
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAlignment(tw.AlignLeft),
			tablewriter.WithRowAlignment(tw.AlignLeft),
		)
		t.Header(compareHeader)
		for _, d := range c.Cells {
			if err := t.Append(compareRow(d)); err != nil {
				return fmt.Errorf("render comparison: %w", err)
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("render comparison: %w", err)
		}
		_, err := fmt.Fprintln(w, compareNote(c))
		return err
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
		fmt.Fprintf(bw, "### promptgrid compare: %s\n\n", verdict)
		mdRow(bw, compareHeader)
		mdRawRow(bw, []string{"---", "--:", "--:", "--:", "---", "--:", "---", "--:", "---", "--:", "---"})
		for _, d := range c.Cells {
			mdRow(bw, compareRow(d))
		}
		fmt.Fprintf(bw, "\n%s\n", MarkdownCell(compareNote(c)))
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
