package runware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// DefaultWSEndpoint is Runware's WebSocket endpoint (the TypeScript SDKs'
// default; reference §11).
const DefaultWSEndpoint = "wss://ws-api.runware.ai/v1"

// WebSocket keep-alive and connection bounds.
const (
	// DefaultPingInterval is the pause between keep-alive pings on an idle
	// or busy connection (the newer SDK and the CLI use 30 s, sdk-js 45 s).
	DefaultPingInterval = 30 * time.Second
	// DefaultPongTimeout is how long a pong may take before the connection
	// is given up and re-established (10 s in every Runware client).
	DefaultPongTimeout = 10 * time.Second
	// wsHandshakeTimeout bounds dialling plus authentication.
	wsHandshakeTimeout = 30 * time.Second
	// wsWriteTimeout bounds writing one frame.
	wsWriteTimeout = 10 * time.Second
	// wsMaxReconnects is how many reconnect attempts in a row may fail
	// before every task waiting on the connection fails.
	wsMaxReconnects = 5
	// wsReconnectBackoff is the first pause between reconnect attempts; it
	// doubles up to wsMaxBackoff.
	wsReconnectBackoff = 100 * time.Millisecond
	wsMaxBackoff       = 2 * time.Second
)

// WithPingInterval sets the WebSocket keep-alive interval (default
// DefaultPingInterval); d <= 0 sends no pings.
func WithPingInterval(d time.Duration) Option { return func(c *Client) { c.pingInterval = d } }

// WithPongTimeout sets how long a WebSocket pong may take (default
// DefaultPongTimeout) before the connection is dropped and re-established.
func WithPongTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.pongTimeout = d
		}
	}
}

// WSURL maps a native endpoint to its WebSocket URL: https → wss and http →
// ws (ws and wss are kept), and Runware's REST host api.runware.ai to its
// WebSocket host ws-api.runware.ai. The path and query are kept.
func WSURL(endpoint string) (string, error) {
	u, err := neturl.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("runware: endpoint %q is not an absolute URL", RedactURL(endpoint))
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		u.Scheme = "wss"
	case "http", "ws":
		u.Scheme = "ws"
	default:
		return "", fmt.Errorf("runware: endpoint %q: scheme %q is not http(s) or ws(s)", RedactURL(endpoint), u.Scheme)
	}
	if strings.EqualFold(u.Hostname(), "api.runware.ai") {
		port := u.Port()
		u.Host = "ws-api.runware.ai"
		if port != "" {
			u.Host += ":" + port
		}
	}
	return u.String(), nil
}

// WSClient sends textInference tasks over Runware's WebSocket API. One
// connection is shared by every concurrent Do call; it is dialled on the
// first Do, authenticated with an authentication task, kept alive with
// pings, and re-established (re-authenticating with the session's
// connectionSessionUUID) when it drops. It is safe for concurrent use.
type WSClient struct {
	cfg  *Client // key, bounds, redactor and HTTP client (for the handshake)
	url  string
	base context.Context
	stop context.CancelFunc

	mu      sync.Mutex
	conn    *wsConn
	gen     int           // generation of the latest connection
	dialing chan struct{} // closed when the dial in progress ends
	dialErr *Error        // outcome of the latest dial
	session string        // connectionSessionUUID of the latest session
	pending map[string]*wsTask
	redial  bool // a reconnect loop is running
	closed  bool
}

// wsConn is one authenticated connection.
type wsConn struct {
	c    *websocket.Conn
	gen  int
	pong chan struct{} // one signal per pong received
}

// wsTask is one task waiting for its answer.
type wsTask struct {
	task     Task
	batch    *wsBatch
	want     int
	sentGen  int  // generation of the connection it was last sent on
	answered bool // some frame for it arrived: never resubmitted
	finished bool
	timings  Timings
	dec      decodedBody   // sync: items and errors routed to the task
	st       *nativeStream // stream: the fold of its events
	err      *Error        // a failure of the connection, not of the task
	// async tasks: frame collects the items of the frame being routed
	// (each getResponse answer is the task's cumulative state), final
	// the terminal items once there are want of them.
	async bool
	frame []json.RawMessage
	final []Result
	done  chan struct{} // closed when finished
	bump  chan struct{} // one signal per event (idle timeout)
}

