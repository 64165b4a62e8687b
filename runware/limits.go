package runware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Client bounds (issue 11). Every one has a default and an Option; the
// runner's --timeout, --idle-timeout and --max-retry-after map onto them.
const (
	// DefaultRequestTimeout bounds one HTTP exchange from dispatch to the
	// last byte of its body (a whole stream, a sync answer, one async
	// submission or poll). Kimi K2.6 at maxTokens 49,152 streams for a few
	// minutes at most; 10 minutes leaves room without hanging a run forever.
	DefaultRequestTimeout = 10 * time.Minute
	// DefaultIdleTimeout bounds the pause between two data events of a
	// stream (comments such as ": ping" do not count), and the pause from the
	// response headers to the first event.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxResultBytes caps the text plus reasoning accumulated for one
	// result. A 49,152-token answer is about 200 KB; past the cap the result
	// fails with code "resultTooLarge" instead of growing without bound.
	DefaultMaxResultBytes = 4 << 20
	// DefaultMaxRetryAfter is the longest Retry-After pause a caller should
	// honour (see CapRetryAfter); a server asking for more is waited on for
	// this long only.
	DefaultMaxRetryAfter = 5 * time.Minute
)

// Error codes the client itself produces for its bounds.
const (
	CodeTimeout        = "timeout"
	CodeIdleTimeout    = "idleTimeout"
	CodeResultTooLarge = "resultTooLarge"
	CodeRedirect       = "redirect"
	// CodeNotTextResult marks an item that is not a textInference answer
	// (an authentication item, an image result).
	CodeNotTextResult = "notTextResult"
)

// errRequestTimeout and errIdleTimeout are the causes a bound cancels an
// exchange's context with, so transportError can tell them apart.
var (
	errRequestTimeout = errors.New("request timeout")
	errIdleTimeout    = errors.New("stream idle timeout")
)

// WithRequestTimeout sets the bound of one HTTP exchange (default
// DefaultRequestTimeout); d <= 0 removes it, leaving only the caller's context.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) { c.requestTimeout = d }
}

// WithIdleTimeout sets the longest pause between stream events (default
// DefaultIdleTimeout); d <= 0 removes it.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *Client) { c.idleTimeout = d }
}

// WithMaxResultBytes sets the cap on one result's text plus reasoning in
// bytes (default DefaultMaxResultBytes); n <= 0 keeps the default.
func WithMaxResultBytes(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxResultBytes = n
		}
	}
}

// CapRetryAfter returns the pause to honour for a Retry-After of d when at
// most limit is allowed (limit <= 0 means DefaultMaxRetryAfter), and whether
// d was cut down.
func CapRetryAfter(d, limit time.Duration) (time.Duration, bool) {
	if limit <= 0 {
		limit = DefaultMaxRetryAfter
	}
	if d > limit {
		return limit, true
	}
	return max(d, 0), false
}

// sseLineLimit bounds one SSE line or event: a final chunk may repeat the
// whole text and reasoning (JSON escaping can double them), plus headroom.
func (c *Client) sseLineLimit() int { return 2*c.maxResultBytes + 1<<20 }

// tooLarge is the error of a result past the cap.
func tooLarge(limit int) *Error {
	return &Error{Class: ClassMalformed, Code: CodeResultTooLarge,
		Message: fmt.Sprintf("result text exceeds %d bytes; the answer was cut off (raise the client's max result bytes if this is a real answer)", limit)}
}

// boundContext derives the context of one exchange: the request timeout and
// a cancel (with cause) that the idle timer and closing the body use.
func (c *Client) boundContext(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	if c.requestTimeout > 0 {
		tctx, tcancel := context.WithTimeoutCause(ctx, c.requestTimeout, errRequestTimeout)
		return tctx, func(err error) { cancel(err); tcancel() }
	}
	return ctx, cancel
}

// noRedirects returns a copy of h that never follows a redirect: the 3xx
// answer comes back to send, which reports it. Following would resend the
// prompt (307/308) and the key to wherever Location points.
func noRedirects(h *http.Client) *http.Client {
	cp := *h
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// idleTimer cancels an exchange when no stream event arrives for d.
type idleTimer struct{ t *time.Timer }

// startIdle arms the idle bound of a stream; a zero d arms nothing.
func startIdle(d time.Duration, cancel context.CancelCauseFunc) *idleTimer {
	if d <= 0 || cancel == nil {
		return &idleTimer{}
	}
	return &idleTimer{t: time.AfterFunc(d, func() { cancel(errIdleTimeout) })}
}

// reset restarts the bound after an event.
func (it *idleTimer) reset(d time.Duration) {
	if it.t != nil {
		it.t.Reset(d)
	}
}

// stop disarms the bound.
func (it *idleTimer) stop() {
	if it.t != nil {
		it.t.Stop()
	}
}
