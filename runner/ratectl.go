package runner

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Constants of the rate control law (docs/runner.md, "Adaptive rate").
const (
	// rateWindow is the measurement window and the length of a clean
	// stretch: rate limits are stated per second.
	rateWindow = time.Second
	// rateMinSample is how many requests a window must hold before a first
	// rate is learned from it; thinner windows say too little, and the
	// concurrency gate answers the 429 instead.
	rateMinSample = 10
	// rateFloor is the lowest rate the controller sets, in requests/s.
	rateFloor = 0.1
	// rateStep is the additive increase per clean stretch, in requests/s.
	rateStep = 1.0
	// rateBusy is the share of the current rate that must have been sent
	// over the last window for a clean stretch to raise it: an idle bucket
	// proves nothing.
	rateBusy = 0.9
	// rateCapShare is the 429 share a cut to the accepted rate should leave
	// if the server enforces a rate limit (timing jitter at its window).
	rateCapShare = 0.05
	// rateRandomLLR and rateCapLLR end the test that follows a cut: the log
	// likelihood ratio of "the 429s are random, the cut did not lower
	// their share" over "the server limits the rate, the cut lowered it".
	// Mistaking a limit for noise costs 429s, so it needs more evidence;
	// mistaking noise for a limit leaves the rate far below what the
	// server takes (it then only climbs by rateStep a second), so a limit
	// needs 100:1, not less.
	rateRandomLLR = 6.9 // 1000:1
	rateCapLLR    = -4.6
	// rateNoiseMargin is how far the recent 429 share must rise above the
	// share found to be random before a 429 starts an episode again.
	rateNoiseMargin = 0.15
	// rateRoseZ is how many standard errors the 429 share after a cut
	// must rise above the share in its window to end the test as a
	// tightened limit (see rose).
	rateRoseZ = 3.0
	// rateNoiseMax is the 429 share from which rejections are never taken
	// as noise, however little the rate matters: a server refusing nine
	// requests in ten is down or out of quota, and retrying at once (what
	// noise gets) would only hammer it; its 429s back off and count
	// towards the attempt limit.
	rateNoiseMax = 0.9
	// rateShareWeight is the weight of one answer in the recent 429 share.
	rateShareWeight = 1.0 / 128
)

// rateVerdict says how the rate controller took a 429.
type rateVerdict int

const (
	// rateUnhandled: adaptation is off or the window was too thin to learn
	// from; the concurrency gate halves its cap and pauses as before.
	rateUnhandled rateVerdict = iota
	// rateSameEpisode: the request left before the last cut; the cut
	// already answered it.
	rateSameEpisode
	// rateNoise: the share of 429s is where the test after a cut found
	// it not to depend on the rate: the 429 is noise, and the worker
	// retries the request at once, outside its attempt limit (see
	// Retry.MaxNoise).
	rateNoise
	// rateCut: the rate was lowered; only the retried request waits out
	// the Retry-After.
	rateCut
	// rateLearned: the first rate of the run was learned while the bucket
	// was unlimited; what went out was a burst that filled the server's
	// window, so every dispatch pauses for the Retry-After.
	rateLearned
)

// rateCtl owns the shared token bucket (one token per HTTP request). With
// adaptation on it moves the bucket's rate: a 429 episode sets it to the rate
// the server accepted over the last window (but at most halves it), a clean
// window in which the bucket was busy adds rateStep, and the user's --rate
// is a ceiling that is never passed.
type rateCtl struct {
	lim      *rate.Limiter
	adaptive bool
	ceiling  float64 // --rate, or +Inf

	mu    sync.Mutex
	start time.Time
	cur   float64         // current rate; +Inf while unlimited
	sent  []time.Duration // dispatch offsets from start, ascending, last 2 windows
	shed  []time.Duration // dispatch offsets of requests answered 429
	cut   time.Duration   // offset of the last cut; -1 before the first
	quiet time.Duration   // offset where the current clean stretch began
	// The last cut's measurement window (dispatch offsets) and the lowest
	// rate it may set; later 429s of the same episode refine it.
	epFrom, epTo time.Duration
	epFloor      float64

	// The test that follows a cut (docs/runner.md, "Random 429s"): did the
	// 429 share fall? prev is the rate before the first cut of the
	// episodes since the last verdict (a chain of cuts whose tests ended
	// in neither verdict is undone as a whole), capShare the share a rate
	// limit predicts after the cut; pre* count the answers of requests
	// dispatched in the cut's window, post* those dispatched after it.
	testing        bool
	chained        bool // prev holds the rate before a chain still open
	prev, capShare float64
	preN, preK     int
	postN, postK   int
	llr            float64
	vague          bool            // the share before the cut is too close to capShare to tell
	ok             []time.Duration // dispatch offsets of requests answered, not 429
	noise, share   float64         // 429 share found not to depend on the rate; recent share
	shareN         int
	// noiseN, noiseK count the answers (and their 429s) the noise share
	// is the mean of: the random verdict's test, then every answer while
	// the recent share stays within rateNoiseMargin of it.
	noiseN, noiseK int
}

