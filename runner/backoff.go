package runner

import (
	"math/rand/v2"
	"time"
)

// Retry bounds the retries of transient failures: exponential backoff with
// full jitter (a uniform draw in [0, min(Max, Base*2^(n-1))] before retry n),
// never shorter than a Retry-After the server sent, at most MaxAttempts
// attempts in all and no retry that would start after MaxElapsed since the
// trial was first scheduled. A 429 the rate controller took as noise
// (rateNoise: 429s as frequent as when the rate was shown not to matter) is
// retried without backoff (after its Retry-After, if any), and one with a
// Retry-After from a server pacing the run after it (nextPaced); neither
// counts towards MaxAttempts. A trial gets at most MaxNoise such retries,
// and none after MaxElapsed, so a server refusing everything still ends
// every trial with its 429 as the error.
type Retry struct {
	Base        time.Duration
	Max         time.Duration
	MaxAttempts int
	MaxElapsed  time.Duration
	MaxNoise    int
}

// DefaultRetry is used for zero fields of Config.Retry. With a third of the
// requests refused at random, MaxNoise 30 loses one trial in 3^30.
var DefaultRetry = Retry{Base: 500 * time.Millisecond, Max: 30 * time.Second, MaxAttempts: 6, MaxElapsed: 5 * time.Minute, MaxNoise: 30}

func (p Retry) withDefaults() Retry {
	if p.Base <= 0 {
		p.Base = DefaultRetry.Base
	}
	if p.Max <= 0 {
		p.Max = DefaultRetry.Max
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetry.MaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultRetry.MaxElapsed
	}
	if p.MaxNoise <= 0 {
		p.MaxNoise = DefaultRetry.MaxNoise
	}
	return p
}

// delay is the wait before retry number n (n >= 1, the attempt that failed),
// given a Retry-After (0 when absent) and a uniform draw u in [0, 1).
func (p Retry) delay(n int, retryAfter time.Duration, u float64) time.Duration {
	ceiling := p.Max
	if n-1 < 62 {
		if d := p.Base << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	d := time.Duration(u * float64(ceiling))
	return max(d, retryAfter)
}

// next decides whether attempt n (just failed) gets a retry and after how
// long; elapsed is the time since the trial was first scheduled.
func (p Retry) next(n int, elapsed, retryAfter time.Duration, rnd *rand.Rand) (time.Duration, bool) {
	if n >= p.MaxAttempts {
		return 0, false
	}
	d := p.delay(n, retryAfter, rnd.Float64())
	if elapsed+d > p.MaxElapsed {
		return 0, false
	}
	return d, true
}

// nextNoise decides whether a 429 taken as noise gets a retry, given the
// trial's noise retries so far and the time since it was first scheduled;
// the retry waits only for the Retry-After (retryAfter, 0 when absent).
func (p Retry) nextNoise(noise int, elapsed, retryAfter time.Duration) (time.Duration, bool) {
	if noise >= p.MaxNoise || elapsed+retryAfter > p.MaxElapsed {
		return 0, false
	}
	return retryAfter, true
}

// nextPaced decides whether a 429 that came with a Retry-After (the server
// pacing the run: it said when to come back) gets a retry, given the
// trial's retries outside the attempt limit so far (k) and the time since
// it was first scheduled. It waits the Retry-After plus a full-jitter
// draw that grows with k (u uniform in [0, 1)), so that the trials a
// server turned away together do not come back together; like a noise
// retry it does not count towards MaxAttempts, and MaxNoise bounds it.
func (p Retry) nextPaced(k int, elapsed, retryAfter time.Duration, u float64) (time.Duration, bool) {
	if k >= p.MaxNoise {
		return 0, false
	}
	d := retryAfter + p.delay(k+1, 0, u)
	if elapsed+d > p.MaxElapsed {
		return 0, false
	}
	return d, true
}
