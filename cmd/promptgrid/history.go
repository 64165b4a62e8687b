package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/promptgrid/promptgrid/history"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/spf13/cobra"
)

func init() { register(newHistoryCmd) }

// historyFormats are the values history's --format accepts.
var historyFormats = []string{"table", "md", "json", "html"}

// historyOptions are the options of `promptgrid history`.
type historyOptions struct {
	paths   []string
	formats []string
	out     string
	margin  float64
	suite   string
	branch  string
	depth   int
}

func newHistoryCmd(s *streams) *cobra.Command {
	o := &historyOptions{}
	cmd := &cobra.Command{
		Use:   "history DIR...",
		Short: "Follow suites across runs: pass rate, cost and latency per cell, and regression steps",
		Long: `history reads run directories, or folders of them (such as downloaded CI
artifacts: they are walked down to --depth levels; a run directory is one that
holds a run.json), groups the runs by suite and lists them in the order they
started. For each cell and run it shows the pass rate with its 95% interval,
the cost, the E2E p50 and p95 latency, the suite hash and the commit and
branch run.json recorded, and compares each run with the previous run of its
suite exactly as compare does (paired by case, cell, seed and result index,
Holm-adjusted across cells, --margin as compare's): a step compare would fail
on is marked REGRESSION. It never calls the API.

Shards (run.json records a shard) are left out: merge them first. A second
copy of a run (same run id) and directories without a journal are left out
too, each said on stderr.

--format lists what to produce: table (the default) prints the tables on
stdout; md, json and html write history.md, history.json and history.html
into --out (default the current directory). The HTML page is self-contained:
a trend chart per cell as inline SVG, no script, nothing loaded from the
network.`,
		Args: minArgs(1, "at least one DIR (a run directory or a folder of them)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.paths = args
			return runHistory(s, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.formats, "format", []string{"table"}, "what to produce, comma-separated: table prints on stdout; md, json and html write history.md, history.json and history.html into --out")
	f.StringVar(&o.out, "out", ".", "directory the md, json and html formats are written to")
	f.Float64Var(&o.margin, "margin", 0, "compare's practical margin: a regression step is an interval wholly below -margin (a fraction, e.g. 0.05)")
	f.StringVar(&o.suite, "suite", "", "only the runs of the suite of this name")
	f.StringVar(&o.branch, "branch", "", "only the runs made on this branch (as run.json records it), e.g. main")
	f.IntVar(&o.depth, "depth", history.DefaultDepth, "how many folder levels below each DIR to look for run directories")
	return cmd
}

func runHistory(s *streams, o *historyOptions) error {
	for _, fm := range o.formats {
		if !slices.Contains(historyFormats, fm) {
			return withCode(exitInput, fmt.Errorf("--format: history writes %s, not %q", strings.Join(historyFormats, ", "), fm))
		}
	}
	if o.margin < 0 || o.margin >= 1 {
		return withCode(exitInput, fmt.Errorf("--margin is a fraction between 0 and 1, got %g", o.margin))
	}
	if o.depth < 1 {
		return withCode(exitInput, fmt.Errorf("--depth must be 1 or more, got %d", o.depth))
	}
	h, err := history.Load(o.paths, history.Options{Margin: o.margin, Suite: o.suite, Branch: o.branch, MaxDepth: o.depth})
	if err != nil {
		return withCode(exitInput, err)
	}
	for _, sk := range h.Skipped {
		fmt.Fprintf(s.Err, "promptgrid: skipped %s: %s\n", sk.Dir, sk.Reason)
	}
	if len(h.Suites) == 0 {
		what := "no run directory (a directory with a run.json and a journal)"
		var only []string
		if o.suite != "" {
			only = append(only, fmt.Sprintf("of suite %q", o.suite))
		}
		if o.branch != "" {
			only = append(only, fmt.Sprintf("on branch %q", o.branch))
		}
		if len(only) > 0 {
			what = "no run " + strings.Join(only, " ")
		}
		return withCode(exitInput, fmt.Errorf("%s found under %s (searched %d levels deep)", what, strings.Join(o.paths, ", "), o.depth))
	}
	if slices.Contains(o.formats, "table") {
		if err := history.Table(h, !s.OutTTY)(s.Out); err != nil {
			return err
		}
	}
	for _, fm := range o.formats {
		var r reports.Renderer
		switch fm {
		case "md":
			r = history.Markdown(h)
		case "json":
			r = history.JSON(h)
		case "html":
			r = history.HTML(h)
		default:
			continue
		}
		p := filepath.Join(o.out, "history."+fm)
		if err := reports.WriteFile(p, r); err != nil {
			return withCode(exitInput, err)
		}
		fmt.Fprintf(s.Err, "promptgrid: wrote %s\n", p)
	}
	if p := s.Getenv("GITHUB_STEP_SUMMARY"); p != "" {
		if err := reports.AppendFile(p, history.Markdown(h)); err != nil {
			return fmt.Errorf("write $GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	return nil
}