// newRateCtl returns a controller whose bucket starts at ceiling requests/s
// (unlimited when ceiling <= 0).
func newRateCtl(ceiling float64, adaptive bool) *rateCtl {
	c := &rateCtl{adaptive: adaptive, ceiling: math.Inf(1), cur: math.Inf(1), start: time.Now(), cut: -1}
	if ceiling > 0 {
		c.ceiling, c.cur = ceiling, ceiling
	}
	c.lim = rate.NewLimiter(limit(c.cur), 1)
	return c
}

func limit(r float64) rate.Limit {
	if math.IsInf(r, 1) {
		return rate.Inf
	}
	return rate.Limit(r)
}

// wait takes one token of the bucket.
func (c *rateCtl) wait(ctx context.Context) error { return c.lim.Wait(ctx) }

// rate is the bucket's current rate (+Inf when unlimited).
func (c *rateCtl) rate() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// dispatched records that a request leaves now and returns now. A clean
// window with the bucket busy raises the rate by rateStep.
func (c *rateCtl) dispatched() time.Time {
	if !c.adaptive {
		return time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now() // under the lock, so that c.sent stays ascending
	at := now.Sub(c.start)
	c.sent = append(c.sent, at)
	c.sent = prune(c.sent, at-2*rateWindow)
	c.shed = prune(c.shed, at-2*rateWindow)
	c.ok = prune(c.ok, at-2*rateWindow)
	if c.cur < c.ceiling && at-c.quiet >= rateWindow &&
		float64(countSince(c.sent, at-rateWindow)) >= rateBusy*c.cur*rateWindow.Seconds() {
		c.set(now, math.Min(c.ceiling, c.cur+rateStep))
		c.quiet = at
	}
	return now
}

// rateLimited records a 429 answering a request dispatched at sent and
// decides what it changes.
func (c *rateCtl) rateLimited(sent time.Time) rateVerdict {
	if !c.adaptive {
		return rateUnhandled
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	d := sent.Sub(c.start)
	c.shed = append(c.shed, d)
	c.answer(d, true)
	if c.testing && d > c.cut {
		switch {
		case c.rose():
			// The share rose after the cut, by more than chance: the
			// limit tightened, and this 429 starts a new episode.
			c.testing = false
		case c.llr >= rateRandomLLR && (c.postN >= rateMinSample || !c.above()) &&
			float64(c.preK+c.postK)/float64(c.preN+c.postN) < rateNoiseMax:
			// The cut did not lower the share: the 429s do not depend
			// on the rate. But a share that rose after the cut may be
			// a tightened limit (every answer a 429 is far likelier
			// under "random" than under capShare): it waits for
			// rateMinSample answers, for rose to tell.
			c.random(now)
			return rateNoise
		default:
			// Until the test ends, a 429 after the cut is evidence,
			// not a new episode.
			return rateSameEpisode
		}
	}
	if c.noise > 0 && d > c.cut && c.share <= c.noise+rateNoiseMargin && c.share < rateNoiseMax {
		// As often refused as when the rate did not matter: noise.
		return rateNoise
	}
	c.quiet = now.Sub(c.start)
	w := rateWindow.Seconds()
	if c.cut >= 0 && d <= c.cut {
		// The request left before the cut: no new episode, but its 429
		// may not have been counted when the cut measured the window
		// (429s of one burst arrive together), so measure again while
		// that window's dispatches are still kept.
		if now.Sub(c.start)-c.epTo <= rateWindow {
			_, accepted := c.measure(c.epFrom, c.epTo)
			if next := math.Max(float64(accepted)/w, c.epFloor); next < c.cur {
				c.set(now, next)
			}
		}
		return rateSameEpisode
	}
	// Measure the window ending now, not at this request's dispatch: the
	// server may have taken requests in another order than they left.
	to := now.Sub(c.start)
	from := to - rateWindow
	out, accepted := c.measure(from, to)
	learned := math.IsInf(c.cur, 1)
	if learned && out < rateMinSample {
		return rateUnhandled
	}
	// At most halve what was being sent; an unlimited bucket sent a burst,
	// not a rate, and takes the measurement as it is.
	floor := rateFloor
	if !learned {
		floor = math.Max(floor, math.Min(c.cur, float64(out)/w)/2)
	}
	c.epFrom, c.epTo, c.epFloor = from, to, floor
	if !c.chained {
		c.prev, c.chained = c.cur, true
	}
	next := math.Min(c.cur, math.Max(float64(accepted)/w, floor))
	c.set(now, next)
	c.cut = to
	c.startTest(float64(accepted)/w, next, from, to)
	if learned {
		return rateLearned
	}
	return rateCut
}

// answered records a request dispatched at sent that was answered with
// anything but a 429.
// refusing reports whether the recent 429 share (over at least
// rateMinSample answers) is at rateNoiseMax or above: the server refuses
// nearly everything, an outage rather than a rate it paces; false when the
// controller does not adapt (it keeps no share) or there is none.
func (c *rateCtl) refusing() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.shareN >= rateMinSample && c.share >= rateNoiseMax
}

func (c *rateCtl) answered(sent time.Time) {
	if !c.adaptive {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := sent.Sub(c.start)
	c.ok = append(c.ok, d)
	c.answer(d, false)
	if c.testing && c.llr <= rateCapLLR {
		// The cut lowered the share: a rate limit, and the rate it set
		// is where the next episode starts from. But when the share
		// before the cut was too low to tell (vague) and the chain began
		// at an unlimited bucket, the cut was the first rate, learned from
		// a start burst a few milliseconds long: that says little about
		// the server, so the chain stays open and a later random verdict
		// can still undo it.
		c.testing = false
		if !c.vague || !math.IsInf(c.prev, 1) {
			c.chained = false
		}
	}
}

// answer adds one answer to the recent share and to the open test; the
// caller holds c.mu.
func (c *rateCtl) answer(d time.Duration, limited bool) {
	x := 0.0
	if limited {
		x = 1
	}
	c.shareN++
	c.share += (x - c.share) * math.Max(rateShareWeight, 1/float64(c.shareN))
	if !c.testing && c.noise > 0 && c.share <= c.noise+rateNoiseMargin {
		// The noise share is a mean over all the answers taken as noise,
		// not just the few of one test: an estimate a little low would
		// let the recent share's swings start episodes.
		c.noiseN++
		c.noiseK += int(x)
		c.noise = float64(c.noiseK) / float64(c.noiseN)
	}
	if !c.testing || d < c.epFrom {
		return
	}
	if d <= c.cut {
		c.preN++
		if limited {
			c.preK++
		}
		return
	}
	c.postN++
	if limited {
		c.postK++
	}
	c.llr, c.vague = c.likelihood()
}

// rose reports whether the 429 share after the cut rose above the share in
// the cut's window by more than rateNoiseMargin over at least rateMinSample
// answers, and by more than chance: rateRoseZ standard errors of the
// difference (two-proportion z). Without the last condition, the 10 to 20
// answers of a test at the start burst's rate often showed a rise of 0.15
// under random 429s; the caller holds c.mu.
func (c *rateCtl) rose() bool {
	if c.postN < rateMinSample || !c.above() {
		return false
	}
	n1, n2 := float64(c.preN), float64(c.postN)
	p1, p2 := float64(c.preK)/n1, float64(c.postK)/n2
	p := (float64(c.preK) + float64(c.postK)) / (n1 + n2)
	se := math.Sqrt(p * (1 - p) * (1/n1 + 1/n2))
	return se == 0 || (p2-p1)/se >= rateRoseZ
}

// above reports whether the 429 share after the cut is more than
// rateNoiseMargin above the share in the cut's window, however few the
// answers; the caller holds c.mu.
func (c *rateCtl) above() bool {
	return c.preN > 0 && c.postN > 0 &&
		float64(c.postK)/float64(c.postN) > float64(c.preK)/float64(c.preN)+rateNoiseMargin
}

// startTest opens the test of a cut to next after a window in which the
// server accepted accepted requests/s; the caller holds c.mu.
func (c *rateCtl) startTest(accepted, next float64, from, to time.Duration) {
	c.testing, c.llr, c.vague, c.postN, c.postK = true, 0, false, 0, 0
	c.capShare = math.Max(rateCapShare, 1-accepted/next)
	c.preK = 0
	for _, s := range c.shed {
		if s >= from && s <= to {
			c.preK++
		}
	}
	c.preN = c.preK
	for _, s := range c.ok {
		if s >= from && s <= to {
			c.preN++
		}
	}
}

// likelihood is the log likelihood ratio of the answers after the cut
// under "random: the share before the cut holds" over "limit: capShare",
// and whether the two shares were too close to tell apart; the caller
// holds c.mu.
func (c *rateCtl) likelihood() (llr float64, vague bool) {
	if c.preN == 0 {
		return 0, false
	}
	pr := float64(c.preK) / float64(c.preN)
	pc := c.capShare
	if pr <= pc+rateCapShare {
		// The two cannot be told apart: take it as a limit.
		return rateCapLLR, true
	}
	pr = math.Min(pr, 0.99)
	k, n := float64(c.postK), float64(c.postN)
	return k*math.Log(pr/pc) + (n-k)*math.Log((1-pr)/(1-pc)), false
}

// random ends the test of a cut that did not lower the 429 share: the
// rejections do not depend on the rate, so the cut is undone (with every
// cut of the chain before it) and their share becomes the noise later 429s
// are measured against; the caller holds c.mu.
func (c *rateCtl) random(now time.Time) {
	c.testing, c.chained = false, false
	n, k := c.preN+c.postN, c.preK+c.postK
	if f := float64(k) / float64(n); f > c.noise {
		c.noise, c.noiseN, c.noiseK = f, n, k
	}
	c.share = c.noise
	c.set(now, c.prev)
	c.quiet = now.Sub(c.start)
}

// measure counts the requests dispatched in [from, to] and how many of them
// the server accepted (in flight or answered, anything but a 429); the
// caller holds c.mu.
func (c *rateCtl) measure(from, to time.Duration) (out, accepted int) {
	out = countBetween(c.sent, from, to)
	accepted = out
	for _, s := range c.shed {
		if s >= from && s <= to {
			accepted--
		}
	}
	return out, accepted
}

// set moves the bucket to r; the caller holds c.mu.
func (c *rateCtl) set(now time.Time, r float64) {
	c.cur = r
	c.lim.SetLimitAt(now, limit(r))
}

// prune drops the leading offsets before from. c.shed is only nearly
// ascending: an older entry behind a newer one goes once the newer one does.
// Appending to the re-sliced tail reallocates only what is kept.
func prune(s []time.Duration, from time.Duration) []time.Duration {
	k := 0
	for k < len(s) && s[k] < from {
		k++
	}
	return s[k:]
}

// countSince counts the ascending offsets at or after from.
func countSince(s []time.Duration, from time.Duration) int {
	return len(s) - sort.Search(len(s), func(i int) bool { return s[i] >= from })
}

// countBetween counts the ascending offsets in [from, to].
func countBetween(s []time.Duration, from, to time.Duration) int {
	lo := sort.Search(len(s), func(i int) bool { return s[i] >= from })
	hi := sort.Search(len(s), func(i int) bool { return s[i] > to })
	return hi - lo
}
