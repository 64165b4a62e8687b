package runner

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// TestScheduleShapes: the precomputed schedules have the asked count, mean
// rate and variability, and depend only on the seed.
func TestScheduleShapes(t *testing.T) {
	tests := []struct {
		load   Load
		wantCV float64 // coefficient of variation of the gaps
	}{
		// Constant: every gap 1/R.
		{Load{Arrival: "constant", Rate: 50, Requests: 4000}, 0},
		// Poisson: exponential gaps, CV 1.
		{Load{Arrival: "poisson", Rate: 50, Requests: 4000, Seed: 3}, 1},
		// Gamma with burstiness 2: CV 2.
		{Load{Arrival: "gamma", Rate: 50, Burstiness: 2, Requests: 4000, Seed: 3}, 2},
		// Gamma with burstiness 0.5: more regular than Poisson.
		{Load{Arrival: "gamma", Rate: 50, Burstiness: 0.5, Requests: 4000, Seed: 3}, 0.5},
	}
	for _, tc := range tests {
		s, err := tc.load.Schedule()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 4000 || s[0] != 0 {
			t.Fatalf("%s: %d arrivals starting at %v", tc.load.Arrival, len(s), s[0])
		}
		var sum, sq float64
		for i := 1; i < len(s); i++ {
			g := (s[i] - s[i-1]).Seconds()
			sum += g
			sq += g * g
		}
		n := float64(len(s) - 1)
		mean := sum / n
		cv := math.Sqrt(sq/n-mean*mean) / mean
		if math.Abs(mean-0.02)/0.02 > 0.1 || math.Abs(cv-tc.wantCV) > 0.1*math.Max(tc.wantCV, 1) {
			t.Errorf("%s B=%v: mean gap %.4fs CV %.2f, want 0.02s and %.2f", tc.load.Arrival, tc.load.Burstiness, mean, cv, tc.wantCV)
		}
		again, _ := tc.load.Schedule()
		for i := range s {
			if s[i] != again[i] {
				t.Fatalf("%s: schedule not reproducible at %d", tc.load.Arrival, i)
			}
		}
	}
	d, _ := (&Load{Arrival: "constant", Rate: 10, Duration: 2 * time.Second, Warmup: 3}).Schedule()
	if len(d) != 23 {
		t.Fatalf("10/s for 2s after 3 warmup arrivals: %d arrivals, want 23", len(d))
	}
}

// TestOpenLoopKeepsSchedule: arrivals leave at their intended times even
// though the server is slow (no coordinated omission); warmup arrivals are
// sent but not journaled; a second pass over the trials gets its own keys.
func TestOpenLoopKeepsSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{latency: 500 * time.Millisecond}
		dir := t.TempDir()
		w, _ := journal.Create(dir)
		start := time.Now()
		cfg := Config{API: api, Journal: w, Concurrency: 1024,
			Load: &Load{Arrival: "constant", Rate: 10, Requests: 20, Warmup: 2}}
		res, err := Run(context.Background(), cfg, makeTrials(8, 1, nil))
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(api.times) != 22 || res.Samples != 20 {
			t.Fatalf("%d sent, %d journaled; want 22 and 20", len(api.times), res.Samples)
		}
		for i, at := range api.times {
			if want := time.Duration(i) * 100 * time.Millisecond; at.Sub(start) != want {
				t.Fatalf("arrival %d left at %v, want %v", i, at.Sub(start), want)
			}
		}
		recs := readJournal(t, dir)
		keys := map[string]bool{}
		for _, r := range recs {
			keys[r.TrialKey] = true
			if r.Timings.Late == nil || *r.Timings.Late != 0 {
				t.Fatalf("on-time arrival recorded late %v", r.Timings.Late)
			}
		}
		if len(keys) != 20 {
			t.Fatalf("%d distinct keys for 20 arrivals", len(keys))
		}
	})
}

// TestOpenLoopCountsLateness: with a concurrency cap of 1 and a slow server,
// arrivals leave late; the delay is recorded and latency from the intended
// time includes it.
func TestOpenLoopCountsLateness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{latency: 300 * time.Millisecond}
		dir := t.TempDir()
		w, _ := journal.Create(dir)
		cfg := Config{API: api, Journal: w, Concurrency: 1,
			Load: &Load{Arrival: "constant", Rate: 10, Requests: 3}}
		if _, err := Run(context.Background(), cfg, makeTrials(3, 1, nil)); err != nil {
			t.Fatal(err)
		}
		w.Close()
		// Arrivals at 0, 100, 200 ms; each takes 300 ms one at a time, so
		// they leave at 0, 300, 600 ms: 0, 200 and 400 ms late.
		want := map[string]float64{"trial-0000": 0, "trial-0001": 200, "trial-0002": 400}
		for _, r := range readJournal(t, dir) {
			if *r.Timings.Late != want[r.TrialKey] || *r.Timings.ToSuccess != want[r.TrialKey]+300 {
				t.Fatalf("%s: late %v, to success %v; want %v and %v", r.TrialKey, *r.Timings.Late, *r.Timings.ToSuccess, want[r.TrialKey], want[r.TrialKey]+300)
			}
		}
	})
}
