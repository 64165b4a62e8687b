package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/history"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
	"github.com/promptgrid/promptgrid/runner"
	"github.com/promptgrid/promptgrid/runware"
)

// pilotOptions are the flags of `plan --pilot`.
type pilotOptions struct {
	Size         string
	Seed         uint64
	Sim          bool
	SimTimeScale float64
	Endpoint     string
	Out          string
	MaxCost      float64
	Quiet        bool
	// set reports whether a flag was given (filled by the command).
	set func(name string) bool
}

// register defines the pilot flags on plan's flag set.
func (p *pilotOptions) register(f *pflag.FlagSet) {
	f.StringVar(&p.Size, "pilot", "", "run a stratified sample of the trials (a count such as 20, or a fraction such as 5%) and forecast the full run from it")
	f.Uint64Var(&p.Seed, "seed", 1, "with --pilot: seed of the sample (the same seed picks the same trials)")
	f.BoolVar(&p.Sim, "sim", false, "with --pilot: run the pilot against the built-in simulator instead of the real API")
	f.Float64Var(&p.SimTimeScale, "sim-time-scale", 0.05, "with --pilot --sim: scale of the simulated model delays (1 = realistic, 0 = none)")
	f.StringVar(&p.Endpoint, "endpoint", runware.DefaultEndpoint, "with --pilot: Runware native API endpoint")
	f.StringVar(&p.Out, "out", "", "with --pilot: the pilot's run directory (default runs/pilot-<run-id>)")
	f.Float64Var(&p.MaxCost, "max-cost", 0, "with --pilot: the full run's budget in USD (default: the suite's limits.maxCost); it also caps the pilot")
	f.BoolVarP(&p.Quiet, "quiet", "q", false, "with --pilot: no progress display")
}

// pilotFlags are the flags that only --pilot uses.
var pilotFlags = []string{"pilot", "seed", "sim", "sim-time-scale", "endpoint", "out", "max-cost", "quiet"}

// wanted reports whether any pilot flag was given: plan then goes to
// planPilot, which refuses the others without --pilot.
func (p *pilotOptions) wanted(changed func(string) bool) bool {
	for _, n := range pilotFlags {
		if changed(n) {
			return true
		}
	}
	return false
}

// pilotReport is `plan --pilot`'s result for one suite.
type pilotReport struct {
	Path  string    `json:"path"`
	Plan  eval.Plan `json:"plan"`
	Pilot pilotRun  `json:"pilot"`
	// Forecast is of the full run (pilot trials included).
	Forecast eval.PilotForecast `json:"forecast"`
	// MaxCost is the full run's budget (0 = none); ExceedProbability the
	// chance its cost passes it (nil = no budget or unknown spread).
	MaxCost           float64  `json:"maxCost,omitempty"`
	ExceedProbability *float64 `json:"exceedProbability,omitempty"`
	// FullRun is the command that runs the suite reusing the pilot's answers.
	FullRun string `json:"fullRunCommand"`
}

// pilotRun describes the pilot itself.
type pilotRun struct {
	Size      string  `json:"size"`
	Seed      uint64  `json:"seed"`
	Requested int     `json:"requested"`
	Trials    int     `json:"trials"`
	RunID     string  `json:"runId"`
	Dir       string  `json:"dir"`
	Cache     string  `json:"cache"`
	Spent     float64 `json:"spent"`
	Simulated bool    `json:"simulated,omitempty"`
}

