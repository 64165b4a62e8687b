package runwaretest

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// Handler serves the simulated API: POST /v1 (native tasks), POST
// /v1/chat/completions (OpenAI-compatible), GET /v1/models and GET /stats.
// It is safe for concurrent use.
type Handler struct {
	opts      Options
	scenarios []compiledScenario
	pricing   Pricing
	inj       *injector
	mux       *http.ServeMux
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error

	base     context.Context // cancelled by Close; ends every delay
	shutdown context.CancelFunc

	webhook  WebhookOptions // with defaults
	whClient *http.Client
	whDials  atomic.Int64 // webhook connection attempts (for tests)

	mu       sync.Mutex
	stats    Stats
	inflight map[string]bool // taskUUIDs of sync and stream tasks being served
	async    map[string]*asyncTask
	seeds    *rand.Rand // draws seeds for tasks that send none
	reqs     uint64     // requests served, for shuffling
	// whPending counts webhook deliveries in progress; whIdle is closed
	// whenever it is zero.
	whPending int
	whIdle    chan struct{}

	ws wsHub // WebSocket sessions and connections (ws.go)
}

// NewHandler returns a simulator handler. It panics if a scenario is invalid
// (see CheckScenarios) or Webhook.Body is unknown, as regexp.MustCompile
// does.
func NewHandler(opts Options) *Handler {
	scs, err := compileScenarios(opts.Scenarios)
	if err != nil {
		panic("runwaretest: " + err.Error())
	}
	wh, err := opts.Webhook.withDefaults()
	if err != nil {
		panic("runwaretest: " + err.Error())
	}
	h := &Handler{
		opts:      opts,
		scenarios: scs,
		pricing:   opts.Pricing.withDefaults(),
		now:       opts.Now,
		sleep:     opts.Sleep,
		inflight:  map[string]bool{},
		async:     map[string]*asyncTask{},
		seeds:     rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)),
		webhook:   wh,
		whIdle:    make(chan struct{}),
	}
	close(h.whIdle)
	h.whClient = newWebhookClient(func() { h.whDials.Add(1) })
	if h.now == nil {
		h.now = time.Now
	}
	if h.sleep == nil {
		h.sleep = timerSleep
	}
	h.base, h.shutdown = context.WithCancel(context.Background())
	h.stats = newStats()
	h.inj = &injector{f: opts.Faults, seed: opts.Seed, now: h.now, counter: h.countFault}

	h.mux = http.NewServeMux()
	h.route("POST /v1", h.serveNative)
	h.route("POST /v1/{$}", h.serveNative)
	h.route("GET /v1", h.serveWS) // WebSocket upgrades (ws.go)
	h.route("GET /v1/{$}", h.serveWS)
	h.route("POST /v1/chat/completions", h.serveChat)
	h.route("GET /v1/models", h.serveModels)
	h.route("GET /stats", h.serveStats)
	h.route("/", func(w http.ResponseWriter, r *http.Request) {
		writeErrors(w, http.StatusNotFound, []apiError{{Code: "notFound", Message: "No such endpoint: " + r.Method + " " + r.URL.Path}})
	})
	return h
}

func timerSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// route registers fn under pattern, counting requests, endpoints and
// statuses, and bounding the request's context by the handler's lifetime.
func (h *Handler) route(pattern string, fn http.HandlerFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.stats.Requests++
		h.stats.Endpoints[r.Method+" "+r.URL.Path]++
		h.stats.InFlight++
		h.stats.MaxInFlight = max(h.stats.MaxInFlight, h.stats.InFlight)
		h.mu.Unlock()

		ctx, cancel := context.WithCancel(r.Context())
		stop := context.AfterFunc(h.base, cancel)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			stop()
			cancel()
			h.mu.Lock()
			h.stats.InFlight--
			if sw.status != 0 {
				h.stats.Status[sw.status]++
			}
			h.mu.Unlock()
		}()
		fn(sw, r.WithContext(ctx))
	})
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Close ends every simulated delay in progress, so that pending requests
// finish promptly, and waits for pending webhook deliveries to stop (results
// not delivered yet are dropped, uncounted). The handler keeps answering new
// requests without delays, and no longer delivers webhooks.
func (h *Handler) Close() {
	h.shutdown()
	h.WaitWebhooks(context.Background())
}

// statusWriter records the status code of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeSuccess answers 200 with v, or, when the malformed fault fires, with
// the first half of its JSON (counted as a fault).
func (h *Handler) writeSuccess(w http.ResponseWriter, v any, malformed bool) {
	if !malformed {
		writeJSON(w, http.StatusOK, v)
		return
	}
	h.countFault(FaultMalformed)
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b[:len(b)/2])
}

func writeErrors(w http.ResponseWriter, status int, errs []apiError) {
	writeJSON(w, status, map[string]any{"errors": errs})
}

// scaled applies TimeScale to a simulated model delay.
func (h *Handler) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * h.opts.TimeScale)
}

// keyOK reports whether key is accepted.
func (h *Handler) keyOK(key string) bool {
	if key == "" {
		return false
	}
	return len(h.opts.APIKeys) == 0 || slices.Contains(h.opts.APIKeys, key)
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// unsupportedContentType answers a POST without a JSON body type when
// Options.StrictContentType is set.
var unsupportedContentType = apiError{
	Code:    "unsupportedContentType",
	Message: "The Content-Type of the request must be application/json.",
	status:  http.StatusUnsupportedMediaType,
}

// contentTypeOK applies Options.StrictContentType: the media type must be
// application/json (parameters such as charset are allowed).
func (h *Handler) contentTypeOK(r *http.Request) bool {
	if !h.opts.StrictContentType {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

var invalidAPIKey = apiError{
	Code:      "invalidApiKey",
	Message:   "Invalid API key. Get one at https://my.runware.ai/signup",
	Parameter: "apiKey",
	TaskType:  runware.TaskAuthentication,
	status:    http.StatusUnauthorized,
}

// reset closes the client connection without a response: a TCP reset when
// the connection can be hijacked, otherwise an aborted handler.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// Server is a simulator listening on 127.0.0.1 with a random port.
type Server struct {
	h  *Handler
	ts *httptest.Server
}

// NewServer starts a simulator on 127.0.0.1:0. Call Close when done.
func NewServer(opts Options) *Server {
	h := NewHandler(opts)
	return &Server{h: h, ts: httptest.NewServer(h)}
}

// URL is the base URL of the native endpoint, "http://127.0.0.1:PORT/v1".
func (s *Server) URL() string { return s.ts.URL + "/v1" }

// Handler returns the server's handler.
func (s *Server) Handler() *Handler { return s.h }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats { return s.h.Stats() }

// Close ends pending delays and shuts the server down.
func (s *Server) Close() {
	s.h.Close()
	s.ts.Close()
}
