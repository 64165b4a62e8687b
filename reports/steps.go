package reports

import (
	"fmt"
	"strings"

	"github.com/promptgrid/promptgrid/journal"
)

// stepsAcc counts the steps of a cell's agent samples.
type stepsAcc struct {
	seen                bool
	n, sum, max, limits int
}

func (s *stepsAcc) add(r *journal.Record) {
	if len(r.Steps) == 0 && !r.StepLimit {
		return
	}
	s.seen = true
	if r.StepLimit {
		s.limits++
	}
	if r.Error == nil {
		s.n++
		s.sum += len(r.Steps)
		s.max = max(s.max, len(r.Steps))
	}
}

// summary is nil when no sample had steps, so that the summaries of runs
// without agent cases do not change.
func (s *stepsAcc) summary() *Steps {
	if !s.seen {
		return nil
	}
	out := &Steps{Samples: s.n, Mean: nan, Max: s.max, StepLimit: s.limits}
	if s.n > 0 {
		out.Mean = Num(float64(s.sum) / float64(s.n))
	}
	return out
}

// Trajectory words for steps without tool calls and for a loop cut at its
// step limit.
const (
	trajectoryAnswer    = "answer"
	trajectoryError     = "error"
	trajectoryStepLimit = "step limit"
)

// trajectory names what each step of an agent sample did, joined by " → ":
// its tool calls (joined by " + " when the model made several at once),
// "answer" for a step without tool calls, "error" for a step whose request
// failed, and a last "step limit" when the loop stopped at its maxSteps.
// Empty for a sample without steps.
func trajectory(r *journal.Record) string {
	if len(r.Steps) == 0 && !r.StepLimit {
		return ""
	}
	parts := make([]string, 0, len(r.Steps)+1)
	for i := range r.Steps {
		st := &r.Steps[i]
		switch {
		case len(st.ToolCalls) > 0:
			names := make([]string, len(st.ToolCalls))
			for j, tc := range st.ToolCalls {
				names[j] = tc.Name
			}
			parts = append(parts, strings.Join(names, " + "))
		case st.Error != nil:
			parts = append(parts, trajectoryError)
		default:
			parts = append(parts, trajectoryAnswer)
		}
	}
	if r.StepLimit {
		parts = append(parts, trajectoryStepLimit)
	}
	return strings.Join(parts, " → ")
}

// hasSteps reports whether any sample of the run had steps (an agent case):
// only then do the formats show them.
func hasSteps(s *Summary) bool {
	if s.Total != nil && s.Total.Steps != nil {
		return true
	}
	for _, c := range s.Cells {
		if c.Steps != nil {
			return true
		}
	}
	return false
}

// fmtSteps formats a cell's steps: "2.5 / 4" (mean / max per answered
// sample), with ", 1 at limit" when loops stopped at their step limit; "–"
// for a cell without agent samples.
func fmtSteps(st *Steps) string {
	if st == nil {
		return "–"
	}
	s := fmtMean(st.Mean) + " / " + fmt.Sprint(st.Max)
	if st.Samples == 0 {
		s = "–"
	}
	if st.StepLimit > 0 {
		s += fmt.Sprintf(", %d at limit", st.StepLimit)
	}
	return s
}