// planPilot runs `plan --pilot`: a stratified sample of the suite's trials,
// journaled in its own run directory with a response cache, and a forecast
// of the full run from what it measured.
func planPilot(ctx context.Context, s *streams, opts planOptions) error {
	p := &opts.Pilot
	switch opts.Format {
	case "table", "md", "json":
	default:
		return withCode(exitInput, fmt.Errorf("--format %q: want table, md or json (plan prints one format on stdout and writes no file)", opts.Format))
	}
	if !p.set("pilot") {
		for _, n := range pilotFlags {
			if p.set(n) {
				return withCode(exitInput, fmt.Errorf("--%s needs --pilot N (plan alone never calls the API)", n))
			}
		}
	}
	if len(opts.Paths) != 1 {
		return withCode(exitInput, fmt.Errorf("--pilot runs one suite at a time (got %d)", len(opts.Paths)))
	}
	if opts.From != "" {
		return withCode(exitInput, errors.New("--pilot and --from are two ways to get expected figures; give one"))
	}
	size, err := eval.ParsePilotSize(p.Size)
	if err != nil {
		return withCode(exitInput, fmt.Errorf("--pilot %w", err))
	}
	path := opts.Paths[0]
	suite, err := loadSuite(s, path, opts.Filter)
	if err != nil {
		return err
	}
	ro := &runOptions{batch: 1, idleTimeout: runware.DefaultIdleTimeout, maxRetryAfter: runware.DefaultMaxRetryAfter,
		rate: opts.Rate, concurrency: opts.Concurrency, maxCost: p.MaxCost, sim: p.Sim}
	ro.set = func(name string) bool {
		switch name {
		case "rate":
			return opts.Rate > 0
		case "concurrency":
			return opts.Concurrency > 0
		case "max-cost":
			return p.set("max-cost")
		}
		return false
	}
	cfg, err := ro.config(suite)
	if err != nil {
		return err
	}
	po := eval.PlanOptions{Rate: cfg.Rate, Concurrency: cfg.Concurrency}
	if po.Concurrency == 0 {
		po.Concurrency = runner.DefaultConcurrency
	}
	plan, err := eval.MakePlanSeq(suite, eval.ExpandSeq(suite), po)
	if err != nil {
		return withCode(exitInput, fmt.Errorf("%s: %w", path, err))
	}
	total := plan.Total.Trials
	if total == 0 {
		return withCode(exitInput, fmt.Errorf("%s: no trials to pilot", path))
	}
	if size.Fraction == 0 && size.Count > total {
		return withCode(exitInput, fmt.Errorf("--pilot %d: the suite has only %s", size.Count, plural(total, "trial")))
	}

	// The sample: indices within each cell and variant, then trial keys.
	counts := make([]int, len(plan.Rows))
	stratum := map[string]int{}
	for i, r := range plan.Rows {
		counts[i] = r.Trials
		stratum[eval.PlanKey(r.Cell, r.Variant)] = i
	}
	requested := size.Of(total)
	sel := eval.PilotSelect(counts, requested, p.Seed)
	chosen := make([]map[int]bool, len(sel))
	for i, idx := range sel {
		chosen[i] = map[int]bool{}
		for _, j := range idx {
			chosen[i][j] = true
		}
	}
	keyStratum := map[string]int{}
	seen := make([]int, len(counts))
	for t, err := range eval.ExpandSeq(suite) {
		if err != nil {
			return withCode(exitInput, err)
		}
		i := stratum[eval.PlanKey(t.Cell, t.Variant)]
		if chosen[i][seen[i]] {
			keyStratum[t.Key] = i
		}
		seen[i]++
	}
	all := runner.Trials{Seq: eval.ExpandSeq(suite), Count: total, Samples: plan.Total.Samples}
	trials, err := all.Filter(func(t *eval.Trial) bool { _, ok := keyStratum[t.Key]; return ok })
	if err != nil {
		return withCode(exitInput, err)
	}

	dir, meta, spent, err := runPilotTrials(ctx, s, p, suite, cfg, trials)
	if err != nil {
		return err
	}

	// Per-trial observations from the pilot's journal.
	type acc struct {
		obs     eval.PilotObs
		stratum int
	}
	byTrial := map[string]*acc{}
	var order []string
	_, err = journal.Read(filepath.Join(dir, journal.JournalFile), func(r *journal.Record) error {
		a := byTrial[r.TrialKey]
		if a == nil {
			i, ok := keyStratum[r.TrialKey]
			if !ok {
				return nil
			}
			a = &acc{obs: eval.PilotObs{Latency: math.NaN()}, stratum: i}
			byTrial[r.TrialKey] = a
			order = append(order, r.TrialKey)
		}
		if r.Cost != nil {
			a.obs.Cost += *r.Cost
		}
		if r.Usage != nil {
			a.obs.OutputTokens += float64(r.Usage.Completion)
		}
		// The task's time: end to end, or for a failed request from
		// dispatch to its answer (the full run waits for those too).
		lat := r.Timings.E2E
		if tm := r.Timings; lat == nil && tm.Done != nil && tm.Dispatched != nil {
			d := *tm.Done - *tm.Dispatched
			lat = &d
		}
		if lat != nil {
			if l := *lat / 1000; math.IsNaN(a.obs.Latency) || l > a.obs.Latency {
				a.obs.Latency = l
			}
		}
		return nil
	})
	if err != nil {
		return withCode(exitInput, fmt.Errorf("pilot %s: %w", dir, err))
	}
	strata := make([]eval.PilotStratum, len(plan.Rows))
	for i, r := range plan.Rows {
		strata[i] = eval.PilotStratum{Cell: r.Cell, Variant: r.Variant, Trials: r.Trials, CostBound: r.CostHigh}
	}
	for _, k := range order {
		a := byTrial[k]
		strata[a.stratum].Obs = append(strata[a.stratum].Obs, a.obs)
	}

	rep := pilotReport{Path: path, Plan: plan,
		Pilot: pilotRun{Size: size.String(), Seed: p.Seed, Requested: requested, Trials: trials.Count, RunID: meta.RunID,
			Dir: dir, Cache: filepath.Join(dir, pilotCacheDir), Spent: spent, Simulated: p.Sim},
		Forecast: eval.ForecastPilot(strata, eval.PilotOptions{Rate: po.Rate, Concurrency: po.Concurrency}),
		MaxCost:  cfg.MaxCost}
	if cfg.MaxCost > 0 {
		pr := rep.Forecast.Total.Cost.ExceedProbability(cfg.MaxCost)
		if plan.Total.CostHigh <= cfg.MaxCost {
			pr = 0 // the hard bound already stays within the budget
		}
		if !math.IsNaN(pr) {
			rep.ExceedProbability = &pr
		}
	}
	rep.FullRun = pilotFullRunCommand(path, rep.Pilot.Cache, opts, p)
	switch opts.Format {
	case "json":
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode([]pilotReport{rep})
	case "md":
		writePilotMarkdown(s.Out, &rep)
		return nil
	}
	return writePilotTable(s.Out, &rep, !s.OutTTY || s.NoColor)
}

