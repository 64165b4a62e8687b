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
	case d.N == 0 || !ok || !q.Value.Defined():
		return "–"
	case q.NTooSmall:
		return nTooSmall
	}
	return fmtMs(q.Value)
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

// fmtCost formats a cell's total cost, saying which part is estimated.
func fmtCost(c Cost) string {
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