// wsBatch is the tasks of one Do call: they travel in one frame, as over
// HTTP they travel in one request.
type wsBatch struct{ tasks []*wsTask }

// NewWS returns a WebSocket client for endpoint (a native endpoint such as
// DefaultEndpoint or a simulator's http://127.0.0.1:PORT/v1, mapped by
// WSURL, or a ws(s) URL; "" means DefaultWSEndpoint). It refuses a key that
// CheckAPIKey rejects. The options are those of Client; WithEndpoint is
// ignored, WithHTTPClient sets the client of the opening handshake, and
// WithPollInterval/WithPollTimeout pace and bound async tasks' polling. Nothing is dialled before
// the first Do.
func NewWS(apiKey, endpoint string, opts ...Option) (*WSClient, error) {
	if err := CheckAPIKey(apiKey); err != nil {
		return nil, err
	}
	if endpoint == "" {
		endpoint = DefaultWSEndpoint
	}
	u, err := WSURL(endpoint)
	if err != nil {
		return nil, err
	}
	cfg := NewClient(apiKey, opts...)
	w := &WSClient{cfg: cfg, url: u, pending: map[string]*wsTask{}}
	w.base, w.stop = context.WithCancel(context.Background())
	return w, nil
}

// URL returns the WebSocket URL the client dials.
func (w *WSClient) URL() string { return w.url }

// Close closes the connection; tasks still waiting fail with code
// "aborted", and later Do calls return an error.
func (w *WSClient) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	conn := w.conn
	w.conn = nil
	w.failPendingLocked(&Error{Class: ClassUnknown, Code: "aborted", Message: "the WebSocket client was closed"}, func(*wsTask) bool { return true })
	w.mu.Unlock()
	w.stop()
	if conn != nil {
		return ignoreClosed(conn.c.Close(websocket.StatusNormalClosure, ""))
	}
	return nil
}

// ignoreClosed drops the error of closing a connection that was already
// gone.
func ignoreClosed(err error) error {
	if err == nil || errors.Is(err, net.ErrClosed) || websocket.CloseStatus(err) != -1 ||
		strings.Contains(err.Error(), "closed") {
		return nil
	}
	return err
}

// Do sends tasks (all with the same DeliveryMethod; a stream carries exactly
// one task) as one frame on the shared connection and
// returns one *Response per task, in the order of tasks, with the semantics
// of (*Client).Do: results matched by taskUUID, every API or transport
// failure in Response.Err with its Class set, the returned error reporting
// only misuse (as Client.Do does, plus a taskUUID already waiting on this
// client, and a closed client). Async tasks are acknowledged, then polled
// with getResponse frames every poll interval until their numberResults
// items are final (see poll).
// Response.HTTPStatus is 0: a WebSocket carries no status. The request
// timeout bounds each Do call from its start; the idle timeout bounds the
// pause between the events of a stream, and from the dispatch to its first
// event. If the connection drops, tasks no frame has answered are sent again
// after re-authentication; a task already (partly) answered never is.
func (w *WSClient) Do(ctx context.Context, tasks []Task) ([]*Response, error) {
	own, method, err := prepareTasks(tasks)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("runware: not sent: %w", err)
	}
	b := &wsBatch{}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, errors.New("runware: WebSocket client is closed")
	}
	for _, t := range own {
		if w.pending[t.TaskUUID] != nil {
			w.mu.Unlock()
			return nil, fmt.Errorf("runware: taskUUID %s is already waiting on this WebSocket client; results could not be matched", t.TaskUUID)
		}
	}
	for _, t := range own {
		wt := &wsTask{task: t, batch: b, want: max(t.NumberResults, 1), async: method == DeliveryAsync,
			done: make(chan struct{}), bump: make(chan struct{}, 1)}
		if method == DeliveryStream {
			wt.st = newNativeStream(t, &wt.timings)
			wt.st.maxBytes = w.cfg.maxResultBytes
		}
		b.tasks = append(b.tasks, wt)
		w.pending[t.TaskUUID] = wt
	}
	w.mu.Unlock()

	bctx, cancel := w.cfg.boundContext(ctx)
	defer cancel(context.Canceled)
	if conn, derr := w.ensure(bctx); derr != nil {
		w.mu.Lock()
		for _, t := range b.tasks {
			w.finishLocked(t, derr)
		}
		w.mu.Unlock()
	} else {
		w.dispatch(conn)
	}
	if method == DeliveryAsync {
		w.poll(bctx, b)
	}
	for _, t := range b.tasks {
		w.await(bctx, cancel, t)
	}
	w.mu.Lock()
	resps := make([]*Response, len(b.tasks))
	for i, t := range b.tasks {
		delete(w.pending, t.task.TaskUUID)
		resps[i] = w.response(t, bctx)
	}
	w.mu.Unlock()
	for _, r := range resps {
		w.cfg.redactResponse(r)
	}
	return resps, nil
}

