package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/history"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/spf13/pflag"
)

// reportFormats are the values --format accepts.
var reportFormats = []string{"table", "md", "json", "csv", "junit", "html"}

// formatHelp is the help of --format for run, report and merge. Each listed
// format is produced and no other: table is the only one printed, so leaving
// it out (--format json) writes files and prints no table.
const formatHelp = "what to produce, comma-separated: table prints the summary table on stdout; " +
	"md, json, csv, junit and html write summary.md, summary.json, cells.csv and samples.csv, junit.xml and report.html " +
	"into the run directory (with --baseline, md and json also write compare.md and compare.json); " +
	"leave table out to print no table"

// reportFlags are the reporting and gating flags shared by `run` and
// `report`.
type reportFlags struct {
	formats      []string
	baseline     string
	failUnder    float64
	margin       float64
	failOn       string
	failAvail    bool
	maxErrorRate float64
	reference    string
}

// register adds --format, --baseline, --fail-under, --margin and --fail-on.
func (f *reportFlags) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.formats, "format", []string{"table"}, formatHelp)
	fs.StringVar(&f.baseline, "baseline", "", "compare with this earlier run directory and fail on a regression (latest:DIR: the newest earlier run of the suite on main under DIR)")
	fs.Float64Var(&f.failUnder, "fail-under", -1, "fail (exit 1) when a cell's pass rate is below this fraction, e.g. 0.9")
	fs.Float64Var(&f.margin, "margin", 0, "with --baseline: a regression is an interval wholly below -margin (a fraction, e.g. 0.05)")
	fs.StringVar(&f.failOn, "fail-on", "regression", "what fails the run: regression (needs --baseline) or any-fail (any case failing in any cell)")
	fs.BoolVar(&f.failAvail, "fail-on-availability", false, "with --baseline: also fail when a cell's error rate rose, not only on a quality regression")
	fs.Float64Var(&f.maxErrorRate, "max-error-rate", 0, "fail (exit 1) when a cell's error rate (samples without an answer) exceeds this fraction, e.g. 0.05 (0: no gate)")
	fs.StringVar(&f.reference, "reference", "", "the cell the others are compared with in \"Choosing a cell\" (default: the highest pass rate)")
}

// options adds the flags' settings to a run's aggregation options.
func (f *reportFlags) options(o reports.Options) reports.Options {
	o.MaxErrorRate, o.Reference, o.Margin, o.FailOnAvailability = f.maxErrorRate, f.reference, f.margin, f.failAvail
	if f.failUnder > 0 {
		o.FailUnder = f.failUnder
	}
	return o
}

// validate checks flag values before anything runs.
func (f *reportFlags) validate() error {
	for _, fm := range f.formats {
		if !slices.Contains(reportFormats, fm) {
			return withCode(exitInput, fmt.Errorf("--format: unknown format %q (want some of %s)", fm, strings.Join(reportFormats, ",")))
		}
	}
	if f.failOn != "regression" && f.failOn != "any-fail" {
		return withCode(exitInput, fmt.Errorf("--fail-on: want regression or any-fail, got %q", f.failOn))
	}
	if f.maxErrorRate < 0 || f.maxErrorRate > 1 {
		return withCode(exitInput, fmt.Errorf("--max-error-rate is a fraction between 0 and 1, got %g", f.maxErrorRate))
	}
	if f.failUnder > 1 {
		return withCode(exitInput, fmt.Errorf("--fail-under is a fraction between 0 and 1, got %g", f.failUnder))
	}
	if f.margin < 0 || f.margin >= 1 {
		return withCode(exitInput, fmt.Errorf("--margin is a fraction between 0 and 1, got %g", f.margin))
	}
	return nil
}

// finish reports on the run in runDir: it prints the terminal table to
// s.Out (when --format lists table, the default), writes the requested formats under runDir (and the Markdown
// summary to $GITHUB_STEP_SUMMARY when set), compares with --baseline, and
// returns withCode(exitGate, ...) when a gate fails.
func (f *reportFlags) finish(ctx context.Context, s *streams, runDir string) error {
	return f.finishWith(ctx, s, runDir, nil)
}

// aggregateJournal is reports.Aggregate; tests count its calls.
var aggregateJournal = reports.Aggregate

