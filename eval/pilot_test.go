package eval

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestParsePilotSize(t *testing.T) {
	good := map[string]PilotSize{"20": {Count: 20}, "1": {Count: 1}, "5%": {Fraction: 0.05}, "100%": {Fraction: 1}, " 2.5% ": {Fraction: 0.025}}
	for in, want := range good {
		got, err := ParsePilotSize(in)
		if err != nil || got != want {
			t.Errorf("ParsePilotSize(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-3", "0%", "150%", "100.5%", "abc", "", "%", "5 %x", "NaN%", "1e400%", "2.5"} {
		if got, err := ParsePilotSize(in); err == nil {
			t.Errorf("ParsePilotSize(%q) = %+v, want an error", in, got)
		}
	}
	if n := (PilotSize{Fraction: 0.05}).Of(320); n != 16 {
		t.Errorf("5%% of 320 = %d, want 16", n)
	}
	if n := (PilotSize{Fraction: 0.05}).Of(321); n != 17 {
		t.Errorf("5%% of 321 = %d, want 17 (rounded up)", n)
	}
	if n := (PilotSize{Fraction: 0.001}).Of(10); n != 1 {
		t.Errorf("0.1%% of 10 = %d, want 1", n)
	}
	if s := (PilotSize{Fraction: 0.05}).String(); s != "5%" {
		t.Errorf("String = %q", s)
	}
}

func TestPilotAllocate(t *testing.T) {
	cases := []struct {
		counts []int
		total  int
		want   []int
	}{
		{[]int{100, 100, 100, 100}, 20, []int{5, 5, 5, 5}},
		{[]int{300, 100}, 20, []int{15, 5}},
		// Every stratum gets one, the rest proportionally.
		{[]int{1000, 10, 10}, 10, []int{8, 1, 1}},
		// Below the number of strata: raised to one each.
		{[]int{50, 50, 50}, 1, []int{1, 1, 1}},
		// The forced minimum is taken from the strata above their share.
		{[]int{2, 100}, 50, []int{1, 49}},
		{[]int{1, 1, 98}, 10, []int{1, 1, 8}},
		// More than the suite: everything.
		{[]int{3, 4}, 99, []int{3, 4}},
		// Largest remainder, ties to the earlier stratum.
		{[]int{10, 10, 10}, 4, []int{2, 1, 1}},
		{[]int{0, 10}, 3, []int{0, 3}},
	}
	for _, c := range cases {
		if got := PilotAllocate(c.counts, c.total); !slices.Equal(got, c.want) {
			t.Errorf("PilotAllocate(%v, %d) = %v, want %v", c.counts, c.total, got, c.want)
		}
	}
	// Properties over random inputs: the sum is the clamped total, each
	// non-empty stratum has 1..count, and no stratum is more than one trial
	// off its proportional share beyond the forced minimum.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		counts := make([]int, 1+rng.IntN(12))
		sum := 0
		for i := range counts {
			counts[i] = 1 + rng.IntN(60)
			sum += counts[i]
		}
		total := 1 + rng.IntN(sum+5)
		got := PilotAllocate(counts, total)
		want := min(max(total, len(counts)), sum)
		gsum := 0
		for i, n := range got {
			gsum += n
			if n < 1 || n > counts[i] {
				t.Fatalf("PilotAllocate(%v, %d) = %v: stratum %d out of range", counts, total, got, i)
			}
		}
		if gsum != want {
			t.Fatalf("PilotAllocate(%v, %d) = %v: sum %d, want %d", counts, total, got, gsum, want)
		}
	}
}

func TestPilotSelect(t *testing.T) {
	counts := []int{40, 7, 1, 120}
	a := PilotSelect(counts, 20, 42)
	b := PilotSelect(counts, 20, 42)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Fatalf("same seed, different selections: %v vs %v", a, b)
	}
	alloc := PilotAllocate(counts, 20)
	for i, sel := range a {
		if len(sel) != alloc[i] {
			t.Errorf("stratum %d: %d selected, want %d", i, len(sel), alloc[i])
		}
		if !slices.IsSorted(sel) || len(slices.Compact(slices.Clone(sel))) != len(sel) {
			t.Errorf("stratum %d: %v not sorted and unique", i, sel)
		}
		for _, j := range sel {
			if j < 0 || j >= counts[i] {
				t.Errorf("stratum %d: index %d out of range", i, j)
			}
		}
	}
	if c := PilotSelect(counts, 20, 43); slices.EqualFunc(a, c, slices.Equal) {
		t.Errorf("seeds 42 and 43 select the same trials: %v", a)
	}
	// Uniform: over many seeds every index of a stratum of 10 with 3 drawn
	// is chosen about 30% of the time.
	hits := make([]int, 10)
	const reps = 6000
	for seed := range uint64(reps) {
		for _, j := range PilotSelect([]int{10}, 3, seed)[0] {
			hits[j]++
		}
	}
	for j, h := range hits {
		if p := float64(h) / reps; math.Abs(p-0.3) > 0.03 {
			t.Errorf("index %d chosen %.3f of the time, want about 0.3", j, p)
		}
	}
}

