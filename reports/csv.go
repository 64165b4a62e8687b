package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/promptgrid/promptgrid/journal"
)

// csvNum formats a number for CSV: empty when undefined.
// csvQuantile is a quantile's value, or, when it falls among censored
// requests, ">" and its lower bound (">timeout" when unknown).
func csvQuantile(q QuantileEst) string {
	if !q.Censored {
		return csvNum(q.Value)
	}
	if !q.Value.Defined() {
		return ">timeout"
	}
	return ">" + csvNum(q.Value)
}

func csvNum(v Num) string {
	if !v.Defined() {
		return ""
	}
	return strconv.FormatFloat(round6(float64(v)), 'g', -1, 64)
}

func csvPtr(v *float64) string {
	if v == nil {
		return ""
	}
	return csvNum(Num(*v))
}

// The latency quantiles of the cells CSV.
var (
	csvQuantiles     = []float64{0.5, 0.9, 0.95, 0.99}
	csvQuantileNames = []string{"p50", "p90", "p95", "p99"}
)

// CellsCSV renders one row per cell (and a last row over all cells) with
// every statistic of the summary; undefined values are empty.
func CellsCSV(s *Summary) Renderer {
	return func(w io.Writer) error {
		cw := csv.NewWriter(w)
		head := []string{"cell", "variant"}
		head = append(head, s.Axes...)
		head = append(head, "cases", "samples", "passed", "errored", "cases_passed", "pass_rate", "pass_rate_lo", "pass_rate_hi")
		for _, k := range s.Ks {
			head = append(head, fmt.Sprintf("pass_at_%d", k), fmt.Sprintf("pass_hat_%d", k))
		}
		for _, d := range []string{"ttft", "ttfo", "e2e", "queue", "to_success"} {
			head = append(head, d+"_n")
			for _, q := range csvQuantileNames {
				head = append(head, d+"_"+q+"_ms")
			}
		}
		for _, d := range []string{"prompt", "thinking", "visible"} {
			head = append(head, d+"_tokens_mean", d+"_tokens_p90")
		}
		head = append(head, "cost_total", "cost_reported", "cost_estimated", "cost_per_sample", "cost_per_passing",
			"cost_missing_n", "errors", "retries", "cached", "distinct_share",
			"finish_length", "finish_length_share", "empty_text", "empty_text_share", "thinking_exhausted",
			"judge_calls", "judge_cached", "judge_tokens", "judge_cost", "e2e_censored", "to_success_censored",
			"cost_partial", "cost_spent", "cost_spent_estimated", "cost_spent_lines")
		head = append(head, withinCSVHeader()...)
		steps := hasSteps(s)
		if steps {
			head = append(head, "steps_samples", "steps_mean", "steps_max", "step_limit")
		}
		if err := cw.Write(head); err != nil {
			return err
		}
		rows := append([]*Cell{}, s.Cells...)
		if s.Total != nil {
			rows = append(rows, s.Total)
		}
		for _, c := range rows {
			row := []string{c.Label, c.Variant}
			for _, a := range s.Axes {
				v, ok := c.Values[a]
				if ok {
					row = append(row, fmt.Sprint(v))
				} else {
					row = append(row, "")
				}
			}
			row = append(row, strconv.Itoa(c.Cases), strconv.Itoa(c.Samples), strconv.Itoa(c.Passed), strconv.Itoa(c.Errored),
				strconv.Itoa(c.CasesPassed), csvNum(c.PassRate.Value), csvNum(c.PassRate.Lo), csvNum(c.PassRate.Hi))
			for i := range s.Ks {
				if i < len(c.PassAtK) {
					row = append(row, csvNum(c.PassAtK[i].PassAt), csvNum(c.PassAtK[i].PassHat))
				} else {
					row = append(row, "", "")
				}
			}
			for _, d := range []Dist{c.TTFT, c.TTFO, c.E2E, c.Queue, c.ToSuccess} {
				row = append(row, strconv.Itoa(d.N))
				for _, p := range csvQuantiles {
					q, _ := d.At(p)
					row = append(row, csvQuantile(q))
				}
			}
			for _, d := range []Dist{c.PromptTokens, c.ThinkingTokens, c.VisibleTokens} {
				q, _ := d.At(0.9)
				row = append(row, csvNum(d.Mean), csvNum(q.Value))
			}
			errs := ""
			if len(c.Errors) > 0 {
				errs = strings.ReplaceAll(fmtErrors(c.Errors), ", ", ";")
			}
			row = append(row, csvNum(c.Cost.Total), csvNum(c.Cost.Reported), csvNum(c.Cost.Estimated), csvNum(c.Cost.PerSample),
				csvNum(c.Cost.PerPassing), strconv.Itoa(c.Cost.MissingN), errs, strconv.Itoa(c.Retries), strconv.Itoa(c.Cached),
				csvNum(c.DistinctShare),
				strconv.Itoa(c.Truncation.Length), csvNum(c.Truncation.LengthShare), strconv.Itoa(c.Truncation.Empty),
				csvNum(c.Truncation.EmptyShare), strconv.Itoa(c.Truncation.ThinkingExhausted),
				strconv.Itoa(c.Judge.Calls), strconv.Itoa(c.Judge.Cached),
				strconv.Itoa(c.Judge.Tokens), csvNum(c.Judge.Cost), strconv.Itoa(c.E2E.Censored), strconv.Itoa(c.ToSuccess.Censored),
				strconv.FormatBool(c.Cost.Partial), csvNum(c.Cost.Spent), csvNum(c.Cost.SpentEstimated), strconv.Itoa(c.Cost.SpentLines))
			row = append(row, withinCSVRow(s.Within, c.Label, c == s.Total)...)
			if steps {
				if st := c.Steps; st != nil {
					row = append(row, strconv.Itoa(st.Samples), csvNum(st.Mean), strconv.Itoa(st.Max), strconv.Itoa(st.StepLimit))
				} else {
					row = append(row, "", "", "", "")
				}
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
}

// SamplesCSV renders one row per sample of the journal at path (the last
// line of each sample, as reports count them), streaming it.
func SamplesCSV(path string) Renderer {
	return func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write([]string{"run_id", "case_id", "cell", "variant", "seed", "replicate", "result_index", "trial_key",
			"pass", "score", "failed_checks", "error_class", "error_code", "error_message", "http_status", "attempts", "cached",
			"ttft_ms", "ttfo_ms", "e2e_ms", "queue_ms", "to_success_ms",
			"prompt_tokens", "completion_tokens", "thinking_tokens", "visible_tokens", "cost", "cost_estimated",
			"finish_reason", "text"}); err != nil {
			return err
		}
		_, err := ReadLatest(path, func(r *journal.Record) error {
			var failed []string
			for _, o := range r.Checks {
				if !o.Pass {
					failed = append(failed, o.Check)
				}
			}
			var ec, ecode, emsg, status string
			if r.Error != nil {
				ec, ecode, emsg = r.Error.Class, r.Error.Code, r.Error.Message
				if r.Error.HTTPStatus != 0 {
					status = strconv.Itoa(r.Error.HTTPStatus)
				}
			}
			var pt, ct, tt, vt string
			if u := r.Usage; u != nil {
				pt, ct, tt, vt = strconv.Itoa(u.Prompt), strconv.Itoa(u.Completion), strconv.Itoa(u.Thinking), strconv.Itoa(u.Visible())
			}
			t := &r.Timings
			return cw.Write([]string{r.RunID, r.CaseID, CellLabel(r.Variant, r.Cell), r.Variant,
				strconv.FormatInt(r.Seed, 10), strconv.Itoa(r.Replicate), strconv.Itoa(r.ResultIndex), r.TrialKey,
				strconv.FormatBool(r.Pass), csvNum(Num(r.Score)), strings.Join(failed, "; "), ec, ecode, emsg, status,
				strconv.Itoa(r.Attempts), strconv.FormatBool(r.Cached),
				csvPtr(t.TTFT), csvPtr(t.TTFO), csvPtr(t.E2E), csvPtr(t.Queue), csvPtr(t.ToSuccess),
				pt, ct, tt, vt, csvPtr(r.Cost), strconv.FormatBool(r.CostEstimated), r.FinishReason, r.Text})
		})
		if err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	}
}
