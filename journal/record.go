// Package journal defines the run journal: one JSON line per sample, written by
// the runner as results arrive and read by reports, resume, re-scoring and
// compare. It is the contract between the stages of promptgrid.
package journal

import (
	"encoding/json"
	"time"
)

// Version is the schema version written in every record's "v" field.
const Version = 1

// Record is one sample: one result of one trial attempt that reached a
// terminal state (success or final error).
type Record struct {
	V         int    `json:"v"`
	RunID     string `json:"runId"`
	Suite     string `json:"suite"`
	SuiteHash string `json:"suiteHash"`

	CaseID      string         `json:"caseId"`
	Tags        []string       `json:"tags,omitempty"`
	Cell        string         `json:"cell"`
	CellValues  map[string]any `json:"cellValues,omitempty"`
	Variant     string         `json:"variant,omitempty"`
	Seed        int64          `json:"seed"`
	Replicate   int            `json:"replicate"`
	ResultIndex int            `json:"resultIndex"`
	Results     int            `json:"numberResults"`
	TrialKey    string         `json:"trialKey"`
	TaskUUID    string         `json:"taskUUID,omitempty"`
	RequestHash string         `json:"requestHash"`
	Model       string         `json:"model,omitempty"`
	Delivery    string         `json:"deliveryMethod"`
	Transport   string         `json:"transport,omitempty"`
	Vars        map[string]any `json:"vars,omitempty"`
	// Media lists the trial's images and videos as short records (kind,
	// file name and sha256 of a local file, or the URL or UUID sent),
	// never their content.
	Media []string `json:"media,omitempty"`
	// Prompt is the rendered last user message (judge checks see it).
	Prompt string `json:"prompt,omitempty"`

	Timings Timings `json:"timings"`

	Text         string     `json:"text"`
	Reasoning    string     `json:"reasoning,omitempty"`
	FinishReason string     `json:"finishReason,omitempty"`
	ToolCalls    []ToolCall `json:"toolCalls,omitempty"`
	Usage        *Usage     `json:"usage,omitempty"`
	Cost         *float64   `json:"cost,omitempty"`
	// UsageShared is true when the API reported one usage for all the
	// request's results (the OpenAI-compatible endpoint with
	// numberResults > 1): Usage is then that usage divided evenly over them.
	UsageShared bool `json:"usageShared,omitempty"`
	// CostEstimated is true when Cost was computed from the price table
	// because the API sent none.
	CostEstimated bool `json:"costEstimated,omitempty"`

	Error    *Error `json:"error,omitempty"`
	Attempts int    `json:"attempts"`
	// Retried marks a trial re-run by --retry-errors.
	Retried bool `json:"retried,omitempty"`
	// Cached marks a sample served from the response cache (no API call).
	Cached bool `json:"cached,omitempty"`
	// Resent marks a sample of a sync or stream trial that was in flight
	// when an earlier invocation of the run died and was sent again: the
	// server may have billed it twice.
	Resent bool `json:"resent,omitempty"`

	// Steps is, for a sample of an agent case (a case with agent:), every
	// model request of its loop in order: model -> tool calls -> scripted
	// results -> model. The sample's Usage, Cost and Timings.E2E are then
	// the sums over Steps, ToolCalls is every call of every step in order
	// (the trajectory), Text the last step's answer, and TTFT and TTFO the
	// first step's. Empty for other cases.
	Steps []Step `json:"steps,omitempty"`
	// StepLimit is true when an agent loop stopped at its maxSteps with the
	// last step's tool calls unanswered (no final answer).
	StepLimit bool `json:"stepLimit,omitempty"`

	Checks []CheckOutcome `json:"checks,omitempty"`
	Pass   bool           `json:"pass"`
	Score  float64        `json:"score"`
}

