package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// containsCheck is a minimal eval.Check for runner tests.
type containsCheck string

func (c containsCheck) Name() string { return "contains " + string(c) }
func (c containsCheck) Eval(_ context.Context, s eval.Sample) eval.Outcome {
	return eval.Outcome{Check: c.Name(), Pass: strings.Contains(s.Text, string(c))}
}

// makeTrials builds n trials of distinct prompts, each asking for results
// samples, with cost and usage on, like eval's expansion would.
func makeTrials(n, results int, mutate func(map[string]any)) []eval.Trial {
	c := &eval.Case{ID: "case", Checks: []eval.Check{containsCheck("e")}}
	trials := make([]eval.Trial, n)
	for i := range trials {
		req := map[string]any{
			"model":          runware.KimiK26AIR,
			"messages":       []any{map[string]any{"role": "user", "content": fmt.Sprintf("question number %d", i)}},
			"settings":       map[string]any{"maxTokens": 64},
			"includeCost":    true,
			"includeUsage":   true,
			"deliveryMethod": "sync",
			"seed":           int64(42),
		}
		if mutate != nil {
			mutate(req)
		}
		trials[i] = eval.Trial{
			Key:           fmt.Sprintf("trial-%04d", i),
			CaseID:        fmt.Sprintf("case-%d", i),
			Seed:          42,
			NumberResults: results,
			Request:       req,
			RequestHash:   fmt.Sprintf("h%d", i),
			Case:          c,
		}
	}
	return trials
}

// harness runs trials against an in-process simulator.
type harness struct {
	t   *testing.T
	sim *runwaretest.Server
	dir string
}

func newHarness(t *testing.T, opts runwaretest.Options) *harness {
	t.Helper()
	if opts.APIKeys == nil {
		opts.APIKeys = []string{"test-key"}
	}
	sim := runwaretest.NewServer(opts)
	t.Cleanup(sim.Close)
	return &harness{t: t, sim: sim, dir: t.TempDir()}
}

// config is a Config wired to the simulator, with fast retries.
func (h *harness) config() Config {
	return Config{
		API:       runware.NewClient("test-key", runware.WithEndpoint(h.sim.URL()), runware.WithHTTPClient(h.sim.Client())),
		RunID:     "test-run",
		SuiteName: "test",
		SuiteHash: "hash",
		Pricing:   eval.DefaultPricing,
		Retry:     Retry{Base: 1_000_000, Max: 5_000_000, MaxAttempts: 6}, // 1ms..5ms
		Progress:  &Progress{},
	}
}

// run executes trials into h.dir and returns the result and the journal.
func (h *harness) run(ctx context.Context, cfg Config, trials []eval.Trial) (*Result, []*journal.Record) {
	h.t.Helper()
	w, err := journal.Create(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg.Journal = w
	res, err := Run(ctx, cfg, trials)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return res, readJournal(h.t, h.dir)
}

func readJournal(t *testing.T, dir string) []*journal.Record {
	t.Helper()
	var recs []*journal.Record
	if _, err := journal.Read(filepath.Join(dir, journal.JournalFile), func(r *journal.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return recs
}

// perTrial counts records per trial key and result index.
func perTrial(recs []*journal.Record) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		m[fmt.Sprintf("%s/%d", r.TrialKey, r.ResultIndex)]++
	}
	return m
}