func pnear(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestForecastPilotFormulas(t *testing.T) {
	obs := func(costs ...float64) []PilotObs {
		o := make([]PilotObs, len(costs))
		for i, c := range costs {
			o[i] = PilotObs{Cost: c, OutputTokens: 1000 * c, Latency: c}
		}
		return o
	}
	strata := []PilotStratum{
		{Cell: "a", Trials: 10, Obs: obs(1, 2, 3)},             // measured
		{Cell: "b", Trials: 4, Obs: obs(5, 5, 6, 6)},           // exact
		{Cell: "c", Trials: 20, Obs: obs(2)},                   // borrowed
		{Cell: "d", Trials: 10, Obs: obs(1, 3), CostBound: 25}, // clamped by the bound
	}
	f := ForecastPilot(strata, PilotOptions{Concurrency: 2})
	a := f.Cells[0].Cost
	// mean 2, s² 1: total 20, var = 100 × (1 − 3/10) × 1/3.
	wantVar := 100 * 0.7 / 3
	if a.Spread != SpreadMeasured || !pnear(a.Mean, 20) || !pnear(a.SE*a.SE, wantVar) || a.DF != 2 {
		t.Errorf("cell a: %+v, want mean 20, var %g, df 2", a, wantVar)
	}
	// 20 − h is below the 6 the pilot itself spent: the floor is 6.
	if h := TQuantile975(2) * math.Sqrt(wantVar); a.Low != 6 || !pnear(a.High, 20+h) {
		t.Errorf("cell a interval [%g, %g], want [6, 20 + %g]", a.Low, a.High, h)
	}
	b := f.Cells[1].Cost
	if b.Spread != SpreadExact || b.Mean != 22 || b.Low != 22 || b.High != 22 || b.SE != 0 {
		t.Errorf("cell b (fully observed): %+v, want exactly 22", b)
	}
	// Pooled CV² from a (s²/m² = 1/4, df 2), b (s² 1/3, m 5.5, df 3) and
	// d (s² 2, m 2: 1/2, df 1), weighted by degrees of freedom.
	c := f.Cells[2].Cost
	cv2 := (2*0.25 + 3*(1.0/3)/30.25 + 0.5) / 6
	wantC := 400 * (1 - 1.0/20) * cv2 * 4
	if c.Spread != SpreadBorrowed || !pnear(c.Mean, 40) || !pnear(c.SE*c.SE, wantC) || c.DF != 6 {
		t.Errorf("cell c: %+v, want mean 40, var %g, df 6", c, wantC)
	}
	d := f.Cells[3].Cost
	if d.High != 25 || !pnear(d.Mean, 20) {
		t.Errorf("cell d: %+v, want high clamped to the bound 25", d)
	}
	if d.Low < 4 {
		t.Errorf("cell d low %g below what the pilot itself spent (4)", d.Low)
	}
	tot := f.Total.Cost
	va, vd := wantVar, 100*(1-0.2)*2/2
	sum := va + wantC + vd
	if !pnear(tot.Mean, 20+22+40+20) || !pnear(tot.SE*tot.SE, sum) {
		t.Errorf("total: %+v, want mean 102, var %g", tot, sum)
	}
	wantDF := sum * sum / (va*va/2 + wantC*wantC/6 + vd*vd/1)
	if !pnear(tot.DF, wantDF) {
		t.Errorf("total df %g, want Satterthwaite %g", tot.DF, wantDF)
	}
	if f.Total.Trials != 44 || f.Total.Piloted != 10 {
		t.Errorf("total trials %d piloted %d", f.Total.Trials, f.Total.Piloted)
	}
	// Output tokens have no bound; busy / concurrency is the duration.
	if !pnear(f.Total.OutputTokens.Mean, 1000*tot.Mean) || !pnear(f.Duration.Mean, tot.Mean/2) {
		t.Errorf("tokens %g, duration %g", f.Total.OutputTokens.Mean, f.Duration.Mean)
	}
	// A rate floor dominates a short busy time.
	g := ForecastPilot(strata, PilotOptions{Rate: 0.1, Concurrency: 100})
	if g.Duration.Mean != 440 || g.Duration.Low != 440 {
		t.Errorf("duration under rate 0.1/s: %+v, want 440 s", g.Duration)
	}
	// Unknown latency (NaN) leaves the duration unknown, not zero.
	u := ForecastPilot([]PilotStratum{{Trials: 5, Obs: []PilotObs{{Cost: 1, Latency: math.NaN()}, {Cost: 2, Latency: math.NaN()}}}}, PilotOptions{Concurrency: 1})
	if u.Total.Busy.Spread != SpreadUnknown || !math.IsNaN(u.Duration.High) {
		t.Errorf("no latencies: busy %+v duration %+v", u.Total.Busy, u.Duration)
	}
	// One stratum of one observation has no spread to measure or borrow.
	one := ForecastPilot([]PilotStratum{{Trials: 5, Obs: obs(1)}}, PilotOptions{Concurrency: 1})
	if one.Total.Cost.Spread != SpreadUnknown || !math.IsNaN(one.Total.Cost.Low) {
		t.Errorf("single observation: %+v", one.Total.Cost)
	}
}

func TestExceedProbability(t *testing.T) {
	e := Estimate{Mean: 10, SE: 2, Spread: SpreadMeasured}
	for _, c := range []struct{ limit, want float64 }{{10, 0.5}, {13.92, 0.025}, {6.08, 0.975}, {100, 0}} {
		if got := e.ExceedProbability(c.limit); math.Abs(got-c.want) > 1e-3 {
			t.Errorf("P(X > %g) = %g, want %g", c.limit, got, c.want)
		}
	}
	x := Estimate{Mean: 10, Spread: SpreadExact}
	if x.ExceedProbability(9) != 1 || x.ExceedProbability(10) != 0 {
		t.Errorf("exact estimate: %g %g", x.ExceedProbability(9), x.ExceedProbability(10))
	}
	if p := (Estimate{Spread: SpreadUnknown}).ExceedProbability(1); !math.IsNaN(p) {
		t.Errorf("unknown spread: %g, want NaN", p)
	}
}

func TestTQuantile975(t *testing.T) {
	// Reference values of qt(0.975, df); cmd/promptgrid checks every digit
	// against reports.StudentTQuantile.
	for _, c := range []struct{ df, want float64 }{{1, 12.7062}, {2, 4.3027}, {2.5, 3.5747}, {5, 2.5706},
		{10, 2.2281}, {15.5, 2.1250}, {30, 2.0423}, {50, 2.0086}, {100, 1.9840}, {1e6, 1.96}} {
		if got := TQuantile975(c.df); math.Abs(got-c.want) > 0.01*c.want {
			t.Errorf("TQuantile975(%g) = %.4f, want %.4f", c.df, got, c.want)
		}
	}
}

// TestForecastPilotCoverage draws 5% stratified pilots from skewed synthetic
// populations (cells whose per-trial cost differs by a factor of 50, with
// long right tails, as thinking levels do) and checks that the total's 95%
// interval contains the true total in at least 90% of them.
func TestForecastPilotCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	scales := []float64{0.1, 0.5, 1, 2, 5}
	counts := []int{80, 80, 80, 80, 80}
	pop := make([][]float64, len(counts))
	truth := 0.0
	for i, n := range counts {
		for range n {
			// Gamma(4)-like: sum of four exponentials.
			x := scales[i] * (rng.ExpFloat64() + rng.ExpFloat64() + rng.ExpFloat64() + rng.ExpFloat64())
			pop[i] = append(pop[i], x)
			truth += x
		}
	}
	const reps = 400
	covered := 0
	for seed := range uint64(reps) {
		sel := PilotSelect(counts, (PilotSize{Fraction: 0.05}).Of(400), seed)
		strata := make([]PilotStratum, len(counts))
		for i, idx := range sel {
			strata[i].Trials = counts[i]
			for _, j := range idx {
				strata[i].Obs = append(strata[i].Obs, PilotObs{Cost: pop[i][j], Latency: math.NaN()})
			}
		}
		e := ForecastPilot(strata, PilotOptions{Concurrency: 1}).Total.Cost
		if e.Low <= truth && truth <= e.High {
			covered++
		}
	}
	if p := float64(covered) / reps; p < 0.90 {
		t.Errorf("coverage %.3f, want at least 0.90", p)
	} else {
		t.Logf("coverage %.3f over %d pilots", p, reps)
	}
}
