package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/promptgrid/promptgrid/runner"
)

func init() { register(newPlanCmd) }

// planOptions are the inputs of `promptgrid plan`.
type planOptions struct {
	Paths       []string
	From        string
	Format      string
	Filter      string
	Rate        float64
	Concurrency int
	// Pilot holds the --pilot flags (plan_pilot.go).
	Pilot pilotOptions
}

func newPlanCmd(s *streams) *cobra.Command {
	var opts planOptions
	cmd := &cobra.Command{
		Use:   "plan SUITE...",
		Short: "Forecast requests, tokens, cost and duration without calling the API",
		Long: `plan expands each suite and prints, per grid cell and in total, the trials, tasks,
HTTP requests and samples a run would make, the estimated prompt tokens, the bound on
output tokens, the cost as a lower bound, an upper bound and (with --from, from a
previous run of the same suite) an expected figure, and the duration under the
suite's rate and concurrency. It never calls the API, except with --pilot: then it
runs a stratified sample of the trials (every cell at least once) and forecasts
the full run's cost, tokens and duration with 95% intervals from it.`,
		Args: minArgs(1, "at least one SUITE file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if opts.Pilot.wanted(cmd.Flags().Changed) {
				opts.Pilot.set = cmd.Flags().Changed
				return planPilot(cmd.Context(), s, opts)
			}
			return planRun(s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "a previous run directory of the same suite, for expected cost, tokens and latency")
	f.StringVar(&opts.Format, "format", "table", "what to print on stdout, one of table, md or json (plan writes no file)")
	f.StringVar(&opts.Filter, "filter", "", "keep only cases whose id or tag matches (comma-separated, globs allowed)")
	f.Float64Var(&opts.Rate, "rate", 0, "requests per second to plan for (default: the suite's limits.rate)")
	f.IntVar(&opts.Concurrency, "concurrency", 0, fmt.Sprintf("requests in flight to plan for (default: the suite's limits.concurrency, else %d)", runner.DefaultConcurrency))
	opts.Pilot.register(f)
	return cmd
}

// planReport is one suite's plan with where its expected figures came from.
type planReport struct {
	eval.Plan
	Path string `json:"path"`
	// From is the previous run used for expected figures ("" = none);
	// FromSamples counts its usable samples of this suite.
	From        string `json:"from,omitempty"`
	FromSamples int    `json:"fromSamples,omitempty"`
	FromNote    string `json:"fromNote,omitempty"`
}

// planRun computes and prints the plan of every suite.
func planRun(s *streams, opts planOptions) error {
	switch opts.Format {
	case "table", "md", "json":
	default:
		return withCode(exitInput, fmt.Errorf("--format %q: want table, md or json (plan prints one format on stdout and writes no file)", opts.Format))
	}
	var reports []planReport
	for _, p := range opts.Paths {
		suite, err := loadSuite(s, p, opts.Filter)
		if err != nil {
			return err
		}
		po := eval.PlanOptions{Rate: suite.Limits.Rate, Concurrency: suite.Limits.Concurrency}
		if opts.Rate > 0 {
			po.Rate = opts.Rate
		}
		if opts.Concurrency > 0 {
			po.Concurrency = opts.Concurrency
		}
		if po.Concurrency == 0 {
			po.Concurrency = runner.DefaultConcurrency
		}
		rep := planReport{Path: p}
		if opts.From != "" {
			prev, n, note, err := previousStats(opts.From, suite)
			if err != nil {
				return withCode(exitInput, err)
			}
			po.Previous, rep.From, rep.FromSamples, rep.FromNote = prev, opts.From, n, note
		}
		plan, err := eval.MakePlanSeq(suite, eval.ExpandSeq(suite), po)
		if err != nil {
			return withCode(exitInput, fmt.Errorf("%s: %w", p, err))
		}
		rep.Plan = plan
		reports = append(reports, rep)
	}
	switch opts.Format {
	case "json":
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	case "md":
		for i := range reports {
			writePlanMarkdown(s.Out, &reports[i])
		}
		return nil
	}
	for i := range reports {
		if err := writePlanTable(s.Out, &reports[i], !s.OutTTY || s.NoColor); err != nil {
			return err
		}
	}
	return nil
}

// previousStats reads a run directory's journal and returns per-sample
// means per cell and variant for the suite's records (matched by suite
// name), the number of samples used, and a note when the run was made with
// a different version of the suite.
func previousStats(dir string, suite *eval.Suite) (map[string]eval.CellStats, int, string, error) {
	type acc struct {
		n                 int
		completion, think float64
		latN              int
		latency           float64
	}
	accs := map[string]*acc{}
	used := 0
	_, err := journal.Read(filepath.Join(dir, journal.JournalFile), func(r *journal.Record) error {
		if r.Suite != suite.Name || r.Error != nil || r.Usage == nil {
			return nil
		}
		k := eval.PlanKey(r.Cell, r.Variant)
		a := accs[k]
		if a == nil {
			a = &acc{}
			accs[k] = a
		}
		a.n++
		used++
		a.completion += float64(r.Usage.Completion)
		a.think += float64(r.Usage.Thinking)
		if r.Timings.E2E != nil {
			a.latN++
			a.latency += *r.Timings.E2E
		}
		return nil
	})
	if err != nil {
		return nil, 0, "", fmt.Errorf("--from %s: %w", dir, err)
	}
	out := make(map[string]eval.CellStats, len(accs))
	for k, a := range accs {
		st := eval.CellStats{Samples: a.n, CompletionTokens: a.completion / float64(a.n), ThinkingTokens: a.think / float64(a.n)}
		if a.latN > 0 {
			st.Latency = time.Duration(a.latency / float64(a.latN) * float64(time.Millisecond))
		}
		out[k] = st
	}
	note := ""
	if used == 0 {
		note = fmt.Sprintf("the run has no successful samples with usage for suite %q", suite.Name)
	} else if meta, err := journal.ReadMeta(dir); err == nil && meta.SuiteHash != "" && meta.SuiteHash != suite.Hash {
		note = "the run was made with a different version of the suite; cells that changed are unknown"
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		note = fmt.Sprintf("run.json unreadable: %v", err)
	}
	return out, used, note, nil
}

// planColumns are the table and Markdown columns.
func planColumns(withVariant bool) []string {
	h := []string{"Cell"}
	if withVariant {
		h = append(h, "Variant")
	}
	return append(h, "Trials", "Tasks", "Requests", "Samples", "Prompt tok (est)", "Output tok (max)",
		"Cost low", "Cost high", "Cost expected", "Latency (mean)")
}

// planRow formats one row; a fresh slice each call (tablewriter keeps it).
func planRow(r *eval.PlanRow, withVariant bool) []string {
	cell := r.Cell
	if cell == "" {
		cell = "(no grid)"
	}
	row := []string{cell}
	if withVariant {
		row = append(row, r.Variant)
	}
	lat := "unknown"
	if r.MeanLatency != nil {
		lat = planDuration(*r.MeanLatency)
	}
	if r.Cell == "total" {
		lat = ""
	}
	return append(row, fmt.Sprint(r.Trials), fmt.Sprint(r.Tasks), fmt.Sprint(r.Requests), fmt.Sprint(r.Samples),
		planInt(r.PromptTokens), planInt(r.MaxOutputTokens), planUSD(r.CostLow), planUSD(r.CostHigh), planUSDPtr(r.ExpectedCost), lat)
}

// planNotes states the methods and sources behind the figures.
func planNotes(rep *planReport) []string {
	p := &rep.Plan
	th := p.Pricing.Thinking
	thNote := ""
	if p.ThinkingPricedAsOutput {
		thNote = " (priced as output)"
	}
	notes := []string{
		fmt.Sprintf("Pricing: %s, USD per 1M tokens: input %.2f, output %.2f, thinking %.2f%s.", p.PricingSource, p.Pricing.Input, p.Pricing.Output, th, thNote),
		"Prompt tokens: " + p.TokenMethod + ".",
	}
	if p.MaxTokensAssumed {
		notes = append(notes, fmt.Sprintf("Output bound: some tasks set no settings.maxTokens; they are bounded by the model maximum of %s output tokens per sample.", planInt(eval.ModelMaxOutputTokens)))
	} else {
		notes = append(notes, "Output bound: settings.maxTokens per sample, output and thinking tokens together.")
	}
	notes = append(notes, "Cost low prices prompt tokens only; cost high adds the output bound at the higher of the output and thinking prices.")
	if p.AgentTrials > 0 {
		notes = append(notes, fmt.Sprintf("Agent loops: %d trials may each make up to their maxSteps requests; requests, bounds and cost high count maxSteps requests of the first one's size (later prompts also carry earlier answers and tool results). The run reserves each step's own bound against --max-cost.", p.AgentTrials))
	}
	if p.MediaTrials > 0 {
		notes = append(notes, fmt.Sprintf("Media: %d trials send images or videos; their tokens and cost are not estimated (not in prompt tokens, cost low or cost high).", p.MediaTrials))
	}
	switch {
	case rep.From == "":
		notes = append(notes, "Expected cost: unknown (pass --from RUN_DIR with a previous run of this suite).")
	default:
		n := fmt.Sprintf("Expected cost: estimated prompt tokens plus the mean completion and thinking tokens per cell of %s (%d samples).", rep.From, rep.FromSamples)
		if rep.FromNote != "" {
			n += " Note: " + rep.FromNote + "."
		}
		notes = append(notes, n)
	}
	rate := "no rate limit"
	if p.Rate > 0 {
		rate = fmt.Sprintf("rate %g/s", p.Rate)
	}
	d := fmt.Sprintf("Duration (%s, concurrency %d): ", rate, p.Concurrency)
	switch {
	case p.ExpectedDuration != nil:
		d += fmt.Sprintf("expected %s = max(tasks / rate, Σ tasks × mean latency / concurrency), retries not included.", planDuration(*p.ExpectedDuration))
	case p.MinDuration > 0:
		d += fmt.Sprintf("at least %s (tasks / rate); the rest depends on latency, unknown without --from.", planDuration(p.MinDuration))
	default:
		d += "unknown: it depends on latency (pass --from RUN_DIR) and no rate limit bounds it."
	}
	return append(notes, d)
}

// writePlanTable renders one plan as a terminal table with notes.
func writePlanTable(w io.Writer, rep *planReport, ascii bool) error {
	withVariant := planHasVariants(rep)
	fmt.Fprintf(w, "%s (%s)\n", rep.Suite, rep.Path)
	t := reports.NewTable(w, ascii)
	t.Header(planColumns(withVariant))
	for i := range rep.Rows {
		if err := t.Append(planRow(&rep.Rows[i], withVariant)); err != nil {
			return fmt.Errorf("render plan: %w", err)
		}
	}
	t.Footer(planRow(&rep.Total, withVariant))
	if err := t.Render(); err != nil {
		return fmt.Errorf("render plan: %w", err)
	}
	for _, n := range planNotes(rep) {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w)
	return nil
}

// writePlanMarkdown renders one plan as a Markdown table with notes.
func writePlanMarkdown(w io.Writer, rep *planReport) {
	withVariant := planHasVariants(rep)
	fmt.Fprintf(w, "### Plan: %s (`%s`)\n\n", planMDEscape(rep.Suite), rep.Path)
	cols := planColumns(withVariant)
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat(" --- |", len(cols)))
	rows := append(append([]eval.PlanRow(nil), rep.Rows...), rep.Total)
	for i := range rows {
		cells := planRow(&rows[i], withVariant)
		for j := range cells {
			cells[j] = planMDEscape(cells[j])
		}
		if rows[i].Cell == "total" {
			cells[0] = "**total**"
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
	for _, n := range planNotes(rep) {
		fmt.Fprintf(w, "- %s\n", planMDEscape(n))
	}
	fmt.Fprintln(w)
}

func planHasVariants(rep *planReport) bool {
	for _, r := range rep.Rows {
		if r.Variant != "" {
			return true
		}
	}
	return false
}

// planMDEscape escapes the characters that break a Markdown table cell.
func planMDEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// planInt formats an integer with thousands separators.
func planInt(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + planInt(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// planUSD prints dollars with enough digits to show small suites' costs.
func planUSD(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v < 0.01:
		return fmt.Sprintf("$%.6f", v)
	case v < 100:
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

func planUSDPtr(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return planUSD(*v)
}

// planDuration rounds a number of seconds for people.
func planDuration(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
