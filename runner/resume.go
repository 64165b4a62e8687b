package runner

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
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

// ReadState reads a journal and returns the state of every trial key in it,
// and what the read saw (the number of records). Which line of a sample
// counts is the journal's rule (journal.ReadLatest: the last one, and a
// sample whose last line is not terminal is still open); a journal beside a
// run.json must hold only that run's lines. A missing journal is an empty
// state. It keeps a few words per trial key (bit sets over the result
// indexes), not the records.
func ReadState(path string) (map[string]TrialState, journal.ReadStats, error) {
	state, st, err := readState(path, nil)
	return state, st, err
}

// readState is ReadState, also passing every line, counted or not, to each
// (when not nil).
func readState(path string, each func(*journal.Record)) (map[string]TrialState, journal.ReadStats, error) {
	slots := map[string]*resultSet{}
	info, err := journal.ReadLatestWith(path, func(r *journal.Record) error {
		s := slots[r.TrialKey]
		if s == nil {
			s = &resultSet{}
			slots[r.TrialKey] = s
		}
		s.add(r)
		if each != nil {
			each(r)
		}
		return nil
	}, nil, func(r *journal.Record) {
		if s := slots[r.TrialKey]; s == nil {
			// A trial whose only lines are open still has its size.
			slots[r.TrialKey] = &resultSet{n: r.Results}
		} else {
			s.n = max(s.n, r.Results)
		}
		if each != nil {
			each(r)
		}
	})
	st := journal.ReadStats{Records: info.Lines, PartialTail: info.PartialTail}
	if errors.Is(err, os.ErrNotExist) {
		return map[string]TrialState{}, st, nil
	}
	if err != nil {
		return nil, st, err
	}
	out := make(map[string]TrialState, len(slots))
	for key, s := range slots {
		out[key] = s.state()
	}
	return out, st, nil
}

// Resumption is what a resumed run takes over from its run directory.
type Resumption struct {
	// State is the state of every trial key in the journal; Records the
	// number of journal lines.
	State   map[string]TrialState
	Records int
	// PriorSpent is what the earlier invocations spent: every settled
	// attempt, every attempt a journal line answered, and the upper bound
	// of every sync or stream request still in flight when the run died
	// (it may have been billed). Without an attempt log (a run made by an
	// older promptgrid) it is the cost of every journal line, superseded
	// ones included.
	PriorSpent float64
	// Recover maps the trial keys of requests in flight when the run died
	// to those requests (Config.Recover).
	Recover map[string]journal.Attempt
	// Settle are attempt lines to write before the run goes on: the open
	// attempts this reading settled.
	Settle []journal.Attempt
	// Resent counts the sync and stream requests that were in flight: they
	// are sent again and may be billed twice.
	Resent int
}

// ReadResumption reads a run directory's attempt log and journal for a
// resume; a journal line of another run or suite than the directory's
// run.json is refused (journal.ReadLatest).
func ReadResumption(dir string, retryErrors bool) (*Resumption, error) {
	led, err := journal.ReadLedger(dir)
	if err != nil {
		return nil, err
	}
	res := &Resumption{Recover: map[string]journal.Attempt{}}
	answered := map[string]float64{} // open taskUUIDs a journal line answered: their cost
	priced := map[string]bool{}
	journalCost := 0.0
	state, st, err := readState(filepath.Join(dir, journal.JournalFile), func(r *journal.Record) {
		if r.Cost != nil && !r.Cached {
			journalCost += *r.Cost
		}
		for i := range r.Steps {
			// An agent loop's line answers each of its steps' requests,
			// at that step's cost (the line's own is their sum).
			st := &r.Steps[i]
			if _, open := led.Open[st.TaskUUID]; open && st.TaskUUID != "" && !st.Cached {
				if st.Cost != nil {
					answered[st.TaskUUID] += *st.Cost
					priced[st.TaskUUID] = true
				} else if _, ok := answered[st.TaskUUID]; !ok {
					answered[st.TaskUUID] = 0
				}
			}
		}
		if _, open := led.Open[r.TaskUUID]; open && r.TaskUUID != "" && len(r.Steps) == 0 {
			if r.Cost != nil {
				answered[r.TaskUUID] += *r.Cost
				priced[r.TaskUUID] = true
			} else if _, ok := answered[r.TaskUUID]; !ok {
				answered[r.TaskUUID] = 0
			}
		}
	})
	if err != nil {
		return nil, err
	}
	res.State, res.Records = state, st.Records
	if !led.Exists {
		res.PriorSpent = journalCost
		return res, nil
	}
	res.PriorSpent = led.Settled
	for uuid, a := range led.Open {
		charge, ok := answered[uuid]
		switch {
		case ok && priced[uuid]:
			// The answer was journaled; only its settled line was lost.
		case ok:
			charge = a.Bound
		default:
			run, _ := pending(a.TrialKey, state, retryErrors)
			if run && a.Delivery == runware.DeliveryAsync && !a.Agent {
				// Asked for again by its taskUUID; settled when answered.
				res.Recover[a.TrialKey] = a
				continue
			}
			charge = a.Bound
			if run {
				res.Recover[a.TrialKey] = a
				res.Resent++
			}
		}
		res.PriorSpent += charge
		res.Settle = append(res.Settle, journal.Attempt{TrialKey: a.TrialKey, TaskUUID: uuid, Judge: a.Judge, Charged: charge})
	}
	return res, nil
}

