package reports

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
)

// CaseChecks returns the current checks and pass rule of a case, and false
// when the suite no longer has the case.
type CaseChecks func(caseID string) (checks []eval.Check, rule eval.PassRule, ok bool)

// RescoreStats says what re-scoring changed.
type RescoreStats struct {
	Samples int `json:"samples"`
	// NowPass and NowFail count samples whose verdict flipped.
	NowPass int `json:"nowPass"`
	NowFail int `json:"nowFail"`
	// Unknown counts samples of cases the suite no longer has; they are
	// copied with their old verdicts.
	Unknown int `json:"unknown"`
}

// Rescore scores every sample of the journal at in (its last line) again
// with the current checks, on the stored response, and writes the re-scored
// records to a new journal at out. It calls no API itself: a judge check
// reaches a model only through the eval.Judge in ctx, which should answer
// from its cache where it can. Superseded and interrupted lines are not
// copied.
func Rescore(ctx context.Context, in, out string, checks CaseChecks) (RescoreStats, error) {
	var st RescoreStats
	// The re-scored journal is written atomically: a kill leaves the old
	// one (or none), never a part.
	err := journal.WriteAtomic(out, func(f io.Writer) error {
		bw := bufio.NewWriter(f)
		_, err := ReadLatest(in, func(r *journal.Record) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			st.Samples++
			cs, rule, ok := checks(r.CaseID)
			if !ok {
				st.Unknown++
			} else {
				was := r.Pass
				eval.ApplyVerdict(r, eval.Score(ctx, eval.Rescorable(r), cs, rule))
				switch {
				case r.Pass && !was:
					st.NowPass++
				case !r.Pass && was:
					st.NowFail++
				}
			}
			line, err := journal.MarshalLine(r)
			if err != nil {
				return fmt.Errorf("rescore: encode record: %w", err)
			}
			_, err = bw.Write(line)
			return err
		})
		if err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return st, fmt.Errorf("rescore %s: %w", in, err)
	}
	return st, nil
}

// SuiteChecks adapts a loaded suite to CaseChecks: a case's own pass rule
// when it has one, else the suite's.
func SuiteChecks(s *eval.Suite) CaseChecks {
	byID := casesByID(s)
	rule := SuiteRule(s)
	return func(id string) ([]eval.Check, eval.PassRule, bool) {
		c, ok := byID[id]
		if !ok {
			return nil, eval.PassRule{}, false
		}
		return c.Checks, rule(id), true
	}
}

// casesByID indexes every case of s, those a compact suite keeps as data
// file rows included (a data file that changed since loading ends the walk:
// its later cases count as no longer in the suite).
func casesByID(s *eval.Suite) map[string]*eval.Case {
	byID := make(map[string]*eval.Case, s.NumCases())
	for c, err := range s.AllCases() {
		if err != nil {
			break
		}
		byID[c.ID] = c
	}
	return byID
}

// SuiteRule returns the pass rule of each case of a suite, for
// Options.Rule.
func SuiteRule(s *eval.Suite) func(caseID string) eval.PassRule {
	byID := casesByID(s)
	return func(id string) eval.PassRule {
		if c, ok := byID[id]; ok && c.Pass != nil {
			return *c.Pass
		}
		return s.Pass
	}
}

// SuiteCellOrder lists a suite's cell labels (variants, then the grid's
// cells) in the order the suite declares them, for Options.CellOrder.
func SuiteCellOrder(s *eval.Suite) []string {
	cells := eval.Cells(s.Grid)
	variants := []string{""}
	if len(s.Variants) > 0 {
		variants = variants[:0]
		for _, v := range s.Variants {
			variants = append(variants, v.Name)
		}
	}
	var out []string
	for _, v := range variants {
		for _, c := range cells {
			out = append(out, CellLabel(v, c.Label))
		}
	}
	return out
}

// RunScoring returns what run.json records of how a run on s is summarised:
// the suite's cell order (SuiteCellOrder) and pass rules (SuiteRule), the
// cases' own rules only where they differ from the suite's.
func RunScoring(s *eval.Suite) *journal.Scoring {
	sc := &journal.Scoring{CellOrder: SuiteCellOrder(s), Pass: recordedRule(s.Pass)}
	for c, err := range s.AllCases() {
		if err != nil {
			break // the run's expansion reports it
		}
		if c.Pass != nil && *c.Pass != s.Pass {
			if sc.Cases == nil {
				sc.Cases = map[string]journal.PassRule{}
			}
			sc.Cases[c.ID] = recordedRule(*c.Pass)
		}
	}
	return sc
}

// ScoringOptions returns the aggregation options a run recorded in its
// run.json (RunScoring), so that its report needs no suite file.
func ScoringOptions(sc *journal.Scoring) Options {
	return Options{
		CellOrder:        sc.CellOrder,
		ErrorsAsFailures: sc.Pass.ErrorsAsFailures,
		Rule: func(caseID string) eval.PassRule {
			r := sc.Rule(caseID)
			return eval.PassRule{Threshold: r.Threshold, Case: r.Case, K: r.K, Fraction: r.Fraction}
		},
	}
}

// recordedRule is r as run.json records it.
func recordedRule(r eval.PassRule) journal.PassRule {
	return journal.PassRule{Threshold: r.Threshold, Case: r.Case, K: r.K, Fraction: r.Fraction, ErrorsAsFailures: r.ErrorsAsFailures}
}