// await waits for t to finish, for ctx to end, or for the idle bound of a
// stream (cancel ends ctx with errIdleTimeout).
func (w *WSClient) await(ctx context.Context, cancel context.CancelCauseFunc, t *wsTask) {
	var idle *idleTimer
	if t.st != nil {
		idle = startIdle(w.cfg.idleTimeout, cancel)
		defer idle.stop()
	}
	for {
		select {
		case <-t.done:
			return
		case <-ctx.Done():
			return
		case <-t.bump:
			if idle != nil {
				idle.reset(w.cfg.idleTimeout)
			}
		}
	}
}

// response builds the Response of t; w.mu is held. A task that did not
// finish failed by ctx (request or idle timeout, cancellation).
func (w *WSClient) response(t *wsTask, ctx context.Context) *Response {
	r := &Response{TaskUUID: t.task.TaskUUID}
	var cut *Error
	if !t.finished {
		cut = transportError(ctx, "await answer", context.Cause(ctx))
		t.finished = true
		t.timings.Done = time.Now()
	}
	r.Timings = t.timings
	switch {
	case t.err != nil && !(t.st != nil && t.answered):
		cp := *t.err
		cp.TaskUUID = r.TaskUUID
		r.Err = &cp
	case t.st != nil:
		readErr := cut
		if readErr == nil && t.err != nil {
			readErr = t.err
		}
		r.Results, r.Err = t.st.finish(readErr)
	case t.final != nil:
		r.Results = t.final
		for i := range t.final {
			if e := t.final[i].Err; e != nil {
				r.Err = e
				break
			}
		}
		w.cfg.checkResults([]Task{t.task}, []*Response{r}, 0)
	case t.async && cut != nil && len(t.dec.errs) == 0:
		cut.TaskUUID = r.TaskUUID
		r.Err = cut
	case cut != nil && len(t.dec.items) == 0 && len(t.dec.errs) == 0:
		cut.TaskUUID = r.TaskUUID
		r.Err = cut
	default:
		resps := []*Response{r}
		route([]Task{t.task}, resps, t.dec, &http.Response{StatusCode: http.StatusOK})
		w.cfg.checkResults([]Task{t.task}, resps, 0)
		if cut != nil && r.Err != nil && r.Err.Class == ClassMalformed && r.Err.Code == "" {
			cut.TaskUUID = r.TaskUUID
			r.Err = cut // fewer results than asked because time ran out
		}
	}
	return r
}

// finishLocked ends t (once), with e as a connection failure if not nil;
// w.mu is held.
func (w *WSClient) finishLocked(t *wsTask, e *Error) {
	if t.finished {
		return
	}
	if e != nil {
		t.err = e
	}
	t.finished = true
	t.timings.Done = time.Now()
	close(t.done)
}