// resultSet is what the latest line of each result index of one trial says:
// bit i of seen, rerun and failed is result index i (0..63); indexes beyond
// that, which no API answer has, go to the rarely used extra map.
type resultSet struct {
	n                   int
	seen, rerun, failed uint64
	extra               map[int]*journal.Error
}

func (s *resultSet) add(r *journal.Record) {
	s.n = max(s.n, r.Results)
	i := r.ResultIndex
	if i < 0 || i >= 64 {
		if s.extra == nil {
			s.extra = map[int]*journal.Error{}
		}
		s.extra[i] = r.Error
		return
	}
	bit := uint64(1) << i
	s.seen |= bit
	s.rerun &^= bit
	s.failed &^= bit
	switch {
	case Rerunnable(r.Error):
		s.rerun |= bit
	case r.Error != nil:
		s.failed |= bit
	}
}

// state judges result indexes 0..n-1 (at least index 0).
func (s *resultSet) state() TrialState {
	st := TrialState{Complete: true}
	for i := 0; i < max(s.n, 1); i++ {
		var seen, rerun, failed bool
		if i < 64 {
			bit := uint64(1) << i
			seen, rerun, failed = s.seen&bit != 0, s.rerun&bit != 0, s.failed&bit != 0
		} else {
			var e *journal.Error
			e, seen = s.extra[i]
			rerun, failed = Rerunnable(e), e != nil && !Rerunnable(e)
		}
		if !seen || rerun {
			st.Complete = false
		} else if failed {
			st.Errored = true
		}
	}
	return st
}

// pending reports whether a trial still has to run on resume and whether
// that run is a retry of an errored trial.
func pending(key string, state map[string]TrialState, retryErrors bool) (run, retried bool) {
	st, ok := state[key]
	switch {
	case !ok || !st.Complete:
		return true, false
	case retryErrors && st.Errored:
		return true, true
	}
	return false, false
}

// PendingTrials returns the trials a resumed run still has to run: those
// without a complete set of terminal lines and, with retryErrors, those whose
// latest lines carry an error; the map marks the latter as retried. It walks
// trials once to count the pending ones and collect the retried keys.
func PendingTrials(trials Trials, state map[string]TrialState, retryErrors bool) (Trials, map[string]bool, error) {
	retried := map[string]bool{}
	counting := true // the run's own walk must not write the map it reads
	todo, err := trials.Filter(func(t *eval.Trial) bool {
		run, again := pending(t.Key, state, retryErrors)
		if again && counting {
			retried[t.Key] = true
		}
		return run
	})
	counting = false
	if err != nil {
		return Trials{}, nil, err
	}
	return todo, retried, nil
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

// SelectTrials returns the trials of the shard, in order; it walks trials
// once to count them.
func (s Shard) SelectTrials(trials Trials) (Trials, error) {
	return trials.Filter(func(t *eval.Trial) bool { return s.Has(t.Key) })
}