// Step is one model request of an agent loop.
type Step struct {
	// TaskUUID of the request's answered attempt; RequestHash identifies
	// the request (the case's conversation plus the steps before it).
	TaskUUID    string `json:"taskUUID,omitempty"`
	RequestHash string `json:"requestHash,omitempty"`
	// Text is what the model wrote besides its tool calls (the answer, on
	// the last step).
	Text         string       `json:"text,omitempty"`
	FinishReason string       `json:"finishReason,omitempty"`
	ToolCalls    []ToolCall   `json:"toolCalls,omitempty"`
	ToolResults  []ToolResult `json:"toolResults,omitempty"`
	Usage        *Usage       `json:"usage,omitempty"`
	Cost         *float64     `json:"cost,omitempty"`
	// CostEstimated: Cost is from the price table (the API sent none).
	CostEstimated bool `json:"costEstimated,omitempty"`
	// Timings of the step's answered attempt, offsets from the sample's
	// Scheduled like the sample's own.
	Timings  StepTimings `json:"timings"`
	Attempts int         `json:"attempts"`
	Cached   bool        `json:"cached,omitempty"`
	Error    *Error      `json:"error,omitempty"`
}

// StepTimings are one step's timings in milliseconds: Dispatched and Done
// are offsets from the sample's scheduled time, TTFT, TTFO and E2E are
// measured from the step's dispatch as for a sample.
type StepTimings struct {
	Dispatched *float64 `json:"dispatchedMs,omitempty"`
	Done       *float64 `json:"doneMs,omitempty"`
	TTFT       *float64 `json:"ttftMs,omitempty"`
	TTFO       *float64 `json:"ttfoMs,omitempty"`
	E2E        *float64 `json:"e2eMs,omitempty"`
}

// ToolResult is the scripted result a run sent back for one tool call.
type ToolResult struct {
	// ID is the call's id; Name its tool.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Content is the tool message's content as sent.
	Content string `json:"content"`
	// Error is true when the script answered with an error (or had no
	// result for the call).
	Error bool `json:"error,omitempty"`
	// Rule says which script rule answered: its index (0-based) in the
	// tool's list, -1 when none did.
	Rule int `json:"rule"`
}

// ToolCall is a tool call the model made.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// CheckOutcome is the result of one check on one sample.
type CheckOutcome struct {
	Check  string  `json:"check"`
	Pass   bool    `json:"pass"`
	Reason string  `json:"reason,omitempty"`
	Weight float64 `json:"weight,omitempty"`
	// JudgeCost (USD) and JudgeTokens (prompt + completion) are what a judge
	// check spent on this outcome, counted apart from the sample's own cost;
	// zero when the verdict came from the judge cache (JudgeCached).
	JudgeCost   float64 `json:"judgeCost,omitempty"`
	JudgeTokens int     `json:"judgeTokens,omitempty"`
	JudgeCached bool    `json:"judgeCached,omitempty"`
	// Unjudged is true when the check could not be evaluated (its judge
	// failed or there was none): the sample is then an error of class
	// ClassJudge, not a wrong answer.
	Unjudged bool `json:"unjudged,omitempty"`
}

// ClassJudge is the error class of a sample whose answer arrived but whose
// judge check could not be evaluated (the judge failed, after its retries,
// or replied without a verdict): no verdict, so neither a pass nor a quality
// failure.
const ClassJudge = "judge"

// Usage is token accounting as the API reported it.
type Usage struct {
	Prompt     int `json:"prompt"`
	Completion int `json:"completion"`
	Total      int `json:"total"`
	Thinking   int `json:"thinking"`
}

// Visible is the number of completion tokens that are not thinking tokens.
func (u Usage) Visible() int { return u.Completion - u.Thinking }

