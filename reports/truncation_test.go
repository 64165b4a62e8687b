package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
)

// TestTruncationShares: among answered samples only, the share cut at
// maxTokens and the share without visible text (whitespace is not text, a
// tool call is an answer); a sample that is both is thinking that used up
// maxTokens, and only then is there a warning.
func TestTruncationShares(t *testing.T) {
	rec := func(seed int64, finish, text string) *journal.Record {
		return &journal.Record{RunID: "r", CaseID: "c", Cell: "x=1", Seed: seed, Results: 1, Attempts: 1, FinishReason: finish, Text: text}
	}
	recs := []*journal.Record{
		rec(1, "stop", "Paris"),
		rec(2, FinishLength, "Par"),   // cut, not empty
		rec(3, FinishLength, " \n\t"), // cut and empty: thinking exhausted
		rec(4, "stop", ""),            // empty, not cut
		rec(5, "tool_calls", ""),      // a tool call is an answer
		rec(6, FinishLength, ""),      // errored: left out
		rec(7, "stop", "ok"), rec(8, "stop", "ok"),
	}
	recs[4].ToolCalls = []eval.ToolCall{{Name: "lookup"}}
	recs[5].Error = &journal.Error{Class: "timeout", Message: "no response"}
	a := NewAggregator(Options{})
	for _, r := range recs {
		a.Add(r)
	}
	s := a.Close()
	got := s.Cells[0].Truncation
	want := Truncation{Length: 2, Empty: 2, ThinkingExhausted: 1, LengthShare: Num(2.0 / 7), EmptyShare: Num(2.0 / 7)}
	if got != want {
		t.Errorf("truncation = %+v, want %+v", got, want)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "x=1: thinking used up maxTokens in 1 of 7 answered samples") {
		t.Errorf("warnings = %q, want one for cell x=1, 1 of 7", s.Warnings)
	}
	for name, r := range map[string]Renderer{"table": Table(s, true), "md": Markdown(s), "html": HTML(s), "csv": CellsCSV(s), "junit": JUnit(s), "json": JSON(s)} {
		var b bytes.Buffer
		if err := r(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		// CSV is data: its thinking_exhausted column carries the count
		// (checked with the shares below) instead of a warning line.
		if name != "csv" && !strings.Contains(out, "thinking used up maxTokens") {
			t.Errorf("%s lacks the warning", name)
		}
		share := "28.6%"
		switch name {
		case "csv":
			share = ",2,0.285714,2,0.285714,1,"
		case "json":
			share = `"lengthShare": 0.285714`
		}
		if !strings.Contains(out, share) {
			t.Errorf("%s lacks the share %q", name, share)
		}
	}
	// Without a sample both cut and empty there is no warning.
	a = NewAggregator(Options{})
	for _, r := range recs[:2] {
		a.Add(r)
	}
	if s := a.Close(); len(s.Warnings) != 0 || s.Cells[0].Truncation.Length != 1 {
		t.Errorf("warnings %q truncation %+v; want none and one cut answer", s.Warnings, s.Cells[0].Truncation)
	}
}
