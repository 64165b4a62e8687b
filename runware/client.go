package runware

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	neturl "net/url"
	"sync"
	"time"
)

// Defaults for async polling. The TypeScript SDK polls for up to 20 minutes;
// one second between polls is the lower end of the docs' "1-2 second" advice.
const (
	DefaultPollInterval = time.Second
	DefaultPollTimeout  = 20 * time.Minute
)

// maxBodyBytes bounds a non-streamed response body so a runaway server cannot
// exhaust memory; 64 MiB is far above N=4 results of 49,152 tokens each.
const maxBodyBytes = 64 << 20

// userAgent identifies the client; Runware documents no required value.
const userAgent = "promptgrid-runware/1"

// Client talks to Runware's native task API and its OpenAI-compatible chat
// endpoint. It is safe for concurrent use.
type Client struct {
	apiKey       string
	bearer       string // the Authorization header's value: "Bearer " and apiKey
	endpoint     string
	http         *http.Client
	pollInterval time.Duration
	pollTimeout  time.Duration
	// requestTimeout, idleTimeout and maxResultBytes are the bounds of
	// limits.go.
	requestTimeout time.Duration
	idleTimeout    time.Duration
	maxResultBytes int
	redactor       *Redactor
	// pingInterval and pongTimeout are the WebSocket keep-alive (ws.go).
	pingInterval time.Duration
	pongTimeout  time.Duration
}

// Option configures a Client.
type Option func(*Client)

// NewClient returns a client that authenticates with apiKey as a bearer token.
func NewClient(apiKey string, opts ...Option) *Client {
	c := &Client{
		apiKey:       apiKey,
		endpoint:     DefaultEndpoint,
		http:         &http.Client{},
		pollInterval: DefaultPollInterval,
		pollTimeout:  DefaultPollTimeout,

		requestTimeout: DefaultRequestTimeout,
		idleTimeout:    DefaultIdleTimeout,
		maxResultBytes: DefaultMaxResultBytes,
		pingInterval:   DefaultPingInterval,
		pongTimeout:    DefaultPongTimeout,
	}
	for _, o := range opts {
		o(c)
	}
	c.http = noRedirects(c.http)
	c.redactor = NewRedactor(apiKey)
	c.bearer = "Bearer " + apiKey
	return c
}

// WithEndpoint sets the native endpoint (default DefaultEndpoint). The chat
// endpoint is derived from it by appending "/chat/completions".
func WithEndpoint(url string) Option { return func(c *Client) { c.endpoint = url } }

// WithHTTPClient sets the HTTP client used for every request. Its Timeout, if
// any, applies to whole requests including streams. The client uses a copy
// whose CheckRedirect refuses every redirect.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithPollInterval sets the pause between getResponse polls of async tasks.
func WithPollInterval(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.pollInterval = d
		}
	}
}

// WithPollTimeout sets how long async tasks are polled, counted from the
// acknowledgement, before they fail with ClassTimeout.
func WithPollTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.pollTimeout = d
		}
	}
}

// Do sends tasks (all with the same DeliveryMethod; "" means sync) in one HTTP
// request (a stream request carries exactly one task) and returns one
// *Response per task, in the order of tasks. Results are matched to tasks by
// taskUUID, never by array order. A task without TaskUUID gets a fresh one and
// a task without TaskType becomes textInference (in Do's copy; Response.TaskUUID
// tells the caller). Every API or transport failure is reported in
// Response.Err with its Class set; the returned error only reports misuse (no
// tasks, mixed or unknown delivery methods, more than one stream task,
// duplicate taskUUIDs) or a context cancelled before sending.
func (c *Client) Do(ctx context.Context, tasks []Task) ([]*Response, error) {
	MakeStackRoom()
	own, method, err := prepareTasks(tasks)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("runware: not sent: %w", err)
	}
	resps := make([]*Response, len(own))
	for i, t := range own {
		resps[i] = &Response{TaskUUID: t.TaskUUID}
	}
	switch method {
	case DeliverySync:
		c.doSync(ctx, own, resps)
	case DeliveryAsync:
		c.doAsync(ctx, own, resps)
	case DeliveryStream:
		c.doStream(ctx, own[0], resps[0])
	}
	for _, r := range resps {
		c.redactResponse(r)
	}
	return resps, nil
}

