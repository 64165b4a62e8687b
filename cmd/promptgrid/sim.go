package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v4"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

func init() { register(newSimCmd) }

// simOptions are the flags of `promptgrid sim`.
type simOptions struct {
	addr         string
	scenarios    string
	timeScale    float64
	seed         int64
	apiKeys      []string
	shuffle      bool
	resultExtras bool

	// Fault probabilities per request.
	p429, p503, p504, p500, p402, p403 float64
	truncate, reset, malformed, midErr float64
	burst429                           int
	retryAfter                         int // seconds
	maxRate                            float64
	slowFirstByte                      time.Duration
	slowP                              float64
	truncateAfter                      int
	midErrDone                         bool
	asyncItemErr                       float64

	// Protocol options.
	ping              int
	progress          bool
	strictContentType bool
	alwaysUsage       bool
	webhookBody       string
	webhookAttempts   int
	webhookRetryDelay time.Duration
}

func newSimCmd(s *streams) *cobra.Command {
	o := &simOptions{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve the Runware API simulator on a loopback address",
		Long: `Sim serves the built-in simulator of Runware's text-inference API (native
POST /v1 with sync, stream and async delivery, POST /v1/chat/completions,
GET /v1/models, GET /stats) until interrupted. Point promptgrid or any other
client at the printed URL; any non-empty API key is accepted unless --api-key
is given. docs/simulator.md describes every behaviour and flag.`,
		Args: noArgs("a scenarios file goes in --scenarios FILE"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), s, o)
		},
	}
	o.bind(cmd.Flags())
	return cmd
}

// bind defines the sim flags on f, bound to o.
func (o *simOptions) bind(f *pflag.FlagSet) {
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "loopback address to listen on (port 0 picks a free port)")
	f.StringVar(&o.scenarios, "scenarios", "", "YAML or JSON file of scenarios (a list, or an object with a scenarios key)")
	f.Float64Var(&o.timeScale, "time-scale", 1, "scale of simulated model delays (1 = realistic, 0 = none)")
	f.Int64Var(&o.seed, "seed", 0, "seed of fault injection and of seeds drawn for tasks without one")
	f.StringSliceVar(&o.apiKeys, "api-key", nil, "accept only these API keys (default: any non-empty key)")
	f.BoolVar(&o.shuffle, "shuffle", false, "return the results of a batch in a random order")
	f.BoolVar(&o.resultExtras, "result-extras", false, "add resultIndex, seed and reasoningContent to native results (undocumented by the API)")
	f.Float64Var(&o.p429, "fault-429", 0, "probability of answering 429 rateLimitExceeded")
	f.IntVar(&o.burst429, "burst-429", 0, "answer the first N requests with 429")
	f.Float64Var(&o.p503, "fault-503", 0, "probability of answering 503 serviceUnavailable")
	f.Float64Var(&o.p504, "fault-504", 0, "probability of answering 504 timeoutProvider")
	f.Float64Var(&o.p500, "fault-500", 0, "probability of answering 500 internalServerError")
	f.Float64Var(&o.p402, "fault-402", 0, "probability of answering 402 insufficientCredits")
	f.Float64Var(&o.p403, "fault-403", 0, "probability of answering 403 forbidden")
	f.IntVar(&o.retryAfter, "retry-after", 0, "Retry-After seconds on injected 429, 503 and 504 (0 = no header)")
	f.Float64Var(&o.maxRate, "max-rate", 0, "accept at most this many requests per second; 429 with Retry-After beyond")
	f.Float64Var(&o.truncate, "truncate", 0, "probability of closing a stream without its final chunk and [DONE]")
	f.IntVar(&o.truncateAfter, "truncate-after", 2, "events sent before a truncation")
	f.Float64Var(&o.midErr, "mid-stream-error", 0, "probability of a timeoutProvider error event in the middle of a stream")
	f.BoolVar(&o.midErrDone, "mid-stream-error-done", false, "send [DONE] after a mid-stream error event")
	f.Float64Var(&o.asyncItemErr, "async-item-error", 0, "probability that one result of an async or webhook task fails (status error)")
	f.IntVar(&o.ping, "ping", 0, "send a ': ping' comment first and after every K stream events (0 = none)")
	f.BoolVar(&o.progress, "progress", false, "add progress (0-99) to processing items on getResponse")
	f.BoolVar(&o.strictContentType, "strict-content-type", false, "answer 415 to POSTs whose Content-Type is not application/json")
	f.BoolVar(&o.alwaysUsage, "always-usage", false, "send usage even without includeUsage")
	f.StringVar(&o.webhookBody, "webhook-body", runwaretest.WebhookBodyBare, "webhook body: bare (the result item) or data ({\"data\":[item]})")
	f.IntVar(&o.webhookAttempts, "webhook-attempts", runwaretest.DefaultWebhookAttempts, "webhook delivery attempts per result")
	f.DurationVar(&o.webhookRetryDelay, "webhook-retry-delay", runwaretest.DefaultWebhookRetryDelay, "wait between webhook attempts (times --time-scale)")
	f.Float64Var(&o.reset, "reset", 0, "probability of closing the connection without a response")
	f.Float64Var(&o.malformed, "malformed", 0, "probability of a 200 response whose JSON is cut off")
	f.DurationVar(&o.slowFirstByte, "slow-first-byte", 0, "delay the response headers by this duration")
	f.Float64Var(&o.slowP, "slow-first-byte-p", 1, "with --slow-first-byte: probability a request is delayed")
}

