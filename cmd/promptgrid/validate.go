package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/promptgrid/promptgrid/eval"
)

func init() { register(newValidateCmd) }

// validateOptions are the inputs of `promptgrid validate`.
type validateOptions struct {
	Paths  []string
	Filter string
}

func newValidateCmd(s *streams) *cobra.Command {
	var opts validateOptions
	cmd := &cobra.Command{
		Use:   "validate SUITE...",
		Short: "Check suite files without calling the API",
		Long: `validate loads every suite, reports every problem as file:line:col with the
source line and a caret, and exits 2 if there is any. A valid suite gets a one-line
summary: cases, grid cells, trials and samples.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return validateRun(s, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Filter, "filter", "", "keep only cases whose id or tag matches (comma-separated, globs allowed)")
	return cmd
}

// validateRun validates each suite: problems go to stderr, summaries to
// stdout; any problem makes the exit code 2.
func validateRun(s *streams, opts validateOptions) error {
	failed := 0
	for _, p := range opts.Paths {
		suite, err := loadSuite(s, p, opts.Filter)
		if err != nil {
			failed++
			fmt.Fprintln(s.Err, err)
			continue
		}
		trials, err := eval.Expand(suite)
		if err != nil {
			failed++
			fmt.Fprintf(s.Err, "%s: %v\n", p, err)
			continue
		}
		fmt.Fprintf(s.Out, "%s: ok — %s\n", p, suiteSummary(suite, trials))
	}
	if failed > 0 {
		return withCode(exitInput, fmt.Errorf("%d of %d suites failed validation", failed, len(opts.Paths)))
	}
	return nil
}

// suiteSummary counts cases, cells, variants, trials and samples.
func suiteSummary(suite *eval.Suite, trials []eval.Trial) string {
	samples := 0
	for _, t := range trials {
		samples += t.NumberResults
	}
	out := fmt.Sprintf("%s, %s", suiteCount(len(suite.Cases), "case"), suiteCount(len(eval.Cells(suite.Grid)), "cell"))
	if len(suite.Variants) > 0 {
		out += ", " + suiteCount(len(suite.Variants), "variant")
	}
	return out + fmt.Sprintf(", %s, %s", suiteCount(len(trials), "trial"), suiteCount(samples, "sample"))
}

// suiteCount formats "1 case" / "5 cases".
func suiteCount(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
