package runner

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/eval"
)

// Load configures open-loop mode: requests leave on a schedule computed in
// advance from a seeded RNG, whether or not earlier ones have answered, so
// that a slow server cannot slow the load down (no coordinated omission).
// The trials are sent in order, cycling through them as often as needed.
type Load struct {
	// Arrival is "constant", "poisson" or "gamma".
	Arrival string
	// Rate is the mean arrival rate, requests per second.
	Rate float64
	// Burstiness is the coefficient of variation of the gaps of gamma
	// arrivals (1 = Poisson, >1 burstier, <1 more regular); default 1.
	Burstiness float64
	// Duration ends the schedule this long after the first measured
	// arrival; Requests ends it after that many measured arrivals. One of
	// them must be set.
	Duration time.Duration
	Requests int
	// Warmup arrivals go first and are sent but not journaled.
	Warmup int
	// Seed seeds the schedule.
	Seed uint64
}

// Schedule returns the arrival offsets from the start of the run: Warmup
// arrivals followed by the measured ones.
func (l *Load) Schedule() ([]time.Duration, error) {
	if l.Rate <= 0 {
		return nil, fmt.Errorf("open-loop load needs --rate > 0")
	}
	if l.Duration <= 0 && l.Requests <= 0 {
		return nil, fmt.Errorf("open-loop load needs --duration or --requests")
	}
	b := l.Burstiness
	if b <= 0 {
		b = 1
	}
	rnd := rand.New(rand.NewPCG(l.Seed, 0x5eed))
	mean := 1 / l.Rate
	var gap func() float64
	switch l.Arrival {
	case "constant", "":
		gap = func() float64 { return mean }
	case "poisson":
		gap = func() float64 { return rnd.ExpFloat64() * mean }
	case "gamma":
		shape := 1 / (b * b)
		scale := mean / shape
		gap = func() float64 { return gammaDraw(rnd, shape) * scale }
	default:
		return nil, fmt.Errorf("unknown --arrival %q (want constant, poisson or gamma)", l.Arrival)
	}
	// Gaps are rounded to the nanosecond and summed as durations, so that a
	// constant schedule is exact.
	var out []time.Duration
	var t time.Duration
	for i := 0; i < l.Warmup; i++ {
		out = append(out, t)
		t += secs(gap())
	}
	start := t
	for n := 0; ; n++ {
		if l.Requests > 0 && n >= l.Requests {
			break
		}
		if l.Duration > 0 && t-start >= l.Duration {
			break
		}
		out = append(out, t)
		t += secs(gap())
	}
	return out, nil
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// gammaDraw draws from Gamma(shape, 1) by Marsaglia and Tsang's method, with
// the usual boost for shape < 1.
func gammaDraw(rnd *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := rnd.Float64()
		return gammaDraw(rnd, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rnd.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rnd.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// openJob is the job of arrival i, trial t (trial i mod n of the n in a
// pass); the second and later passes over the trials get a "#pass" suffix on
// the trial key so that every arrival is its own row. Warmup arrivals are
// marked and not journaled.
func (r *run) openJob(t *eval.Trial, i, n int) *job {
	key := t.Key
	w := r.cfg.Load.Warmup
	if pass := (i - w) / n; i >= w && pass > 0 {
		key += "#" + strconv.Itoa(pass)
	}
	j := r.newJob(t, key)
	j.warmup = i < w
	return j
}

// cycle walks a stream of trials over and over: open-loop load sends them in
// order as often as its schedule needs, building each trial when it is sent.
type cycle struct {
	seq  iter.Seq2[eval.Trial, error]
	pull func() (eval.Trial, error, bool)
	stop func()
}

// next returns the next trial, starting a new walk after the last one.
func (c *cycle) next() (eval.Trial, error) {
	for range 2 {
		if c.pull == nil {
			c.pull, c.stop = iter.Pull2(c.seq)
		}
		t, err, ok := c.pull()
		if ok {
			return t, err
		}
		c.close()
	}
	return eval.Trial{}, errors.New("the trial stream is empty")
}

// close ends the current walk.
func (c *cycle) close() {
	if c.stop != nil {
		c.stop()
	}
	c.pull, c.stop = nil, nil
}

// scheduleOpen is the open-loop pacer: each arrival is dispatched at its
// intended time; when the concurrency cap holds it back, the delay is
// recorded as lateness and latency is also measured from the intended time.
func (r *run) scheduleOpen(ctx context.Context, trials Trials, results chan<- outcome, wg *sync.WaitGroup) {
	src := &cycle{seq: trials.Seq}
	defer src.close()
	start := time.Now()
	for i, off := range r.offsets {
		intended := start.Add(off)
		// The trial is built before the wait, not on the arrival's time.
		t, err := src.next()
		if err != nil {
			r.fail(err)
			return
		}
		if err := sleep(ctx, time.Until(intended)); err != nil {
			return
		}
		j := r.openJob(&t, i, trials.Count)
		j.scheduled = intended
		if j.invalid != nil {
			r.reject(j, results)
			continue
		}
		if !r.reserve(ctx, j, "arrival") {
			return
		}
		if err := r.admit(ctx, []*job{j}, false); err != nil {
			r.budget.settle(j.reserved, 0)
			return
		}
		j.attemptScheduled = intended
		late := j.admitted.Sub(intended)
		j.late = &late
		wg.Add(1)
		goWithRoom(func() { r.execute(ctx, []*job{j}, results, wg) }) // a goroutine per arrival
	}
}
