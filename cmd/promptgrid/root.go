package main

import (
	"io"
	"os"
	"sort"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// streams are a command's standard streams and whether they are terminals.
// This is the one place that decides about terminals: colour and progress
// follow from it, and NO_COLOR is honoured.
type streams struct {
	In      io.Reader
	Out     io.Writer
	Err     io.Writer
	OutTTY  bool
	ErrTTY  bool
	NoColor bool
	// Getenv reads the environment (tests substitute it).
	Getenv func(string) string
	// AllowOutsideSuiteDir is --allow-outside-suite-dir: a suite may read
	// files outside its own directory tree (eval.LoadOptions).
	AllowOutsideSuiteDir bool
}

func systemStreams() *streams {
	return &streams{
		In:      os.Stdin,
		Out:     os.Stdout,
		Err:     os.Stderr,
		OutTTY:  term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		NoColor: os.Getenv("NO_COLOR") != "",
		Getenv:  os.Getenv,
	}
}

// commands holds the constructors of every subcommand; each command's file
// registers itself in an init function.
var commands []func(*streams) *cobra.Command

func register(c func(*streams) *cobra.Command) { commands = append(commands, c) }

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "promptgrid",
		Short: "Evaluate and benchmark prompts against Runware's text inference API",
		Long: `promptgrid runs a YAML suite of prompts over a grid of settings (thinkingLevel,
temperature, model, delivery method, prompt variants...), seeds and numberResults
against Runware's text inference API, checks every answer, and reports pass
rates with confidence intervals, latency, thinking tokens and cost per grid cell.

Set RUNWARE_API_KEY to use the real API, or pass --sim to run against the
built-in simulator.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVar(&s.AllowOutsideSuiteDir, "allow-outside-suite-dir", false,
		"let a suite read files (includes, casesFrom, schemas) outside its own directory; only for suites you trust")
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	cmds := make([]*cobra.Command, 0, len(commands))
	for _, c := range commands {
		cmds = append(cmds, c(s))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	root.AddCommand(cmds...)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitInput, err) })
	return root
}
