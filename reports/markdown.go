package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Markdown renders the summary as GitHub-flavoured Markdown, fit for
// $GITHUB_STEP_SUMMARY and PR comments: the per-cell table with a total row,
// then the failing cases with their reasons. Every cell is escaped (see
// MarkdownCell), so model text cannot break the table.
func Markdown(s *Summary) Renderer {
	return func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		title := s.Suite
		if title == "" {
			title = "run"
		}
		fmt.Fprintf(bw, "### promptgrid: %s", MarkdownCell(title))
		if s.RunID != "" {
			fmt.Fprintf(bw, " (`%s`)", strings.ReplaceAll(MarkdownCell(s.RunID), "`", "'"))
		}
		bw.WriteString("\n\n")
		header := tableHeader(s)
		mdRow(bw, header)
		seps := make([]string, len(header))
		for i := range seps {
			seps[i] = "---"
			if i > 0 && i < 3 {
				seps[i] = "--:"
			}
		}
		mdRawRow(bw, seps)
		for _, c := range s.Cells {
			mdRow(bw, tableRow(s, c))
		}
		if s.Total != nil && len(s.Cells) > 1 {
			row := tableRow(s, s.Total)
			for i := range row {
				row[i] = MarkdownCell(row[i])
			}
			row[0] = "**" + row[0] + "**"
			mdRawRow(bw, row)
		}
		bw.WriteString("\nPass rate: mean over cases of each case's share of passing samples, 95% interval clustered by case. " +
			"\"n too small\": no distribution-free 95% interval exists for that quantile at this n. " +
			"Length / empty: shares of answered samples cut at maxTokens (finishReason length) and without visible text.\n")
		for _, l := range s.Warnings {
			fmt.Fprintf(bw, "\n**%s**\n", MarkdownCell(l))
		}
		if s.Superseded > 0 || s.Incomplete > 0 {
			fmt.Fprintf(bw, "\n%d journal lines were superseded by later attempts; %d interrupted samples are not counted.\n", s.Superseded, s.Incomplete)
		}
		if s.Within != nil {
			writeWithinMarkdown(bw, s.Within)
		}
		bw.WriteString("\n<details><summary>Details by cell</summary>\n\n")
		mdRow(bw, detailHeader())
		mdRawRow(bw, mdSeps(len(detailHeader())))
		for _, c := range s.Cells {
			mdRow(bw, detailRow(c))
		}
		bw.WriteString("\n</details>\n")
		writeMarkdownFailures(bw, s)
		return bw.Flush()
	}
}

func writeMarkdownFailures(bw *bufio.Writer, s *Summary) {
	first, steps := true, hasSteps(s)
	for _, c := range s.Cells {
		for _, cs := range c.PerCase {
			if cs.Pass {
				continue
			}
			if first {
				bw.WriteString("\n#### Failing cases\n\n")
				head, seps := []string{"Cell", "Case", "Passed", "First reason", "Model text"}, []string{"---", "---", "--:", "---", "---"}
				if steps {
					head, seps = append(head, "Trajectory"), append(seps, "---")
				}
				mdRow(bw, head)
				mdRawRow(bw, seps)
				first = false
			}
			reason, text, traj := "", "", ""
			if len(cs.Failures) > 0 {
				f := cs.Failures[0]
				reason = f.Error
				if len(f.Reasons) > 0 {
					reason = f.Reasons[0]
				}
				text, traj = f.Text, f.Trajectory
			}
			row := []string{c.Label, cs.ID, fmt.Sprintf("%d/%d", cs.Passed, cs.Samples), truncate(reason, 200), truncate(text, 200)}
			if steps {
				row = append(row, truncate(traj, 200))
			}
			mdRow(bw, row)
		}
	}
	for _, c := range s.Cells {
		listed := 0
		for _, cs := range c.PerCase {
			if !cs.Pass {
				listed++
			}
		}
		if n := c.Cases - c.CasesPassed - listed; n > 0 {
			fmt.Fprintf(bw, "\n%d more failing cases of %s are not listed (a report lists at most %d cases per cell; every statistic counts them).\n",
				n, MarkdownCell(c.Label), len(c.PerCase))
		}
	}
}

// mdRow writes a table row of text cells, escaping each.
func mdRow(bw *bufio.Writer, cells []string) {
	esc := make([]string, len(cells))
	for i, c := range cells {
		esc[i] = MarkdownCell(c)
	}
	mdRawRow(bw, esc)
}

// mdRawRow writes a row of cells that are already Markdown.
func mdRawRow(bw *bufio.Writer, cells []string) {
	bw.WriteString("|")
	for _, c := range cells {
		bw.WriteString(" " + c + " |")
	}
	bw.WriteString("\n")
}

// MarkdownCell escapes text for a GitHub-flavoured Markdown table cell:
// backslashes and pipes are backslash-escaped, newlines become <br>, HTML
// special characters become entities (so model output cannot inject markup),
// other control characters become U+FFFD, and Markdown emphasis and code
// characters are escaped.
func MarkdownCell(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\r':
		case r == '\n':
			b.WriteString("<br>")
		case r == '|' || r == '\\' || r == '*' || r == '_' || r == '`' || r == '[' || r == ']':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func mdSeps(n int) []string {
	seps := make([]string, n)
	for i := range seps {
		seps[i] = "---"
	}
	return seps
}
