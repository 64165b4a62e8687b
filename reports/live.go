package reports

import "github.com/promptgrid/promptgrid/journal"

// Live aggregates a run's journal as it is written, so that the report at
// the end of a run does not read the journal back: `run` feeds it every
// record its journal.Writer writes (journal.Writer.Tee, which hands on
// each record as a reader of the file would see it). Its summary is
// Aggregate's for the same file exactly when Aggregate would pass every
// line on in order: no sample written twice (nothing superseded) and each
// trial's lines consecutive (what the runner writes in a fresh run). Live
// checks both, and when either fails, or the tee failed, Summary reports
// false and the caller aggregates the file instead.
//
// Live holds what Aggregate holds plus 32 bytes per sample and per trial
// (the checks), so runs feed it only up to LiveMaxSamples.
type Live struct {
	a       *Aggregator
	ids     journal.IDHasher
	samples map[journal.ID128]struct{}
	trials  map[journal.ID128]struct{}
	prev    journal.ID128
	lines   int
	incompl int
	ok      bool
}

// LiveMaxSamples is the largest run whose report is aggregated live; a
// larger one is read back from its journal after the run, which keeps the
// memory of a million-sample run flat.
const LiveMaxSamples = 200_000

// NewLive returns a Live aggregator with the options Aggregate would be
// given.
func NewLive(opts Options) *Live {
	a := NewAggregator(opts)
	// Every trial's lines are consecutive (checked in Add): nothing is
	// scattered, as Aggregate's first pass would find.
	a.blocks = &journal.Blocks{ID: a.trialID, Scattered: journal.NewBloom("")}
	return &Live{a: a, ids: journal.NewIDHasher(), samples: map[journal.ID128]struct{}{},
		trials: map[journal.ID128]struct{}{}, ok: true}
}

// Add accounts for the next line of the journal, as Aggregate's two passes
// would: a line whose sample was already written, or a trial whose lines
// are not consecutive, makes the live summary unusable.
func (l *Live) Add(r *journal.Record) {
	if !l.ok {
		return
	}
	k := r.Key()
	if g := l.a.trialID(&k); l.lines == 0 || g != l.prev {
		if _, seen := l.trials[g]; seen {
			l.Fail(nil)
			return
		}
		l.trials[g] = struct{}{}
		l.prev = g
	}
	id := l.ids.Sample(&k)
	if _, seen := l.samples[id]; seen {
		l.Fail(nil)
		return
	}
	l.samples[id] = struct{}{}
	l.lines++
	if !r.Terminal() {
		l.incompl++
		l.a.AddUncounted(r)
		return
	}
	l.a.Add(r)
}

// Fail makes the live summary unusable and drops its state; the caller
// aggregates the journal file instead (whatever the error was).
func (l *Live) Fail(error) {
	l.ok, l.a, l.samples, l.trials = false, nil, nil, nil
}

// Summary closes the aggregator and returns the summary of the lines
// added, which must be every line of the journal (lines, as the Writer
// counts them). It reports false when the summary is not Aggregate's.
func (l *Live) Summary(lines int) (*Summary, bool) {
	if !l.ok || lines != l.lines {
		return nil, false
	}
	l.a.incomplt = l.incompl
	s := l.a.Close()
	l.Fail(nil)
	return s, true
}
