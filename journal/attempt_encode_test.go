package journal

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendAttemptMatchesMarshal protects the attempt log's hand-written
// encoder: every line is byte for byte what json.Marshal writes, for plain
// and escaped strings, floats of every magnitude and odd times.
func TestAppendAttemptMatchesMarshal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "sent", "settled", "0f3a9c1e", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "a\"b", "x\\y", "<&>", "tab\t", "é", "\u2028", "k#2"}
	floats := []float64{0, 1, -1, 0.5, 1e-6, 9.99e-7, 1e-7, 1.5e-10, 1e20, 1e21, 123456789.125, 3.96e-05, 0.0002268, math.SmallestNonzeroFloat64, math.MaxFloat64}
	times := []time.Time{{}, time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC), time.Date(2026, 12, 3, 8, 0, 0, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("x", 5*3600+1800)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range 5000 {
		a := Attempt{Kind: strs[rnd.IntN(len(strs))], TrialKey: strs[rnd.IntN(len(strs))], TaskUUID: strs[rnd.IntN(len(strs))],
			Delivery: strs[rnd.IntN(len(strs))], Judge: rnd.IntN(2) == 0, Agent: rnd.IntN(2) == 0,
			Bound: floats[rnd.IntN(len(floats))], Charged: floats[rnd.IntN(len(floats))] * rnd.Float64(), At: times[rnd.IntN(len(times))]}
		if i%7 == 0 {
			a.Charged = rnd.NormFloat64() * math.Pow(10, float64(rnd.IntN(40)-20))
		}
		want, werr := json.Marshal(&a)
		got, gerr := appendAttempt(nil, &a)
		if (werr == nil) != (gerr == nil) || string(got) != string(want) {
			t.Fatalf("attempt %+v:\n got %s (%v)\nwant %s (%v)", a, got, gerr, want, werr)
		}
	}
}

// BenchmarkAttemptLine: one attempt line by appendAttempt and by
// json.Marshal (BENCHMARKS.md).
func BenchmarkAttemptLine(b *testing.B) {
	a := Attempt{Kind: AttemptSent, TrialKey: "650cf25c849dee9af30b65a41f07bbb7", TaskUUID: "9e65d7a3-768b-4004-acc7-6bc9f43c44de",
		Delivery: "sync", Bound: 0.000282, At: time.Now().UTC()}
	b.Run("append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = appendAttempt(buf[:0], &a)
		}
	})
	b.Run("marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(&a)
		}
	})
}
