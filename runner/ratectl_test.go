package runner

import (
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// rcScript drives a rate controller in fake time.
type rcScript struct {
	c    *rateCtl
	sent []time.Time
}

// burst dispatches k requests at the current instant.
func (s *rcScript) burst(k int) {
	for range k {
		s.sent = append(s.sent, s.c.dispatched())
	}
}

// paced dispatches k requests evenly over d (one every d/k).
func (s *rcScript) paced(k int, d time.Duration) {
	for range k {
		s.sent = append(s.sent, s.c.dispatched())
		time.Sleep(d / time.Duration(k))
	}
}

// reject answers requests from..to-1 (indexes into sent) with 429s and
// returns the verdicts.
func (s *rcScript) reject(from, to int) []rateVerdict {
	var v []rateVerdict
	for i := from; i < to; i++ {
		v = append(v, s.c.rateLimited(s.sent[i]))
	}
	return v
}

// accept answers requests from..to-1 (indexes into sent) with anything but
// a 429.
func (s *rcScript) accept(from, to int) {
	for i := from; i < to; i++ {
		s.c.answered(s.sent[i])
	}
}

// verdicts is n copies of v after first.
func verdicts(first rateVerdict, n int, v rateVerdict) []rateVerdict {
	return append([]rateVerdict{first}, slices.Repeat([]rateVerdict{v}, n)...)
}

// TestRateControlLaw walks the rate controller through the cases of the
// control law in docs/runner.md.
func TestRateControlLaw(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name     string
		ceiling  float64
		adaptive bool
		script   func(s *rcScript) []rateVerdict
		verdicts []rateVerdict
		want     float64
	}{
		// Three requests are too few to learn from: the unlimited bucket
		// stays unlimited and the concurrency gate takes the 429.
		{"thin window", 0, true, func(s *rcScript) []rateVerdict {
			s.burst(3)
			return s.reject(1, 2)
		}, []rateVerdict{rateUnhandled}, inf},
		// A burst of 64 of which the server took 50: the first 429 learns a
		// rate (and asks for the global pause); the other 13 belong to the
		// same episode and refine it down to the 50 the server took.
		{"burst teaches the rate", 0, true, func(s *rcScript) []rateVerdict {
			s.burst(64)
			return s.reject(50, 64)
		}, verdicts(rateLearned, 13, rateSameEpisode), 50},
		// Paced at 100/s for a second, the last 30 rejected: the rate goes
		// to the 70/s the server accepted, with no global pause.
		{"paced cut to the accepted rate", 100, true, func(s *rcScript) []rateVerdict {
			s.paced(100, time.Second)
			return s.reject(70, 100)
		}, verdicts(rateCut, 29, rateSameEpisode), 70},
		// Paced at 100/s with 90 rejected: one episode at most halves the
		// rate, to 50, not to the 10 accepted.
		{"at most halve per episode", 100, true, func(s *rcScript) []rateVerdict {
			s.paced(100, time.Second)
			return s.reject(10, 100)
		}, verdicts(rateCut, 89, rateSameEpisode), 50},
		// 429s for requests sent after the cut first test it: 100 -> 70
		// (30 of 100 rejected), then all of the next second's 70 rejected
		// but the first: ten answers show the share rose, not fell, so the
		// tenth starts a new episode, 70 -> 35 (the halving bound).
		{"new episode after the cut", 100, true, func(s *rcScript) []rateVerdict {
			s.paced(100, time.Second)
			v := s.reject(70, 100)
			s.accept(0, 70)
			s.paced(70, time.Second)
			return append(v, s.reject(101, 170)...)
		}, slices.Concat(verdicts(rateCut, 29, rateSameEpisode), verdicts(rateSameEpisode, 8, rateSameEpisode),
			verdicts(rateCut, 59, rateSameEpisode)), 35},
		// Paced at 100/s, a third rejected at random, and after the cut to
		// 67/s still a third: the cut did not lower the share, so it is
		// undone, and later 429s at that share start no episode: they are
		// noise.
		{"random 429s undo the cut", 100, true, func(s *rcScript) []rateVerdict {
			s.paced(99, time.Second)
			var v []rateVerdict
			for i := range 99 {
				if i%3 == 2 {
					v = append(v, s.reject(i, i+1)...)
				} else {
					s.accept(i, i+1)
				}
			}
			s.paced(300, 3*time.Second)
			for i := 99; i < 399; i++ {
				if i%3 == 2 {
					v = append(v, s.reject(i, i+1)...)
				} else {
					s.accept(i, i+1)
				}
			}
			return []rateVerdict{v[0], v[len(v)-1]}
		}, []rateVerdict{rateCut, rateNoise}, 100},
		// After a cut to 50 and a quiet 1.5 s, a clean second in which the
		// bucket sent its 50 adds one: 51.
		{"additive increase", 0, true, func(s *rcScript) []rateVerdict {
			s.burst(64)
			v := s.reject(50, 64)
			time.Sleep(1500 * time.Millisecond)
			s.paced(51, time.Second)
			s.burst(1)
			return v
		}, verdicts(rateLearned, 13, rateSameEpisode), 51},
		// A clean second in which the bucket sent 12 of its 50 proves
		// nothing: the rate stays 50.
		{"idle bucket does not grow", 0, true, func(s *rcScript) []rateVerdict {
			s.burst(64)
			v := s.reject(50, 64)
			time.Sleep(1500 * time.Millisecond)
			s.paced(11, time.Second)
			s.burst(1)
			return v
		}, verdicts(rateLearned, 13, rateSameEpisode), 50},
		// The user's --rate is a ceiling: a cut from 51 to 50, then clean
		// busy seconds raise it back to 51 and no further.
		{"ceiling", 51, true, func(s *rcScript) []rateVerdict {
			s.paced(51, time.Second)
			v := s.reject(50, 51)
			s.paced(60, time.Second)
			s.paced(60, time.Second)
			return v
		}, []rateVerdict{rateCut}, 51},
		// With adaptation off every 429 goes to the gate and the bucket
		// keeps the user's rate.
		{"adaptation off", 10, false, func(s *rcScript) []rateVerdict {
			s.paced(20, time.Second)
			return s.reject(10, 12)
		}, []rateVerdict{rateUnhandled, rateUnhandled}, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &rcScript{c: newRateCtl(tc.ceiling, tc.adaptive)}
				got := tc.script(s)
				if !slices.Equal(got, tc.verdicts) {
					t.Errorf("verdicts %v, want %v", got, tc.verdicts)
				}
				if r := s.c.rate(); r != tc.want {
					t.Errorf("rate %v, want %v", r, tc.want)
				}
				if l := float64(s.c.lim.Limit()); !math.IsInf(tc.want, 1) && l != tc.want {
					t.Errorf("bucket limit %v, want %v", l, tc.want)
				}
			})
		})
	}
}

