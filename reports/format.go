package reports

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Renderer writes a report in one format.
type Renderer func(w io.Writer) error

// nTooSmall is printed in place of a quantile that has no distribution-free
// 95% interval at its n (docs/metrics.md).
const nTooSmall = "n too small"

// fmtRate formats a pass rate with its interval: "83.3% [62.1, 94.2]".
func fmtRate(iv Interval) string {
	if !iv.Value.Defined() {
		return "–"
	}
	if !iv.Lo.Defined() || !iv.Hi.Defined() {
		return fmtPct(iv.Value)
	}
	return fmt.Sprintf("%s [%s, %s]", fmtPct(iv.Value), pctNum(iv.Lo), pctNum(iv.Hi))
}

func fmtPct(v Num) string {
	if !v.Defined() {
		return "–"
	}
	return pctNum(v) + "%"
}

func pctNum(v Num) string { return strconv.FormatFloat(100*float64(v), 'f', 1, 64) }

// fmtQuantile formats a latency quantile in milliseconds, or "n too small".
func fmtQuantile(d Dist, p float64) string {
	q, ok := d.At(p)
	switch {
	case ok && q.Censored:
		return fmtCensored(q.Value)
	case d.N == 0 || !ok || !q.Value.Defined():
		return "–"
	case q.NTooSmall:
		return nTooSmall
	}
	return fmtMs(q.Value)
}

// fmtQuantileValue formats a quantile's value, censored or not, whatever
// its n.
func fmtQuantileValue(q QuantileEst) string {
	if q.Censored {
		return fmtCensored(q.Value)
	}
	return fmtMs(q.Value)
}

// fmtCensored formats a quantile that falls among censored requests: "> X"
// with its lower bound, "> timeout" when that is unknown.
func fmtCensored(v Num) string {
	if !v.Defined() {
		return "> timeout"
	}
	return "> " + fmtMs(v)
}

// fmtCensoredCount says how many of a distribution's requests are censored:
// " (2 of 6 censored)", or "" when none is.
func fmtCensoredCount(d Dist) string {
	if d.Censored == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d of %d censored)", d.Censored, d.N)
}

func fmtMs(v Num) string {
	if !v.Defined() {
		return "–"
	}
	if math.Abs(float64(v)) >= 10000 {
		return strconv.FormatFloat(float64(v)/1000, 'f', 1, 64) + " s"
	}
	return strconv.FormatFloat(float64(v), 'f', 0, 64) + " ms"
}

// fmtMean formats a mean with one decimal, "–" when undefined.
func fmtMean(v Num) string {
	if !v.Defined() {
		return "–"
	}
	return strconv.FormatFloat(float64(v), 'f', 1, 64)
}

// fmtUSD formats an amount in dollars with enough digits for sub-cent costs.
func fmtUSD(v Num) string {
	if !v.Defined() {
		return "–"
	}
	return "$" + strconv.FormatFloat(float64(v), 'f', 6, 64)
}

// fmtCost formats a cell's total cost, saying which part is estimated,
// whether some answered samples are unpriced (partial), and what was spent
// when superseded lines were billed too.
func fmtCost(c Cost) string {
	var s string
	switch {
	case c.ReportedN == 0 && c.EstimatedN == 0:
		s = "unknown"
	case c.ReportedN == 0:
		s = fmtUSD(c.Total) + " est."
	case c.EstimatedN > 0:
		s = fmtUSD(c.Total) + " (" + fmtUSD(c.Estimated) + " est.)"
	default:
		s = fmtUSD(c.Total)
	}
	if c.Partial && c.ReportedN+c.EstimatedN > 0 {
		s += fmt.Sprintf(" partial: %d unpriced", c.MissingN)
	}
	if c.SpentLines > c.ReportedN+c.EstimatedN {
		s += "; spent " + fmtUSD(c.Spent)
	}
	return s
}

// fmtPerSample formats the cost per sample, marked partial when some
// answered samples have no cost.
func fmtPerSample(c Cost, v Num) string {
	if c.Partial && v.Defined() {
		return fmtUSD(v) + " (partial)"
	}
	return fmtUSD(v)
}

// fmtErrors formats errors by class: "rateLimited 2, timeout 1", "none".
func fmtErrors(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// fmtK formats pass@k and pass^k: "pass@3 90.0% pass^3 40.0%".
func fmtK(kr KRate) (at, hat string) { return fmtPct(kr.PassAt), fmtPct(kr.PassHat) }
