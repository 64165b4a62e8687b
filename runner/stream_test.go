package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// streamOf yields makeTrials(n, 1, nil), calling visit before each trial (an
// error it returns is yielded instead); walks counts the walks started.
func streamOf(n int, visit func(i int) error, walks *int) Trials {
	all := makeTrials(n, 1, nil)
	return Trials{Count: n, Samples: n, Seq: func(yield func(eval.Trial, error) bool) {
		if walks != nil {
			*walks++
		}
		for i := range n {
			if visit != nil {
				if err := visit(i); err != nil {
					yield(eval.Trial{}, err)
					return
				}
			}
			if !yield(all[i], nil) {
				return
			}
		}
	}}
}

// TestRunTrialsPullsLazily protects flat memory: the runner takes a trial
// from the stream only when it is about to schedule it, so the trials taken
// but not yet journaled never exceed what can be in flight (concurrency,
// the results buffer and the one being built), however long the stream.
func TestRunTrialsPullsLazily(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	cfg := h.config()
	cfg.Concurrency = 4
	const n = 300
	bound := int64(4*cfg.Concurrency + 2)
	worst := int64(0)
	trials := streamOf(n, func(i int) error {
		worst = max(worst, int64(i)-cfg.Progress.Done.Load())
		return nil
	}, nil)
	w, err := journal.Create(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Journal = w
	res, err := RunTrials(context.Background(), cfg, trials)
	w.Close()
	if err != nil || res.Samples != n {
		t.Fatalf("%v, %+v", err, res)
	}
	if worst > bound {
		t.Errorf("up to %d trials taken from the stream ahead of the journal; want at most %d", worst, bound)
	}
	if got := cfg.Progress.Total.Load(); got != n {
		t.Errorf("progress total %d, want the stream's %d samples", got, n)
	}
}

// TestRunTrialsStreamError: an error from the trial stream ends the run as
// interrupted and is returned, after the trials taken before it have been
// sent and journaled; nothing after it is sent.
func TestRunTrialsStreamError(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	broken := errors.New("case \"x\": missing variable")
	trials := streamOf(10, func(i int) error {
		if i == 5 {
			return broken
		}
		return nil
	}, nil)
	w, err := journal.Create(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := h.config()
	cfg.Journal = w
	res, err := RunTrials(context.Background(), cfg, trials)
	w.Close()
	if !errors.Is(err, broken) {
		t.Fatalf("error %v, want the stream's", err)
	}
	if res == nil || res.StopReason != journal.StopInterrupted || res.Trials != 5 {
		t.Fatalf("result %+v, want interrupted after 5 trials", res)
	}
	if got := h.sim.Stats().Requests; got != 5 {
		t.Fatalf("%d requests sent, want 5", got)
	}
}

// TestOpenLoopCyclesStream: open-loop load walks the stream again for each
// pass and keys arrivals past the first pass with "#pass", counting passes
// from the first measured arrival (warmup arrivals are not journaled).
func TestOpenLoopCyclesStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{}
		dir := t.TempDir()
		w, _ := journal.Create(dir)
		walks := 0
		cfg := Config{API: api, Journal: w, Concurrency: 64,
			Load: &Load{Arrival: "constant", Rate: 100, Requests: 7, Warmup: 2}}
		res, err := RunTrials(context.Background(), cfg, streamOf(3, nil, &walks))
		w.Close()
		if err != nil || res.Samples != 7 {
			t.Fatalf("%v, %+v", err, res)
		}
		// Arrivals 0..8 take trials 0,1,2,0,1,2,0,1,2; 0 and 1 are warmup;
		// arrival i is in pass (i-2)/3.
		want := []string{"trial-0002", "trial-0000", "trial-0001", "trial-0002#1", "trial-0000#1", "trial-0001#1", "trial-0002#2"}
		var got []string
		for _, r := range readJournal(t, dir) {
			got = append(got, r.TrialKey)
		}
		slices.Sort(want)
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("journaled keys (-want +got):\n%s", diff)
		}
		// One walk for the progress total's first trial, three for the
		// nine arrivals.
		if walks != 4 {
			t.Errorf("%d walks of the stream, want 4", walks)
		}
	})
}

