package reports

import (
	"math"
	"strconv"
)

// SchemaVersion is the version of the JSON summary schema (docs/report-schema.md).
// It changes only when a field is removed or changes meaning; new fields may
// be added within a version.
const SchemaVersion = 1

// SchemaID names the JSON summary schema and its version.
const SchemaID = "promptgrid.summary/v1"

// Num is a float64 that encodes as JSON null when it is NaN or infinite (an
// undefined statistic, e.g. a pass rate of a cell without samples) and with
// at most 6 significant digits otherwise, so that golden files do not depend
// on the last bits of floating-point arithmetic.
type Num float64

// Defined reports whether n is a finite number.
func (n Num) Defined() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Defined() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, round6(float64(n)), 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler (null decodes as NaN).
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	*n = Num(v)
	return err
}

func round6(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return r
}

var nan = Num(math.NaN())

// Summary is the aggregate of one run: one entry per grid cell (and variant),
// each with its cases, and a total over all cells.
type Summary struct {
	Schema    string `json:"schema"`
	RunID     string `json:"runId"`
	Suite     string `json:"suite"`
	SuiteHash string `json:"suiteHash,omitempty"`
	// Axes are the grid axes (dotted task-field paths) seen in the run.
	Axes []string `json:"axes"`
	// Ks are the k of the pass@k and pass^k estimates.
	Ks    []int   `json:"ks"`
	Cells []*Cell `json:"cells"`
	// Total pools every cell: each case's samples across all cells.
	Total *Cell `json:"total"`
	// Superseded counts journal lines replaced by a later line for the same
	// sample (after --retry-errors or resume); only the last line counts.
	Superseded int `json:"superseded"`
	// Incomplete counts samples whose last line is an interrupted attempt;
	// they are left out of every statistic.
	Incomplete int `json:"incomplete"`
	// Resent counts samples of trials that were in flight when a process of
	// the run died and were sent again on resume (journal.Record.Resent):
	// the server may have billed them twice.
	Resent int `json:"resent,omitempty"`
	// Warnings are lines every format prints under its table: one per cell
	// in which thinking used up maxTokens and left empty answers, and one
	// when some samples may have been billed twice.
	Warnings []string `json:"warnings"`
	// Within compares the cells with each other (runs of 2 or more cells):
	// see WithinRun.
	Within *WithinRun `json:"withinRun,omitempty"`
}

// Cell is the summary of one grid cell (or of the whole run, for the total).
type Cell struct {
	// Label identifies the cell: the variant (if any) and the grid values.
	Label   string         `json:"label"`
	Cell    string         `json:"cell"`
	Variant string         `json:"variant,omitempty"`
	Values  map[string]any `json:"values,omitempty"`

	Cases   int `json:"cases"`
	Samples int `json:"samples"`
	Passed  int `json:"passed"`
	Errored int `json:"errored"`
	// CasesPassed counts the cases that pass by their pass rule.
	CasesPassed int `json:"casesPassed"`
	// Answered counts the samples that got an answer (no error).
	Answered int `json:"answered"`
	// ErrorRate is the mean over cases of each case's share of samples that
	// got no answer (error or timeout), with a 95% interval clustered by
	// case: availability, apart from quality.
	ErrorRate Interval `json:"errorRate"`
	// OverMaxErrorRate is true when Options.MaxErrorRate is set and the
	// error rate exceeds it (the --max-error-rate gate).
	OverMaxErrorRate bool `json:"overMaxErrorRate,omitempty"`
	// Truncation counts the answered samples cut at maxTokens and those
	// without visible text.
	Truncation Truncation `json:"truncation"`
	// PassRate is the mean over cases of each case's share of passing
	// samples among its answered ones (all samples with
	// Options.ErrorsAsFailures), with a 95% interval clustered by case;
	// cases without an answer are left out.
	PassRate Interval `json:"passRate"`
	PassAtK  []KRate  `json:"passAtK"`

	TTFT      Dist `json:"ttftMs"`
	TTFO      Dist `json:"ttfoMs"`
	E2E       Dist `json:"e2eMs"`
	Queue     Dist `json:"queueMs"`
	ToSuccess Dist `json:"toSuccessMs"`

	PromptTokens   Dist `json:"promptTokens"`
	ThinkingTokens Dist `json:"thinkingTokens"`
	VisibleTokens  Dist `json:"visibleTokens"`

	Cost Cost `json:"cost"`
	// Errors counts failed samples by error class.
	Errors map[string]int `json:"errors"`
	// Retries is the number of attempts beyond the first, over all samples.
	Retries int `json:"retries"`
	// Cached counts samples served from the response cache.
	Cached int `json:"cached"`
	// DistinctShare is, over the tasks with numberResults > 1, the mean share
	// of distinct texts among a task's successful results (1 = all
	// different); null when no task had several results.
	DistinctShare  Num `json:"distinctShare"`
	DistinctTrials int `json:"distinctTrials"`
	// Judge is what judge checks spent, apart from Cost.
	Judge Judge `json:"judge"`
	// Steps describes the agent loops of the cell's samples; nil (omitted)
	// when no sample of the cell has steps (no agent case).
	Steps *Steps `json:"steps,omitempty"`

	PerCase []*Case `json:"perCase,omitempty"`
	// PerCaseOmitted counts the cases of the cell not listed in PerCase
	// (Options.MaxCaseDetail); their samples are in every statistic.
	PerCaseOmitted int `json:"perCaseOmitted,omitempty"`
}

