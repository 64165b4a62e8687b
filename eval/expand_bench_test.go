package eval

import (
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// throughputSuite loads the suite bench/throughput.sh generates: cases
// inline cases × 2 temperatures, two cheap checks each.
func throughputSuite(tb testing.TB, cases int) *Suite {
	tb.Helper()
	var src strings.Builder
	src.WriteString("name: throughput\nmodel: moonshotai:kimi@k2.6\nrequest:\n  deliveryMethod: sync\n  includeCost: true\n  includeUsage: true\n  settings: {maxTokens: 64}\ngrid:\n  settings.temperature: [0.2, 1.0]\ncases:\n")
	for i := range cases {
		fmt.Fprintf(&src, "  - {id: c%d, prompt: \"question %d\", checks: [{contains: Simulated}, {regex: \"answer\"}]}\n", i, i)
	}
	path := filepath.Join(tb.TempDir(), "suite.yaml")
	if err := os.WriteFile(path, []byte(src.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkExpandThroughput measures one trial of the throughput suite's
// stream (10,000 cases × 2 temperatures), by ExpandSeq and by the
// reference expansion (the code before the fast path), walked by range (a
// plan, a resume selection, Filter's count) and pulled by iter.Pull2 as
// the runner's schedulers take it (two coroutine switches a trial more).
func BenchmarkExpandThroughput(b *testing.B) {
	s := throughputSuite(b, 10_000)
	for _, impl := range []struct {
		name string
		seq  func(*Suite) iter.Seq2[Trial, error]
	}{{"fast", ExpandSeq}, {"reference", referenceExpandSeq}} {
		b.Run(impl.name+"/range", func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			n := 0
			for n < b.N {
				for _, err := range impl.seq(s) {
					if err != nil {
						b.Fatal(err)
					}
					if n++; n == b.N {
						break
					}
				}
			}
		})
		b.Run(impl.name+"/pull", func(b *testing.B) {
			next, stop := iter.Pull2(impl.seq(s))
			defer func() { stop() }()
			b.ReportAllocs()
			defer reportCPU(b)()
			for range b.N {
				_, err, ok := next()
				if !ok {
					stop()
					next, stop = iter.Pull2(impl.seq(s))
					_, err, _ = next()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportCPU starts measuring the process's CPU time; the function it
// returns reports it per op as cpu-ns/op.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
