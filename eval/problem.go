package eval

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a suite, at a position in a file.
type Problem struct {
	File string
	Line int // 1-based; 0 = unknown
	Col  int // 1-based; 0 = unknown
	Msg  string
}

// String formats the problem as file:line:col: message.
func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Problems is the error returned when a suite does not validate: every
// problem found, in file order.
type Problems struct {
	List []Problem
	// Sources maps file names to their contents, for printing the offending
	// line under each problem.
	Sources map[string][]byte
}

// Error renders every problem with its source line and a caret.
func (ps *Problems) Error() string {
	var b strings.Builder
	for i, p := range ps.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
		if line, ok := sourceLine(ps.Sources[p.File], p.Line); ok && p.Col > 0 {
			line, col := snippet(line, p.Col)
			fmt.Fprintf(&b, "\n    %s\n    %s^", line, caretPad(line, col))
		}
	}
	return b.String()
}

func sourceLine(src []byte, n int) (string, bool) {
	if n <= 0 || src == nil {
		return "", false
	}
	lines := strings.Split(string(src), "\n")
	if n > len(lines) {
		return "", false
	}
	return strings.TrimRight(lines[n-1], "\r"), true
}

// caretPad returns the whitespace that puts a caret under column col,
// keeping tabs so the caret lines up with the printed source line.
func caretPad(line string, col int) string {
	var b strings.Builder
	for i, r := range []rune(line) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// maxSnippetRunes bounds the source line quoted under a problem: a data
// file may hold one huge line, and must not be echoed whole.
const maxSnippetRunes = 100

// snippet cuts line to at most maxSnippetRunes around column col (marking
// cuts with "..."), replaces control characters other than tabs with '?',
// and returns the caret's column in the result.
func snippet(line string, col int) (string, int) {
	r := []rune(line)
	for i, c := range r {
		if c != '\t' && (c < 0x20 || c == 0x7f) {
			r[i] = '?'
		}
	}
	if len(r) <= maxSnippetRunes {
		return string(r), col
	}
	start := max(0, min(col-1-maxSnippetRunes/2, len(r)-maxSnippetRunes))
	end := start + maxSnippetRunes
	out := string(r[start:end])
	if end < len(r) {
		out += "..."
	}
	if start > 0 {
		return "..." + out, col - start + 3
	}
	return out, col
}
