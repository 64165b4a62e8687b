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
source line and a caret, and exits 2 if there is any. The sim: block is checked
as run --sim reads it. A valid suite gets a one-line
summary: cases, grid cells, trials and samples.`,
		Args: minArgs(1, "at least one SUITE file"),
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
		// The sim: block goes through the conversion run --sim makes, so
		// that a suite that validates also starts the simulator.
		if _, err := simScenarios(suite); err != nil {
			failed++
			fmt.Fprintln(s.Err, err)
			continue
		}
		// Counting builds no trial: a suite of a million trials validates
		// in the memory of one.
		n, err := eval.CountTrials(suite)
		if err != nil {
			failed++
			fmt.Fprintf(s.Err, "%s: %v\n", p, err)
			continue
		}
		fmt.Fprintf(s.Out, "%s: ok — %s\n", p, suiteSummary(suite, n))
	}
	if failed > 0 {
		return withCode(exitInput, fmt.Errorf("%s failed validation", ofTotal(failed, len(opts.Paths), "suite")))
	}
	return nil
}

// suiteSummary counts cases, cells, variants, trials and samples.
func suiteSummary(suite *eval.Suite, n eval.Count) string {
	out := fmt.Sprintf("%s, %s", plural(suite.NumCases(), "case"), plural(len(eval.Cells(suite.Grid)), "cell"))
	if len(suite.Variants) > 0 {
		out += ", " + plural(len(suite.Variants), "variant")
	}
	return out + fmt.Sprintf(", %s, %s", plural(n.Trials, "trial"), plural(n.Samples, "sample"))
}
