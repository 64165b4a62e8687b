package reports

import (
	"fmt"
	"strconv"
)

// fmtDist formats a latency distribution's quantiles with n:
// "p50 252 ms · p90 n too small · … (n=12)".
func fmtDist(d Dist) string {
	if d.N == 0 {
		return "–"
	}
	s := ""
	for i, p := range csvQuantiles {
		if i > 0 {
			s += " · "
		}
		s += fmt.Sprintf("p%d %s", int(p*100+0.5), fmtQuantile(d, p))
	}
	if d.Censored > 0 {
		return s + fmt.Sprintf(" (n=%d, %d censored)", d.N, d.Censored)
	}
	return s + fmt.Sprintf(" (n=%d)", d.N)
}

// fmtTokens formats a token distribution: "mean 35.0 · p90 70".
func fmtTokens(d Dist) string {
	if d.N == 0 {
		return "–"
	}
	q, _ := d.At(0.9)
	return fmt.Sprintf("mean %s · p90 %s", fmtMean(d.Mean), strconv.FormatFloat(float64(q.Value), 'f', 0, 64))
}

// detailHeader and detailRow are the per-cell details table: every timing,
// token and cost statistic that the main table leaves out.
func detailHeader() []string {
	return []string{"Cell", "TTFT", "TTFO", "E2E", "Queue delay", "Time to success", "Prompt tok", "Thinking tok",
		"Visible tok", "Cost reported", "Cost estimated", "Cost / sample", "Cost / passing", "Retries", "Cached",
		"Distinct texts", "Judge"}
}

func detailRow(c *Cell) []string {
	distinct := "–"
	if c.DistinctShare.Defined() {
		distinct = fmt.Sprintf("%s of %d tasks", fmtPct(c.DistinctShare), c.DistinctTrials)
	}
	judge := "–"
	if c.Judge.Calls+c.Judge.Cached > 0 {
		judge = fmt.Sprintf("%s, %d tok (%d paid, %d cached)", fmtUSD(c.Judge.Cost), c.Judge.Tokens, c.Judge.Calls, c.Judge.Cached)
	}
	return []string{c.Label, fmtDist(c.TTFT), fmtDist(c.TTFO), fmtDist(c.E2E), fmtDist(c.Queue), fmtDist(c.ToSuccess),
		fmtTokens(c.PromptTokens), fmtTokens(c.ThinkingTokens), fmtTokens(c.VisibleTokens),
		fmt.Sprintf("%s (%d)", fmtUSD(c.Cost.Reported), c.Cost.ReportedN),
		fmt.Sprintf("%s (%d)", fmtUSD(c.Cost.Estimated), c.Cost.EstimatedN),
		fmtPerSample(c.Cost, c.Cost.PerSample), fmtPerSample(c.Cost, c.Cost.PerPassing), strconv.Itoa(c.Retries), strconv.Itoa(c.Cached), distinct, judge}
}

// caseHeader and caseRow are the per-case table within a cell.
func caseHeader(s *Summary) []string {
	h := []string{"Cell", "Case", "Pass", "Passed", "Pass rate [95% CI]"}
	for _, k := range s.Ks {
		if k > 1 {
			h = append(h, fmt.Sprintf("pass@%d", k), fmt.Sprintf("pass^%d", k))
		}
	}
	return append(h, "E2E p50", "Thinking tok (mean)", "Cost", "Errors")
}

func caseRow(s *Summary, c *Cell, cs *Case) []string {
	pass := "fail"
	if cs.Pass {
		pass = "pass"
	}
	row := []string{c.Label, cs.ID, pass, fmt.Sprintf("%d/%d", cs.Passed, cs.Samples), fmtRate(cs.PassRate)}
	for i, k := range s.Ks {
		if k > 1 && i < len(cs.PassAtK) {
			at, hat := fmtK(cs.PassAtK[i])
			row = append(row, at, hat)
		}
	}
	return append(row, fmtQuantile(cs.E2E, 0.5), fmtMean(cs.ThinkingTokens.Mean), fmtCost(cs.Cost), fmtErrors(cs.Errors))
}