// failPendingLocked fails every unfinished pending task that match selects;
// w.mu is held.
func (w *WSClient) failPendingLocked(e *Error, match func(*wsTask) bool) {
	for _, t := range w.pending {
		if !t.finished && match(t) {
			w.finishLocked(t, e)
		}
	}
}

// ensure returns the current connection, dialling one (or waiting for the
// dial in progress) when there is none.
func (w *WSClient) ensure(ctx context.Context) (*wsConn, *Error) {
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return nil, &Error{Class: ClassUnknown, Code: "aborted", Message: "the WebSocket client was closed"}
		}
		if w.conn != nil {
			c := w.conn
			w.mu.Unlock()
			return c, nil
		}
		if ch := w.dialing; ch != nil {
			w.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, transportError(ctx, "connect", context.Cause(ctx))
			}
			w.mu.Lock()
			c, e := w.conn, w.dialErr
			w.mu.Unlock()
			if c != nil {
				return c, nil
			}
			if e != nil {
				return nil, e
			}
			continue
		}
		ch := make(chan struct{})
		w.dialing = ch
		w.mu.Unlock()
		c, e := w.connect(ctx)
		w.mu.Lock()
		w.dialing, w.dialErr = nil, e
		w.mu.Unlock()
		close(ch)
		if e != nil {
			return nil, e
		}
		w.dispatch(c)
		return c, nil
	}
}

// frameLimit bounds one incoming frame: up to four results (numberResults
// at most 4) of the result cap, JSON escaping doubling them, plus 1 MiB, and
// never more than the 64 MiB bound of an HTTP body.
func (w *WSClient) frameLimit() int64 {
	return min(int64(maxBodyBytes), 8*int64(w.cfg.maxResultBytes)+1<<20)
}