// TestObserveRoutes429s: observe sends a 429 to the rate controller first;
// only the first cut from an unlimited bucket pauses every dispatch, later
// cuts leave the gate alone, a 429 the controller does not take halves the
// concurrency cap, and 503s shrink neither the rate nor the cap.
func TestObserveRoutes429s(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &run{gate: newGate(64, true), limiter: newRateCtl(0, true), prog: &Progress{}}
		resp := func(status int, ra time.Duration) []*runware.Response {
			class := runware.ClassRateLimit
			if status != 429 {
				class = runware.ClassServer
			}
			return []*runware.Response{{Err: &runware.Error{Class: class, HTTPStatus: status, RetryAfter: runware.Duration(ra)}}}
		}
		send := func() *job {
			e, _ := r.gate.acquire(t.Context())
			r.gate.release()
			return &job{admitted: r.limiter.dispatched(), epoch: e}
		}
		paused := func() bool { return r.gate.paused.After(time.Now()) }

		// Too few requests to measure: the gate halves and pauses.
		j := send()
		r.observe([]*job{j}, resp(429, time.Second))
		if r.gate.cap() != 32 || !paused() || !math.IsInf(r.limiter.rate(), 1) {
			t.Fatalf("thin window: cap %d, paused %v, rate %v; want 32, true, +Inf", r.gate.cap(), paused(), r.limiter.rate())
		}
		time.Sleep(2 * time.Second)

		// 503s with Retry-After pause but shrink nothing.
		jobs := make([]*job, 40)
		for i := range jobs {
			jobs[i] = send()
		}
		r.observe(jobs[:1], resp(503, time.Second))
		if r.gate.cap() != 32 || !paused() || !math.IsInf(r.limiter.rate(), 1) {
			t.Fatalf("503: cap %d, paused %v, rate %v; want 32, true, +Inf", r.gate.cap(), paused(), r.limiter.rate())
		}
		time.Sleep(2 * time.Second)

		// A burst of 40 of which 30 were taken: the rate is learned, the
		// cap is left alone and every dispatch pauses.
		jobs = jobs[:0]
		for range 40 {
			jobs = append(jobs, send())
		}
		for _, j := range jobs[30:] {
			r.observe([]*job{j}, resp(429, time.Second))
		}
		for _, j := range jobs[:30] {
			r.observe([]*job{j}, []*runware.Response{{}})
		}
		if r.gate.cap() != 32 || !paused() || r.limiter.rate() != 30 {
			t.Fatalf("learned: cap %d, paused %v, rate %v; want 32, true, 30", r.gate.cap(), paused(), r.limiter.rate())
		}
		time.Sleep(2 * time.Second)

		// A later episode cuts the rate without a global pause.
		jobs = jobs[:0]
		for range 30 {
			jobs = append(jobs, send())
			time.Sleep(time.Second / 30)
		}
		for _, j := range jobs[:20] {
			r.observe([]*job{j}, []*runware.Response{{}})
		}
		for _, j := range jobs[20:] {
			r.observe([]*job{j}, resp(429, time.Second))
		}
		// (The 50 successes reported since grew the cap by one.)
		if r.gate.cap() != 33 || paused() || r.limiter.rate() != 20 {
			t.Fatalf("later cut: cap %d, paused %v, rate %v; want 33, false, 20", r.gate.cap(), paused(), r.limiter.rate())
		}
		if got := r.prog.RateLimited.Load(); got != 1+10+10 {
			t.Fatalf("%d 429s counted, want 21", got)
		}
	})
}
