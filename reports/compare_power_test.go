package reports

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

var power = flag.Bool("power", false, "run TestComparePowerTable's full simulation (docs/metrics.md power table)")

// comparePower is the share of reps simulated comparisons (one cell, the
// default margin 0) that call a regression when every case's pass
// probability drops by drop: base cases uniform in [0.3, 0.95], samples
// seeds per case, the same seeds in both runs.
func comparePower(seed uint64, cases, samples int, drop float64, reps int) float64 {
	rng := rand.New(rand.NewPCG(seed, uint64(cases*1000+samples)))
	hits := 0
	for range reps {
		base := simCases(rng, cases, 0)
		head := make([]simCase, len(base))
		for i, c := range base {
			head[i] = c
			head[i].p = c.p - drop
		}
		c := compareWith(simRun(rng, "base", 1, base, samples, 1, 0, 0.4), simRun(rng, "head", 1, head, samples, 1, 0, 0.4), 0)
		if c.Regressions > 0 {
			hits++
		}
	}
	return float64(hits) / float64(reps)
}

// TestComparePowerTable computes the power table of docs/metrics.md: the
// probability that compare calls a regression for a true pass-rate drop of
// 10 and 20 points with 30, 100 and 300 cases, at 1 sample per case (a
// suite without seeds) and 3 (seeds: {count: 3}). The full table (300
// repetitions each, about a minute) runs with -power:
//
//	go test ./reports -run TestComparePowerTable -power -v
//
// Without it, a quick check at 30 cases (60 repetitions) still fails if
// compare loses power or the drop is not found more often with more
// samples. Either way, power must grow with cases, samples and the drop.
func TestComparePowerTable(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	reps, caseCounts := 60, []int{30}
	if *power {
		reps, caseCounts = 300, []int{30, 100, 300}
	}
	var b strings.Builder
	b.WriteString("| Drop | Samples per case |")
	for _, n := range caseCounts {
		fmt.Fprintf(&b, " %d cases |", n)
	}
	b.WriteString("\n|---|--:|" + strings.Repeat("--:|", len(caseCounts)) + "\n")
	got := map[[3]int]float64{}
	for _, drop := range []int{10, 20} {
		for _, samples := range []int{1, 3} {
			fmt.Fprintf(&b, "| %d points | %d |", drop, samples)
			for _, n := range caseCounts {
				p := comparePower(uint64(drop), n, samples, float64(drop)/100, reps)
				got[[3]int{drop, samples, n}] = p
				fmt.Fprintf(&b, " %.2f |", p)
			}
			b.WriteString("\n")
		}
	}
	t.Logf("power (%d repetitions each):\n%s", reps, b.String())
	for k, p := range got {
		drop, samples, n := k[0], k[1], k[2]
		if drop == 10 {
			if q := got[[3]int{20, samples, n}]; q < p {
				t.Errorf("%d cases × %d: power %.2f at 20 points below %.2f at 10", n, samples, q, p)
			}
		}
		if samples == 1 {
			if q := got[[3]int{drop, 3, n}]; q+0.1 < p {
				t.Errorf("%d cases, %d points: power %.2f with 3 samples well below %.2f with 1", n, drop, q, p)
			}
		}
	}
	if p := got[[3]int{20, 3, 30}]; p < 0.5 {
		t.Errorf("power for a 20-point drop at 30 cases × 3 samples = %.2f, want ≥ 0.5", p)
	}
	if *power {
		if p := got[[3]int{20, 1, 300}]; p < 0.95 {
			t.Errorf("power for a 20-point drop at 300 cases = %.2f, want ≥ 0.95", p)
		}
	}
}
