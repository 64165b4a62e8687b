package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/spf13/cobra"
)

func init() { register(newCompareCmd) }

// compareOptions are the options of `promptgrid compare`.
type compareOptions struct {
	base, head string
	margin     float64
	failOn     string
	failAvail  bool
	formats    []string
}

func newCompareCmd(s *streams) *cobra.Command {
	o := &compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare BASE HEAD",
		Short: "Compare two runs cell by cell and fail on a regression",
		Long: `compare pairs the samples of two runs (run directories or journal files) by
case, cell, seed and result index, and reports per cell the difference in pass
rate with a 95% interval from per-case paired differences, an exact p-value
(McNemar with one sample per case, else a sign-flip permutation test),
Holm-adjusted across cells, the minimum detectable effect, the latency
geometric-mean ratio and the cost difference.

A cell regresses when the whole interval lies below -margin (and its
Holm-adjusted p-value is below 0.05); compare then exits with code 1.
--fail-on any-fail also fails when any case fails in HEAD.

Quality and availability are apart: pass rates are over the samples answered
in both runs, and the error rate (samples without an answer: an error or a
timeout) is compared on every pair, head - base with a 95% interval and its
own verdict (worse = the interval lies above zero, Holm p < 0.05). An outage
alone is therefore no regression. By default only quality sets the exit code;
--fail-on-availability also fails when a cell's error rate rose.

With 5 cases or fewer no p-value can fall below 0.05 whatever the results: the
MDE reads "n too small" and a note under the table says so. When every case
changed by the same amount a t interval would have zero width; the interval
shown (marked †) is then the exact 95% bound for equal differences.
--format lists what to produce: table (the default) prints the table on
stdout; md and json write compare.md and compare.json into HEAD's directory.
Only the listed formats are produced: --format md,json prints no table.`,
		Args: exactArgs(2, "two runs, BASE and HEAD"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.base, o.head = args[0], args[1]
			return compareRun(cmd.Context(), s, o)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.margin, "margin", 0, "practical margin: a regression is an interval wholly below -margin (a fraction, e.g. 0.05)")
	f.BoolVar(&o.failAvail, "fail-on-availability", false, "also exit 1 when a cell's error rate rose (availability verdict worse), not only on a quality regression")
	f.StringVar(&o.failOn, "fail-on", "regression", "what fails: regression, or any-fail (also any failing case in HEAD)")
	f.StringSliceVar(&o.formats, "format", []string{"table"}, "what to produce, comma-separated: table prints the comparison on stdout; md and json write compare.md and compare.json into HEAD's directory; leave table out to print no table")
	return cmd
}

// journalPath accepts a run directory or a journal file.
func journalPath(p string) string {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return filepath.Join(p, journal.JournalFile)
	}
	return p
}

func compareRun(_ context.Context, s *streams, o *compareOptions) error {
	for _, fm := range o.formats {
		if !slices.Contains([]string{"table", "md", "json"}, fm) {
			return withCode(exitInput, fmt.Errorf("--format: compare writes table, md or json, not %q", fm))
		}
	}
	if o.failOn != "regression" && o.failOn != "any-fail" {
		return withCode(exitInput, fmt.Errorf("--fail-on: want regression or any-fail, got %q", o.failOn))
	}
	if o.margin < 0 || o.margin >= 1 {
		return withCode(exitInput, fmt.Errorf("--margin is a fraction between 0 and 1, got %g", o.margin))
	}
	headPath := journalPath(o.head)
	opts := summaryOptions(s, filepath.Dir(headPath))
	opts.FailOnAvailability = o.failAvail
	c, err := reports.CompareWith(journalPath(o.base), headPath, o.margin, opts)
	if err != nil {
		return withCode(exitInput, err)
	}
	if len(c.Cells) == 0 {
		return withCode(exitInput, fmt.Errorf("%s and %s have no samples in common (same cases, cells and seeds are needed)", o.base, o.head))
	}
	if err := writeComparison(s, filepath.Dir(headPath), o.formats, c); err != nil {
		return err
	}
	gates := comparisonGates(c, o.base)
	if o.failOn == "any-fail" {
		sum, err := reports.Aggregate(headPath, summaryOptions(s, filepath.Dir(headPath)))
		if err != nil {
			return withCode(exitInput, err)
		}
		for _, cell := range sum.Cells {
			if n := cell.Cases - cell.CasesPassed; n > 0 {
				gates = append(gates, fmt.Sprintf("cell %s: %s %s in %s", cell.Label, ofTotal(n, cell.Cases, "case"), verb(n, "fails", "fail"), o.head))
			}
		}
	}
	if len(gates) > 0 {
		return withCode(exitGate, fmt.Errorf("quality gate failed:\n  %s", strings.Join(gates, "\n  ")))
	}
	return nil
}
