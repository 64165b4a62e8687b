package runner

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// BenchmarkRunSimulator measures samples/s of the whole runner (pacing,
// HTTP to the in-process simulator at zero latency, scoring two cheap
// checks, journaling) with numberResults 1.
func BenchmarkRunSimulator(b *testing.B) {
	sim := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{"k"}})
	defer sim.Close()
	trials := makeTrials(b.N, 1, nil)
	two := &eval.Case{ID: "c", Checks: []eval.Check{containsCheck("answer"), containsCheck("e")}}
	for i := range trials {
		trials[i].Case = two
	}
	dir := b.TempDir()
	w, err := journal.Create(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	// A run writes the attempt log too.
	attempts, err := journal.OpenAttempts(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer attempts.Close()
	cfg := Config{
		API:         runware.NewClient("k", runware.WithEndpoint(sim.URL()), runware.WithHTTPClient(HTTPClient(16))),
		RunID:       "bench",
		Journal:     w,
		Attempts:    attempts,
		Concurrency: 16,
		Pricing:     eval.DefaultPricing,
	}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), cfg, trials)
	if err != nil || res.Samples != b.N {
		b.Fatalf("%v, %+v", err, res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkRecords measures turning one response into scored records.
func BenchmarkRecords(b *testing.B) {
	trials := makeTrials(1, 1, nil)
	r := &run{cfg: Config{Pricing: eval.DefaultPricing}, prog: &Progress{}}
	j := r.newJob(&trials[0], trials[0].Key)
	cost := 0.001
	resp := &runware.Response{TaskUUID: "x", Results: []runware.Result{{Text: "the answer", Cost: &cost,
		Usage: &runware.Usage{PromptTokens: 10, CompletionTokens: 20}}}}
	b.ReportAllocs()
	for b.Loop() {
		recs := r.records(j, resp)
		r.score(j, recs)
	}
}

// BenchmarkAIMDMaxRate runs 20 s worth of trials (20*R) with concurrency 64
// and no --rate against a simulator on loopback that accepts at most R
// requests/s and answers 429 with Retry-After beyond that, for R = 20, 50
// and 200, in real time; it reports the achieved share of R (trials over
// the run's wall time, latency tail included) and the share of requests
// answered 429.
func BenchmarkAIMDMaxRate(b *testing.B) {
	for _, maxRate := range []float64{20, 50, 200} {
		b.Run(fmt.Sprintf("R=%v", maxRate), func(b *testing.B) { benchMaxRate(b, maxRate, int(20*maxRate)) })
	}
}

func benchMaxRate(b *testing.B, maxRate float64, n int) {
	for b.Loop() {
		sim := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{"k"}, TimeScale: 0.1,
			Faults: runwaretest.Faults{MaxRate: maxRate}})
		w, err := journal.Create(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		p := &Progress{}
		cfg := Config{
			API:         runware.NewClient("k", runware.WithEndpoint(sim.URL()), runware.WithHTTPClient(HTTPClient(64))),
			RunID:       "bench",
			Journal:     w,
			Concurrency: 64,
			Pricing:     eval.DefaultPricing,
			Progress:    p,
		}
		start := time.Now()
		res, err := Run(context.Background(), cfg, makeTrials(n, 1, nil))
		elapsed := time.Since(start)
		w.Close()
		sim.Close()
		if err != nil || res.Samples != n || p.Errored.Load() != 0 {
			b.Fatalf("%v %+v errors=%d", err, res, p.Errored.Load())
		}
		b.ReportMetric(float64(n)/elapsed.Seconds()/maxRate*100, "%ofR")
		b.ReportMetric(float64(p.RateLimited.Load())/float64(p.Calls.Load())*100, "%429")
	}
}
