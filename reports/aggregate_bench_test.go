package reports

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
)

// benchCases is the number of cases of BenchmarkAggregateCases
// (PG_BENCH_CASES overrides it: 1000000 for the issue 13 size).
func benchCases(b *testing.B) int {
	if s := os.Getenv("PG_BENCH_CASES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 100_000
}

// writeScaleJournal writes a journal shaped like the issue 13 scale run:
// n cases of one sample each in one cell, every sample answered and
// failing one of two checks, with stream timings, usage and a cost.
func writeScaleJournal(b *testing.B, n int) string {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, journal.JournalFile))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	var buf []byte
	for i := range n {
		// Timings as the runner writes them: milliseconds of whole
		// nanosecond durations.
		e2e := time.Millisecond + time.Duration(i%997)*time.Millisecond/7
		r := &journal.Record{V: journal.Version, RunID: "scale", Suite: "scale", SuiteHash: "h",
			CaseID: fmt.Sprintf("q-row-%d", i), Seed: 1, Results: 1, TrialKey: strconv.Itoa(i), TaskUUID: strconv.Itoa(i),
			Delivery: "stream", Attempts: 1, FinishReason: "stop", Text: "Simulated answer",
			Timings: journal.Timings{Scheduled: start.Add(time.Duration(i) * time.Microsecond), Queue: journal.Ms(time.Millisecond),
				TTFT: journal.Ms(e2e / 3), TTFO: journal.Ms(e2e / 2), E2E: journal.Ms(e2e), ToSuccess: journal.Ms(e2e + time.Millisecond)},
			Usage: &journal.Usage{Prompt: 12, Completion: 40 + i%9, Total: 52 + i%9},
			Cost:  usd(1e-5),
			Checks: []eval.Outcome{{Check: `contains "City"`, Reason: "expected to contain \"City\""},
				{Check: "regex", Pass: true}},
			Score: 0.5}
		line, err := journal.MarshalLine(r)
		if err != nil {
			b.Fatal(err)
		}
		if buf = append(buf, line...); len(buf) > 1<<20 {
			if _, err := f.Write(buf); err != nil {
				b.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	if _, err := f.Write(buf); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return f.Name()
}

// BenchmarkAggregateCases aggregates a run of many one-sample cases (issue
// 13) and reports the aggregator's live heap per case just before Close
// (live-B/case: what must stay flat as cases grow) and after it, with the
// summary built (summary-B/case).
//
//	go test -run '^$' -bench AggregateCases -benchtime 3x ./reports
func BenchmarkAggregateCases(b *testing.B) {
	n := benchCases(b)
	path := writeScaleJournal(b, n)
	b.ResetTimer()
	var live, withSummary uint64
	for range b.N {
		var base runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&base)
		var ms runtime.MemStats
		s, err := aggregate(path, Options{}, func() {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			writeHeapProfile(b)
		})
		if err != nil {
			b.Fatal(err)
		}
		live = ms.HeapAlloc - min(ms.HeapAlloc, base.HeapAlloc)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		withSummary = ms.HeapAlloc - min(ms.HeapAlloc, base.HeapAlloc)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(live)/float64(n), "live-B/case")
	b.ReportMetric(float64(withSummary)/float64(n), "summary-B/case")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/case")
}

// writeHeapProfile writes the live heap to PG_HEAP_PROFILE, when set (a
// profile of the aggregator's state, which -memprofile, taken at the end,
// does not show).
func writeHeapProfile(b *testing.B) {
	p := os.Getenv("PG_HEAP_PROFILE")
	if p == "" {
		return
	}
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}
