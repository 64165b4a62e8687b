package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/promptgrid/promptgrid/reports"
)

// header is the columns of the table and the Markdown.
var header = []string{"Cell", "Started (UTC)", "Run", "Commit", "Branch", "Suite hash",
	"Pass rate [95% CI]", "Cost", "E2E p50", "E2E p95", "Step vs previous run"}

// row is one point's row; a fresh slice every call (tablewriter keeps it).
func row(s *Suite, c *CellHistory, p *Point) []string {
	r := s.Runs[p.Run]
	return []string{c.Label, fmtTime(r.Started), r.RunID, orDash(Short(r.Commit)), orDash(r.Branch),
		orDash(r.SuiteHash), fmtRate(p.PassRate), fmtCost(p.Cost), fmtQuantile(p.E2EP50),
		fmtQuantile(p.E2EP95), stepText(p.Step)}
}

// title is the line above a suite's table.
func title(s *Suite) string {
	t := fmt.Sprintf("%s: %s", orDash(s.Name), count(len(s.Runs), "run"))
	if len(s.Runs) > 0 {
		t += fmt.Sprintf(", %s to %s", fmtTime(s.Runs[0].Started), fmtTime(s.Runs[len(s.Runs)-1].Started))
	}
	switch s.Regressions {
	case 0:
		t += ", no regression"
	default:
		t += ", " + count(s.Regressions, "regression")
	}
	return t
}

// note explains the Step column under every format's tables.
func note(h *History) string {
	m := ""
	if h.Margin > 0 {
		m = fmt.Sprintf(" beyond the margin of %.1f points", 100*h.Margin)
	}
	return "Step: each run compared with the previous run of its suite as `promptgrid compare` does " +
		"(paired by case, cell, seed and result index, Holm-adjusted across cells); REGRESSION marks a " +
		"step compare would fail on: a pass-rate drop" + m + " whose whole 95% interval is below zero, Holm p < 0.05."
}

// Table renders the history as terminal tables, one per suite, with ASCII
// borders when ascii is set (for logs and pipes). It leaves out
// h.Skipped, which the command prints on stderr.
func Table(h *History, ascii bool) reports.Renderer {
	return func(w io.Writer) error {
		for i, s := range h.Suites {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w, title(s))
			t := reports.NewTable(w, ascii)
			t.Header(header)
			for _, c := range s.Cells {
				for _, p := range c.Points {
					if err := t.Append(row(s, c, p)); err != nil {
						return fmt.Errorf("render table: %w", err)
					}
				}
			}
			if err := t.Render(); err != nil {
				return fmt.Errorf("render table: %w", err)
			}
		}
		if len(h.Suites) > 0 {
			if _, err := fmt.Fprintln(w, note(h)); err != nil {
				return err
			}
		}
		return nil
	}
}

// Markdown renders the history as GitHub-flavoured Markdown, one table per
// suite, fit for $GITHUB_STEP_SUMMARY.
func Markdown(h *History) reports.Renderer {
	return func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, s := range h.Suites {
			fmt.Fprintf(bw, "### promptgrid history: %s\n\n", reports.MarkdownCell(title(s)))
			cells := make([]string, len(header))
			for i, c := range header {
				cells[i] = reports.MarkdownCell(c)
			}
			bw.WriteString("| " + strings.Join(cells, " | ") + " |\n")
			bw.WriteString(strings.Repeat("| --- ", len(header)) + "|\n")
			for _, c := range s.Cells {
				for _, p := range c.Points {
					r := row(s, c, p)
					for i := range r {
						r[i] = reports.MarkdownCell(r[i])
					}
					if p.Step != nil && p.Step.Regression {
						r[len(r)-1] = "**" + r[len(r)-1] + "**"
					}
					bw.WriteString("| " + strings.Join(r, " | ") + " |\n")
				}
			}
			bw.WriteString("\n")
		}
		if len(h.Suites) > 0 {
			bw.WriteString(note(h) + "\n")
		}
		for _, sk := range h.Skipped {
			fmt.Fprintf(bw, "\nSkipped %s: %s", reports.MarkdownCell(sk.Dir), reports.MarkdownCell(sk.Reason))
		}
		if len(h.Skipped) > 0 {
			bw.WriteString("\n")
		}
		return bw.Flush()
	}
}

// JSON renders the history as indented JSON (schema SchemaID).
func JSON(h *History) reports.Renderer {
	return func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(h); err != nil {
			return fmt.Errorf("encode history: %w", err)
		}
		return nil
	}
}