// TestStreamFiltersMatchSlices: selecting a shard or the pending trials of a
// resumed run from a stream gives the trials, counts and retried keys the
// slice functions give.
func TestStreamFiltersMatchSlices(t *testing.T) {
	trials := makeTrials(40, 2, nil)
	var b stateBuilder
	for i := range trials {
		switch i % 4 {
		case 0: // done
			b.add(&journal.Record{TrialKey: trials[i].Key, Results: 1})
		case 1: // done with an error: pending only with --retry-errors
			b.add(&journal.Record{TrialKey: trials[i].Key, Results: 1, Error: &journal.Error{Class: "validation"}})
		case 2: // started, not finished
			b.open(&journal.Record{TrialKey: trials[i].Key, Results: 1})
		}
	}
	state := b.build()
	keys := func(ts Trials) []string {
		var out []string
		for tr, err := range ts.Seq {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tr.Key)
		}
		return out
	}
	sliceKeys := func(ts []eval.Trial) []string {
		var out []string
		for _, tr := range ts {
			out = append(out, tr.Key)
		}
		return out
	}
	for _, retry := range []bool{false, true} {
		todo, retried := Pending(trials, state, retry)
		got, gotRetried, err := PendingTrials(TrialSlice(trials), state, retry)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sliceKeys(todo), keys(got)); diff != "" {
			t.Errorf("retry=%v: pending (-slice +stream):\n%s", retry, diff)
		}
		if got.Count != len(todo) || got.Samples != 2*len(todo) {
			t.Errorf("retry=%v: counted %d trials, %d samples; want %d, %d", retry, got.Count, got.Samples, len(todo), 2*len(todo))
		}
		if diff := cmp.Diff(retried, gotRetried); diff != "" {
			t.Errorf("retry=%v: retried (-slice +stream):\n%s", retry, diff)
		}
	}
	sh := Shard{Index: 2, Count: 3}
	got, err := sh.SelectTrials(TrialSlice(trials))
	if err != nil {
		t.Fatal(err)
	}
	if want := sh.Select(trials); !slices.Equal(sliceKeys(want), keys(got)) || got.Count != len(want) {
		t.Errorf("shard %s: stream has %d trials %v, slice %d", sh, got.Count, keys(got), len(want))
	}
	// An error in the stream is the filter's error.
	broken := streamOf(5, func(i int) error {
		if i == 3 {
			return fmt.Errorf("boom")
		}
		return nil
	}, nil)
	if _, err := sh.SelectTrials(broken); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("SelectTrials error = %v, want the stream's", err)
	}
}

