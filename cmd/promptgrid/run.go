package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/history"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/promptgrid/promptgrid/runner"
	"github.com/promptgrid/promptgrid/runware"
)

func init() { register(newRunCmd) }

// runOptions are the flags and argument of `promptgrid run`.
type runOptions struct {
	suitePath    string
	filter       string
	sim          bool
	simTimeScale float64
	endpoint     string
	transport    string

	rate             float64
	concurrency      int
	fixedConcurrency bool
	tokensPerMinute  int
	batch            int
	maxCost          float64
	timeout          time.Duration
	idleTimeout      time.Duration
	maxRetryAfter    time.Duration

	out         string
	resume      string
	retryErrors bool
	cache       string
	shard       string
	quiet       bool

	arrival    string
	burstiness float64
	duration   time.Duration
	requests   int
	warmup     int

	report reportFlags
	// changed holds the flags set on the command line, for run.json.
	changed map[string]string
	// set reports whether a flag was given on the command line.
	set func(name string) bool
	// restore sets a flag as if it had been given (a resumed run's own).
	restore func(name, value string) error
}

func newRunCmd(s *streams) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run SUITE [flags]",
		Short: "Run a suite and journal every sample",
		Long: `Run expands SUITE into trials (case x grid cell x variant x seed), sends them to
Runware (or, with --sim, to the built-in simulator), checks every sample and
appends it to RUN_DIR/journal.jsonl the moment it arrives, then prints the
report. Set RUNWARE_API_KEY to use the real API.

Exit codes: 0 ok, 1 a quality gate failed, 2 bad input, 3 stopped at --max-cost,
4 stopped on a fatal API error (auth, credits), no request got an answer, or
the API was unavailable (the last 25 trials, or twice the concurrency, all
failed after their retries), 130 interrupted.`,
		Args: maxArgs(1, "one SUITE file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.suitePath = args[0]
			}
			if o.suitePath == "" && o.resume == "" {
				return withCode(exitInput, fmt.Errorf("run needs a SUITE file, or --resume RUN_DIR (got 0); usage: %s", cmd.UseLine()))
			}
			o.changed = map[string]string{}
			cmd.Flags().Visit(func(f *pflag.Flag) { o.changed[f.Name] = f.Value.String() })
			if e, ok := o.changed["endpoint"]; ok {
				// run.json never keeps credentials an endpoint may carry.
				o.changed["endpoint"] = runware.RedactURL(e)
			}
			o.set = func(name string) bool { return cmd.Flags().Changed(name) }
			o.restore = func(name, value string) error { return cmd.Flags().Set(name, value) }
			return runRun(cmd.Context(), s, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.filter, "filter", "", "run only cases whose id or tag matches")
	f.BoolVar(&o.sim, "sim", false, "run against the built-in simulator on 127.0.0.1 instead of the real API")
	f.Float64Var(&o.simTimeScale, "sim-time-scale", 0.05, "with --sim: scale of the simulated model delays (1 = realistic, 0 = none)")
	f.StringVar(&o.endpoint, "endpoint", runware.DefaultEndpoint, "Runware native API endpoint")
	f.StringVar(&o.transport, "transport", "", "send every trial over this transport: native (HTTP), websocket or openai (default: the suite's)")
	f.Float64Var(&o.rate, "rate", 0, "requests per second (default: the suite's limits.rate, else unlimited)")
	f.IntVar(&o.concurrency, "concurrency", 0, fmt.Sprintf("requests in flight at most (default: the suite's limits.concurrency, else %d)", runner.DefaultConcurrency))
	f.BoolVar(&o.fixedConcurrency, "fixed-concurrency", false, "no adaptation on 429: neither the rate nor the concurrency shrinks")
	f.IntVar(&o.tokensPerMinute, "tpm", 0, "tokens per minute at most (default: the suite's limits.tokensPerMinute, else no cap)")
	f.IntVar(&o.batch, "batch", 1, "tasks per HTTP request (sync and async delivery)")
	f.Float64Var(&o.maxCost, "max-cost", 0, "stop scheduling before spend could pass this many USD (default: the suite's limits.maxCost)")
	f.DurationVar(&o.timeout, "timeout", 0, fmt.Sprintf("per-request timeout (default: the suite's limits.timeout, else %v)", runware.DefaultRequestTimeout))
	f.DurationVar(&o.idleTimeout, "idle-timeout", runware.DefaultIdleTimeout, "end a request whose answer stops arriving for this long (a stream that stalls)")
	f.DurationVar(&o.maxRetryAfter, "max-retry-after", runware.DefaultMaxRetryAfter, "longest pause a server's Retry-After may impose (longer ones are cut to this)")
	f.StringVar(&o.out, "out", "", "run directory (default runs/<run-id>)")
	f.StringVar(&o.resume, "resume", "", "resume the run in this directory: run only trials without a terminal line")
	f.BoolVar(&o.retryErrors, "retry-errors", false, "with --resume: also re-run trials whose samples failed, marking them retried")
	f.StringVar(&o.cache, "cache", "", "response cache directory: identical requests (seed included) are answered from it")
	f.StringVar(&o.shard, "shard", "", "run only shard i of n (i/n, by trial key); join shards with promptgrid merge")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress display")
	f.StringVar(&o.arrival, "arrival", "", "open-loop load mode: constant, poisson or gamma arrivals at --rate")
	f.Float64Var(&o.burstiness, "burstiness", 1, "with --arrival gamma: coefficient of variation of the gaps")
	f.DurationVar(&o.duration, "duration", 0, "with --arrival: length of the load")
	f.IntVar(&o.requests, "requests", 0, "with --arrival: number of measured requests")
	f.IntVar(&o.warmup, "warmup", 0, "with --arrival: requests sent first and not journaled")
	o.report.register(f)
	return cmd
}

