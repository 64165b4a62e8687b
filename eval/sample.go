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
