package reports

import (
	"fmt"
	"strconv"

	"github.com/promptgrid/promptgrid/journal"
	"math"
	"math/rand/v2"
	"testing"
)

// rateProfile draws the true pass rate of one case; mean is the population
// mean the cell's interval should cover.
type rateProfile struct {
	name string
	mean float64
	draw func(r *rand.Rand) float64
}

// rateProfiles range from every case equal to cases that mostly always pass
// or always fail.
var rateProfiles = []rateProfile{
	{"equal 0.5", 0.5, func(*rand.Rand) float64 { return 0.5 }},
	{"equal 0.9", 0.9, func(*rand.Rand) float64 { return 0.9 }},
	{"equal 0.98", 0.98, func(*rand.Rand) float64 { return 0.98 }},
	{"uniform 0-1", 0.5, func(r *rand.Rand) float64 { return r.Float64() }},
	{"0.6 or 1", 0.8, func(r *rand.Rand) float64 { return []float64{0.6, 1}[r.IntN(2)] }},
	{"0 or 1 (p 0.8)", 0.8, func(r *rand.Rand) float64 {
		if r.Float64() < 0.8 {
			return 1
		}
		return 0
	}},
	{"0.2 or 0.95", 0.575, func(r *rand.Rand) float64 { return []float64{0.2, 0.95}[r.IntN(2)] }},
}

// coverageOf returns the share of reps simulated cells whose ClusteredPassRate
// interval holds the profile's mean: every rep draws c cases' true rates from
// the profile, then n samples per case.
func coverageOf(rng *rand.Rand, prof rateProfile, c, n, reps int) float64 {
	counts := make([]CaseCount, c)
	hit := 0
	for range reps {
		for i := range counts {
			p := prof.draw(rng)
			k := 0
			for range n {
				if rng.Float64() < p {
					k++
				}
			}
			counts[i] = CaseCount{Pass: k, N: n}
		}
		_, lo, hi := ClusteredPassRate(counts)
		if lo <= prof.mean && prof.mean <= hi {
			hit++
		}
	}
	return float64(hit) / float64(reps)
}

// TestClusteredPassRateCoverage is the coverage simulation of requirement 3 of
// issue 12 (fixed seeds): for 5 to 100 cases, 1 to 10 samples per case and
// per-case rates from all equal to all-or-nothing, the cell's 95% interval
// holds the population mean pass rate in at least 93% of 2000 simulated cells.
// With -v it prints the table in docs/metrics.md.
func TestClusteredPassRateCoverage(t *testing.T) {
	const reps = 2000
	worst := 1.0
	for pi, prof := range rateProfiles {
		line := fmt.Sprintf("%-16s", prof.name)
		for _, c := range []int{5, 10, 30, 100} {
			for _, n := range []int{1, 3, 10} {
				rng := rand.New(rand.NewPCG(uint64(pi), uint64(1000*c+n)))
				cov := coverageOf(rng, prof, c, n, reps)
				worst = math.Min(worst, cov)
				line += fmt.Sprintf(" %.3f", cov)
				if cov < 0.93 {
					t.Errorf("%s, %d cases × %d samples: coverage %.3f, want ≥ 0.93", prof.name, c, n, cov)
				}
			}
		}
		t.Log(line)
	}
	t.Logf("worst coverage %.3f", worst)
}

// TestPairedIntervalAgreesWithExactTest: per-case differences 0 and +1
// whose t interval excludes 0 while the exact p-value is 0.125 (4 of 30
// cases moving up, the 26 zeros narrowing the t interval)
// must get an interval that includes 0, as the exact test decides.
func TestPairedIntervalAgreesWithExactTest(t *testing.T) {
	diffs := make([]float64, 30)
	copy(diffs, []float64{1, 1, 1, 1})
	_, lo, _, _ := PairedMeanCI(diffs, 1-Alpha)
	p := SignFlipPValue(diffs)
	if !(lo > 0) || !(p >= Alpha) {
		t.Fatalf("fixture: t lo %v, exact p %v; want lo > 0 and p >= %v", lo, p, Alpha)
	}
	c := NewComparer(0)
	for i, d := range diffs {
		id := "c" + strconv.Itoa(i)
		c.AddBase(&journal.Record{RunID: "b", CaseID: id, Pass: d == 0})
		c.AddHead(&journal.Record{RunID: "h", CaseID: id, Pass: true})
	}
	got := c.Close().Cells[0]
	if !(float64(got.Diff.Lo) <= 0 && float64(got.Diff.Hi) >= 0) {
		t.Errorf("interval [%v, %v] excludes 0 while the exact p is %v", got.Diff.Lo, got.Diff.Hi, got.P)
	}
}

// TestMarginMDE: the MDE of a verdict grows by the margin and with the
// number of cells (Holm's first level, Alpha/cells), and equals the plain
// MinDetectableEffect with no margin and one cell.
func TestMarginMDE(t *testing.T) {
	plain := MinDetectableEffect(0.3, 30)
	if got := marginMDE(0.3, 30, 0, 1); math.Abs(got-plain) > 1e-12 {
		t.Errorf("no margin, one cell: %v, want %v", got, plain)
	}
	if got := marginMDE(0.3, 30, 0.05, 1); math.Abs(got-(plain+0.05)) > 1e-12 {
		t.Errorf("margin 0.05: %v, want %v", got, plain+0.05)
	}
	df := 29.0
	want := (StudentTQuantile(1-0.05/40, df) + StudentTQuantile(0.8, df)) * 0.3 / math.Sqrt(30)
	if got := marginMDE(0.3, 30, 0, 20); math.Abs(got-want) > 1e-12 || !(got > plain) {
		t.Errorf("20 cells: %v, want %v (> %v)", got, want, plain)
	}
	if !math.IsNaN(marginMDE(0.3, 1, 0, 1)) {
		t.Error("one case: want NaN")
	}
}