// pilotCacheDir is the response cache inside a pilot's run directory.
const pilotCacheDir = "cache"

// runPilotTrials runs the pilot's trials as `run` runs a suite (the same
// client, pacing, budget, attempt log and judge cache), journaling them in a
// new run directory whose response cache keeps every answer. It returns the
// directory, its run.json and what the pilot spent.
func runPilotTrials(ctx context.Context, s *streams, p *pilotOptions, suite *eval.Suite, cfg runner.Config, trials runner.Trials) (string, *journal.Meta, float64, error) {
	if p.SimTimeScale < 0 {
		return "", nil, 0, withCode(exitInput, errors.New("--sim-time-scale must not be negative"))
	}
	clients, err := openClients(s, suite, p.Sim, p.SimTimeScale, p.Endpoint, runware.DefaultIdleTimeout, cfg.Concurrency)
	if err != nil {
		return "", nil, 0, err
	}
	defer clients.close()
	endpoint := clients.endpoint
	cfg.API, cfg.WS = clients.http, clients.ws

	now := time.Now()
	meta := &journal.Meta{Suite: suite.Name, SuitePath: suite.Path, SuiteHash: suite.Hash, Version: versionString(),
		Flags: map[string]string{}, Simulated: p.Sim, Started: now.UTC(), Trials: trials.Count,
		Scoring: reports.RunScoring(suite), RunID: newRunID(now), StopReason: journal.StopRunning}
	meta.Commit, meta.Branch = history.CommitInfo()
	meta.Pilot = fmt.Sprintf("%s seed %d", p.Size, p.Seed)
	if !p.Sim {
		meta.Endpoint = runware.RedactURL(endpoint)
	}
	dir := p.Out
	if dir == "" {
		dir = filepath.Join("runs", "pilot-"+meta.RunID)
	}
	cfg.RunID = meta.RunID
	rd, err := journal.CreateRun(dir, meta)
	if err != nil {
		return "", nil, 0, withCode(exitInput, fmt.Errorf("--out: %w", err))
	}
	defer rd.Close()
	ns := endpointNamespace(p.Sim, endpoint)
	if cfg.Cache, err = runner.OpenCache(filepath.Join(dir, pilotCacheDir), ns); err != nil {
		return "", nil, 0, withCode(exitInput, err)
	}
	res, err := executeRun(ctx, s, rd, cfg, trials, meta, nil, ns, p.Quiet, nil)
	if err != nil {
		return "", nil, 0, err
	}
	fmt.Fprintf(s.Err, "promptgrid: pilot %s: %s, %s, %s journaled in %s\n",
		meta.RunID, meta.StopReason, plural(res.Trials, "trial"), plural(res.Samples, "sample"), dir)
	switch meta.StopReason {
	case journal.StopCompleted:
		return dir, meta, res.Spent, nil
	case journal.StopBudget:
		return "", nil, 0, withCode(exitBudget, fmt.Errorf("the pilot stopped at the budget: %s; no forecast", res.StopDetail))
	case journal.StopFatalAPI:
		return "", nil, 0, withCode(exitAPI, fmt.Errorf("the API refused the pilot: %s", res.StopDetail))
	case journal.StopNoAnswer, journal.StopUnavailable:
		return "", nil, 0, withCode(exitAPI, fmt.Errorf("%s from %s; no forecast", meta.StopDetail, answerSource(p.Sim, endpoint)))
	}
	return "", nil, 0, withCode(exitInterrupted, fmt.Errorf("pilot %s %s; no forecast", meta.RunID, meta.StopReason))
}

