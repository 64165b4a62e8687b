package runner

import (
	"math"
	"sync/atomic"

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
}

// Spent is the cost journaled so far, in USD (cached samples excluded).
func (p *Progress) Spent() float64 { return float64(p.spent.Load()) / 1e6 }

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
	var spent float64
	for _, rec := range recs {
		p.Done.Add(1)
		if rec.Pass {
			p.Passed.Add(1)
		}
		if rec.Error != nil {
			p.Errored.Add(1)
		}
		if rec.Cost != nil && !rec.Cached {
			spent += *rec.Cost
		}
	}
	p.spent.Add(int64(math.Round(spent * 1e6)))
}
