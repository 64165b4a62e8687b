package reports

import (
	"math"
	"slices"
	"strconv"

	"github.com/promptgrid/promptgrid/journal"
)

// Latency is one observation per request, not per result: the samples of a
// request (numberResults > 1) share its TrialKey and attempt, and are
// folded into one request before they reach a distribution. A request that
// got no answer at all (every result failed, a timeout) is censored: its
// end-to-end latency and time to success are only known to exceed what
// elapsed before it failed.

// requestTimes is what one request contributes to the latency
// distributions: the first delta (TTFT, TTFO, queue: the smallest over its
// results), the end (E2E, time to success: the largest over its answered
// results), and, when none of its results is answered, the censoring bounds
// (NaN when unknown).
type requestTimes struct {
	ttft, ttfo, e2e, queue, toSuccess float64
	answered                          bool
	e2eBound, toSuccessBound          float64
}

func newRequestTimes() requestTimes {
	n := math.NaN()
	return requestTimes{ttft: n, ttfo: n, e2e: n, queue: n, toSuccess: n, e2eBound: n, toSuccessBound: n}
}

// nanMin and nanMax ignore a NaN operand (an absent value).
func nanMin(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return math.Min(a, b)
}

func nanMax(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return math.Max(a, b)
}

func msOf(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// add folds one sample of the request in.
func (q *requestTimes) add(r *journal.Record) {
	t := &r.Timings
	q.queue = nanMin(q.queue, msOf(t.Queue))
	if r.Error == nil {
		q.answered = true
		q.ttft = nanMin(q.ttft, msOf(t.TTFT))
		q.ttfo = nanMin(q.ttfo, msOf(t.TTFO))
		q.e2e = nanMax(q.e2e, msOf(t.E2E))
		q.toSuccess = nanMax(q.toSuccess, msOf(t.ToSuccess))
		return
	}
	e, s := failedElapsed(t)
	q.e2eBound = nanMax(q.e2eBound, e)
	q.toSuccessBound = nanMax(q.toSuccessBound, s)
}

// failedElapsed is how long a failed attempt is known to have run: from
// dispatch (E2E) and from the first scheduling (time to success) to its end
// (done, else its last delta); NaN when the journal does not say.
func failedElapsed(t *journal.Timings) (e2e, toSuccess float64) {
	end := msOf(t.Done)
	if math.IsNaN(end) {
		end = msOf(t.LastDelta)
	}
	e2e, toSuccess = msOf(t.E2E), msOf(t.ToSuccess)
	if math.IsNaN(e2e) && t.Dispatched != nil {
		e2e = end - *t.Dispatched
	}
	if math.IsNaN(toSuccess) {
		toSuccess = end
	}
	return e2e, toSuccess
}

// requestID names the request (one attempt of one trial) a record belongs
// to: its trial, the task UUID and the time the trial was scheduled (a
// re-run trial gets new ones).
func requestID(x *journal.IDHasher, r *journal.Record) journal.ID128 {
	k := r.TrialKey
	if k == "" {
		k = r.CaseID + "\x00" + r.Variant + "\x00" + r.Cell + "\x00" + strconv.FormatInt(r.Seed, 10) + "\x00" + strconv.Itoa(r.Replicate)
	}
	return x.Sum(k, "\x00", r.TaskUUID, "\x00", strconv.FormatInt(r.Timings.Scheduled.UnixNano(), 10))
}

// addRequest appends a folded request to the values.
func (v *values) addRequest(q *requestTimes) {
	appendVal(&v.queue, q.queue)
	if q.answered {
		appendVal(&v.ttft, q.ttft)
		appendVal(&v.ttfo, q.ttfo)
		appendVal(&v.e2e, q.e2e)
		appendVal(&v.toSuccess, q.toSuccess)
		return
	}
	v.e2eCens = append(v.e2eCens, q.e2eBound)
	v.toSuccessCens = append(v.toSuccessCens, q.toSuccessBound)
}

func appendVal(xs *[]float64, v float64) {
	if !math.IsNaN(v) {
		*xs = append(*xs, v)
	}
}

// newCensoredDist describes a latency distribution of the observed values
// xs and the censored ones, known only to exceed their bounds (cens, NaN
// when unknown). Both are sorted in place. N counts both; mean, min and max
// are over the observed values. A censored request is placed above every
// observed one (its latency is unknown and at least its bound): a
// quantile whose type-7 interpolation reaches a censored position is
// Censored, with Value the same quantile computed with every censored
// request at its bound (a lower bound of the true quantile, since a
// quantile never decreases when a value grows), or NaN when some bound is
// unknown. The 95% interval runs from the order statistic of the bounds
// (a lower bound of the true one) to that of the censored-last order (NaN
// when it is censored).
func newCensoredDist(xs, cens []float64, ps []float64) Dist {
	if len(cens) == 0 {
		return newDist(xs, ps)
	}
	d := newDist(xs, nil)
	slices.Sort(xs)
	n := len(xs) + len(cens)
	d.N, d.Censored = n, len(cens)
	known := true
	bound := math.Inf(-1)
	for _, b := range cens {
		if math.IsNaN(b) {
			known = false
			continue
		}
		bound = math.Max(bound, b)
	}
	d.CensoredBound = nan
	if !math.IsInf(bound, -1) {
		d.CensoredBound = Num(bound)
	}
	// low: every value at what is known of it (unknown bounds as -Inf, so
	// that they are never used as a bound).
	low := append(slices.Clone(xs), cens...)
	for i := len(xs); i < n; i++ {
		if math.IsNaN(low[i]) {
			low[i] = math.Inf(-1)
		}
	}
	slices.Sort(low)
	obs := len(xs)
	d.Quantiles = make([]QuantileEst, 0, len(ps))
	for _, p := range ps {
		q := QuantileEst{P: p, Value: nan, Lo: nan, Hi: nan, NTooSmall: true}
		h := float64(n-1) * p
		i := int(math.Floor(h))
		frac := h - float64(i)
		reaches := i >= obs || (frac > 0 && i+1 >= obs)
		if !reaches {
			q.Value = Num(xs[i])
			if frac > 0 {
				q.Value = Num(xs[i] + frac*(xs[i+1]-xs[i]))
			}
		} else {
			q.Censored = true
			if known {
				q.Value = Num(Quantile(low, p))
			}
		}
		if r, s, ok := orderStatisticInterval(n, p, ciConf); ok {
			q.NTooSmall = false
			if v := low[r-1]; !math.IsInf(v, -1) {
				q.Lo = Num(v)
			}
			if s <= obs {
				q.Hi = Num(xs[s-1])
			}
		}
		d.Quantiles = append(d.Quantiles, q)
	}
	return d
}
