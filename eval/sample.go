package eval

import (
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// SampleOf converts a journal record into the input of checks, for scoring
// and re-scoring: its answer, usage, cost, latencies and, for a failed
// request, its error.
func SampleOf(r *journal.Record) Sample {
	s := Sample{
		Text:         r.Text,
		Reasoning:    r.Reasoning,
		FinishReason: r.FinishReason,
		ToolCalls:    r.ToolCalls,
		Cost:         r.Cost,
		Vars:         r.Vars,
		Prompt:       r.Prompt,
		Steps:        len(r.Steps),
		StepLimit:    r.StepLimit,
	}
	if r.Usage != nil {
		s.Usage = &Usage{Prompt: r.Usage.Prompt, Completion: r.Usage.Completion, Thinking: r.Usage.Thinking}
	}
	s.Latency = msDuration(r.Timings.E2E)
	s.TTFT = msDuration(r.Timings.TTFT)
	s.TTFO = msDuration(r.Timings.TTFO)
	if r.Error != nil {
		s.Err = r.Error.Class + ": " + r.Error.Message
		if r.Error.Code != "" {
			s.Err = r.Error.Class + ": " + r.Error.Code + ": " + r.Error.Message
		}
	}
	return s
}

// msDuration converts a journal offset in milliseconds into a duration.
func msDuration(ms *float64) *time.Duration {
	if ms == nil {
		return nil
	}
	d := time.Duration(*ms * float64(time.Millisecond))
	return &d
}

// ApplyVerdict records a scoring of r: its check outcomes, pass and score.
// A sample with a check that could not be evaluated (an unjudged judge
// check) becomes an error of class journal.ClassJudge: no verdict, never a
// pass; a judge error an earlier scoring recorded is cleared when every
// check now has a verdict. Other errors (the request's) are kept.
func ApplyVerdict(r *journal.Record, v Verdict) {
	r.Checks, r.Pass, r.Score = v.Outcomes, v.Pass, v.Score
	var unjudged *Outcome
	for i := range v.Outcomes {
		if v.Outcomes[i].Unjudged {
			unjudged = &v.Outcomes[i]
			break
		}
	}
	switch {
	case unjudged != nil && (r.Error == nil || r.Error.Class == journal.ClassJudge):
		r.Error = &journal.Error{Class: journal.ClassJudge, Message: unjudged.Check + ": " + unjudged.Reason}
		r.Pass = false
	case unjudged == nil && r.Error != nil && r.Error.Class == journal.ClassJudge:
		r.Error = nil
	}
}

// Rescorable returns the sample of r as checks should see it when it is
// scored again: a judge error is not the request's, so the answer is
// checked as if it had none.
func Rescorable(r *journal.Record) Sample {
	if r.Error != nil && r.Error.Class == journal.ClassJudge {
		cp := *r
		cp.Error = nil
		return SampleOf(&cp)
	}
	return SampleOf(r)
}
