package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/promptgrid/promptgrid/runner"
	"github.com/promptgrid/promptgrid/runware"
)

// apiClients are a run's clients of the API (or of the built-in simulator):
// HTTP and WebSocket, both on endpoint.
type apiClients struct {
	http     *runware.Client
	ws       *runware.WSClient
	endpoint string
	close    func()
}

// openClients connects a run of suite to the simulator (sim, started here on
// 127.0.0.1 with its scenarios) or to endpoint with RUNWARE_API_KEY. The
// WebSocket client dials on its first task, so a run without websocket trials
// never connects. close stops the simulator and the WebSocket.
func openClients(s *streams, suite *eval.Suite, sim bool, simTimeScale float64, endpoint string, idle time.Duration, concurrency int) (*apiClients, error) {
	if !sim {
		if err := checkEndpoint(endpoint); err != nil {
			return nil, err
		}
	}
	// Credentials: the simulator's, or the user's key (never printed or
	// stored).
	c := &apiClients{endpoint: endpoint, close: func() {}}
	apiKey := s.Getenv("RUNWARE_API_KEY")
	if sim {
		srv, err := startSim(suite, simTimeScale, nil)
		if err != nil {
			return nil, withCode(exitInput, err)
		}
		c.close = srv.Close
		apiKey, c.endpoint = simKey, srv.URL()
	} else if apiKey == "" {
		return nil, withCode(exitInput, errors.New("no API key: set RUNWARE_API_KEY or pass --sim to use the built-in simulator"))
	}
	var err error
	c.http, err = runware.New(apiKey, runware.WithEndpoint(c.endpoint), runware.WithHTTPClient(runner.HTTPClient(concurrency)),
		runware.WithIdleTimeout(idle))
	if err != nil {
		c.close()
		return nil, withCode(exitInput, fmt.Errorf("RUNWARE_API_KEY: %w", err))
	}
	if c.ws, err = runware.NewWS(apiKey, c.endpoint, runware.WithIdleTimeout(idle)); err != nil {
		c.close()
		return nil, withCode(exitInput, fmt.Errorf("--endpoint %s: %w", runware.RedactURL(c.endpoint), err))
	}
	stop := c.close
	c.close = func() { c.ws.Close(); stop() }
	return c, nil
}

// liveReport is the report of a fresh run aggregated as its journal is
// written (reports.Live), so that the run's report does not read the
// journal back; nil (no live report) is valid.
type liveReport struct {
	live *reports.Live
	sum  *reports.Summary
}

// newLiveReport returns the live report of a fresh run of samples samples
// in runDir, whose run.json is written, or nil for a run too large to hold
// its report's state while it runs (reports.LiveMaxSamples).
func newLiveReport(s *streams, f *reportFlags, runDir string, samples int) *liveReport {
	if samples > reports.LiveMaxSamples {
		return nil
	}
	return &liveReport{live: reports.NewLive(f.options(summaryOptions(s, runDir)))}
}

// tee feeds l every record w writes, unless w's file held lines before.
func (l *liveReport) tee(w *journal.Writer) {
	if l != nil && !w.Tee(l.live.Add, l.live.Fail) {
		l.live = nil
	}
}

// close ends the live report once w (whose tally is t) is closed.
func (l *liveReport) close(t journal.Tally) {
	if l == nil || l.live == nil {
		return
	}
	if sum, ok := l.live.Summary(t.Samples()); ok {
		l.sum = sum
	}
	l.live = nil
}

// summary is the live summary, or nil when the journal must be read.
func (l *liveReport) summary() *reports.Summary {
	if l == nil {
		return nil
	}
	return l.sum
}

// executeRun runs trials into the locked run directory rd, whose run.json
// (meta) is already written: it opens the journal and the attempt log
// (writing settle first, the attempts a resume settled), the judge cache in
// the directory, shows progress unless quiet, runs, and records how the run
// ended in meta (meta.Samples grows by what this invocation journaled) and
// run.json. A run in which no request got an answer gets stop reason "no
// answer". The error is a failure that is not a stop reason (journal I/O).
func executeRun(ctx context.Context, s *streams, rd *journal.RunDir, cfg runner.Config, trials runner.Trials,
	meta *journal.Meta, settle []journal.Attempt, cacheNamespace string, quiet bool, live *liveReport) (*runner.Result, error) {
	w, err := rd.Journal()
	if err != nil {
		return nil, withCode(exitInput, err)
	}
	cfg.Journal = w
	live.tee(w)
	attempts, err := rd.Attempts()
	if err != nil {
		w.Close()
		return nil, withCode(exitInput, err)
	}
	defer attempts.Close()
	if err := attempts.Settled(settle...); err != nil {
		w.Close()
		return nil, withCode(exitInput, err)
	}
	cfg.Attempts = attempts
	// Judge checks reach the model through the run (its pacing, retries,
	// timeout, budget and attempt log); their answers are cached in the run
	// directory, so that a resume or a re-score never pays twice.
	if cfg.JudgeCache, err = runner.OpenCache(filepath.Join(rd.Path, runner.JudgeCacheDir), cacheNamespace); err != nil {
		w.Close()
		return nil, withCode(exitInput, err)
	}
	// So are the steps of agent loops: a loop stopped between steps
	// replays, on resume, the steps it paid for.
	cfg.StepCache = runner.LazyCache(filepath.Join(rd.Path, runner.AgentStepsDir), cacheNamespace)
	cfg.Progress = &runner.Progress{}
	stopProgress := func() {}
	if !quiet {
		stopProgress = runner.ShowProgress(s.Err, s.ErrTTY, cfg.Progress, runner.PlainEvery)
	}
	res, runErr := runner.RunTrials(ctx, cfg, trials)
	stopProgress()
	if cerr := w.Close(); runErr == nil && cerr != nil {
		runErr = cerr
	}
	live.close(w.Tally())
	if cerr := attempts.Close(); runErr == nil && cerr != nil {
		runErr = cerr
	}
	meta.Ended = time.Now().UTC()
	if res != nil {
		meta.StopReason, meta.StopDetail = res.StopReason, res.StopDetail
		meta.Samples += res.Samples
	}
	if runErr != nil {
		meta.StopReason, meta.StopDetail = journal.StopInterrupted, runErr.Error()
	} else if t := w.Tally(); meta.StopReason == journal.StopCompleted && t.NoAnswer() {
		// Every sample this invocation journaled is an error: the run is
		// not "completed", whatever the runner says.
		meta.StopReason, meta.StopDetail = journal.StopNoAnswer, "no request got an answer: "+t.ErrorSummary()
	}
	if err := rd.WriteMeta(meta); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return res, withCode(exitInput, fmt.Errorf("run %s: %w", rd.Path, runErr))
	}
	if cfg.Cache != nil && cfg.Cache.Err() != nil {
		fmt.Fprintf(s.Err, "promptgrid: warning: response cache not written: %v\n", cfg.Cache.Err())
	}
	return res, nil
}
