package eval

import (
	"bytes"
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

// MaxProblemsPerFile is how many problems Load reports per file: the
// earliest ones by position, then one line saying how many more there are.
// A suite with 10,000 bad tool names or a data file with a million bad
// rows costs the memory of these and a count.
const MaxProblemsPerFile = 50

// Problems is the error returned when a suite does not validate: every
// problem found, in file order.
type Problems struct {
	List []Problem
	// Total counts every problem found, including those past
	// MaxProblemsPerFile in a file that List summarises in one line ("and
	// N more problems in this file"); 0 means len(List).
	Total int
	// Sources maps file names to their contents, for printing the offending
	// line under each problem.
	Sources map[string][]byte
	// lines holds the quoted lines of files not in Sources (streamed data
	// files), by file and line number.
	lines map[string]map[int]string
}

// Error renders every problem with its source line and a caret.
func (ps *Problems) Error() string {
	var b strings.Builder
	for i, p := range ps.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
		line, ok := sourceLine(ps.Sources[p.File], p.Line)
		if !ok {
			line, ok = ps.lines[p.File][p.Line]
		}
		if ok && p.Col > 0 {
			line, col := snippet(line, p.Col)
			fmt.Fprintf(&b, "\n    %s\n    %s^", line, caretPad(line, col))
		}
	}
	return b.String()
}

// sourceLine returns line n (1-based) of src without copying the rest.
func sourceLine(src []byte, n int) (string, bool) {
	if n <= 0 || src == nil {
		return "", false
	}
	for ; n > 1; n-- {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			return "", false
		}
		src = src[i+1:]
	}
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return strings.TrimRight(string(src), "\r"), true
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

// before reports whether p comes before q in its file.
func (p Problem) before(q Problem) bool {
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// add records a problem. Past MaxProblemsPerFile problems in one file it
// keeps the earliest ones by position (replacing the latest kept one) and
// only counts the others; an identical problem already kept (a node
// shared through an alias) is not counted again.
func (l *loader) add(p Problem) {
	if l.perFile == nil {
		l.perFile = map[string]int{}
	}
	kept, latest := 0, -1
	for i, q := range l.probs {
		if q.File != p.File {
			continue
		}
		if q == p {
			return
		}
		kept++
		if latest < 0 || l.probs[latest].before(q) {
			latest = i
		}
	}
	l.nprobs++
	l.perFile[p.File]++
	if kept < MaxProblemsPerFile {
		l.probs = append(l.probs, p)
		return
	}
	if p.before(l.probs[latest]) {
		l.probs[latest] = p
	}
}

// shortText cuts s to at most 100 runes (marking the cut with "..."), for
// quoting a value in a problem: a bad value may be megabytes long.
func shortText(s string) string {
	const n = 100
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}
