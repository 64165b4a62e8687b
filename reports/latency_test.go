package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// latencyRun is a journal of requests with numberResults results each:
// e2e gives each request's latency, or a negative value for a request that
// timed out after -e2e ms (every result failed; 0: bound unknown).
func latencyRun(e2e []float64, results int) []*journal.Record {
	var recs []*journal.Record
	for i, v := range e2e {
		for ri := range results {
			r := &journal.Record{RunID: "r", CaseID: fmt.Sprintf("c%d", i%5), TrialKey: fmt.Sprintf("t%d", i), Seed: int64(i),
				ResultIndex: ri, Results: results, Attempts: 1,
				Timings: journal.Timings{Scheduled: fixtureStart.Add(time.Duration(i) * time.Second), Dispatched: ms(1), Queue: ms(1)}}
			if v > 0 {
				r.Timings.E2E, r.Timings.Done, r.Timings.ToSuccess = ms(v), ms(v+1), ms(v+1)
				r.Pass = true
			} else {
				r.Error = &journal.Error{Class: "timeout", Message: "no response"}
				if v < 0 {
					r.Timings.Done = ms(-v + 1)
				}
			}
			recs = append(recs, r)
		}
	}
	return recs
}

// TestLatencyOncePerRequest: 15 requests of 4 results each are 15 latency
// observations, not 60 (the n=60 from 15 requests), so no quantile
// interval is claimed that 15 requests cannot support.
func TestLatencyOncePerRequest(t *testing.T) {
	e2e := make([]float64, 15)
	for i := range e2e {
		e2e[i] = 100 + float64(i)*10
	}
	s, err := Aggregate(writeJournal(t, latencyRun(e2e, 4)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cells[0]
	if c.Samples != 60 || c.E2E.N != 15 || c.TTFT.N != 0 || c.Queue.N != 15 || c.ToSuccess.N != 15 || c.PerCase[0].E2E.N != 3 {
		t.Fatalf("samples %d, e2e n %d, queue n %d, toSuccess n %d, case e2e n %d; want 60, 15, 15, 15, 3",
			c.Samples, c.E2E.N, c.Queue.N, c.ToSuccess.N, c.PerCase[0].E2E.N)
	}
	if q, _ := c.E2E.At(0.95); !q.NTooSmall || q.Lo.Defined() {
		t.Errorf("p95 of 15 requests has an interval: %+v", q)
	}
	if q, _ := c.E2E.At(0.5); q.NTooSmall || float64(q.Value) != 170 {
		t.Errorf("median of 15 requests: %+v, want 170 with an interval", q)
	}
}

// TestLatencyPartialFailureIsObserved: a request with one answered result
// and one failed one is an observation, not censored.
func TestLatencyPartialFailureIsObserved(t *testing.T) {
	recs := latencyRun([]float64{200, 300}, 2)
	recs[1].Error, recs[1].Timings.E2E, recs[1].Pass = &journal.Error{Class: "server", Message: "boom"}, nil, false
	s, err := Aggregate(writeJournal(t, recs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Cells[0].E2E; d.N != 2 || d.Censored != 0 || float64(d.Min) != 200 {
		t.Errorf("e2e %+v, want 2 observed requests", d)
	}
}

// TestLatencyCensored: timed-out requests are counted as censored, not
// dropped; a quantile among them is shown as "> bound" in every format,
// or "> timeout" when no bound is known.
func TestLatencyCensored(t *testing.T) {
	e2e := make([]float64, 60)
	for i := range 50 {
		e2e[i] = 100 + float64(i)*20 // 100 … 1080 ms
	}
	for i := 50; i < 60; i++ {
		e2e[i] = -1300 // timed out at 1.3 s
	}
	path := writeJournal(t, latencyRun(e2e, 1))
	s, err := Aggregate(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Cells[0].E2E
	if d.N != 60 || d.Censored != 10 || float64(d.CensoredBound) != 1300 || float64(d.Max) != 1080 {
		t.Fatalf("e2e n %d censored %d bound %v max %v; want 60, 10, 1300, 1080", d.N, d.Censored, d.CensoredBound, d.Max)
	}
	p50, _ := d.At(0.5)
	p95, _ := d.At(0.95)
	if p50.Censored || float64(p50.Value) != 690 {
		t.Errorf("p50 %+v, want 690 (between the 30th and 31st of 60), not censored", p50)
	}
	// Dropping the timeouts would give p95 = 1031 ms, under the timeout.
	if !p95.Censored || float64(p95.Value) != 1300 || p95.Hi.Defined() || !p95.Lo.Defined() {
		t.Errorf("p95 %+v, want censored with lower bound 1300, lo defined, hi open", p95)
	}
	if s.Total.ToSuccess.Censored != 10 {
		t.Errorf("time to success censored %d, want 10", s.Total.ToSuccess.Censored)
	}
	for _, tc := range []struct {
		name string
		r    Renderer
		want []string
	}{
		{"table", Table(s, true), []string{"> 1300 ms (10 of 60 censored)"}},
		{"markdown", Markdown(s), []string{"> 1300 ms", "censored"}},
		{"csv", CellsCSV(s), []string{">1300", "e2e_censored"}},
		{"junit", JUnit(s), []string{`name="e2eCensored" value="10 of 60 requests"`}},
		{"html", HTML(s), []string{"10 of 60 censored"}},
		{"json", JSON(s), []string{`"censored": 10`, `"censoredBound": 1300`, `"censored": true`}},
	} {
		var buf bytes.Buffer
		if err := tc.r(&buf); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "NaN") {
			t.Errorf("%s shows NaN", tc.name)
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) && !strings.Contains(buf.String(), strings.ReplaceAll(w, ">", "&gt;")) {
				t.Errorf("%s lacks %q", tc.name, w)
			}
		}
	}
	var back Summary
	var buf bytes.Buffer
	if err := JSON(s)(&buf); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if q, _ := back.Cells[0].E2E.At(0.95); !q.Censored {
		t.Errorf("JSON p95 not marked censored: %+v", q)
	}

	// Without a known bound: "> timeout".
	for i := 50; i < 60; i++ {
		e2e[i] = 0
	}
	s, err = Aggregate(writeJournal(t, latencyRun(e2e, 1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmtQuantile(s.Cells[0].E2E, 0.95); got != "> timeout" {
		t.Errorf("p95 without a bound = %q, want \"> timeout\"", got)
	}
	// Every request timed out: nothing observed, still no NaN anywhere.
	s, err = Aggregate(writeJournal(t, latencyRun([]float64{-500, 0, -700}, 2)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Cells[0].E2E; d.N != 3 || d.Censored != 3 || d.Mean.Defined() {
		t.Errorf("all timed out: %+v, want n 3, all censored, no mean", d)
	}
	for name, r := range map[string]Renderer{"table": Table(s, true), "html": HTML(s), "csv": CellsCSV(s), "markdown": Markdown(s), "junit": JUnit(s)} {
		var buf bytes.Buffer
		if err := r(&buf); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "NaN") || !strings.Contains(buf.String(), "timeout") {
			t.Errorf("%s with every request censored: NaN shown or no \"timeout\"", name)
		}
	}
}

// TestCensoredQuantileCoverage: with requests timing out above the true
// 80th percentile, the 95% interval of the median and of p90 (its upper
// end open when censored) still holds the true quantile in at least 93% of
// 1000 simulated cells of 100 lognormal latencies, and p90 is reported as
// censored (not as a completed value under the timeout) in nearly all.
func TestCensoredQuantileCoverage(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 2))
	const sigma, reps, n = 0.5, 1000, 100
	timeout := math.Exp(sigma * NormalQuantile(0.8))
	truth := map[float64]float64{0.5: 1, 0.9: math.Exp(sigma * NormalQuantile(0.9))}
	covered := map[float64]int{}
	censored := 0
	for range reps {
		var xs, cens []float64
		for range n {
			if v := math.Exp(sigma * rnd.NormFloat64()); v < timeout {
				xs = append(xs, v)
			} else {
				cens = append(cens, timeout)
			}
		}
		d := newCensoredDist(xs, cens, []float64{0.5, 0.9})
		for p, want := range truth {
			q, _ := d.At(p)
			if p == 0.9 && q.Censored {
				censored++
			}
			if q.Lo.Defined() && float64(q.Lo) <= want && (!q.Hi.Defined() || want <= float64(q.Hi)) {
				covered[p]++
			}
		}
	}
	if censored < reps*95/100 {
		t.Errorf("p90 censored in %d of %d cells, want nearly all (20%% of requests time out)", censored, reps)
	}
	for p := range truth {
		if c := float64(covered[p]) / reps; c < 0.93 {
			t.Errorf("p%v interval coverage %.3f, want ≥ 0.93", 100*p, c)
		} else {
			t.Logf("p%v interval coverage %.3f", 100*p, c)
		}
	}
}