// Case is the summary of one case within a cell.
type Case struct {
	ID      string   `json:"id"`
	Tags    []string `json:"tags,omitempty"`
	Samples int      `json:"samples"`
	Passed  int      `json:"passed"`
	Errored int      `json:"errored"`
	// Pass is whether the case passes in the cell by its pass rule.
	Pass bool `json:"pass"`
	// PassRate is the share of passing samples with a Wilson 95% interval.
	PassRate Interval `json:"passRate"`
	PassAtK  []KRate  `json:"passAtK"`

	TTFT           Dist `json:"ttftMs"`
	TTFO           Dist `json:"ttfoMs"`
	E2E            Dist `json:"e2eMs"`
	ThinkingTokens Dist `json:"thinkingTokens"`
	VisibleTokens  Dist `json:"visibleTokens"`
	Cost           Cost `json:"cost"`

	Errors  map[string]int `json:"errors,omitempty"`
	Retries int            `json:"retries"`
	// Failures are the first failing samples (at most Options.MaxFailures),
	// with the model's text and the reasons.
	Failures []Failure `json:"failures,omitempty"`
}

// Failure is one failing sample as reports show it.
type Failure struct {
	Seed        int64  `json:"seed"`
	ResultIndex int    `json:"resultIndex"`
	Text        string `json:"text"`
	// Error is the request's error ("class: code: message"), if it failed.
	Error   string   `json:"error,omitempty"`
	Reasons []string `json:"reasons"`
	// Trajectory is, for a sample of an agent case, what each of its
	// steps did, in order: "get_weather → book_flight → answer" (see
	// trajectory); empty for other samples.
	Trajectory string `json:"trajectory,omitempty"`
}

// Steps describes the agent loops of a cell (docs/metrics.md, "Agent
// steps"): a step is one model request of a sample.
type Steps struct {
	// Samples counts the answered samples with steps; Mean and Max are
	// their steps per sample (Mean null when there is none).
	Samples int `json:"samples"`
	Mean    Num `json:"mean"`
	Max     int `json:"max"`
	// StepLimit counts the samples (answered or not) whose loop stopped at
	// its maxSteps without a final answer.
	StepLimit int `json:"stepLimit"`
}

// Interval is an estimate with a 95% interval.
type Interval struct {
	Value Num `json:"value"`
	Lo    Num `json:"lo"`
	Hi    Num `json:"hi"`
}

// KRate is the mean over cases of the unbiased pass@k and pass^k estimates,
// over the cases with at least k samples.
type KRate struct {
	K       int `json:"k"`
	PassAt  Num `json:"passAt"`
	PassHat Num `json:"passHat"`
	Cases   int `json:"cases"`
}

// Dist describes a distribution of raw values: n, mean and quantiles.
// Latencies are one value per request. N counts the censored values too:
// requests without an answer, whose E2E and time to success are only known
// to exceed a bound; Mean, Min and Max are over the observed values.
type Dist struct {
	N int `json:"n"`
	// Censored counts the requests without an answer (E2E and time to
	// success only); CensoredBound is the largest of their known bounds
	// (null when none is known). Both are omitted when nothing is censored.
	Censored      int           `json:"censored,omitempty"`
	CensoredBound Num           `json:"censoredBound,omitempty"`
	Mean          Num           `json:"mean"`
	Min           Num           `json:"min"`
	Max           Num           `json:"max"`
	Quantiles     []QuantileEst `json:"quantiles,omitempty"`
}

// QuantileEst is one quantile (type 7) with its distribution-free 95% interval.
// NTooSmall is true when no such interval exists for this n; the value is
// still given but should be read as indicative.
type QuantileEst struct {
	P         float64 `json:"p"`
	Value     Num     `json:"value"`
	Lo        Num     `json:"lo"`
	Hi        Num     `json:"hi"`
	NTooSmall bool    `json:"nTooSmall"`
	// Censored is true when the quantile falls among censored requests:
	// the true quantile is above Value (a lower bound, null when unknown).
	Censored bool `json:"censored,omitempty"`
}

// At returns the quantile p of d, and false when d has none for p.
func (d Dist) At(p float64) (QuantileEst, bool) {
	for _, q := range d.Quantiles {
		if q.P == p {
			return q, true
		}
	}
	return QuantileEst{P: p, Value: nan, Lo: nan, Hi: nan, NTooSmall: true}, false
}

// Cost is money spent, in USD, with reported and estimated amounts apart.
type Cost struct {
	// Total = Reported + Estimated.
	Total     Num `json:"total"`
	Reported  Num `json:"reported"`
	Estimated Num `json:"estimated"`
	// ReportedN, EstimatedN and MissingN count samples whose cost the API
	// reported, was estimated from the price table, or is unknown.
	ReportedN  int `json:"reportedN"`
	EstimatedN int `json:"estimatedN"`
	MissingN   int `json:"missingN"`
	// PerSample = Total / samples; PerPassing = Total / passing samples.
	PerSample  Num `json:"perSample"`
	PerPassing Num `json:"perPassing"`
	// Partial is true when some answered samples have no cost (MissingN >
	// 0): Total, PerSample and PerPassing leave them out and are lower
	// bounds.
	Partial bool `json:"partial"`
	// Spent is what every billed journal line cost, superseded and
	// incomplete lines included (a trial re-run by --retry-errors or a
	// resume was billed twice), SpentEstimated its estimated part and
	// SpentLines the lines with a cost; Total counts only the samples.
	Spent          Num `json:"spent"`
	SpentEstimated Num `json:"spentEstimated"`
	SpentLines     int `json:"spentLines"`
}

// Judge is what LLM-as-judge checks spent in a cell, counted apart from the
// samples' own cost: Calls verdicts paid for now, Cached verdicts taken from
// the judge cache (free), and the tokens and USD of the paid ones.
type Judge struct {
	Calls  int `json:"calls"`
	Cached int `json:"cached"`
	Tokens int `json:"tokens"`
	Cost   Num `json:"cost"`
}