// Error is a failed sample's error, as the API or the transport reported it.
type Error struct {
	Class      string `json:"class"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message"`
	Parameter  string `json:"parameter,omitempty"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
}

// Timings holds the wall-clock time the trial was first scheduled and the
// offsets, in milliseconds from that moment, of each measured event of the
// attempt that produced the sample. Absent events are nil. Derived latencies
// (DESIGN §5) are stored too so that readers need not recompute them.
type Timings struct {
	Scheduled time.Time `json:"scheduled"`
	// Offsets from Scheduled, in milliseconds, of the final attempt.
	AttemptScheduled *float64 `json:"attemptScheduledMs,omitempty"`
	Admitted         *float64 `json:"admittedMs,omitempty"`
	Dispatched       *float64 `json:"dispatchedMs,omitempty"`
	FirstByte        *float64 `json:"firstByteMs,omitempty"`
	FirstReasoning   *float64 `json:"firstReasoningMs,omitempty"`
	FirstText        *float64 `json:"firstTextMs,omitempty"`
	LastDelta        *float64 `json:"lastDeltaMs,omitempty"`
	Done             *float64 `json:"doneMs,omitempty"`

	// TTFT = first delta of any kind - dispatched (streaming only).
	TTFT *float64 `json:"ttftMs,omitempty"`
	// TTFO = first text delta - dispatched (streaming only).
	TTFO *float64 `json:"ttfoMs,omitempty"`
	// E2E = done - dispatched, on the successful attempt.
	E2E *float64 `json:"e2eMs,omitempty"`
	// Queue = dispatched - scheduled (of the final attempt).
	Queue *float64 `json:"queueMs,omitempty"`
	// ToSuccess = done - first scheduled, retries and backoff included.
	ToSuccess *float64 `json:"toSuccessMs,omitempty"`
	// Late is how far behind its intended send time an open-loop arrival
	// was dispatched; nil in closed-loop runs.
	Late *float64 `json:"lateMs,omitempty"`
}

// Ms converts a duration into a pointer to milliseconds, for Timings fields.
func Ms(d time.Duration) *float64 {
	v := float64(d) / float64(time.Millisecond)
	return &v
}

// Terminal reports whether the record ends its trial: every record is
// terminal unless its error is transient and the run was interrupted before
// the retry budget was spent (then the trial is run again on resume).
func (r *Record) Terminal() bool { return r.Error == nil || !r.Error.Interrupted() }

// Interrupted reports whether the error was caused by the run stopping
// (cancellation), not by the API.
func (e *Error) Interrupted() bool { return e.Class == "interrupted" }

// Meta is run.json: what ran, with which flags, and why it stopped.
type Meta struct {
	RunID      string            `json:"runId"`
	Suite      string            `json:"suite"`
	SuitePath  string            `json:"suitePath"`
	SuiteHash  string            `json:"suiteHash"`
	Version    string            `json:"version"`
	Flags      map[string]string `json:"flags,omitempty"`
	Endpoint   string            `json:"endpoint,omitempty"`
	Simulated  bool              `json:"simulated,omitempty"`
	Started    time.Time         `json:"started"`
	Ended      time.Time         `json:"ended,omitzero"`
	StopReason string            `json:"stopReason,omitempty"`
	StopDetail string            `json:"stopDetail,omitempty"`
	Trials     int               `json:"trials"`
	Samples    int               `json:"samples"`
	Shard      string            `json:"shard,omitempty"`
	Merged     []string          `json:"merged,omitempty"`
	// Resumes lists every --resume of the run, with the flags it changed.
	Resumes []Resume `json:"resumes,omitempty"`
	// Scoring is the cell order and the pass rules the run's reports use,
	// recorded when the run starts; nil in a run.json of an older
	// promptgrid.
	Scoring *Scoring `json:"scoring,omitempty"`
	// Commit and Branch are the source revision the run was made from
	// (GITHUB_SHA / GITHUB_REF_NAME, else git), when known; history orders
	// and labels runs by them.
	Commit string `json:"commit,omitempty"`
	Branch string `json:"branch,omitempty"`
	// Pilot, set by `plan --pilot`, says the run is a sample of the suite
	// (its size and seed, e.g. "5% seed 1"), not a run of it: it is not
	// resumed, and history and baselines leave it out.
	Pilot string `json:"pilot,omitempty"`
}

// Resume is one --resume of a run: when, and the flags it changed (name ->
// new value; only those that may change on resume).
type Resume struct {
	At      time.Time         `json:"at"`
	Changed map[string]string `json:"changed,omitempty"`
}

// Stop reasons recorded in Meta.StopReason.
const (
	StopCompleted   = "completed"
	StopInterrupted = "interrupted"
	StopBudget      = "budget"
	StopFatalAPI    = "fatal API error"
	StopDeadline    = "deadline"
	StopRunning     = "running"
	// StopNoAnswer: the run went through its trials but not one request
	// got an answer (StopDetail lists the error classes).
	StopNoAnswer = "no answer"
	// StopUnavailable: the last trials all failed with transient errors
	// (429s, 5xx, timeouts) after every retry, none answered in between:
	// the API is down or out of quota, and the trials not run yet are left
	// for --resume (StopDetail counts the error classes).
	StopUnavailable = "unavailable"
)

// MarshalLine encodes a record as one JSON line ending in '\n'.
func MarshalLine(r *Record) ([]byte, error) {
	b, err := appendRecord(nil, r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
