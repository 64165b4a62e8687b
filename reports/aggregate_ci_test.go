package reports

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestQuantileCIMemoExact protects the numbers of the memoised quantile
// intervals: for samples of every size around the thresholds where an
// interval first exists, asked for twice (the second answer comes from the
// memo), and with the p outside (0, 1) QuantileCI refuses, quantileCI gives
// exactly QuantileCI's interval.
func TestQuantileCIMemoExact(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 2, 5, 6, 7, 58, 59, 60, 299, 1000, 3001} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.Round(rnd.ExpFloat64()*100) / 10 // ties included
		}
		slices.Sort(xs)
		for round := range 2 {
			for _, p := range append(slices.Clone(latencyQuantiles), 0, 1, 0.9, 0.001) {
				wlo, whi, wok := QuantileCI(xs, p, ciConf)
				glo, ghi, gok := quantileCI(xs, p)
				if wok != gok || !sameNum(wlo, glo) || !sameNum(whi, ghi) {
					t.Errorf("n=%d p=%v round %d: quantileCI = (%v, %v, %v), QuantileCI = (%v, %v, %v)",
						n, p, round, glo, ghi, gok, wlo, whi, wok)
				}
			}
		}
	}
}

func sameNum(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
