package runner

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// Progress holds live counters of a run, updated by the runner and read by
// progress displays (and tests) at any time.
type Progress struct {
	// Total is the number of samples the run plans to journal.
	Total atomic.Int64
	// Done, Passed and Errored count journaled samples.
	Done    atomic.Int64
	Passed  atomic.Int64
	Errored atomic.Int64
	// Calls counts HTTP requests sent; Retries the attempts after the
	// first; RateLimited the 429 answers; CacheHits trials served from cache.
	Calls       atomic.Int64
	Retries     atomic.Int64
	RateLimited atomic.Int64
	CacheHits   atomic.Int64
	// spent is USD in micro-dollars (atomic float substitute).
	spent atomic.Int64
	// pausedUntil is when the latest Retry-After pause ends (Unix
	// nanoseconds); pauseCapped says the server asked for longer.
	pausedUntil atomic.Int64
	pauseCapped atomic.Bool
}

// Spent is what the run counts as spent so far, in USD: earlier invocations
// of a resumed run, every answered request and the bound of every request
// whose answer never came (cached samples are free).
func (p *Progress) Spent() float64 { return float64(p.spent.Load()) / 1e6 }

func (p *Progress) addSpent(v float64) {
	if v != 0 {
		p.spent.Add(int64(math.Round(v * 1e6)))
	}
}

// pause records a Retry-After pause of d from now.
func (p *Progress) pause(d time.Duration, capped bool) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := p.pausedUntil.Load()
		if cur >= until || p.pausedUntil.CompareAndSwap(cur, until) {
			break
		}
	}
	if capped {
		p.pauseCapped.Store(true)
	}
}

// Paused is how long the server's latest Retry-After keeps requests
// waiting from now, and whether some server asked for more than the cap.
func (p *Progress) Paused() (time.Duration, bool) {
	d := time.Until(time.Unix(0, p.pausedUntil.Load()))
	return max(d, 0), p.pauseCapped.Load()
}

// PassRate is the share of journaled samples that passed.
func (p *Progress) PassRate() float64 {
	d := p.Done.Load()
	if d == 0 {
		return math.NaN()
	}
	return float64(p.Passed.Load()) / float64(d)
}

// record counts the samples of one journaled trial.
func (p *Progress) record(recs []*journal.Record) {
	for _, rec := range recs {
		p.Done.Add(1)
		if rec.Pass {
			p.Passed.Add(1)
		}
		if rec.Error != nil {
			p.Errored.Add(1)
		}
	}
}
