package runwaretest

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// Fault says when one kind of fault fires. Its triggers are OR-ed; the zero
// value never fires. Requests are numbered 1, 2, 3, ... in arrival order
// among the fault-eligible requests (authenticated POSTs to /v1 and
// /v1/chat/completions; dry runs are not eligible).
type Fault struct {
	// P is the probability that a request gets the fault (seeded by
	// Options.Seed and the request number, so a run is reproducible).
	P float64 `json:"p,omitempty"`
	// Every fires on requests Every, 2*Every, 3*Every, ...
	Every int `json:"every,omitempty"`
	// First fires on the first First requests (a burst at start).
	First int `json:"first,omitempty"`
}

func (f Fault) enabled() bool { return f.P > 0 || f.Every > 0 || f.First > 0 }

// Faults configures fault injection. Response faults are tried in the order
// Reset, RateLimit, Unavailable, GatewayTimeout, ServerError,
// InsufficientCredits, Forbidden, Redirect, Hang; the first that fires
// answers the request. HugeDeltas replaces a stream's events.
// SlowFirstByte, Malformed, Truncate and MidStreamError alter a response that
// would otherwise succeed.
type Faults struct {
	// RateLimit answers HTTP 429 rateLimitExceeded.
	RateLimit Fault `json:"rateLimit,omitempty"`
	// Unavailable answers HTTP 503 serviceUnavailable.
	Unavailable Fault `json:"unavailable,omitempty"`
	// GatewayTimeout answers HTTP 504 timeoutProvider.
	GatewayTimeout Fault `json:"gatewayTimeout,omitempty"`
	// ServerError answers HTTP 500 internalServerError.
	ServerError Fault `json:"serverError,omitempty"`
	// InsufficientCredits answers HTTP 402 insufficientCredits.
	InsufficientCredits Fault `json:"insufficientCredits,omitempty"`
	// Forbidden answers HTTP 403 forbidden.
	Forbidden Fault `json:"forbidden,omitempty"`
	// Reset closes the connection without any response.
	Reset Fault `json:"reset,omitempty"`
	// Malformed answers HTTP 200 with a body cut off mid-JSON (for streams,
	// one event whose JSON is cut off, then the connection closes).
	Malformed Fault `json:"malformed,omitempty"`
	// SlowFirstByte delays the response headers by SlowFirstByteDelay.
	SlowFirstByte Fault `json:"slowFirstByte,omitempty"`
	// SlowFirstByteDelay is the delay of SlowFirstByte (absolute, not
	// scaled by TimeScale); default 5s.
	SlowFirstByteDelay runware.Duration `json:"slowFirstByteDelay,omitempty"`
	// Truncate closes a stream after TruncateAfter data events, without the
	// final chunk and without [DONE].
	Truncate Fault `json:"truncate,omitempty"`
	// TruncateAfter is the number of events sent before truncation; default 2.
	TruncateAfter int `json:"truncateAfter,omitempty"`
	// MidStreamError sends, after MidStreamErrorAfter events, an event
	// {"errors":[{"code":"timeoutProvider",...}]} and closes the stream
	// without [DONE].
	MidStreamError Fault `json:"midStreamError,omitempty"`
	// MidStreamErrorAfter is the number of events sent before the error; default 2.
	MidStreamErrorAfter int `json:"midStreamErrorAfter,omitempty"`
	// MidStreamErrorDone sends "data: [DONE]" after the mid-stream error
	// event instead of closing the stream at once.
	MidStreamErrorDone bool `json:"midStreamErrorDone,omitempty"`
	// AsyncItemError fails single results of async and webhook tasks: such a
	// result completes as {"status":"error","error":{"code":"timeoutProvider",
	// ...}} while the task's other results succeed. Unlike the other faults
	// it is drawn per result: results are numbered 1, 2, 3, ... in the order
	// they are generated (result order within a task, tasks in request
	// order), and P is seeded by Options.Seed and that number.
	AsyncItemError Fault `json:"asyncItemError,omitempty"`
	// RetryAfter, when positive, adds a Retry-After header (whole seconds,
	// rounded up) to injected 429, 503 and 504 responses.
	RetryAfter runware.Duration `json:"retryAfter,omitempty"`
	// MaxRate, when positive, accepts at most MaxRate requests per second
	// (a sliding window; see docs/simulator.md) and answers the excess with
	// 429 and a Retry-After header saying when a slot frees.
	MaxRate float64 `json:"maxRate,omitempty"`

	// Redirect answers with RedirectStatus (default 307) and a Location of
	// RedirectTo (default http://127.0.0.1:1/v1): a client must not follow.
	Redirect       Fault  `json:"redirect,omitempty"`
	RedirectTo     string `json:"redirectTo,omitempty"`
	RedirectStatus int    `json:"redirectStatus,omitempty"`
	// Hang sends 200 event-stream headers and then nothing, never ending the
	// response: only the client's request or idle timeout ends it.
	Hang Fault `json:"hang,omitempty"`
	// HugeDeltas makes a stream send text deltas of HugeDeltaBytes (default
	// 1 MiB) without end (at most 16,384 of them) and no final chunk.
	HugeDeltas     Fault `json:"hugeDeltas,omitempty"`
	HugeDeltaBytes int   `json:"hugeDeltaBytes,omitempty"`
}

