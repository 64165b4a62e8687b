// Package history follows suites across runs: it finds run directories
// (or folders of them, such as downloaded CI artifacts), groups their runs
// by suite, orders them in time and lists per cell the pass rate with its
// interval, cost and latency, marking each step between consecutive runs
// that `promptgrid compare` would call a regression. The statistics are the
// reports package's: Aggregate for each run, CompareWith for each step.
package history

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/reports"
)

// SchemaID names the JSON schema of a history and its version.
const SchemaID = "promptgrid.history/v1"

// Verdict of a step whose cell has no sample paired with the previous run
// (the cell, its cases or its seeds are new); other steps carry the
// comparison's verdict (reports.VerdictBetter, VerdictWorse, VerdictNoChange).
const VerdictNotCompared = "not compared"

// Options tune Load.
type Options struct {
	// Margin is compare's practical margin (--margin): a step regresses
	// when the whole interval of its pass-rate difference lies below
	// -Margin (and its Holm-adjusted p-value is below reports.Alpha).
	Margin float64
	// Suite, when set, keeps only the runs of the suite of that name.
	Suite string
	// Branch, when set, keeps only the runs made on that branch (run.json's
	// branch); steps are then between consecutive runs of the branch.
	Branch string
	// MaxDepth bounds the folder walk (see Find).
	MaxDepth int
}

// History is a set of runs, by suite.
type History struct {
	Schema string  `json:"schema"`
	Margin float64 `json:"margin"`
	// Suites are in order of name.
	Suites []*Suite `json:"suites"`
	// Skipped are the run directories found but left out, with the reason.
	Skipped []Skipped `json:"skipped"`
}

// Skipped is a run directory left out of a history.
type Skipped struct {
	Dir    string `json:"dir"`
	Reason string `json:"reason"`
}

// Suite is the history of one suite: its runs in time order and, per cell,
// one point per run that has the cell.
type Suite struct {
	Name string `json:"name"`
	Runs []*Run `json:"runs"`
	// Cells are in order of first appearance, each run's cells in its
	// report order.
	Cells []*CellHistory `json:"cells"`
	// Regressions counts the steps marked as regressions, over all cells.
	Regressions int `json:"regressions"`
}

// Run is one run of a suite.
type Run struct {
	Dir        string    `json:"dir"`
	RunID      string    `json:"runId"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended,omitzero"`
	StopReason string    `json:"stopReason,omitempty"`
	SuiteHash  string    `json:"suiteHash,omitempty"`
	Commit     string    `json:"commit,omitempty"`
	Branch     string    `json:"branch,omitempty"`
	Simulated  bool      `json:"simulated,omitempty"`
	Samples    int       `json:"samples"`
	// Regressions counts the cells this run regressed in against the
	// previous run (what `compare PREVIOUS THIS` would fail on).
	Regressions int `json:"regressions"`

	summary *reports.Summary
}

// CellHistory is one cell's points, in time order.
type CellHistory struct {
	Label  string   `json:"label"`
	Points []*Point `json:"points"`
}

// Point is one cell of one run.
type Point struct {
	// Run is the index of the run in Suite.Runs.
	Run       int              `json:"run"`
	RunID     string           `json:"runId"`
	Cases     int              `json:"cases"`
	Samples   int              `json:"samples"`
	PassRate  reports.Interval `json:"passRate"`
	ErrorRate reports.Interval `json:"errorRate"`
	Cost      reports.Cost     `json:"cost"`
	// E2EP50 and E2EP95 are the cell's end-to-end latency quantiles (ms).
	E2EP50 reports.QuantileEst `json:"e2eP50"`
	E2EP95 reports.QuantileEst `json:"e2eP95"`
	// Step compares the cell with the previous run of the suite; nil for the
	// first run.
	Step *Step `json:"step,omitempty"`
}

// Step is a cell's comparison of a run with the previous run of its suite:
// the cell of reports.CompareWith(previous, this), Holm-adjusted across the
// cells of that comparison, exactly as `compare` computes it.
type Step struct {
	// From is the run id of the previous run.
	From    string `json:"from"`
	Verdict string `json:"verdict"`
	// Regression is true when compare would fail on this cell (verdict
	// worse).
	Regression  bool             `json:"regression"`
	Cases       int              `json:"cases"`
	Diff        reports.Interval `json:"diff"`
	PHolm       reports.Num      `json:"pHolm"`
	TooFewCases bool             `json:"tooFewCases"`
	// Availability is the verdict on the error rate (reports.AvailabilityDiff).
	Availability string `json:"availability,omitempty"`
}