// runRun runs a suite (or resumes a run) and reports on it.
func runRun(ctx context.Context, s *streams, o *runOptions) error {
	defer startSoftMemoryLimit()()
	if err := o.report.validate(); err != nil {
		return err
	}
	var prev *journal.Meta
	var rd *journal.RunDir
	var resumeChanges map[string]string
	var err error
	if o.resume != "" {
		// The lock is taken first: a second resume of the same directory
		// fails here, before it reads or pays for anything.
		d, m, err := journal.OpenRun(o.resume)
		if err != nil {
			return withCode(exitInput, fmt.Errorf("--resume: %w", err))
		}
		rd = d
		defer rd.Close()
		prev = m
		if m.Pilot != "" {
			return withCode(exitInput, fmt.Errorf("--resume: %s holds a plan --pilot sample (%s), not a run of the suite; run the suite with --cache %s to reuse its answers",
				o.resume, m.Pilot, filepath.Join(o.resume, "cache")))
		}
		if o.suitePath == "" {
			o.suitePath = m.SuitePath
		}
		if resumeChanges, err = o.restoreFlags(m.Flags); err != nil {
			return err
		}
		if !o.set("shard") && m.Shard != "" {
			o.shard = m.Shard
		}
		if !o.set("sim") && m.Simulated {
			o.sim = true
		}
	} else if o.retryErrors {
		return withCode(exitInput, errors.New("--retry-errors needs --resume RUN_DIR"))
	}
	suite, err := loadSuite(s, o.suitePath, o.filter)
	if err != nil {
		return err
	}
	if prev != nil && prev.SuiteHash != suite.Hash {
		return withCode(exitInput, fmt.Errorf("--resume: %s changed since run %s started (hash %s, now %s); start a new run",
			o.suitePath, prev.RunID, prev.SuiteHash, suite.Hash))
	}
	// The trials are a stream: each is built when it is scheduled, so memory
	// does not grow with the suite. Counting them needs no expansion;
	// selecting a shard or the pending trials of a resumed run walks it once.
	count, err := eval.CountTrials(suite)
	if err != nil {
		return withCode(exitInput, err)
	}
	trials := runner.Trials{Seq: eval.ExpandSeq(suite), Count: count.Trials, Samples: count.Samples}
	var shard runner.Shard
	if o.shard != "" {
		if shard, err = runner.ParseShard(o.shard); err != nil {
			return withCode(exitInput, err)
		}
	}
	cfg, err := o.config(suite)
	if err != nil {
		return err
	}
	if o.shard != "" {
		if trials, err = shard.SelectTrials(trials); err != nil {
			return withCode(exitInput, err)
		}
	}

	clients, err := openClients(s, suite, o.sim, o.simTimeScale, o.endpoint, o.idleTimeout, cfg.Concurrency)
	if err != nil {
		return err
	}
	defer clients.close()
	endpoint := clients.endpoint
	cfg.API, cfg.WS = clients.http, clients.ws
	if o.cache != "" {
		if cfg.Cache, err = runner.OpenCache(o.cache, endpointNamespace(o.sim, endpoint)); err != nil {
			return withCode(exitInput, err)
		}
	}

	// The run directory and its run.json.
	meta := &journal.Meta{Suite: suite.Name, SuitePath: suite.Path, SuiteHash: suite.Hash, Version: versionString(),
		Flags: o.changed, Simulated: o.sim, Started: time.Now().UTC(), Trials: trials.Count,
		// The report orders cells and passes cases as the suite did when
		// the run started, whatever becomes of the suite file.
		Scoring: reports.RunScoring(suite)}
	if !o.sim {
		meta.Endpoint = runware.RedactURL(endpoint)
	}
	if o.shard != "" {
		meta.Shard = shard.String()
	}
	dir := o.out
	prevSamples := 0
	var resumed *runner.Resumption
	if prev != nil {
		dir = o.resume
		meta.RunID, meta.Started, meta.Flags = prev.RunID, prev.Started, prev.Flags
		meta.Commit, meta.Branch = prev.Commit, prev.Branch
		if meta.Flags == nil {
			meta.Flags = map[string]string{}
		}
		for k, v := range resumeChanges {
			meta.Flags[k] = v
		}
		meta.Resumes = append(prev.Resumes, journal.Resume{At: time.Now().UTC(), Changed: resumeChanges})
		// A line of another run or suite would be taken for one of this
		// run's trials: the one read of the journal refuses it. The attempt
		// log says what was spent and what was in flight when it stopped.
		if resumed, err = runner.ReadResumption(dir, o.retryErrors); err != nil {
			return withCode(exitInput, fmt.Errorf("--resume: %w", err))
		}
		prevSamples = resumed.Records
		cfg.PriorSpent, cfg.Recover = resumed.PriorSpent, resumed.Recover
		if trials, cfg.Retried, err = runner.PendingTrials(trials, resumed.State, o.retryErrors); err != nil {
			return withCode(exitInput, fmt.Errorf("--resume: %w", err))
		}
		if n := len(resumed.Recover); n > 0 {
			fmt.Fprintf(s.Err, "promptgrid: resuming %s: %s in flight when it stopped: %d async recovered by taskUUID, %d sent again (may be billed twice)\n",
				meta.RunID, plural(n, "request"), n-resumed.Resent, resumed.Resent)
		}
	} else {
		meta.Commit, meta.Branch = history.CommitInfo()
		meta.RunID = newRunID(time.Now())
		if dir == "" {
			dir = filepath.Join("runs", meta.RunID)
		}
	}
	cfg.RunID = meta.RunID
	meta.StopReason = journal.StopRunning
	if rd == nil {
		// A fresh run never appends to another run's journal (CreateRun
		// refuses): that would mix two run ids and pay for every trial again.
		d, err := journal.CreateRun(dir, meta)
		if err != nil {
			return withCode(exitInput, fmt.Errorf("--out: %w", err))
		}
		rd = d
		defer rd.Close()
	} else if err := rd.WriteMeta(meta); err != nil {
		return withCode(exitInput, err)
	}
	var settle []journal.Attempt
	if resumed != nil {
		settle = resumed.Settle
	}
	meta.Samples = prevSamples
	var live *liveReport
	if resumed == nil {
		live = newLiveReport(s, &o.report, dir, trials.Samples)
	}
	res, err := executeRun(ctx, s, rd, cfg, trials, meta, settle, endpointNamespace(o.sim, endpoint), o.quiet, live)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "promptgrid: run %s: %s, %s, %s journaled in %s\n",
		meta.RunID, meta.StopReason, plural(res.Trials, "trial"), plural(res.Samples, "sample"), dir)

	gateErr := o.report.finishWith(ctx, s, dir, live.summary())
	if err := stopError(meta, res.StopDetail, answerSource(o.sim, endpoint), dir); err != nil {
		return err
	}
	return gateErr
}