// finishWith is finish with the journal's summary already made (a run's
// live report), or nil to aggregate the journal.
func (f *reportFlags) finishWith(ctx context.Context, s *streams, runDir string, sum *reports.Summary) error {
	if err := f.validate(); err != nil {
		return err
	}
	if sum == nil {
		var err error
		if sum, err = aggregateJournal(filepath.Join(runDir, journal.JournalFile), f.options(summaryOptions(s, runDir))); err != nil {
			return withCode(exitInput, fmt.Errorf("report on %s: %w", runDir, err))
		}
	}
	return f.emit(ctx, s, runDir, journal.JournalFile, sum)
}

// emit prints (when table is among the formats), writes and gates a
// summary of the journal file jname in runDir.
func (f *reportFlags) emit(ctx context.Context, s *streams, runDir, jname string, sum *reports.Summary) error {
	if slices.Contains(f.formats, "table") {
		if err := reports.Table(sum, !s.OutTTY)(s.Out); err != nil {
			return err
		}
	}
	stem := strings.TrimSuffix(strings.TrimPrefix(jname, "journal"), ".jsonl")
	stem = strings.TrimPrefix(stem, ".")
	written, err := reports.WriteFiles(runDir, stem, f.formats, sum, filepath.Join(runDir, jname))
	for _, p := range written {
		fmt.Fprintf(s.Err, "promptgrid: wrote %s\n", p)
	}
	if err != nil {
		return err
	}
	if p := s.Getenv("GITHUB_STEP_SUMMARY"); p != "" {
		if err := reports.AppendFile(p, reports.Markdown(sum)); err != nil {
			return fmt.Errorf("write $GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	var gates []string
	if f.failUnder >= 0 {
		for _, c := range sum.Cells {
			if !c.PassRate.Value.Defined() || float64(c.PassRate.Value) < f.failUnder {
				gates = append(gates, fmt.Sprintf("cell %s: pass rate %.1f%% is below --fail-under %.1f%%", c.Label, 100*float64(c.PassRate.Value), 100*f.failUnder))
			}
		}
	}
	if f.failOn == "any-fail" {
		for _, c := range sum.Cells {
			if failing := c.Cases - c.CasesPassed; failing > 0 {
				gates = append(gates, fmt.Sprintf("cell %s: %s %s", c.Label, ofTotal(failing, c.Cases, "case"), verb(failing, "fails", "fail")))
			}
		}
	}
	gates = append(gates, sum.ErrorRateFailures(f.maxErrorRate)...)
	if f.baseline != "" {
		regressions, err := f.compareBaseline(ctx, s, runDir, jname)
		if err != nil {
			return err
		}
		gates = append(gates, regressions...)
	}
	if len(gates) > 0 {
		return withCode(exitGate, fmt.Errorf("quality gate failed:\n  %s", strings.Join(gates, "\n  ")))
	}
	return nil
}

// summaryOptions returns the aggregation options of a run: the cell order
// and pass rules its run.json recorded when it started. A run.json of an
// older promptgrid records none: then its suite's, when the suite file is
// still the one the run used (same hash), else the defaults.
func summaryOptions(s *streams, runDir string) reports.Options {
	m, err := journal.ReadMeta(runDir)
	if err != nil {
		return reports.Options{}
	}
	if m.Scoring != nil {
		return reports.ScoringOptions(m.Scoring)
	}
	if m.SuitePath == "" {
		return reports.Options{}
	}
	suite, err := eval.LoadWithOptions(m.SuitePath, s.loadOptions())
	if err != nil || suite.Hash != m.SuiteHash {
		return reports.Options{}
	}
	return suiteOptions(suite)
}

// suiteOptions are the aggregation options a suite implies.
func suiteOptions(suite *eval.Suite) reports.Options {
	return reports.Options{Rule: reports.SuiteRule(suite), CellOrder: reports.SuiteCellOrder(suite), ErrorsAsFailures: suite.Pass.ErrorsAsFailures}
}

// compareBaseline compares the journal jname of runDir with --baseline's
// journal, prints and writes the comparison, and returns one message per
// regressed cell.
func (f *reportFlags) compareBaseline(_ context.Context, s *streams, runDir, jname string) ([]string, error) {
	base, err := resolveBaseline(f.baseline, runDir)
	if err != nil {
		return nil, err
	}
	if base != f.baseline {
		fmt.Fprintf(s.Err, "promptgrid: --baseline %s: comparing with %s\n", f.baseline, base)
	}
	basePath := filepath.Join(base, journal.JournalFile)
	c, err := reports.CompareWith(basePath, filepath.Join(runDir, jname), f.margin, f.options(summaryOptions(s, runDir)))
	if err != nil {
		return nil, withCode(exitInput, fmt.Errorf("--baseline %s: %w", base, err))
	}
	if err := writeComparison(s, runDir, f.formats, c); err != nil {
		return nil, err
	}
	if len(c.Cells) == 0 {
		return nil, withCode(exitInput, fmt.Errorf("--baseline %s: no sample pairs with this run (the same cases and cells are needed)", f.baseline))
	}
	return comparisonGates(c, base), nil
}

// comparisonGates lists what fails a comparison's decision: each cell with
// a quality regression and, when the comparison fails on availability, each
// cell whose error rate rose.
func comparisonGates(c *reports.Comparison, base string) []string {
	var out []string
	for _, d := range c.Cells {
		if d.Verdict == reports.VerdictWorse {
			out = append(out, regression(d, base))
		}
		if a := d.Availability; c.FailOnAvailability && a.Verdict == reports.VerdictWorse {
			out = append(out, fmt.Sprintf("cell %s lost availability against %s: error rate %.1f%% → %.1f%%, difference %+.1f points [%+.1f, %+.1f], Holm p %.3g",
				d.Label, base, 100*float64(a.BaseErrorRate), 100*float64(a.HeadErrorRate),
				100*float64(a.Diff.Value), 100*float64(a.Diff.Lo), 100*float64(a.Diff.Hi), float64(a.PHolm)))
		}
	}
	return out
}

// latestPrefix asks --baseline for the most recent earlier run of the same
// suite on the main branch among the run directories under a folder.
const latestPrefix = "latest:"

// resolveBaseline turns --baseline into a run directory: as given, or, for
// latest:DIR, the most recent run under DIR of runDir's suite on the main
// branch that started before runDir's run (history.LatestBaseline).
func resolveBaseline(baseline, runDir string) (string, error) {
	folder, ok := strings.CutPrefix(baseline, latestPrefix)
	if !ok {
		return baseline, nil
	}
	m, err := journal.ReadMeta(runDir)
	if err != nil {
		return "", withCode(exitInput, fmt.Errorf("--baseline %s: %w", baseline, err))
	}
	dir, err := history.LatestBaseline([]string{folder}, m.Suite, history.DefaultBranch, m.Started)
	if err != nil {
		return "", withCode(exitInput, fmt.Errorf("--baseline %s: %w", baseline, err))
	}
	return dir, nil
}

// regression describes a regressed cell for the gate's error message.
func regression(d *reports.CellDiff, base string) string {
	return fmt.Sprintf("cell %s regressed against %s: pass rate %.1f%% → %.1f%%, difference %+.1f points [%+.1f, %+.1f], Holm p %.3g",
		d.Label, base, 100*float64(d.BaseRate), 100*float64(d.HeadRate),
		100*float64(d.Diff.Value), 100*float64(d.Diff.Lo), 100*float64(d.Diff.Hi), float64(d.PHolm))
}

// writeComparison prints a comparison's table to s.Out when table is among
// formats, writes compare.md and compare.json under dir when md or json are,
// and appends the Markdown to $GITHUB_STEP_SUMMARY when set.
func writeComparison(s *streams, dir string, formats []string, c *reports.Comparison) error {
	if slices.Contains(formats, "table") {
		if err := reports.CompareTable(c, !s.OutTTY)(s.Out); err != nil {
			return err
		}
	}
	for _, fm := range formats {
		var r reports.Renderer
		switch fm {
		case "md":
			r = reports.CompareMarkdown(c)
		case "json":
			r = reports.CompareJSON(c)
		default:
			continue
		}
		p := filepath.Join(dir, "compare."+fm)
		if err := reports.WriteFile(p, r); err != nil {
			return err
		}
		fmt.Fprintf(s.Err, "promptgrid: wrote %s\n", p)
	}
	if p := s.Getenv("GITHUB_STEP_SUMMARY"); p != "" {
		if err := reports.AppendFile(p, reports.CompareMarkdown(c)); err != nil {
			return fmt.Errorf("write $GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	return nil
}
