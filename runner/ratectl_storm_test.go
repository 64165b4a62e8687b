package runner

import (
	"testing"
	"testing/synctest"

	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// stormRun runs n trials with no --rate at concurrency conc against an
// in-process simulator with the given faults, inside the current synctest
// bubble, and returns trials/s in fake time with what the run counted.
func stormRun(t *testing.T, faults runwaretest.Faults, n, conc int) (perSec float64, m maxRateRun) {
	t.Helper()
	m = simRun(t, runwaretest.Options{APIKeys: []string{"k"}, TimeScale: 0.1, Seed: 3, Faults: faults}, n, func(c *Config) {
		c.RunID, c.Concurrency = "storm", conc
		// Six attempts lose one trial in 3^6 to a third refused at
		// random whatever the controller does; this test is about the
		// controller, so no trial may run out of attempts.
		c.Retry = Retry{MaxAttempts: 30}
	})
	return float64(n) / m.elapsed.Seconds(), m
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
