package runner

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// withAttempts opens an attempt log in the harness's directory.
func (h *harness) withAttempts(cfg *Config) *journal.AttemptLog {
	h.t.Helper()
	l, err := journal.OpenAttempts(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg.Attempts = l
	h.t.Cleanup(func() { l.Close() })
	return l
}

// Every request is in the attempt log before it leaves and settled once
// answered: after a clean run nothing is open, there is one sent line per
// HTTP request, and the settled charges add up to the journaled cost.
func TestAttemptLogRecordsEveryRequest(t *testing.T) {
	h := newHarness(t, runwaretest.Options{Faults: runwaretest.Faults{RateLimit: runwaretest.Fault{Every: 3}}})
	cfg := h.config()
	l := h.withAttempts(&cfg)
	res, recs := h.run(context.Background(), cfg, makeTrials(12, 2, nil))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	led, err := journal.ReadLedger(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(led.Open) != 0 {
		t.Errorf("%d attempts left open after a clean run", len(led.Open))
	}
	if want := int(cfg.Progress.Calls.Load()); led.Attempts != want {
		t.Errorf("attempt log has %d sent lines, the run made %d requests", led.Attempts, want)
	}
	journaled := 0.0
	for _, r := range recs {
		if r.Cost != nil {
			journaled += *r.Cost
		}
	}
	if math.Abs(led.Settled-journaled) > 1e-9 || math.Abs(res.Spent-journaled) > 1e-9 {
		t.Errorf("settled %v, result spent %v, journaled cost %v: want all equal (429s cost nothing)", led.Settled, res.Spent, journaled)
	}
}

// An attempt that timed out may have been billed: it counts at its upper
// bound, so that what the server billed never passes --max-cost even when
// every answer comes too late.
func TestBudgetHoldsWhenLatencyExceedsTimeout(t *testing.T) {
	h := newHarness(t, runwaretest.Options{Faults: runwaretest.Faults{
		SlowFirstByte: runwaretest.Fault{P: 1}, SlowFirstByteDelay: runware.Duration(time.Second)}})
	cfg := h.config()
	cfg.Timeout = 20 * time.Millisecond
	trials := makeTrials(40, 1, nil)
	task, _ := buildTask(&trials[0])
	bound := upperBound(&task, cfg.Pricing)
	cfg.MaxCost = 5.5 * bound
	cfg.Concurrency = 4
	res, recs := h.run(context.Background(), cfg, trials)
	billed := h.sim.Stats().Cost
	if billed > cfg.MaxCost {
		t.Errorf("the server billed %v, over --max-cost %v", billed, cfg.MaxCost)
	}
	if res.Spent < billed {
		t.Errorf("spent counted %v, below what the server billed (%v)", res.Spent, billed)
	}
	if res.StopReason != journal.StopBudget {
		t.Errorf("stop reason %q, want budget", res.StopReason)
	}
	if len(recs) == 0 || len(recs) >= len(trials) {
		t.Errorf("%d of %d trials journaled; want the budget to stop the run part way", len(recs), len(trials))
	}
}

// Ctrl-C while requests are being answered 429 leaves those trials open
// (interrupted, not terminal), so that a plain --resume retries them instead
// of taking the 429 as their final answer.
func TestInterruptKeepsTransientFailuresPending(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	cfg := h.config()
	api := &heldAPI{inFlight: make(chan struct{}, 8), release: make(chan struct{})}
	cfg.API = api
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range 3 {
			<-api.inFlight
		}
		// Ctrl-C while all three requests are out; their 429s arrive after.
		cancel()
		close(api.release)
	}()
	_, recs := h.run(ctx, cfg, makeTrials(3, 1, nil))
	if len(recs) != 3 {
		t.Fatalf("%d lines journaled, want 3", len(recs))
	}
	for _, r := range recs {
		if r.Terminal() {
			t.Errorf("trial %s journaled as terminal (%+v) after Ctrl-C; want interrupted", r.TrialKey, r.Error)
		}
	}
}

// heldAPI holds every request until release is closed, then answers 429.
type heldAPI struct {
	inFlight chan struct{}
	release  chan struct{}
}

func (a *heldAPI) Do(ctx context.Context, tasks []runware.Task) ([]*runware.Response, error) {
	a.inFlight <- struct{}{}
	<-a.release
	resps := make([]*runware.Response, len(tasks))
	for i, t := range tasks {
		resps[i] = &runware.Response{TaskUUID: t.TaskUUID, HTTPStatus: 429,
			Err: &runware.Error{Class: runware.ClassRateLimit, HTTPStatus: 429, Message: "slow down"}}
	}
	return resps, nil
}

// An endpoint where nothing listens fails every request with a network
// error: the run stops after the first few instead of retrying every trial.
func TestUnreachableEndpointStopsEarly(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	cfg := h.config()
	cfg.API = runware.NewClient("test-key", runware.WithEndpoint("http://127.0.0.1:1/v1"))
	cfg.Concurrency = 2
	res, _ := h.run(context.Background(), cfg, makeTrials(500, 1, nil))
	if res.StopReason != journal.StopNoAnswer {
		t.Errorf("stop reason %q (%s), want %q", res.StopReason, res.StopDetail, journal.StopNoAnswer)
	}
	if calls := cfg.Progress.Calls.Load(); calls > networkProbe+int64(2*cfg.Concurrency) {
		t.Errorf("%d requests sent to an endpoint that refused the first %d", calls, networkProbe)
	}
}

// An async request a killed invocation had in flight is recovered by its
// taskUUID: the answer is fetched, not paid for again.
func TestRecoverAsyncTaskByUUID(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	cfg := h.config()
	client := runware.NewClient("test-key", runware.WithEndpoint(h.sim.URL()), runware.WithHTTPClient(h.sim.Client()),
		runware.WithPollInterval(time.Millisecond))
	cfg.API = client
	trials := makeTrials(2, 1, func(req map[string]any) { req["deliveryMethod"] = "async" })
	// The earlier process submitted trial 0 and died before the answer.
	task, _ := buildTask(&trials[0])
	task.TaskUUID = runware.NewTaskUUID()
	if _, err := client.Do(context.Background(), []runware.Task{task}); err != nil {
		t.Fatal(err)
	}
	before := h.sim.Stats().Tasks
	cfg.Recover = map[string]journal.Attempt{trials[0].Key: {TrialKey: trials[0].Key, TaskUUID: task.TaskUUID, Delivery: "async"}}
	_, recs := h.run(context.Background(), cfg, trials)
	if got := h.sim.Stats().Tasks - before; got != 1 {
		t.Errorf("the resumed run submitted %d tasks, want 1 (only the trial that was never sent)", got)
	}
	for _, r := range recs {
		if r.Error != nil {
			t.Errorf("trial %s: %+v", r.TrialKey, r.Error)
		}
		if r.TrialKey == trials[0].Key && r.TaskUUID != task.TaskUUID {
			t.Errorf("recovered trial answered under taskUUID %s, want the recorded %s", r.TaskUUID, task.TaskUUID)
		}
	}
}

// A sync trial that was in flight when the earlier invocation died is sent
// again, and its samples say it may have been billed twice.
func TestResentSyncTrialIsMarked(t *testing.T) {
	h := newHarness(t, runwaretest.Options{})
	cfg := h.config()
	trials := makeTrials(2, 2, nil)
	cfg.Recover = map[string]journal.Attempt{trials[1].Key: {TrialKey: trials[1].Key, TaskUUID: "x", Delivery: "sync"}}
	_, recs := h.run(context.Background(), cfg, trials)
	for _, r := range recs {
		if want := r.TrialKey == trials[1].Key; r.Resent != want {
			t.Errorf("trial %s result %d: resent = %v, want %v", r.TrialKey, r.ResultIndex, r.Resent, want)
		}
	}
}

// The attempt log of a killed run keeps the request in flight open, and a
// settled line closes it; a cut-off last line is ignored.
func TestReadLedgerOpenAttempts(t *testing.T) {
	dir := t.TempDir()
	l, err := journal.OpenAttempts(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.Sent(journal.Attempt{TrialKey: "a", TaskUUID: "u1", Bound: 0.5}, journal.Attempt{TrialKey: "b", TaskUUID: "u2", Bound: 0.25})
	l.Settled(journal.Attempt{TrialKey: "a", TaskUUID: "u1", Charged: 0.125})
	l.Close()
	appendRaw(t, filepath.Join(dir, journal.AttemptsFile), `{"kind":"sent","trialKey":"c","taskU`)
	led, err := journal.ReadLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if led.Settled != 0.125 || len(led.Open) != 1 || led.Open["u2"].TrialKey != "b" || led.OpenBound() != 0.25 {
		t.Errorf("ledger = %+v", led)
	}
}

// appendRaw appends s to the file at path as it is.
func appendRaw(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// A settled line held for the next write (journal.AttemptLog.Settled) and
// lost in a kill -9 after its trial was journaled costs nothing: resume
// counts the request at its journaled cost, not its bound, and does not send
// the trial again; one whose answer was not journaled yet counts at its bound
// and is sent again, marked resent.
func TestResumeAfterALostSettledLine(t *testing.T) {
	dir := t.TempDir()
	log, err := journal.OpenAttempts(dir)
	if err != nil {
		t.Fatal(err)
	}
	answered := journal.Attempt{TrialKey: "done", TaskUUID: "u1", Delivery: runware.DeliverySync, Bound: 1}
	inFlight := journal.Attempt{TrialKey: "open", TaskUUID: "u2", Delivery: runware.DeliverySync, Bound: 0.5}
	if err := log.Sent(answered, inFlight); err != nil {
		t.Fatal(err)
	}
	// Held, never written: the process dies before the next write.
	if err := log.Settled(journal.Attempt{TrialKey: "done", TaskUUID: "u1", Charged: 0.25}); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	cost := 0.25
	if err := w.Append(&journal.Record{V: journal.Version, CaseID: "c", TrialKey: "done", TaskUUID: "u1", Text: "ok", Cost: &cost, Pass: true}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b, err := os.ReadFile(filepath.Join(dir, journal.AttemptsFile)); err != nil || strings.Contains(string(b), `"settled"`) {
		t.Fatalf("the settled line is in the file already (%v): this test needs it held", err)
	}
	res, err := ReadResumption(dir, false) // the log is read as a kill -9 left it
	log.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.PriorSpent != 0.75 || res.Resent != 1 || res.Recover["open"].TaskUUID != "u2" || len(res.Recover) != 1 {
		t.Fatalf("prior %v, resent %d, recover %v; want 0.25 journaled + 0.5 bound, only the open trial sent again", res.PriorSpent, res.Resent, res.Recover)
	}
}