// TestReadStateJudgesLatestLines: the state of a trial follows the latest
// line of each result index, for the indexes below the trial's result count,
// including indexes past the 64 the compact bit sets hold.
func TestReadStateJudgesLatestLines(t *testing.T) {
	e := func(class string) *journal.Error { return &journal.Error{Class: class, Message: "x"} }
	tests := []struct {
		name string
		recs []journal.Record // TrialKey is filled in
		want TrialState
	}{
		// Both results present, no error.
		{"complete", []journal.Record{{ResultIndex: 0, Results: 2}, {ResultIndex: 1, Results: 2}}, TrialState{Complete: true}},
		// Result 1 never written.
		{"missing index", []journal.Record{{ResultIndex: 0, Results: 2}}, TrialState{}},
		// An interrupted line superseded by a success is complete.
		{"interrupted then done", []journal.Record{{Results: 1, Error: e("interrupted")}, {Results: 1}}, TrialState{Complete: true}},
		// A success superseded by an interrupted line is not.
		{"done then interrupted", []journal.Record{{Results: 1}, {Results: 1, Error: e("interrupted")}}, TrialState{}},
		// A terminal error is complete and errored; a later success clears it.
		{"errored", []journal.Record{{Results: 1, Error: e("validation")}}, TrialState{Complete: true, Errored: true}},
		{"errored then done", []journal.Record{{Results: 1, Error: e("validation")}, {Results: 1}}, TrialState{Complete: true}},
		// A credits error says nothing about the trial: run it again.
		{"fatal", []journal.Record{{Results: 1, Error: e("credits")}}, TrialState{}},
		// Indexes past 64 (hand-made journals) are judged the same way:
		// 0..69 missing, 70 errored.
		{"index 70 errored", []journal.Record{{ResultIndex: 70, Results: 71, Error: e("validation")}}, TrialState{Errored: true}},
		{"all 71 indexes, 70 errored", append(indexes(70, 71), journal.Record{ResultIndex: 70, Results: 71, Error: e("validation")}), TrialState{Complete: true, Errored: true}},
		{"all 71 indexes, 70 interrupted", append(indexes(70, 71), journal.Record{ResultIndex: 70, Results: 71, Error: e("interrupted")}), TrialState{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := journal.Create(dir)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.recs {
				tt.recs[i].TrialKey = "k"
				if err := w.Append(&tt.recs[i]); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()
			state, _, err := ReadState(dir + "/" + journal.JournalFile)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := state.Get("k"); got != tt.want {
				t.Errorf("state %+v, want %+v", got, tt.want)
			}
		})
	}
}

// indexes returns successful records for result indexes 0..n-1 of a trial
// with results results.
func indexes(n, results int) []journal.Record {
	out := make([]journal.Record, n)
	for i := range out {
		out[i] = journal.Record{ResultIndex: i, Results: results}
	}
	return out
}

// TestTrialStatesKeepKeysApart: a key of 32 lowercase hex digits is held as
// its bytes; its uppercase spelling, a shorter key and any other string are
// other trials, never confused with it.
func TestTrialStatesKeepKeysApart(t *testing.T) {
	hex := "a88a4f57ae5c01cfe808ceaf380643d6"
	var b stateBuilder
	b.add(&journal.Record{TrialKey: hex, Results: 1})
	b.add(&journal.Record{TrialKey: strings.ToUpper(hex), Results: 1, Error: &journal.Error{Class: "validation"}})
	b.open(&journal.Record{TrialKey: hex[:31], Results: 2})
	s := b.build()
	for key, want := range map[string]TrialState{
		hex:                  {Complete: true},
		strings.ToUpper(hex): {Complete: true, Errored: true},
		hex[:31]:             {},
	} {
		if got, ok := s.Get(key); !ok || got != want {
			t.Errorf("Get(%q) = %+v, %v; want %+v, true", key, got, ok, want)
		}
	}
	if _, ok := s.Get("b88a4f57ae5c01cfe808ceaf380643d6"); ok {
		t.Error("a key never added is found")
	}
	if s.Len() != 3 || len(s.ids) != 1 {
		t.Errorf("Len %d (%d as bytes), want 3 (1 as bytes)", s.Len(), len(s.ids))
	}
	if id, ok := keyID(hex); !ok || fmt.Sprintf("%x", id) != hex {
		t.Errorf("keyID(%q) = %x, %v", hex, id, ok)
	}
}

// TestTrialStatesJudgeIndexesPastInline: result indexes past the 32 a
// resultSet holds count for a key held as bytes as for any other.
func TestTrialStatesJudgeIndexesPastInline(t *testing.T) {
	full, gap := "a88a4f57ae5c01cfe808ceaf380643d6", "b88a4f57ae5c01cfe808ceaf380643d6"
	var b stateBuilder
	for i := range 41 {
		var e *journal.Error
		if i == 35 {
			e = &journal.Error{Class: "validation"}
		}
		b.add(&journal.Record{TrialKey: full, ResultIndex: i, Results: 41, Error: e})
		if i != 33 {
			b.add(&journal.Record{TrialKey: gap, ResultIndex: i, Results: 41})
		}
	}
	s := b.build()
	if got, _ := s.Get(full); got != (TrialState{Complete: true, Errored: true}) {
		t.Errorf("all 41 indexes, 35 errored: %+v", got)
	}
	if got, _ := s.Get(gap); got.Complete {
		t.Errorf("index 33 missing: %+v, want incomplete", got)
	}
}