// Load finds the run directories among paths (Find), reads them and builds
// their history. Directories that are not usable runs (no journal, a shard
// of a run, a second copy of a run, an unreadable run.json or journal) are
// listed in Skipped; a path that does not exist is an error.
func Load(paths []string, opts Options) (*History, error) {
	dirs, err := Find(paths, opts.MaxDepth)
	if err != nil {
		return nil, err
	}
	h := &History{Schema: SchemaID, Margin: opts.Margin, Suites: []*Suite{}, Skipped: []Skipped{}}
	bySuite := map[string]*Suite{}
	byID := map[string]*Run{}
	for _, dir := range dirs {
		m, err := readRun(dir)
		if err != nil {
			h.Skipped = append(h.Skipped, Skipped{Dir: dir, Reason: err.Error()})
			continue
		}
		if (opts.Suite != "" && m.Suite != opts.Suite) || (opts.Branch != "" && m.Branch != opts.Branch) {
			continue
		}
		if prev := byID[m.RunID]; prev != nil && m.RunID != "" {
			h.Skipped = append(h.Skipped, Skipped{Dir: dir, Reason: "the same run (" + m.RunID + ") as " + prev.Dir})
			continue
		}
		sum, err := reports.Aggregate(filepath.Join(dir, journal.JournalFile), options(m))
		if err != nil {
			h.Skipped = append(h.Skipped, Skipped{Dir: dir, Reason: err.Error()})
			continue
		}
		r := &Run{Dir: dir, RunID: m.RunID, Started: m.Started, Ended: m.Ended, StopReason: m.StopReason,
			SuiteHash: m.SuiteHash, Commit: m.Commit, Branch: m.Branch, Simulated: m.Simulated,
			Samples: m.Samples, summary: sum}
		byID[m.RunID] = r
		s := bySuite[m.Suite]
		if s == nil {
			s = &Suite{Name: m.Suite, Cells: []*CellHistory{}}
			bySuite[m.Suite] = s
			h.Suites = append(h.Suites, s)
		}
		s.Runs = append(s.Runs, r)
	}
	slices.SortFunc(h.Suites, func(a, b *Suite) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range h.Suites {
		if err := s.build(opts.Margin); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// readRun reads a run directory's run.json and checks that it is a run
// history can use.
func readRun(dir string) (*journal.Meta, error) {
	m, err := journal.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	if m.Pilot != "" {
		return nil, fmt.Errorf("a plan --pilot sample (%s), not a run of the suite", m.Pilot)
	}
	if m.Shard != "" {
		return nil, fmt.Errorf("shard %s of a run: history reads whole runs (merge the shards with `promptgrid merge`)", m.Shard)
	}
	if _, err := os.Stat(filepath.Join(dir, journal.JournalFile)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNoJournal
		}
		return nil, err
	}
	return m, nil
}

// options are the aggregation options a run recorded in its run.json; a
// run.json of an older promptgrid records none, and the defaults are used.
func options(m *journal.Meta) reports.Options {
	if m.Scoring != nil {
		return reports.ScoringOptions(m.Scoring)
	}
	return reports.Options{}
}

// build orders the suite's runs in time and fills its cells and steps.
func (s *Suite) build(margin float64) error {
	slices.SortStableFunc(s.Runs, func(a, b *Run) int {
		return cmp.Or(a.Started.Compare(b.Started), strings.Compare(a.RunID, b.RunID))
	})
	cells := map[string]*CellHistory{}
	for i, r := range s.Runs {
		var cmpn *reports.Comparison
		if i > 0 {
			prev := s.Runs[i-1]
			c, err := reports.CompareWith(filepath.Join(prev.Dir, journal.JournalFile),
				filepath.Join(r.Dir, journal.JournalFile), margin, reports.Options{})
			if err != nil {
				return fmt.Errorf("compare %s with %s: %w", prev.Dir, r.Dir, err)
			}
			cmpn = c
		}
		for _, c := range r.summary.Cells {
			ch := cells[c.Label]
			if ch == nil {
				ch = &CellHistory{Label: c.Label}
				cells[c.Label] = ch
				s.Cells = append(s.Cells, ch)
			}
			p50, _ := c.E2E.At(0.5)
			p95, _ := c.E2E.At(0.95)
			p := &Point{Run: i, RunID: r.RunID, Cases: c.Cases, Samples: c.Samples, PassRate: c.PassRate,
				ErrorRate: c.ErrorRate, Cost: c.Cost, E2EP50: p50, E2EP95: p95}
			if cmpn != nil {
				p.Step = step(cmpn, c.Label, s.Runs[i-1].RunID)
				if p.Step.Regression {
					r.Regressions++
					s.Regressions++
				}
			}
			ch.Points = append(ch.Points, p)
		}
		r.summary = nil
	}
	return nil
}

// step is the cell label's step in the comparison c.
func step(c *reports.Comparison, label, from string) *Step {
	for _, d := range c.Cells {
		if d.Label != label {
			continue
		}
		return &Step{From: from, Verdict: d.Verdict, Regression: d.Verdict == reports.VerdictWorse,
			Cases: d.Cases, Diff: d.Diff, PHolm: d.PHolm, TooFewCases: d.TooFewCases,
			Availability: d.Availability.Verdict}
	}
	nan := reports.Num(math.NaN())
	return &Step{From: from, Verdict: VerdictNotCompared, Diff: reports.Interval{Value: nan, Lo: nan, Hi: nan}, PHolm: nan}
}
