package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/promptgrid/promptgrid/journal"
)

// liveOf writes recs to a fresh journal through a Writer that tees them to
// a Live aggregator (as a run does) and returns its summary, whether it
// was usable, and the journal's path.
func liveOf(t *testing.T, recs []*journal.Record, opts Options) (*Summary, bool, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := journal.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	live := NewLive(opts)
	if !w.Tee(live.Add, live.Fail) {
		t.Fatal("Tee refused a fresh journal")
	}
	for _, r := range recs {
		if err := w.AppendAll([]*journal.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sum, ok := live.Summary(len(recs))
	return sum, ok, filepath.Join(dir, journal.JournalFile)
}

// renderJSON renders a summary as the JSON report.
func renderJSON(t *testing.T, s *Summary) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := JSON(s)(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A live summary of a journal written once in order, with several results
// per trial, errors, cached, estimated and interrupted samples, is the
// summary Aggregate makes of the file.
func TestLiveIsAggregateOfAFreshJournal(t *testing.T) {
	recs := fixtureRecords()
	interrupted := *recs[len(recs)-1]
	interrupted.TrialKey, interrupted.ResultIndex, interrupted.Results = "t-interrupted", 0, 1
	interrupted.Error = &journal.Error{Class: "interrupted", Message: "the run stopped"}
	interrupted.Cost = usd(0.5)
	recs = append(recs, &interrupted)
	for _, opts := range []Options{{}, {ErrorsAsFailures: true, MaxFailures: 1, FailureText: 5}} {
		sum, ok, path := liveOf(t, recs, opts)
		if !ok {
			t.Fatal("live summary refused for a journal written once, in order")
		}
		want, err := Aggregate(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		if want.Incomplete != 1 || sum.Incomplete != 1 {
			t.Fatalf("incomplete: live %d, Aggregate %d, want 1", sum.Incomplete, want.Incomplete)
		}
		if got, w := renderJSON(t, sum), renderJSON(t, want); !bytes.Equal(got, w) {
			t.Errorf("live summary differs from Aggregate's:\nlive: %.600s\nfile: %.600s", got, w)
		}
	}
}

// Live refuses (the caller then reads the file) exactly the journals it
// cannot summarize as Aggregate would: a sample written twice (Aggregate
// keeps the last), a trial whose lines are not consecutive, a journal with
// lines it was not fed, and a failed tee.
func TestLiveRefusesWhatAggregateReadsDifferently(t *testing.T) {
	base := fixtureRecords()
	again := *base[0]
	again.Text = "superseding line"
	scattered := append([]*journal.Record{}, base...)
	scattered[1], scattered[2] = scattered[2], scattered[1] // a trial's two results apart
	for name, recs := range map[string][]*journal.Record{
		"sample twice":             append(append([]*journal.Record{}, base...), &again),
		"trial lines not in a row": scattered,
	} {
		if _, ok, _ := liveOf(t, recs, Options{}); ok {
			t.Errorf("%s: live summary accepted", name)
		}
	}
	l := NewLive(Options{})
	for _, r := range base {
		l.Add(r)
	}
	if _, ok := l.Summary(len(base) + 1); ok {
		t.Error("live summary accepted with a line it was not fed")
	}
	l = NewLive(Options{})
	l.Add(base[0])
	l.Fail(os.ErrClosed)
	if _, ok := l.Summary(1); ok {
		t.Error("live summary accepted after the tee failed")
	}
}
