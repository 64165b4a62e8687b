package reports

import (
	"fmt"
	"strings"

	"github.com/promptgrid/promptgrid/journal"
)

// FinishLength is the finishReason of an answer cut at maxTokens.
const FinishLength = "length"

// Truncation counts, among a cell's answered samples, the answers cut at
// maxTokens and those without visible text (docs/metrics.md).
type Truncation struct {
	// Length counts answered samples whose finishReason is "length".
	Length int `json:"length"`
	// Empty counts answered samples without visible text: blank text
	// (whitespace only) and no tool call.
	Empty int `json:"empty"`
	// ThinkingExhausted counts answered samples that are both: thinking
	// used up maxTokens and left no answer.
	ThinkingExhausted int `json:"thinkingExhausted"`
	// LengthShare and EmptyShare are Length and Empty over the answered
	// samples; null when none was answered.
	LengthShare Num `json:"lengthShare"`
	EmptyShare  Num `json:"emptyShare"`
}

// truncAcc counts truncated and empty answers.
type truncAcc struct {
	length, empty, exhausted int
}

func (t *truncAcc) add(r *journal.Record) {
	if r.Error != nil {
		return
	}
	length := r.FinishReason == FinishLength
	empty := strings.TrimSpace(r.Text) == "" && len(r.ToolCalls) == 0
	if length {
		t.length++
	}
	if empty {
		t.empty++
	}
	if length && empty {
		t.exhausted++
	}
}

func (t truncAcc) summary(answered int) Truncation {
	out := Truncation{Length: t.length, Empty: t.empty, ThinkingExhausted: t.exhausted, LengthShare: nan, EmptyShare: nan}
	if answered > 0 {
		out.LengthShare = Num(float64(t.length) / float64(answered))
		out.EmptyShare = Num(float64(t.empty) / float64(answered))
	}
	return out
}

// fmtTruncation formats a cell's shares of length-truncated and of empty
// answers: "12.5% / 8.3%".
func fmtTruncation(t Truncation) string {
	if !t.LengthShare.Defined() {
		return "–"
	}
	return fmtPct(t.LengthShare) + " / " + fmtPct(t.EmptyShare)
}

// truncationWarnings returns one line per cell in which thinking used up
// maxTokens and left an empty answer (finishReason length, no visible
// text), in cell order.
func truncationWarnings(cells []*Cell) []string {
	out := []string{}
	for _, c := range cells {
		if n := c.Truncation.ThinkingExhausted; n > 0 {
			out = append(out, fmt.Sprintf("warning: %s: thinking used up maxTokens in %d of %d answered samples (finishReason length, no visible text); raise settings.maxTokens or lower the thinking level.",
				c.Label, n, c.Answered))
		}
	}
	return out
}