// connect dials, authenticates (resuming the previous session when there
// is one) and installs the connection. Frames that arrive before the
// acknowledgement (results the server replays for a resumed session) are
// routed like any other.
func (w *WSClient) connect(ctx context.Context) (*wsConn, *Error) {
	hctx, cancel := context.WithTimeout(w.base, wsHandshakeTimeout)
	defer cancel()
	stopAfter := context.AfterFunc(ctx, cancel) // the caller's bound ends the dial too
	defer stopAfter()
	w.mu.Lock()
	prev := w.session
	w.mu.Unlock()
	hdr := http.Header{}
	hdr.Set("User-Agent", userAgent)
	c, _, err := websocket.Dial(hctx, w.url, &websocket.DialOptions{HTTPClient: w.cfg.http, HTTPHeader: hdr,
		CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, transportError(ctxOr(ctx, hctx), "connect", errors.New(w.cfg.redactor.Redact(err.Error())))
	}
	c.SetReadLimit(w.frameLimit())
	auth := map[string]string{"taskType": TaskAuthentication, "apiKey": w.cfg.apiKey}
	if prev != "" {
		auth["connectionSessionUUID"] = prev
	}
	msg, _ := json.Marshal([]any{auth})
	if err := c.Write(hctx, websocket.MessageText, msg); err != nil {
		c.CloseNow()
		return nil, transportError(ctxOr(ctx, hctx), "authenticate", err)
	}
	conn := &wsConn{c: c, pong: make(chan struct{}, 1)}
	session := ""
	for session == "" {
		_, b, err := c.Read(hctx)
		if err != nil {
			c.CloseNow()
			return nil, transportError(ctxOr(ctx, hctx), "authenticate", err)
		}
		dec, derr := decodeEnvelope(b, 0)
		if derr != nil {
			continue
		}
		for _, e := range dec.errs {
			if e.TaskType == TaskAuthentication || e.Class == ClassAuth {
				c.Close(websocket.StatusNormalClosure, "")
				if e.Class == "" || e.Class == ClassUnknown {
					e.Class = ClassAuth
				}
				e.Message = w.cfg.redactor.Redact(e.Message)
				return nil, e
			}
		}
		for _, raw := range dec.items {
			var a struct {
				TaskType              string `json:"taskType"`
				ConnectionSessionUUID string `json:"connectionSessionUUID"`
			}
			if json.Unmarshal(raw, &a) == nil && a.TaskType == TaskAuthentication {
				session = a.ConnectionSessionUUID
				if session == "" {
					session = "(none)"
				}
			}
		}
		w.route(conn, b, time.Now())
	}
	if session == "(none)" {
		session = ""
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		c.CloseNow()
		return nil, &Error{Class: ClassUnknown, Code: "aborted", Message: "the WebSocket client was closed"}
	}
	w.gen++
	conn.gen = w.gen
	if prev == "" || session != prev {
		// A new session cannot replay the rest of a partly answered task.
		w.failPendingLocked(&Error{Class: ClassNetwork, Code: "connectionLost",
			Message: "the WebSocket connection dropped during the answer and the server did not resume the session"},
			func(t *wsTask) bool { return t.answered })
	}
	w.session = session
	w.conn = conn
	w.mu.Unlock()
	go w.read(conn)
	if w.cfg.pingInterval > 0 {
		go w.keepAlive(conn)
	}
	return conn, nil
}

// ctxOr returns a when it has ended, else b: the caller's bound names the
// failure when it is the cause.
func ctxOr(a, b context.Context) context.Context {
	if a.Err() != nil {
		return a
	}
	return b
}

// dispatch sends every pending task that no frame has answered and that
// conn has not carried yet, one frame per Do call.
func (w *WSClient) dispatch(conn *wsConn) {
	w.mu.Lock()
	if w.conn != conn {
		w.mu.Unlock()
		return // dropped meanwhile: the next connection sends them
	}
	var order []*wsBatch
	batches := map[*wsBatch][]Task{}
	now := time.Now()
	for _, t := range w.pending {
		if t.finished || t.answered || t.sentGen >= conn.gen {
			continue
		}
		t.sentGen = conn.gen
		if t.timings.Dispatched.IsZero() {
			t.timings.Dispatched = now
		}
		if batches[t.batch] == nil {
			order = append(order, t.batch)
		}
		batches[t.batch] = append(batches[t.batch], t.task)
	}
	w.mu.Unlock()
	for _, b := range order {
		// Keep the caller's order within the frame.
		var frame []Task
		for _, bt := range b.tasks {
			for _, t := range batches[b] {
				if t.TaskUUID == bt.task.TaskUUID {
					frame = append(frame, t)
				}
			}
		}
		msg, err := json.Marshal(frame)
		if err != nil {
			w.mu.Lock()
			for _, t := range b.tasks {
				w.finishLocked(t, &Error{Class: ClassValidation, Message: fmt.Sprintf("encode request: %v", err)})
			}
			w.mu.Unlock()
			continue
		}
		if !w.write(conn, msg) {
			return // the reader sees the failure and reconnects
		}
	}
}

// write sends one frame; a failure closes the connection.
func (w *WSClient) write(conn *wsConn, msg []byte) bool {
	ctx, cancel := context.WithTimeout(w.base, wsWriteTimeout)
	defer cancel()
	if err := conn.c.Write(ctx, websocket.MessageText, msg); err != nil {
		conn.c.CloseNow()
		return false
	}
	return true
}

// keepAlive pings every ping interval and drops the connection when a pong
// does not come within the pong timeout.
func (w *WSClient) keepAlive(conn *wsConn) {
	ping, _ := json.Marshal([]any{map[string]any{"taskType": "ping", "ping": true}})
	t := time.NewTimer(w.cfg.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-w.base.Done():
			return
		case <-t.C:
		}
		if !w.current(conn) {
			return
		}
		select {
		case <-conn.pong: // a stale pong does not count
		default:
		}
		if !w.write(conn, ping) {
			return
		}
		pt := time.NewTimer(w.cfg.pongTimeout)
		select {
		case <-conn.pong:
			pt.Stop()
		case <-pt.C:
			conn.c.CloseNow() // the reader reconnects
			return
		case <-w.base.Done():
			pt.Stop()
			return
		}
		t.Reset(w.cfg.pingInterval)
	}
}