// pilotFullRunCommand is the `promptgrid run` that runs the whole suite
// with the pilot's cache, so that the piloted trials are not paid twice.
func pilotFullRunCommand(path, cache string, opts planOptions, p *pilotOptions) string {
	args := []string{"promptgrid", "run", path, "--cache", cache}
	if p.Sim {
		args = append(args, "--sim")
	} else if p.Endpoint != runware.DefaultEndpoint {
		args = append(args, "--endpoint", runware.RedactURL(p.Endpoint))
	}
	if opts.Filter != "" {
		args = append(args, "--filter", opts.Filter)
	}
	if opts.Rate > 0 {
		args = append(args, "--rate", fmt.Sprint(opts.Rate))
	}
	if opts.Concurrency > 0 {
		args = append(args, "--concurrency", fmt.Sprint(opts.Concurrency))
	}
	if p.set("max-cost") {
		args = append(args, "--max-cost", fmt.Sprint(p.MaxCost))
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes an argument for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pilotColumns are the table and Markdown columns.
func pilotColumns(withVariant bool) []string {
	h := []string{"Cell"}
	if withVariant {
		h = append(h, "Variant")
	}
	return append(h, "Trials", "Piloted", "Cost low", "Cost high", "Cost forecast", "Cost 95%",
		"Output tok (max)", "Output tok forecast", "Output tok 95%", "Duration forecast", "Duration 95%")
}

// pilotRow formats one row: a cell's duration is its share of the run, Σ
// of its task latencies ÷ concurrency; the total's is the run's.
func pilotRow(rep *pilotReport, c *eval.PilotCell, pr *eval.PlanRow, withVariant bool) []string {
	cell := c.Cell
	if cell == "" {
		cell = "(no grid)"
	}
	row := []string{cell}
	if withVariant {
		row = append(row, c.Variant)
	}
	conc := float64(max(rep.Plan.Concurrency, 1))
	dur := eval.Estimate{Mean: c.Busy.Mean / conc, Low: c.Busy.Low / conc, High: c.Busy.High / conc, Spread: c.Busy.Spread}
	if c.Cell == "total" && pr == &rep.Plan.Total {
		dur = rep.Forecast.Duration
	}
	durMean := planDuration(dur.Mean)
	if c.Busy.Spread == eval.SpreadUnknown && c.Busy.Mean == 0 {
		durMean = "unknown"
	}
	return append(row, fmt.Sprint(c.Trials), fmt.Sprint(c.Piloted), planUSD(pr.CostLow), planUSD(pr.CostHigh),
		planUSD(c.Cost.Mean), pilotInterval(c.Cost, planUSD),
		planInt(pr.MaxOutputTokens), planInt(int64(math.Round(c.OutputTokens.Mean))),
		pilotInterval(c.OutputTokens, func(v float64) string { return planInt(int64(math.Round(v))) }),
		durMean, pilotInterval(dur, planDuration))
}

// pilotInterval formats an estimate's 95% interval, or says it is unknown.
func pilotInterval(e eval.Estimate, f func(float64) string) string {
	switch {
	case e.Spread == eval.SpreadUnknown || math.IsNaN(e.Low) || math.IsNaN(e.High):
		return "unknown"
	case e.Spread == eval.SpreadExact:
		return "exact"
	}
	s := f(e.Low) + " – " + f(e.High)
	if e.Spread == eval.SpreadBorrowed {
		s += " *"
	}
	return s
}

// pilotNotes states what the pilot was and how to read the forecast.
func pilotNotes(rep *pilotReport) []string {
	pl, f := &rep.Pilot, &rep.Forecast
	src := "the API"
	if pl.Simulated {
		src = "the built-in simulator"
	}
	sample := fmt.Sprintf("Pilot: %d of %d trials (--pilot %s, --seed %d) on %s, journaled in %s; it spent %s.",
		pl.Trials, f.Total.Trials, pl.Size, pl.Seed, src, pl.Dir, planUSD(pl.Spent))
	if pl.Trials > pl.Requested {
		sample += fmt.Sprintf(" (%d asked for; every cell gets at least one trial.)", pl.Requested)
	}
	notes := []string{sample,
		"Forecast: per cell, trials × the pilot's mean per trial; 95% interval from the pilot's per-trial spread (t interval with finite population correction); " +
			"the total sums the cells' means and variances (Welch–Satterthwaite degrees of freedom). " +
			"* = one pilot trial in the cell: its spread is the pooled relative spread of the other cells. Cost low and high are plan's hard bounds."}
	if f.Total.Cost.Spread == eval.SpreadUnknown {
		notes = append(notes, fmt.Sprintf("Intervals: unknown, as no cell had two pilot trials to measure a spread; a pilot of at least %d trials (two per cell) measures one in every cell.",
			2*len(f.Cells)))
	}
	rate := "no rate limit"
	if rep.Plan.Rate > 0 {
		rate = fmt.Sprintf("rate %g/s", rep.Plan.Rate)
	}
	d := f.Duration
	if math.IsNaN(d.High) {
		notes = append(notes, fmt.Sprintf("Duration (%s, concurrency %d): unknown (the pilot measured no latency).", rate, rep.Plan.Concurrency))
	} else {
		notes = append(notes, fmt.Sprintf("Duration (%s, concurrency %d): forecast %s (95%%: %s) = max(tasks / rate, Σ task latencies / concurrency), retries not included; a cell's duration is its share.",
			rate, rep.Plan.Concurrency, planDuration(d.Mean), pilotInterval(d, planDuration)))
	}
	switch {
	case rep.MaxCost == 0:
		notes = append(notes, "Budget: none (set limits.maxCost or --max-cost).")
	case rep.ExceedProbability == nil:
		notes = append(notes, fmt.Sprintf("Budget %s: the chance of exceeding it is unknown (the pilot's spread could not be estimated).", planUSD(rep.MaxCost)))
	case rep.Plan.Total.CostHigh <= rep.MaxCost:
		notes = append(notes, fmt.Sprintf("Budget %s: the full run cannot exceed it (cost high is %s).", planUSD(rep.MaxCost), planUSD(rep.Plan.Total.CostHigh)))
	default:
		notes = append(notes, fmt.Sprintf("Budget %s: chance the full run's cost exceeds it: %s (normal approximation; the run would stop at the cap, exit 3).",
			planUSD(rep.MaxCost), pilotPercent(*rep.ExceedProbability)))
	}
	notes = append(notes, fmt.Sprintf("Full run, reusing the pilot's %s (with the cache it pays about %s less): %s",
		plural(pl.Trials, "answer"), planUSD(pl.Spent), rep.FullRun))
	return notes
}

// pilotPercent prints a probability for people: "< 0.1%" rather than 0.
func pilotPercent(p float64) string {
	switch {
	case p == 0:
		return "0%"
	case p < 0.001:
		return "< 0.1%"
	case p > 0.999 && p < 1:
		return "> 99.9%"
	}
	return fmt.Sprintf("%.1f%%", 100*p)
}

// pilotRows pairs the forecast's cells with the plan's rows, then the total.
func pilotRows(rep *pilotReport) ([]*eval.PilotCell, []*eval.PlanRow) {
	var cs []*eval.PilotCell
	var ps []*eval.PlanRow
	for i := range rep.Forecast.Cells {
		cs = append(cs, &rep.Forecast.Cells[i])
		ps = append(ps, &rep.Plan.Rows[i])
	}
	return append(cs, &rep.Forecast.Total), append(ps, &rep.Plan.Total)
}

// writePilotTable renders the forecast as a terminal table with notes.
func writePilotTable(w io.Writer, rep *pilotReport, ascii bool) error {
	withVariant := planHasVariants(&planReport{Plan: rep.Plan})
	fmt.Fprintf(w, "%s (%s): pilot forecast\n", rep.Plan.Suite, rep.Path)
	t := reports.NewTable(w, ascii)
	t.Header(pilotColumns(withVariant))
	cs, ps := pilotRows(rep)
	for i := range cs {
		row := pilotRow(rep, cs[i], ps[i], withVariant)
		if i == len(cs)-1 {
			t.Footer(row)
			break
		}
		if err := t.Append(row); err != nil {
			return fmt.Errorf("render pilot: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render pilot: %w", err)
	}
	for _, n := range pilotNotes(rep) {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w)
	return nil
}

// writePilotMarkdown renders the forecast as a Markdown table with notes.
func writePilotMarkdown(w io.Writer, rep *pilotReport) {
	withVariant := planHasVariants(&planReport{Plan: rep.Plan})
	fmt.Fprintf(w, "### Pilot forecast: %s (`%s`)\n\n", planMDEscape(rep.Plan.Suite), rep.Path)
	cols := pilotColumns(withVariant)
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat(" --- |", len(cols)))
	cs, ps := pilotRows(rep)
	for i := range cs {
		cells := pilotRow(rep, cs[i], ps[i], withVariant)
		for j := range cells {
			cells[j] = planMDEscape(cells[j])
		}
		if i == len(cs)-1 {
			cells[0] = "**total**"
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
	for _, n := range pilotNotes(rep) {
		fmt.Fprintf(w, "- %s\n", planMDEscape(n))
	}
	fmt.Fprintln(w)
}