// Fault kinds as counted in Stats.Faults.
const (
	FaultRateLimit           = "rateLimit"
	FaultMaxRate             = "maxRate"
	FaultUnavailable         = "unavailable"
	FaultGatewayTimeout      = "gatewayTimeout"
	FaultServerError         = "serverError"
	FaultInsufficientCredits = "insufficientCredits"
	FaultForbidden           = "forbidden"
	FaultReset               = "reset"
	FaultMalformed           = "malformed"
	FaultSlowFirstByte       = "slowFirstByte"
	FaultTruncate            = "truncate"
	FaultMidStreamError      = "midStreamError"
	FaultAsyncItemError      = "asyncItemError"
)

// statusFault is a fault answered with an HTTP error status.
type statusFault struct {
	kind    string
	status  int
	code    string
	message string
	retry   time.Duration // Retry-After, 0 for none
}

// plan is what fault injection decided for one request.
type plan struct {
	n          int64        // request number among fault-eligible requests
	reset      bool         // close the connection without a response
	fail       *statusFault // answer with this error status
	slow       time.Duration
	malformed  bool
	truncateAt int // >0: truncate the stream after this many events
	errorAt    int // >0: send a mid-stream error after this many events
	redirect   bool
	hang       bool
	huge       int    // >0: HugeDeltas with deltas of this many bytes
	hugeEvent  []byte // the delta event HugeDeltas repeats (set by the stream builder)
}

// injector decides faults; it is safe for concurrent use.
type injector struct {
	f    Faults
	seed int64
	now  func() time.Time

	mu      sync.Mutex
	n       int64
	items   int64       // async results numbered for AsyncItemError
	window  []time.Time // accepted request times within the max-rate window
	counter func(kind string)
}

func (in *injector) fires(f Fault, n int64, kind string) bool {
	if f.First > 0 && n <= int64(f.First) {
		return true
	}
	if f.Every > 0 && n%int64(f.Every) == 0 {
		return true
	}
	return f.P > 0 && uniform(uint64(in.seed), uint64(n), "fault/"+kind) < f.P
}