// prepareTasks checks the tasks of one Do call and returns Do's copy of
// them, each with a TaskUUID and a TaskType, and their delivery method: all
// tasks must share one known method, a stream carries exactly one task, and
// no taskUUID may appear twice. Client.Do and WSClient.Do share it.
func prepareTasks(tasks []Task) ([]Task, string, error) {
	if len(tasks) == 0 {
		return nil, "", errors.New("runware: Do called without tasks")
	}
	method := normDelivery(tasks[0].DeliveryMethod)
	own := make([]Task, len(tasks))
	seen := make(map[string]bool, len(tasks))
	for i, t := range tasks {
		if m := normDelivery(t.DeliveryMethod); m != method {
			return nil, "", fmt.Errorf("runware: task %d has deliveryMethod %q, task 0 has %q: one request carries one delivery method", i, t.DeliveryMethod, tasks[0].DeliveryMethod)
		}
		if t.TaskUUID == "" {
			t.TaskUUID = NewTaskUUID()
		}
		if t.TaskType == "" {
			t.TaskType = TaskTextInference
		}
		if seen[t.TaskUUID] {
			return nil, "", fmt.Errorf("runware: taskUUID %s appears twice in one request; results could not be matched", t.TaskUUID)
		}
		seen[t.TaskUUID] = true
		own[i] = t
	}
	switch method {
	case DeliverySync, DeliveryAsync:
	case DeliveryStream:
		if len(own) != 1 {
			return nil, "", fmt.Errorf("runware: a stream request carries exactly one task, got %d", len(own))
		}
	default:
		return nil, "", fmt.Errorf("runware: unknown deliveryMethod %q (want sync, async or stream)", method)
	}
	return own, method, nil
}

// normDelivery maps the empty delivery method to its documented default, sync.
func normDelivery(m string) string {
	if m == "" {
		return DeliverySync
	}
	return m
}

// exchange is one HTTP round trip in progress: the response (nil on a
// transport failure) and the timestamps taken so far.
type exchange struct {
	resp    *http.Response
	timings Timings
	ctx     context.Context         // the bounded context of this exchange
	cancel  context.CancelCauseFunc // ends it; closing the body calls it
	// firstByte is the trace that stamps timings.FirstByte (sendBounded).
	firstByte firstByteTrace
}

// cancelBody closes the body, then ends the exchange's context.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

// Close implements io.Closer.
func (b cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(context.Canceled)
	return err
}

// send POSTs payload as JSON to url under the request timeout. A transport
// failure or a redirect comes back as an *Error; otherwise the caller owns
// resp.Body, and closing it ends the exchange's context.
func (c *Client) send(parent context.Context, url string, payload any, accept string) (*exchange, *Error) {
	ctx, cancel := c.boundContext(parent)
	ex, err := c.sendBounded(ctx, url, payload, accept)
	if err != nil || ex == nil || ex.resp == nil {
		cancel(context.Canceled)
		return ex, err
	}
	ex.ctx, ex.cancel = ctx, cancel
	ex.resp.Body = cancelBody{ex.resp.Body, cancel}
	if s := ex.resp.StatusCode; s >= 300 && s <= 399 {
		loc := ex.resp.Header.Get("Location")
		_ = ex.resp.Body.Close()
		ex.timings.Done = time.Now()
		return ex, &Error{Class: ClassValidation, Code: CodeRedirect, HTTPStatus: s,
			Message: fmt.Sprintf("the API answered with a redirect to %q, which is not followed (API calls never follow redirects, so the prompt and the key go nowhere else): point the endpoint at the final URL", RedactURL(loc))}
	}
	return ex, nil
}

// sendBounded is send without the bounds: one round trip under ctx.
func (c *Client) sendBounded(ctx context.Context, url string, payload any, accept string) (*exchange, *Error) {
	body, err := encodePayload(payload)
	if err != nil {
		return nil, &Error{Class: ClassValidation, Message: fmt.Sprintf("encode request: %v", err)}
	}
	ex := &exchange{}
	ex.firstByte.trace.GotFirstResponseByte = ex.firstByte.stamp
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &ex.firstByte.trace), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Class: ClassValidation, Message: fmt.Sprintf("build request: %v", err)}
	}
	c.setHeaders(req.Header, accept)
	ex.timings.Dispatched = time.Now()
	resp, err := c.http.Do(req)
	ex.timings.FirstByte = ex.firstByte.read()
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			ue.URL = RedactURL(ue.URL) // net/http quotes the URL, userinfo and query included
		}
		return ex, transportError(ctx, "send request", err)
	}
	ex.resp = resp
	return ex, nil
}

// encodePayload is json.Marshal of a request body; the task array of a
// native request, the body of nearly every request, is written without
// reflection (encodeTasks).
func encodePayload(payload any) ([]byte, error) {
	if tasks, ok := payload.([]Task); ok {
		return encodeTasks(tasks)
	}
	return json.Marshal(payload)
}