// current reports whether conn is the client's connection.
func (w *WSClient) current(conn *wsConn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conn == conn
}

// read routes the frames of conn until it fails, then reconnects when tasks
// are waiting.
func (w *WSClient) read(conn *wsConn) {
	for {
		_, b, err := conn.c.Read(w.base)
		if err != nil {
			w.lost(conn, err)
			return
		}
		w.route(conn, b, time.Now())
	}
}

// lost handles the end of conn: a frame past the limit fails the tasks it
// may have answered (they are not sent again); the others wait for the
// reconnect.
func (w *WSClient) lost(conn *wsConn, err error) {
	conn.c.CloseNow()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == conn {
		w.conn = nil
	}
	if w.closed {
		return
	}
	if strings.Contains(err.Error(), "read limited at") {
		e := tooLarge(w.cfg.maxResultBytes)
		e.Message = fmt.Sprintf("a WebSocket frame exceeds %d bytes; the tasks it may have answered fail", w.frameLimit())
		w.failPendingLocked(e, func(t *wsTask) bool { return t.sentGen == conn.gen })
	}
	w.startRedialLocked()
}

// startRedialLocked starts the reconnect loop unless it runs or nothing
// waits; w.mu is held.
func (w *WSClient) startRedialLocked() {
	if w.redial || w.closed || w.conn != nil {
		return
	}
	waiting := false
	for _, t := range w.pending {
		waiting = waiting || !t.finished
	}
	if !waiting {
		return
	}
	w.redial = true
	go w.reconnect()
}

