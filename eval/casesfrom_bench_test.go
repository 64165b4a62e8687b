package eval

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// writeScaleSuite writes the issue 13 workload into dir: a casesFrom suite
// over rows JSONL rows with a templated case of two checks, and returns
// the suite's path.
func writeScaleSuite(tb testing.TB, dir string, rows int) string {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "rows.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range rows {
		fmt.Fprintf(w, "{\"id\": %d, \"country\": \"Country %d\", \"capital\": \"City %d\"}\n", i, i, i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	suite := filepath.Join(dir, "scale.yaml")
	src := `name: scale
model: moonshotai:kimi@k2.6
casesFrom:
  file: rows.jsonl
  id: "q-{{.id}}"
  prompt: "What is the capital of {{.country}}?"
  checks:
    - contains: "{{.capital}}"
    - regex: '^[A-Z][a-z]+'
`
	if err := os.WriteFile(suite, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	return suite
}

func benchmarkLoadCasesFrom(b *testing.B, rows int, compact bool) {
	path := writeScaleSuite(b, b.TempDir(), rows)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := LoadWithOptions(path, LoadOptions{CompactCases: compact})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := CountTrials(s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
}

// BenchmarkLoadCasesFrom1M is issue 13's validate workload: load (with
// CompactCases, as validate and run do) and count a million rows.
func BenchmarkLoadCasesFrom1M(b *testing.B) { benchmarkLoadCasesFrom(b, 1_000_000, true) }

// BenchmarkLoadCasesFrom100k loads 100,000 rows, compact and not.
func BenchmarkLoadCasesFrom100k(b *testing.B) {
	b.Run("compact", func(b *testing.B) { benchmarkLoadCasesFrom(b, 100_000, true) })
	b.Run("cases", func(b *testing.B) { benchmarkLoadCasesFrom(b, 100_000, false) })
}

// BenchmarkExpandSeqCasesFrom walks every trial of 100,000 compact rows,
// as a run does.
func BenchmarkExpandSeqCasesFrom(b *testing.B) { benchmarkExpandSeqCasesFrom(b, 100_000) }

// BenchmarkExpandSeqCasesFrom1M walks a million, reporting the largest
// live heap seen during the walks (sampled every 50,000 trials, after a
// GC): flat in the number of rows.
func BenchmarkExpandSeqCasesFrom1M(b *testing.B) { benchmarkExpandSeqCasesFrom(b, 1_000_000) }

func benchmarkExpandSeqCasesFrom(b *testing.B, rows int) {
	path := writeScaleSuite(b, b.TempDir(), rows)
	s, err := LoadWithOptions(path, LoadOptions{CompactCases: true})
	if err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	loaded, peak := ms.HeapAlloc, uint64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range ExpandSeq(s) {
			if err != nil {
				b.Fatal(err)
			}
			n++
			if rows >= 1_000_000 && n%50_000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
		if n != rows {
			b.Fatalf("%d trials", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/trial")
	if peak > 0 {
		b.ReportMetric(float64(loaded)/1e6, "MB-live-loaded")
		b.ReportMetric(float64(peak)/1e6, "MB-live-walking")
	}
}
