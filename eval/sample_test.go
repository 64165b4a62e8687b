package eval

import (
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// SampleOf carries what checks need, including the error of a failed request.
func TestSampleOfRecord(t *testing.T) {
	cost := 0.25
	r := &journal.Record{
		Text:    "Paris",
		Usage:   &journal.Usage{Prompt: 10, Completion: 30, Total: 40, Thinking: 12},
		Cost:    &cost,
		Timings: journal.Timings{E2E: journal.Ms(1500_000_000), TTFT: journal.Ms(200_000_000)},
		Error:   &journal.Error{Class: "rateLimit", Code: "rateLimitExceeded", Message: "slow down"},
	}
	s := SampleOf(r)
	if s.Text != r.Text || s.Usage == nil || s.Usage.Thinking != 12 || s.Latency == nil || s.Latency.Seconds() != 1.5 {
		t.Errorf("sample = %+v", s)
	}
	if s.TTFT == nil || s.TTFT.Milliseconds() != 200 {
		t.Errorf("sample TTFT = %v, want 200ms", s.TTFT)
	}
	if s.Err != "rateLimit: rateLimitExceeded: slow down" {
		t.Errorf("sample error = %q", s.Err)
	}
	r.Error.Code = ""
	if s := SampleOf(r); s.Err != "rateLimit: slow down" {
		t.Errorf("sample error without a code = %q", s.Err)
	}
}
