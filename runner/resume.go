package runner

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
)

// TrialState is what a journal says about one trial key, judged by the
// latest line of each of its result indexes.
type TrialState struct {
	// Complete: every result index has a terminal latest line.
	Complete bool
	// Errored: some latest line carries a (terminal) error.
	Errored bool
}

// Rerunnable reports whether an error class leaves a trial to be run again
// on resume even though the line is final: fatal errors (auth, credits) say
// nothing about the trial, only about the account when it ran.
func Rerunnable(e *journal.Error) bool {
	if e == nil {
		return false
	}
	return e.Interrupted() || runware.Class(e.Class).Fatal()
}

// ReadState reads a journal and returns the state of every trial key in it.
// A missing journal is an empty state.
func ReadState(path string) (map[string]TrialState, error) {
	type slot struct {
		n    int
		last map[int]*journal.Error
		seen map[int]bool
	}
	slots := map[string]*slot{}
	_, err := journal.Read(path, func(r *journal.Record) error {
		s := slots[r.TrialKey]
		if s == nil {
			s = &slot{last: map[int]*journal.Error{}, seen: map[int]bool{}}
			slots[r.TrialKey] = s
		}
		s.n = max(s.n, r.Results)
		s.seen[r.ResultIndex] = true
		s.last[r.ResultIndex] = r.Error
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return map[string]TrialState{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]TrialState, len(slots))
	for key, s := range slots {
		st := TrialState{Complete: true}
		for i := 0; i < max(s.n, 1); i++ {
			e := s.last[i]
			if !s.seen[i] || Rerunnable(e) {
				st.Complete = false
			} else if e != nil {
				st.Errored = true
			}
		}
		out[key] = st
	}
	return out, nil
}

// Pending returns the trials a resumed run still has to run: those without a
// complete set of terminal lines and, with retryErrors, those whose latest
// lines carry an error. The second result marks the latter as retried.
func Pending(trials []eval.Trial, state map[string]TrialState, retryErrors bool) ([]eval.Trial, map[string]bool) {
	var todo []eval.Trial
	retried := map[string]bool{}
	for _, t := range trials {
		st, ok := state[t.Key]
		switch {
		case !ok || !st.Complete:
			todo = append(todo, t)
		case retryErrors && st.Errored:
			todo = append(todo, t)
			retried[t.Key] = true
		}
	}
	return todo, retried
}

// Shard is a deterministic slice of the trials: shard Index of Count (1-based).
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n" with 1 <= i <= n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with 1 <= i <= n, e.g. 1/4", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// String formats the shard as "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Has reports whether the trial key belongs to the shard: FNV-1a of the key
// modulo Count, so the split depends on nothing but the key.
func (s Shard) Has(key string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64()%uint64(s.Count)) == s.Index-1
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
