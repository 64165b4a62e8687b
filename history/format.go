package history

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/promptgrid/promptgrid/reports"
)

// The formatting below follows the reports package's tables, so that a
// history row reads like the report of the run.

func fmtPct(v reports.Num) string {
	if !v.Defined() {
		return "–"
	}
	return pctNum(v) + "%"
}

func pctNum(v reports.Num) string { return strconv.FormatFloat(100*float64(v), 'f', 1, 64) }

// fmtRate formats a pass rate with its interval: "83.3% [62.1, 94.2]".
func fmtRate(iv reports.Interval) string {
	if !iv.Value.Defined() {
		return "–"
	}
	if !iv.Lo.Defined() || !iv.Hi.Defined() {
		return fmtPct(iv.Value)
	}
	return fmt.Sprintf("%s [%s, %s]", fmtPct(iv.Value), pctNum(iv.Lo), pctNum(iv.Hi))
}

// fmtQuantile formats a latency quantile in milliseconds, or "n too small"
// when it has no distribution-free 95% interval at its n (as reports do).
func fmtQuantile(q reports.QuantileEst) string {
	switch {
	case !q.Value.Defined():
		return "–"
	case q.NTooSmall:
		return "n too small"
	}
	v := float64(q.Value)
	if math.Abs(v) >= 10000 {
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + " s"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
}

func fmtUSD(v reports.Num) string {
	if !v.Defined() {
		return "–"
	}
	return "$" + strconv.FormatFloat(float64(v), 'f', 6, 64)
}

// fmtCost formats a cell's total cost, saying which part is estimated.
func fmtCost(c reports.Cost) string {
	switch {
	case c.ReportedN == 0 && c.EstimatedN == 0:
		return "unknown"
	case c.ReportedN == 0:
		return fmtUSD(c.Total) + " est."
	case c.EstimatedN > 0:
		return fmtUSD(c.Total) + " (" + fmtUSD(c.Estimated) + " est.)"
	}
	return fmtUSD(c.Total)
}

// Short returns the first 7 characters of a commit, as git abbreviates it.
func Short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// stepText says what compare would say about a step: "regression -40.0 pts
// [-60.0, -20.0], Holm p 0.012", "no detectable change +0.0 pts [...]".
func stepText(s *Step) string {
	if s == nil {
		return "–"
	}
	if s.Verdict == VerdictNotCompared {
		return "not compared (no paired samples)"
	}
	v := s.Verdict
	if s.Regression {
		v = "REGRESSION"
	}
	out := v
	if d := s.Diff; d.Value.Defined() {
		out += fmt.Sprintf(" %+.1f pts", 100*float64(d.Value))
		if d.Lo.Defined() && d.Hi.Defined() {
			out += fmt.Sprintf(" [%+.1f, %+.1f]", 100*float64(d.Lo), 100*float64(d.Hi))
		}
	}
	if s.PHolm.Defined() {
		out += fmt.Sprintf(", Holm p %.3g", float64(s.PHolm))
	}
	if s.TooFewCases {
		out += ", too few cases"
	}
	return out
}
