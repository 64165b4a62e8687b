package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/promptgrid/promptgrid/runner"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/spf13/cobra"
)

func init() { register(newReportCmd) }

// rescoredJournal is the journal `report --rescore` writes beside the run's.
const rescoredJournal = "journal.rescored.jsonl"

// reportOptions are the options of `promptgrid report`.
type reportOptions struct {
	runDir    string
	rescore   bool
	suitePath string
	endpoint  string
	judgeDir  string
	report    reportFlags
}

func newReportCmd(s *streams) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Summarise a run from its journal, optionally re-scoring it with the current checks",
		Long: `report reads RUN_DIR/journal.jsonl and prints the per-cell summary: pass rate
with a 95% interval clustered by case, pass@k and pass^k, latency quantiles,
thinking tokens, cost and errors. It never calls the API. The cell order and
the pass rules are those run.json recorded when the run started: editing the
suite afterwards does not change the run's report (--rescore does).

--format lists what to produce: table (the default) prints the table on
stdout; md, json, csv, junit and html write files into RUN_DIR. Only the
listed formats are produced: --format json writes summary.json and prints no
table, --format table,json does both.

--rescore evaluates the current checks of the suite (run.json's suite, or
--suite) against the stored responses and writes journal.rescored.jsonl and
its reports beside the originals. Judge checks ask a model only for verdicts
not already in the judge cache, and only when RUNWARE_API_KEY is set;
otherwise they fail with a reason saying so.`,
		Args: exactArgs(1, "one RUN_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.runDir = args[0]
			return reportRun(cmd.Context(), s, o)
		},
	}
	f := cmd.Flags()
	o.report.register(f)
	f.BoolVar(&o.rescore, "rescore", false, "re-score the stored responses with the suite's current checks (no new samples)")
	f.StringVar(&o.suitePath, "suite", "", "with --rescore: the suite file (default: the run's, from run.json)")
	f.StringVar(&o.endpoint, "endpoint", "", "with --rescore: the API endpoint for judge checks (default: the run's, else "+runware.DefaultEndpoint+")")
	f.StringVar(&o.judgeDir, "judge-cache", "", "with --rescore: judge verdict cache directory (default RUN_DIR/judge-cache)")
	return cmd
}

// judgeCacheDir is where a run's judge verdicts are cached unless told
// otherwise, so that re-scoring finds the verdicts the run paid for.
func judgeCacheDir(runDir string) string { return filepath.Join(runDir, runner.JudgeCacheDir) }

func reportRun(ctx context.Context, s *streams, o *reportOptions) error {
	defer startSoftMemoryLimit()()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := o.report.validate(); err != nil {
		return err
	}
	if !o.rescore {
		if o.suitePath != "" {
			return withCode(exitInput, errors.New("--suite is only used with --rescore"))
		}
		return o.report.finish(ctx, s, o.runDir)
	}
	// Re-scoring writes into the run directory: it holds the lock.
	if _, err := os.Stat(o.runDir); err != nil {
		return withCode(exitInput, fmt.Errorf("--rescore: %w", err))
	}
	rd, err := journal.LockRun(o.runDir)
	if err != nil {
		return withCode(exitInput, fmt.Errorf("--rescore: %w", err))
	}
	defer rd.Close()
	meta, err := journal.ReadMeta(o.runDir)
	if err != nil && o.suitePath == "" {
		return withCode(exitInput, fmt.Errorf("--rescore needs the run's suite: %w (or pass --suite)", err))
	}
	path := o.suitePath
	if path == "" {
		path = meta.SuitePath
	}
	if path == "" {
		return withCode(exitInput, errors.New("--rescore: run.json names no suite file; pass --suite"))
	}
	suite, err := loadSuite(s, path, "")
	if err != nil {
		return err
	}
	if key := s.Getenv("RUNWARE_API_KEY"); key != "" {
		endpoint := o.endpoint
		if endpoint == "" && meta != nil {
			endpoint = meta.Endpoint
		}
		if endpoint == "" {
			endpoint = runware.DefaultEndpoint
		}
		dir := o.judgeDir
		if dir == "" {
			dir = judgeCacheDir(o.runDir)
		}
		client, err := runware.New(key, runware.WithEndpoint(endpoint), runware.WithHTTPClient(&http.Client{}))
		if err != nil {
			return withCode(exitInput, fmt.Errorf("RUNWARE_API_KEY: %w", err))
		}
		cache, err := runner.OpenCache(dir, endpointNamespace(false, endpoint))
		if err != nil {
			return withCode(exitInput, err)
		}
		pricing := eval.DefaultPricing
		if suite.Pricing != nil {
			pricing = *suite.Pricing
		}
		ctx = eval.WithJudge(ctx, runner.NewJudge(client, cache, pricing, runware.DefaultRequestTimeout))
	}
	in, out := filepath.Join(o.runDir, journal.JournalFile), filepath.Join(o.runDir, rescoredJournal)
	st, err := reports.Rescore(ctx, in, out, reports.SuiteChecks(suite))
	if err != nil {
		return withCode(exitInput, err)
	}
	fmt.Fprintf(s.Err, "promptgrid: re-scored %s with %s: %d now pass, %d now fail, %s of cases no longer in the suite (kept as they were); wrote %s\n",
		plural(st.Samples, "sample"), path, st.NowPass, st.NowFail, plural(st.Unknown, "sample"), out)
	sum, err := reports.Aggregate(out, o.report.options(suiteOptions(suite)))
	if err != nil {
		return withCode(exitInput, err)
	}
	return o.report.emit(ctx, s, o.runDir, rescoredJournal, sum)
}
