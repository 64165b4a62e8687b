package runner

import (
	"context"

	"github.com/promptgrid/promptgrid/eval"
)

// Slice forms of the runner's stream functions, for tests.

// TrialSlice is a slice of trials as a stream.
func TrialSlice(trials []eval.Trial) Trials {
	t := Trials{Count: len(trials), Seq: func(yield func(eval.Trial, error) bool) {
		for i := range trials {
			if !yield(trials[i], nil) {
				return
			}
		}
	}}
	for i := range trials {
		t.Samples += numberResults(&trials[i])
	}
	return t
}

// Run executes a slice of trials; see RunTrials.
func Run(ctx context.Context, cfg Config, trials []eval.Trial) (*Result, error) {
	return RunTrials(ctx, cfg, TrialSlice(trials))
}

// Pending returns the trials a resumed run still has to run: those without a
// complete set of terminal lines and, with retryErrors, those whose latest
// lines carry an error. The second result marks the latter as retried.
func Pending(trials []eval.Trial, state *TrialStates, retryErrors bool) ([]eval.Trial, map[string]bool) {
	var todo []eval.Trial
	retried := map[string]bool{}
	for _, t := range trials {
		if run, again := pending(t.Key, state, retryErrors); run {
			todo = append(todo, t)
			if again {
				retried[t.Key] = true
			}
		}
	}
	return todo, retried
}

// Select returns the trials of the shard, in order.
func (s Shard) Select(trials []eval.Trial) []eval.Trial {
	var out []eval.Trial
	for _, t := range trials {
		if s.Has(t.Key) {
			out = append(out, t)
		}
	}
	return out
}