// reconnect re-establishes the connection while tasks wait, with a growing
// pause between attempts. An authentication failure, or wsMaxReconnects
// failures in a row, fail every waiting task.
func (w *WSClient) reconnect() {
	backoff := wsReconnectBackoff
	for attempt := 1; ; attempt++ {
		t := time.NewTimer(backoff)
		select {
		case <-w.base.Done():
			t.Stop()
			w.mu.Lock()
			w.redial = false
			w.mu.Unlock()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, wsMaxBackoff)
		w.mu.Lock()
		waiting := false
		for _, t := range w.pending {
			waiting = waiting || !t.finished
		}
		if !waiting || w.closed || w.conn != nil {
			w.redial = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		_, e := w.ensure(w.base)
		if e == nil {
			w.mu.Lock()
			w.redial = false
			w.mu.Unlock()
			return
		}
		if e.Class == ClassAuth || attempt >= wsMaxReconnects {
			w.mu.Lock()
			w.redial = false
			cp := *e
			cp.Message = fmt.Sprintf("WebSocket reconnect failed after %d attempts: %s", attempt, e.Message)
			w.failPendingLocked(&cp, func(*wsTask) bool { return true })
			w.mu.Unlock()
			return
		}
	}
}

// wsItem is what route reads of a data item to place it.
type wsItem struct {
	TaskType flexString `json:"taskType"`
	TaskUUID flexString `json:"taskUUID"`
	Pong     bool       `json:"pong"`
	Done     bool       `json:"done"`
}

// route applies one frame: pongs signal the keep-alive, data items and
// errors go to their tasks by taskUUID. An error without a taskUUID of a
// waiting task goes to every unfinished task sent on conn, as the newer
// TypeScript SDK does (an authentication error, a malformed-frame error).
// A frame that does not decode is dropped: it names no task.
func (w *WSClient) route(conn *wsConn, b []byte, now time.Time) {
	dec, derr := decodeEnvelope(b, 0)
	if derr != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, raw := range dec.items {
		var it wsItem
		if json.Unmarshal(raw, &it) != nil {
			continue
		}
		if it.TaskType == "ping" {
			select {
			case conn.pong <- struct{}{}:
			default:
			}
			continue
		}
		if it.TaskType == TaskAuthentication {
			continue
		}
		t := w.pending[string(it.TaskUUID)]
		if t == nil || t.finished {
			continue // unknown, timed out or already complete
		}
		w.touchLocked(t, now)
		if t.async {
			t.frame = append(t.frame, raw)
			continue
		}
		if t.st != nil {
			payload := []byte(raw)
			if it.Done {
				payload = []byte(sseDone)
			}
			if t.st.feed(payload, now) {
				w.finishLocked(t, nil)
			}
			continue
		}
		t.dec.items = append(t.dec.items, raw)
		if len(t.dec.items) >= t.want {
			w.finishLocked(t, nil)
		}
	}
	for _, t := range w.pending {
		if t.async && len(t.frame) > 0 {
			w.asyncFrameLocked(t)
		}
	}
	for _, e := range dec.errs {
		if e.TaskUUID != "" {
			t := w.pending[e.TaskUUID]
			if t == nil || t.finished {
				continue // a task that timed out or is complete
			}
			w.touchLocked(t, now)
			if t.st != nil {
				t.st.err = e
			} else {
				t.dec.errs = append(t.dec.errs, e)
			}
			w.finishLocked(t, nil)
			continue
		}
		for _, t := range w.pending {
			if !t.finished && t.sentGen == conn.gen && conn.gen != 0 {
				cp := *e
				cp.TaskUUID = t.task.TaskUUID
				w.touchLocked(t, now)
				if t.st != nil {
					t.st.err = &cp
				} else {
					t.dec.errs = append(t.dec.errs, &cp)
				}
				w.finishLocked(t, nil)
			}
		}
	}
}

// asyncFrameLocked applies the items one frame carried for an async task:
// the acknowledgement, or a getResponse answer, the task's cumulative
// state, which finishes it once want of its items are terminal (success or
// error); w.mu is held.
func (w *WSClient) asyncFrameLocked(t *wsTask) {
	resps := []*Response{{TaskUUID: t.task.TaskUUID}}
	route([]Task{t.task}, resps, decodedBody{items: t.frame}, &http.Response{StatusCode: http.StatusOK})
	t.frame = nil
	var terminal []Result
	for _, it := range resps[0].Results {
		if it.terminal() {
			terminal = append(terminal, it)
		}
	}
	if len(terminal) >= t.want {
		t.final = terminal
		w.finishLocked(t, nil)
	}
}

// poll asks for the answers of a batch of async tasks: every poll interval
// one getResponse frame for those the server has acknowledged and that are
// not finished, on the connection of the moment (a reconnect does not
// submit them again: they are answered), until all are finished, ctx ends
// or the poll timeout passes (the unfinished ones then fail with
// ClassTimeout, as over HTTP). It returns at once; the polling goes on in
// the background.
func (w *WSClient) poll(ctx context.Context, b *wsBatch) {
	go func() {
		deadline := time.NewTimer(w.cfg.pollTimeout)
		defer deadline.Stop()
		tick := time.NewTicker(w.cfg.pollInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-deadline.C:
				w.mu.Lock()
				for _, t := range b.tasks {
					w.finishLocked(t, &Error{Class: ClassTimeout, Code: CodeTimeout, TaskUUID: t.task.TaskUUID, TaskType: t.task.TaskType,
						Message: fmt.Sprintf("async task not finished after polling for %v", w.cfg.pollTimeout)})
				}
				w.mu.Unlock()
				return
			case <-tick.C:
			}
			w.mu.Lock()
			var req []pollTask
			open := false
			for _, t := range b.tasks {
				if t.finished {
					continue
				}
				open = true
				if t.answered {
					req = append(req, pollTask{TaskType: TaskGetResponse, TaskUUID: t.task.TaskUUID})
				}
			}
			conn := w.conn
			w.mu.Unlock()
			if !open {
				return
			}
			if len(req) == 0 || conn == nil {
				continue // not acknowledged yet, or reconnecting
			}
			msg, err := json.Marshal(req)
			if err == nil {
				w.write(conn, msg)
			}
		}
	}()
}

// touchLocked records a frame for t; w.mu is held.
func (w *WSClient) touchLocked(t *wsTask, now time.Time) {
	t.answered = true
	stamp(&t.timings.FirstByte, now)
	select {
	case t.bump <- struct{}{}:
	default:
	}
}