// stopError is the error (and exit code) of a run that stopped before its
// end: meta's stop reason, detail the runner's account of it, source where
// answers came from, dir the run directory to resume; nil for a run that
// completed.
func stopError(meta *journal.Meta, detail, source, dir string) error {
	switch meta.StopReason {
	case journal.StopBudget:
		return withCode(exitBudget, fmt.Errorf("budget: %s", detail))
	case journal.StopFatalAPI:
		return withCode(exitAPI, fmt.Errorf("the API refused the run: %s (resume with --resume %s once fixed)", detail, dir))
	case journal.StopInterrupted, journal.StopDeadline:
		return withCode(exitInterrupted, fmt.Errorf("run %s %s; resume with --resume %s", meta.RunID, meta.StopReason, dir))
	case journal.StopNoAnswer:
		return withCode(exitAPI, fmt.Errorf("%s from %s; check the endpoint and the network, then re-run the failed trials with --resume %s --retry-errors",
			meta.StopDetail, source, dir))
	case journal.StopUnavailable:
		return withCode(exitAPI, fmt.Errorf("stopped: %s from %s, so the API is down or out of quota; once it answers again, run the rest and the failed trials with --resume %s --retry-errors",
			meta.StopDetail, source, dir))
	}
	return nil
}

// config merges the suite's limits with the flags (flags win).
func (o *runOptions) config(suite *eval.Suite) (runner.Config, error) {
	l := suite.Limits
	cfg := runner.Config{
		SuiteName:        suite.Name,
		SuiteHash:        suite.Hash,
		Pricing:          eval.DefaultPricing,
		Pass:             suite.Pass,
		Rate:             l.Rate,
		Concurrency:      l.Concurrency,
		FixedConcurrency: o.fixedConcurrency,
		TokensPerMinute:  l.TokensPerMinute,
		Batch:            o.batch,
		MaxCost:          l.MaxCost,
		Timeout:          l.Timeout,
		MaxRetryAfter:    o.maxRetryAfter,
		Transport:        o.transport,
	}
	switch o.transport {
	case "", "native", "openai", "websocket":
	default:
		return cfg, withCode(exitInput, fmt.Errorf("--transport %q: want native, websocket or openai", o.transport))
	}
	if suite.Pricing != nil {
		cfg.Pricing = *suite.Pricing
	}
	if o.set("rate") {
		cfg.Rate = o.rate
	}
	if o.set("concurrency") {
		cfg.Concurrency = o.concurrency
	}
	if o.set("tpm") {
		cfg.TokensPerMinute = o.tokensPerMinute
	}
	if o.set("max-cost") {
		cfg.MaxCost = o.maxCost
	}
	if o.set("timeout") {
		cfg.Timeout = o.timeout
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = runware.DefaultRequestTimeout
	}
	if cfg.Rate < 0 || cfg.Concurrency < 0 || cfg.MaxCost < 0 || cfg.Batch < 1 || cfg.TokensPerMinute < 0 {
		return cfg, withCode(exitInput, errors.New("--rate, --concurrency, --tpm and --max-cost must not be negative; --batch must be at least 1"))
	}
	if cfg.Timeout < 0 || o.idleTimeout <= 0 || o.maxRetryAfter < 0 {
		return cfg, withCode(exitInput, errors.New("--timeout and --max-retry-after must not be negative, --idle-timeout must be positive"))
	}
	if o.arrival != "" {
		cfg.Load = &runner.Load{Arrival: o.arrival, Rate: cfg.Rate, Burstiness: o.burstiness,
			Duration: o.duration, Requests: o.requests, Warmup: o.warmup, Seed: 1}
		if cfg.Concurrency == 0 {
			// Open loop must not be throttled by completions: a generous cap
			// lets arrivals leave on time; hitting it shows up as lateness.
			cfg.Concurrency = 1024
		}
		if _, err := cfg.Load.Schedule(); err != nil {
			return cfg, withCode(exitInput, err)
		}
	} else if o.set("duration") || o.set("requests") || o.set("warmup") {
		return cfg, withCode(exitInput, errors.New("--duration, --requests and --warmup need --arrival"))
	}
	return cfg, nil
}

// answerSource names where a run's requests went, for messages: the
// endpoint without credentials or query values.
func answerSource(sim bool, endpoint string) string {
	if sim {
		return "the built-in simulator"
	}
	return runware.RedactURL(endpoint)
}

// endpointNamespace separates cache entries by where answers came from.
func endpointNamespace(sim bool, endpoint string) string {
	if sim {
		return "simulator"
	}
	return endpoint
}

// newRunID returns a sortable run id: UTC timestamp plus a short random
// suffix, e.g. 20250101-120000-3fa9c1.
func newRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// checkEndpoint refuses an --endpoint that no request could reach (a
// mistyped scheme, no host) before anything is sent.
func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = errors.New("no request could reach it")
	}
	if err != nil {
		return withCode(exitInput, fmt.Errorf("--endpoint %q: %w; want an http:// or https:// URL with a host, e.g. %s", endpoint, err, runware.DefaultEndpoint))
	}
	return nil
}