// decide numbers the request and draws its faults. Every fault it returns
// that is certain to be applied is counted; stream-only faults are counted
// by the stream writer when they take effect.
func (in *injector) decide() plan {
	in.mu.Lock()
	in.n++
	n := in.n
	var p plan
	p.n = n
	if in.fires(in.f.Reset, n, FaultReset) {
		p.reset = true
		in.mu.Unlock()
		in.counter(FaultReset)
		return p
	}
	if sf := in.rateWindow(); sf != nil {
		p.fail = sf
	}
	in.mu.Unlock()

	retry := time.Duration(in.f.RetryAfter)
	if p.fail == nil {
		for _, c := range []struct {
			f  Fault
			sf statusFault
		}{
			{in.f.RateLimit, statusFault{FaultRateLimit, http.StatusTooManyRequests, "rateLimitExceeded", "Queue capacity exceeded. Retry with exponential backoff.", retry}},
			{in.f.Unavailable, statusFault{FaultUnavailable, http.StatusServiceUnavailable, "serviceUnavailable", "Temporary capacity constraint. Retry later.", retry}},
			{in.f.GatewayTimeout, statusFault{FaultGatewayTimeout, http.StatusGatewayTimeout, "timeoutProvider", "Exceeded the maximum queue wait time.", retry}},
			{in.f.ServerError, statusFault{FaultServerError, http.StatusInternalServerError, "internalServerError", "Internal server error.", 0}},
			{in.f.InsufficientCredits, statusFault{FaultInsufficientCredits, http.StatusPaymentRequired, "insufficientCredits", "Insufficient credits. Top up your balance at https://my.runware.ai/wallet", 0}},
			{in.f.Forbidden, statusFault{FaultForbidden, http.StatusForbidden, "forbidden", "This API key lacks permission for this request.", 0}},
		} {
			if in.fires(c.f, n, c.sf.kind) {
				sf := c.sf
				p.fail = &sf
				break
			}
		}
	}
	if p.fail != nil {
		in.counter(p.fail.kind)
		return p
	}
	in.hostile(&p, n)
	if in.fires(in.f.SlowFirstByte, n, FaultSlowFirstByte) {
		p.slow = time.Duration(in.f.SlowFirstByteDelay)
		if p.slow <= 0 {
			p.slow = 5 * time.Second
		}
	}
	p.malformed = in.fires(in.f.Malformed, n, FaultMalformed)
	if in.fires(in.f.Truncate, n, FaultTruncate) {
		p.truncateAt = max(in.f.TruncateAfter, 0)
		if in.f.TruncateAfter == 0 {
			p.truncateAt = 2
		}
		p.truncateAt++ // stored +1 so that 0 means "off"
	}
	if in.fires(in.f.MidStreamError, n, FaultMidStreamError) {
		p.errorAt = max(in.f.MidStreamErrorAfter, 0)
		if in.f.MidStreamErrorAfter == 0 {
			p.errorAt = 2
		}
		p.errorAt++
	}
	return p
}

// itemFails numbers one async result and reports whether AsyncItemError
// fails it, counting the fault when it does.
func (in *injector) itemFails() bool {
	if !in.f.AsyncItemError.enabled() {
		return false
	}
	in.mu.Lock()
	in.items++
	k := in.items
	in.mu.Unlock()
	if !in.fires(in.f.AsyncItemError, k, FaultAsyncItemError) {
		return false
	}
	in.counter(FaultAsyncItemError)
	return true
}

// rateWindow applies MaxRate: with R >= 1 at most floor(R) requests are
// accepted in any 1 s window; with R < 1 at most one per 1/R seconds. The
// caller holds in.mu.
func (in *injector) rateWindow() *statusFault {
	r := in.f.MaxRate
	if r <= 0 {
		return nil
	}
	capacity, window := int(math.Floor(r)), time.Second
	if r < 1 {
		capacity, window = 1, time.Duration(float64(time.Second)/r)
	}
	now := in.now()
	keep := in.window[:0]
	for _, t := range in.window {
		if now.Sub(t) < window {
			keep = append(keep, t)
		}
	}
	in.window = keep
	if len(in.window) < capacity {
		in.window = append(in.window, now)
		return nil
	}
	wait := window - now.Sub(in.window[0])
	if wait < time.Second {
		wait = time.Second
	}
	return &statusFault{FaultMaxRate, http.StatusTooManyRequests, "rateLimitExceeded",
		"Queue capacity exceeded. Retry with exponential backoff.", wait}
}

// retryAfterHeader formats d as whole seconds, rounded up.
func retryAfterHeader(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return itoa(s)
}
