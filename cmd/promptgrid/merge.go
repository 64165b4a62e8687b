package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runner"
)

func init() { register(newMergeCmd) }

// mergeOptions are the flags and arguments of `promptgrid merge`.
type mergeOptions struct {
	dirs   []string
	out    string
	report reportFlags
}

func newMergeCmd(s *streams) *cobra.Command {
	o := &mergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge RUN_DIR... --out DIR",
		Short: "Join shard runs (run --shard i/n) into one run and report on it",
		Long: `Merge copies the journals of several runs of the same suite (typically the
shards of one run, made with run --shard i/n) into a new run directory, with one
run.json summing them, and reports on it as if the suite had run whole.
--format and the gates work as for report: table (the default) prints the
table, md, json, csv, junit and html write files into --out.`,
		Args: minArgs(1, "at least one RUN_DIR to merge"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dirs = args
			return mergeRun(cmd.Context(), s, o)
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "directory of the merged run (required, must not hold a journal)")
	o.report.register(cmd.Flags())
	return cmd
}

// mergeRun merges the runs and reports on the result.
func mergeRun(ctx context.Context, s *streams, o *mergeOptions) error {
	if o.out == "" {
		return withCode(exitInput, errors.New("merge needs --out DIR for the merged run"))
	}
	if err := o.report.validate(); err != nil {
		return err
	}
	// The merged directory is held like a run's: no second merge or run
	// writes into it at the same time.
	rd, err := journal.LockRun(o.out)
	if err != nil {
		return withCode(exitInput, fmt.Errorf("--out: %w", err))
	}
	defer rd.Close()
	for _, d := range o.dirs {
		if err := checkOwnLines(d); err != nil {
			return withCode(exitInput, fmt.Errorf("merge: %w", err))
		}
	}
	m, err := runner.Merge(o.dirs, rd, newRunID(time.Now()))
	if err != nil {
		return withCode(exitInput, err)
	}
	fmt.Fprintf(s.Err, "promptgrid: merged %s into %s: %s, %s (%s)\n",
		plural(len(o.dirs), "run"), o.out, plural(m.Trials, "trial"), plural(m.Samples, "sample"), m.StopReason)
	return o.report.finish(ctx, s, o.out)
}

// checkOwnLines refuses a run directory whose journal holds a line of
// another run or suite than its run.json says, naming file and line: merging
// it would count that line as the shard's.
func checkOwnLines(dir string) error {
	m, err := journal.ReadMeta(dir)
	if err != nil {
		return err
	}
	_, err = journal.Read(filepath.Join(dir, journal.JournalFile), func(*journal.Record) error { return nil }, journal.OwnedBy(m))
	return err
}
