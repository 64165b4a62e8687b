package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"
)

// TestRendererGolden pins every file format's output for the fixture run.
func TestRendererGolden(t *testing.T) {
	path := writeJournal(t, fixtureRecords())
	s, err := Aggregate(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		r    Renderer
	}{
		{"summary.md", Markdown(s)},
		{"summary.json", JSON(s)},
		{"cells.csv", CellsCSV(s)},
		{"samples.csv", SamplesCSV(path)},
		{"junit.xml", JUnit(s)},
		{"report.html", HTML(s)},
	} {
		var buf bytes.Buffer
		if err := tc.r(&buf); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		golden(t, tc.file, buf.Bytes())
	}
}

// TestJUnitWellFormedWithControlCharacters parses the JUnit file of a run
// whose model text is full of control characters with encoding/xml, and
// checks the structure: one testcase per case and cell, failures carrying
// the check reasons.
func TestJUnitWellFormedWithControlCharacters(t *testing.T) {
	recs := fixtureRecords()
	for _, r := range recs {
		if !r.Pass {
			var b strings.Builder
			for c := rune(0); c < 0x20; c++ {
				b.WriteRune(c)
			}
			b.WriteString("\x7f\u0085\uFFFE\xff\xfe end")
			r.Text = b.String()
			r.Checks[0].Reason = "expected to contain \"Paris\"; got " + b.String()
		}
	}
	s, err := Aggregate(writeJournal(t, recs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := JUnit(s)(&buf); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("JUnit file is not well-formed XML: %v\n%s", err, buf.String())
	}
	if doc.Tests != 9 || len(doc.Suites) != 3 {
		t.Fatalf("tests=%d suites=%d, want 9 testcases in 3 cell suites", doc.Tests, len(doc.Suites))
	}
	// none: france and weird fail; low: weird fails, japan has a timeout
	// among its samples (a failure: its other failing... none, so an error).
	var failures, errors int
	for _, su := range doc.Suites {
		for _, c := range su.Cases {
			if c.Failure != nil {
				failures++
				if !strings.Contains(c.Failure.Body, `contains "Paris": expected to contain`) {
					t.Errorf("%s/%s failure lacks the check reason: %q", su.Name, c.Name, c.Failure.Body)
				}
				if !strings.Contains(c.Failure.Body, `\x1b`) {
					t.Errorf("%s/%s: control characters should be shown as \\xNN escapes: %q", su.Name, c.Name, c.Failure.Body)
				}
			}
			if c.Error != nil {
				errors++
			}
		}
	}
	if failures != 4 || errors != 1 {
		t.Errorf("failures=%d errors=%d, want 4 failing cases and 1 erroring (the timeout)", failures, errors)
	}
}

// TestMarkdownEscapes: model text with pipes, newlines, HTML and Markdown
// syntax must stay inside its table cell.
func TestMarkdownEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// A pipe would end the cell.
		{"a|b", `a\|b`},
		// A newline would end the row.
		{"one\ntwo\r\n", "one<br>two<br>"},
		// HTML must not become markup.
		{"<script>&", "&lt;script&gt;&amp;"},
		// Emphasis, code and link syntax are literal.
		{"*x* _y_ `z` [l]", `\*x\* \_y\_ \` + "`" + `z\` + "`" + ` \[l\]`},
		// A backslash before a pipe must not un-escape it.
		{`\|`, `\\\|`},
		// Other control characters are replaced.
		{"a\x00b\x1bc\td", "a\uFFFDb\uFFFDc d"},
	} {
		if got := MarkdownCell(tc.in); got != tc.want {
			t.Errorf("MarkdownCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var buf bytes.Buffer
	if err := Markdown(fixtureSummary(t))(&buf); err != nil {
		t.Fatal(err)
	}
	// Every table row has the same number of unescaped pipes as its header.
	for _, block := range strings.Split(buf.String(), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if !strings.HasPrefix(lines[0], "|") {
			continue
		}
		want := strings.Count(strings.ReplaceAll(lines[0], `\|`, ""), "|")
		for _, l := range lines[1:] {
			if got := strings.Count(strings.ReplaceAll(strings.ReplaceAll(l, `\\`, ""), `\|`, ""), "|"); got != want {
				t.Errorf("row has %d cell separators, header %d: %q", got, want, l)
			}
		}
	}
}

// TestCSVParses: both CSV files parse with a constant number of fields,
// the per-sample file keeps model text with newlines and commas intact.
func TestCSVParses(t *testing.T) {
	recs := fixtureRecords()
	path := writeJournal(t, recs)
	s, err := Aggregate(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]Renderer{"cells": CellsCSV(s), "samples": SamplesCSV(path)} {
		var buf bytes.Buffer
		if err := r(&buf); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%s.csv does not parse: %v", name, err)
		}
		want := map[string]int{"cells": 5, "samples": 37}[name]
		if len(rows) != want {
			t.Errorf("%s.csv has %d rows, want %d (header included)", name, len(rows), want)
		}
		if name == "samples" {
			text := rows[len(rows)-1][len(rows[0])-1]
			if text != recs[len(recs)-1].Text {
				t.Errorf("text column %q, want %q", text, recs[len(recs)-1].Text)
			}
		}
	}
}
