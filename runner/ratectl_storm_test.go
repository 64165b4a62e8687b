package runner

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// stormRun runs n trials with no --rate at concurrency conc against an
// in-process simulator with the given faults, inside the current synctest
// bubble, and returns trials/s in fake time with what the run counted.
func stormRun(t *testing.T, faults runwaretest.Faults, n, conc int) (perSec float64, m maxRateRun) {
	t.Helper()
	h := runwaretest.NewHandler(runwaretest.Options{APIKeys: []string{"k"}, TimeScale: 0.1, Seed: 3, Faults: faults})
	defer h.Close()
	dir := t.TempDir()
	w, err := journal.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := &Progress{}
	cfg := Config{
		API: runware.NewClient("k", runware.WithEndpoint("http://sim/v1"),
			runware.WithHTTPClient(&http.Client{Transport: h.Transport()})),
		RunID:       "storm",
		Journal:     w,
		Concurrency: conc,
		Pricing:     eval.DefaultPricing,
		Progress:    p,
		// Six attempts lose one trial in 3^6 to a third refused at
		// random whatever the controller does; this test is about the
		// controller, so no trial may run out of attempts.
		Retry: Retry{MaxAttempts: 30},
	}
	start := time.Now()
	res, err := Run(context.Background(), cfg, makeTrials(n, 1, nil))
	elapsed := time.Since(start)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.StopReason != journal.StopCompleted {
		t.Fatalf("stop reason %q (%s)", res.StopReason, res.StopDetail)
	}
	m = maxRateRun{
		limited:  float64(p.RateLimited.Load()) / float64(p.Calls.Load()),
		calls:    p.Calls.Load(),
		trials:   n,
		journal:  perTrial(readJournal(t, dir)),
		errored:  p.Errored.Load(),
		elapsed:  elapsed,
		simCalls: h.Stats().Requests,
	}
	return float64(n) / elapsed.Seconds(), m
}

// TestRandom429sDoNotCollapseTheRate protects the issue-13 storm target:
// with a third of the requests refused at random (429, no Retry-After) and
// no rate limit anywhere, a run with no --rate keeps at least half of the
// fault-free throughput times 2/3, and journals every trial exactly once
// without an error. Lowering the rate does not lower the share of such
// 429s, so the controller must stop lowering it. All in fake time; enough
// trials that the retry backoff of the last ones does not dominate.
func TestRandom429sDoNotCollapseTheRate(t *testing.T) {
	const n, conc = 4000, 16
	var clean, storm float64
	synctest.Test(t, func(t *testing.T) {
		clean, _ = stormRun(t, runwaretest.Faults{}, n, conc)
	})
	synctest.Test(t, func(t *testing.T) {
		var m maxRateRun
		storm, m = stormRun(t, runwaretest.Faults{RateLimit: runwaretest.Fault{P: 1.0 / 3}}, n, conc)
		t.Logf("fault-free %.0f trials/s; storm %.0f trials/s (%.0f%% of fault-free x 2/3), %.1f%% 429s, %d calls in %v",
			clean, storm, 100*storm/(clean*2/3), 100*m.limited, m.calls, m.elapsed)
		if storm < 0.5*clean*2/3 {
			t.Errorf("storm %.0f trials/s, want at least half of %.0f x 2/3", storm, clean)
		}
		if m.limited < 0.25 || m.limited > 0.42 {
			t.Errorf("%.1f%% of calls answered 429, want about a third (the simulator's share)", 100*m.limited)
		}
		if m.errored != 0 || len(m.journal) != n {
			t.Errorf("%d errors, %d trials journaled, want 0 and %d", m.errored, len(m.journal), n)
		}
		for k, c := range m.journal {
			if c != 1 {
				t.Errorf("%s journaled %d times", k, c)
			}
		}
		if m.calls != m.simCalls {
			t.Errorf("runner made %d calls, simulator counted %d", m.calls, m.simCalls)
		}
	})
}