// options maps the flags to simulator options, reading the scenarios file.
func (o *simOptions) options() (runwaretest.Options, error) {
	opts := runwaretest.Options{
		APIKeys:        o.apiKeys,
		TimeScale:      o.timeScale,
		Seed:           o.seed,
		ShuffleResults: o.shuffle,
		ResultExtras:   o.resultExtras,

		Ping:              o.ping,
		Progress:          o.progress,
		StrictContentType: o.strictContentType,
		AlwaysUsage:       o.alwaysUsage,
		Webhook: runwaretest.WebhookOptions{Body: o.webhookBody, Attempts: o.webhookAttempts,
			RetryDelay: runware.Duration(o.webhookRetryDelay)},
	}
	if o.timeScale < 0 {
		return opts, errors.New("--time-scale must not be negative")
	}
	if o.ping < 0 {
		return opts, fmt.Errorf("--ping %d: must not be negative", o.ping)
	}
	if o.webhookBody != runwaretest.WebhookBodyBare && o.webhookBody != runwaretest.WebhookBodyData {
		return opts, fmt.Errorf("--webhook-body %q: want %s or %s", o.webhookBody, runwaretest.WebhookBodyBare, runwaretest.WebhookBodyData)
	}
	if o.webhookAttempts < 1 {
		return opts, fmt.Errorf("--webhook-attempts %d: at least 1", o.webhookAttempts)
	}
	if o.webhookRetryDelay < 0 {
		return opts, fmt.Errorf("--webhook-retry-delay %v: must not be negative", o.webhookRetryDelay)
	}
	for name, p := range map[string]float64{"--fault-429": o.p429, "--fault-503": o.p503, "--fault-504": o.p504,
		"--fault-500": o.p500, "--fault-402": o.p402, "--fault-403": o.p403, "--truncate": o.truncate,
		"--mid-stream-error": o.midErr, "--async-item-error": o.asyncItemErr, "--reset": o.reset, "--malformed": o.malformed, "--slow-first-byte-p": o.slowP} {
		if p < 0 || p > 1 {
			return opts, fmt.Errorf("%s %g: a probability must be between 0 and 1", name, p)
		}
	}
	f := &opts.Faults
	f.RateLimit = runwaretest.Fault{P: o.p429, First: o.burst429}
	f.Unavailable = runwaretest.Fault{P: o.p503}
	f.GatewayTimeout = runwaretest.Fault{P: o.p504}
	f.ServerError = runwaretest.Fault{P: o.p500}
	f.InsufficientCredits = runwaretest.Fault{P: o.p402}
	f.Forbidden = runwaretest.Fault{P: o.p403}
	f.Truncate = runwaretest.Fault{P: o.truncate}
	f.TruncateAfter = o.truncateAfter
	f.MidStreamError = runwaretest.Fault{P: o.midErr}
	f.MidStreamErrorDone = o.midErrDone
	f.AsyncItemError = runwaretest.Fault{P: o.asyncItemErr}
	f.Reset = runwaretest.Fault{P: o.reset}
	f.Malformed = runwaretest.Fault{P: o.malformed}
	f.RetryAfter = runware.Duration(time.Duration(o.retryAfter) * time.Second)
	f.MaxRate = o.maxRate
	if o.slowFirstByte > 0 {
		f.SlowFirstByte = runwaretest.Fault{P: o.slowP}
		f.SlowFirstByteDelay = runware.Duration(o.slowFirstByte)
	}
	if o.scenarios != "" {
		data, err := os.ReadFile(o.scenarios)
		if err != nil {
			return opts, fmt.Errorf("reading scenarios: %w", err)
		}
		if opts.Scenarios, err = parseSimScenarios(data); err != nil {
			return opts, fmt.Errorf("%s: %w", o.scenarios, err)
		}
	}
	return opts, nil
}

// parseSimScenarios reads YAML (or JSON, which is YAML) holding either a list
// of scenarios or an object with a "scenarios" list. Unknown fields are
// errors, so that a misspelt key does not silently do nothing.
func parseSimScenarios(data []byte) ([]runwaretest.Scenario, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	if m, ok := doc.(map[string]any); ok {
		doc = m["scenarios"]
		if doc == nil {
			return nil, errors.New(`expected a list of scenarios or an object with a "scenarios" list`)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var out []runwaretest.Scenario
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	if err := runwaretest.CheckScenarios(out); err != nil {
		return nil, err
	}
	return out, nil
}

// isLoopbackAddr reports whether addr's host is a loopback address.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runSim(ctx context.Context, s *streams, o *simOptions) error {
	if !isLoopbackAddr(o.addr) {
		return withCode(exitInput, fmt.Errorf("--addr %s: the simulator listens on loopback addresses only (127.0.0.1:PORT)", o.addr))
	}
	opts, err := o.options()
	if err != nil {
		return withCode(exitInput, err)
	}
	h := runwaretest.NewHandler(opts)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return withCode(exitInput, fmt.Errorf("listening on %s: %w", o.addr, err))
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	base := "http://" + ln.Addr().String() + "/v1"
	fmt.Fprintf(s.Out, "Runware simulator listening on %s (%d scenarios, time scale %g)\n", base, len(opts.Scenarios), opts.TimeScale)
	key := "sim"
	if len(opts.APIKeys) > 0 {
		key = "<a key given to --api-key>"
	}
	fmt.Fprintf(s.Out, "Point promptgrid at it:  RUNWARE_API_KEY=%s promptgrid run --endpoint %s SUITE.yaml\n", key, base)
	fmt.Fprintf(s.Out, "Stats: curl -s %s/stats    Stop: Ctrl-C\n", "http://"+ln.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("simulator: %w", err)
	}
	h.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("stopping the simulator: %w", err)
	}
	return nil
}
