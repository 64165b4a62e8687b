package runner

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
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

// TrialStates is what a journal says about each of its trial keys, two
// booleans a key. A key of 32 lowercase hex digits (what eval makes) is
// held as its 16 bytes (a string key costs three times that); any other key
// is held as it is. The zero value is empty.
type TrialStates struct {
	ids  map[[16]byte]TrialState
	keys map[string]TrialState
}

// Get returns the state of key and whether the journal has it.
func (s *TrialStates) Get(key string) (TrialState, bool) {
	if id, hex := keyID(key); hex {
		st, ok := s.ids[id]
		return st, ok
	}
	st, ok := s.keys[key]
	return st, ok
}

// Len is the number of trial keys.
func (s *TrialStates) Len() int { return len(s.ids) + len(s.keys) }

// stateBuilder gathers, while a journal is read, what its latest lines say
// about each result index of each trial key (16 bytes a key); build judges
// each key once the reading is done. Resuming a run of 1,000,000 trials
// peaked at 262 MB with a map of string keys to pointers to 40-byte sets,
// and at 208 MB with this (BENCHMARKS.md).
type stateBuilder struct {
	ids  map[[16]byte]resultSet
	keys map[string]resultSet
	// extra holds the latest error of result indexes past inlineIndexes
	// (or negative), by trial key and index.
	extra map[string]map[int]*journal.Error
}

// keyID is the 16 bytes of a key of 32 lowercase hex digits; ok is false
// for any other key (an uppercase digit must not meet its lowercase twin).
func keyID(key string) (id [16]byte, ok bool) {
	if len(key) != 32 {
		return id, false
	}
	for i := 0; i < 32; i++ {
		c := key[i]
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		default:
			return id, false
		}
		id[i/2] |= v << (4 * (1 - i%2))
	}
	return id, true
}

// update applies fn to the result set of key, creating it when absent.
func (s *stateBuilder) update(key string, fn func(*resultSet)) {
	if id, ok := keyID(key); ok {
		if s.ids == nil {
			s.ids = map[[16]byte]resultSet{}
		}
		rs := s.ids[id]
		fn(&rs)
		s.ids[id] = rs
		return
	}
	if s.keys == nil {
		s.keys = map[string]resultSet{}
	}
	rs := s.keys[key]
	fn(&rs)
	s.keys[key] = rs
}

// add records a counted journal line.
func (s *stateBuilder) add(r *journal.Record) {
	i := r.ResultIndex
	s.update(r.TrialKey, func(rs *resultSet) {
		rs.grow(r.Results)
		if 0 <= i && i < inlineIndexes {
			rs.add(i, r.Error)
		}
	})
	if i < 0 || i >= inlineIndexes {
		if s.extra == nil {
			s.extra = map[string]map[int]*journal.Error{}
		}
		if s.extra[r.TrialKey] == nil {
			s.extra[r.TrialKey] = map[int]*journal.Error{}
		}
		s.extra[r.TrialKey][i] = r.Error
	}
}

// open records a line that does not count (an open or superseded one): the
// trial exists, with at least its number of results.
func (s *stateBuilder) open(r *journal.Record) {
	s.update(r.TrialKey, func(rs *resultSet) { rs.grow(r.Results) })
}

// build judges every key, emptying s.
func (s *stateBuilder) build() *TrialStates {
	out := &TrialStates{}
	if len(s.ids) > 0 {
		out.ids = make(map[[16]byte]TrialState, len(s.ids))
		for id, rs := range s.ids {
			out.ids[id] = rs.state(nil)
		}
	}
	if len(s.keys) > 0 {
		out.keys = make(map[string]TrialState, len(s.keys))
		for key, rs := range s.keys {
			out.keys[key] = rs.state(nil)
		}
	}
	// The rare trials with result indexes past inlineIndexes are judged
	// again with them.
	for key, extra := range s.extra {
		if id, ok := keyID(key); ok {
			rs := s.ids[id]
			out.ids[id] = rs.state(extra)
		} else {
			rs := s.keys[key]
			out.keys[key] = rs.state(extra)
		}
	}
	s.ids, s.keys, s.extra = nil, nil, nil
	return out
}

// ReadState reads a journal and returns the state of every trial key in it,
// and what the read saw (the number of records). Which line of a sample
// counts is the journal's rule (journal.ReadLatest: the last one, and a
// sample whose last line is not terminal is still open); a journal beside a
// run.json must hold only that run's lines. A missing journal is an empty
// state.
func ReadState(path string) (*TrialStates, journal.ReadStats, error) {
	return readState(path, nil)
}

// readState is ReadState, also passing every line, counted or not, to each
// (when not nil).
func readState(path string, each func(*journal.Record)) (*TrialStates, journal.ReadStats, error) {
	states := &stateBuilder{}
	info, err := journal.ReadLatestWith(path, func(r *journal.Record) error {
		states.add(r)
		if each != nil {
			each(r)
		}
		return nil
	}, nil, func(r *journal.Record) {
		// A trial whose only lines are open still has its size.
		states.open(r)
		if each != nil {
			each(r)
		}
	})
	st := journal.ReadStats{Records: info.Lines, PartialTail: info.PartialTail}
	if errors.Is(err, os.ErrNotExist) {
		return &TrialStates{}, st, nil
	}
	if err != nil {
		return nil, st, err
	}
	return states.build(), st, nil
}

// Resumption is what a resumed run takes over from its run directory.
type Resumption struct {
	// State is the state of every trial key in the journal; Records the
	// number of journal lines.
	State   *TrialStates
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
// bit i of seen, rerun and failed is result index i (0..31); indexes beyond
// that, which no API answer has, go to the builder's rarely used extra map.
// It is 16 bytes: at a million trials every byte here is a megabyte.
type resultSet struct {
	n                   int32
	seen, rerun, failed uint32
}

// inlineIndexes is how many result indexes a resultSet holds itself.
const inlineIndexes = 32

// add records the latest line of result index i < inlineIndexes.
func (s *resultSet) add(i int, e *journal.Error) {
	bit := uint32(1) << i
	s.seen |= bit
	s.rerun &^= bit
	s.failed &^= bit
	switch {
	case Rerunnable(e):
		s.rerun |= bit
	case e != nil:
		s.failed |= bit
	}
}

// grow raises the number of result indexes to n, if it is more.
func (s *resultSet) grow(n int) { s.n = max(s.n, int32(min(n, math.MaxInt32))) }

// state judges result indexes 0..n-1 (at least index 0), those past
// inlineIndexes by extra.
func (s *resultSet) state(extra map[int]*journal.Error) TrialState {
	st := TrialState{Complete: true}
	n := max(int(s.n), 1)
	for i := range min(n, inlineIndexes) {
		bit := uint32(1) << i
		if s.seen&bit == 0 || s.rerun&bit != 0 {
			st.Complete = false
		} else if s.failed&bit != 0 {
			st.Errored = true
		}
	}
	if n <= inlineIndexes {
		return st
	}
	seen := 0
	for i, e := range extra {
		if i < inlineIndexes || i >= n {
			continue
		}
		seen++
		if Rerunnable(e) {
			st.Complete = false
		} else if e != nil {
			st.Errored = true
		}
	}
	if seen < n-inlineIndexes {
		st.Complete = false
	}
	return st
}

// pending reports whether a trial still has to run on resume and whether
// that run is a retry of an errored trial.
func pending(key string, state *TrialStates, retryErrors bool) (run, retried bool) {
	st, ok := state.Get(key)
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
func PendingTrials(trials Trials, state *TrialStates, retryErrors bool) (Trials, map[string]bool, error) {
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