// setHeaders sets what req.Header.Set would set for the request's headers,
// without its work per call: the keys are written in their canonical form
// and the values share one backing array, each slice capped so that an
// append to one copies it rather than overwriting the next.
func (c *Client) setHeaders(h http.Header, accept string) {
	v := make([]string, 4)
	v[0], v[1], v[2], v[3] = c.bearer, "application/json", userAgent, accept
	h["Authorization"] = v[0:1:1]
	h["Content-Type"] = v[1:2:2]
	h["User-Agent"] = v[2:3:3]
	if accept != "" {
		h["Accept"] = v[3:4:4]
	}
}

// firstByteTrace is the client trace of one exchange, which stamps when
// the first byte of the response arrived. It lives in the exchange so that
// tracing costs no allocation of its own but the hook's.
type firstByteTrace struct {
	trace httptrace.ClientTrace
	// mu guards at: the transport may call the hook from its read loop,
	// even after Do has returned with an error.
	mu sync.Mutex
	at time.Time
}

// stamp is the GotFirstResponseByte hook.
func (f *firstByteTrace) stamp() {
	f.mu.Lock()
	f.at = time.Now()
	f.mu.Unlock()
}

// read returns the time stamped so far (zero when none).
func (f *firstByteTrace) read() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at
}

// readBody reads the whole (bounded) body and stamps Done.
func (ex *exchange) readBody(ctx context.Context) ([]byte, *Error) {
	defer ex.resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(ex.resp.Body, maxBodyBytes+1))
	ex.timings.Done = time.Now()
	if err == nil {
		err = ex.bound()
	}
	if err != nil {
		return b, transportError(ex.context(ctx), "read response", err)
	}
	if len(b) > maxBodyBytes {
		return nil, &Error{Class: ClassMalformed, Message: fmt.Sprintf("response body exceeds %d bytes", maxBodyBytes)}
	}
	return b, nil
}

// context returns the exchange's bounded context, or ctx for an exchange
// that has none.
func (ex *exchange) context(ctx context.Context) context.Context {
	if ex != nil && ex.ctx != nil {
		return ex.ctx
	}
	return ctx
}

// bound returns the cause when one of the client's bounds ended the
// exchange, even if the body then ended as if cleanly (an in-process
// transport closes it without error).
func (ex *exchange) bound() error {
	if ex == nil || ex.ctx == nil {
		return nil
	}
	if c := context.Cause(ex.ctx); errors.Is(c, errIdleTimeout) || errors.Is(c, errRequestTimeout) {
		return c
	}
	return nil
}

// transportError classifies a failure below HTTP: the client's own bounds
// (request and idle timeout) and deadlines become ClassTimeout, cancellation
// is reported with code "aborted" (not transient: the caller asked for it),
// everything else is ClassNetwork.
func transportError(ctx context.Context, what string, err error) *Error {
	var ne net.Error
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errIdleTimeout):
		return &Error{Class: ClassTimeout, Code: CodeIdleTimeout, Message: fmt.Sprintf("%s: no stream event within the idle timeout: %v", what, err)}
	case errors.Is(cause, errRequestTimeout):
		return &Error{Class: ClassTimeout, Code: CodeTimeout, Message: fmt.Sprintf("%s: request timeout exceeded: %v", what, err)}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Class: ClassTimeout, Code: CodeTimeout, Message: fmt.Sprintf("%s: %v", what, err)}
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return &Error{Class: ClassUnknown, Code: "aborted", Message: fmt.Sprintf("%s: %v", what, err)}
	case errors.As(err, &ne) && ne.Timeout():
		return &Error{Class: ClassTimeout, Code: CodeTimeout, Message: fmt.Sprintf("%s: %v", what, err)}
	}
	return &Error{Class: ClassNetwork, Message: fmt.Sprintf("%s: %v", what, err)}
}

// redactResponse removes the API key (see Redactor) from every error text of r. Runware
// echoes no key that we know of, but a proxy, a URL or a transport error might.
func (c *Client) redactResponse(r *Response) {
	if c.apiKey == "" {
		return
	}
	seen := map[*Error]bool{}
	redact := func(e *Error) {
		if e == nil || seen[e] {
			return
		}
		seen[e] = true
		e.Message = c.redactor.Redact(e.Message)
		e.Parameter = c.redactor.Redact(e.Parameter)
		e.Code = c.redactor.Redact(e.Code)
		e.Doc = c.redactor.Redact(e.Doc)
	}
	redact(r.Err)
	for i := range r.Results {
		redact(r.Results[i].Err)
	}
}
