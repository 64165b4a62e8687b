// Package eval defines what an evaluation is: suites, cases, the settings
// grid, checks and their outcomes. It loads suites from YAML with exact
// file:line:col errors, expands them into trials, and scores samples. Of
// promptgrid it imports only the journal's record types, and it calls no API (judge checks reach a model
// through the Judge interface that callers provide).
package eval

import (
	"context"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// Sample is one model answer as checks see it.
type Sample struct {
	Text         string
	Reasoning    string
	FinishReason string
	// ToolCalls are the calls the sample made: for an agent loop, every
	// call of every step in order (the trajectory).
	ToolCalls []ToolCall
	// Steps is how many model requests the sample made (0 or 1 outside an
	// agent loop); StepLimit is set when the loop stopped at its maxSteps
	// with tool calls unanswered.
	Steps     int
	StepLimit bool
	Usage     *Usage   // nil when the API reported no usage
	Cost      *float64 // USD; nil when unknown
	Latency   *time.Duration
	TTFT      *time.Duration // streaming only
	TTFO      *time.Duration // streaming only
	Vars      map[string]any // the case's template variables
	// Prompt is the rendered user prompt (the last user message), shown to
	// judge checks; empty when unknown.
	Prompt string
	// Err is non-empty when the request failed; every check then fails.
	Err string
}

// Usage is token accounting for one sample.
type Usage struct {
	Prompt     int
	Completion int
	Thinking   int
}

// ToolCall is a tool call the model made (the journal's record type).
type ToolCall = journal.ToolCall

// Outcome is the result of one check on one sample (the journal's record
// type).
type Outcome = journal.CheckOutcome

// Check is a compiled expected-output check.
type Check interface {
	// Name describes the check for reports, e.g. `contains "Paris"`.
	Name() string
	// Eval scores one sample. A failing outcome carries a reason a person
	// can act on ("expected to contain \"Paris\"; got \"Lyon is...\"").
	Eval(ctx context.Context, s Sample) Outcome
}

// Message is one chat message of a case. Tools are the calls of an
// assistant message and ID is, on a role "tool" message, the id of the call
// it answers (messages_tools.go).
type Message struct {
	Role    string        `json:"role"`
	Content string        `json:"content"`
	Tools   []MessageTool `json:"tools,omitempty"`
	ID      string        `json:"id,omitempty"`
}

// GridAxis is one dimension of the settings grid: a dotted task-field path
// (e.g. "settings.thinkingLevel") and its values.
type GridAxis struct {
	Path   string
	Values []any
}

// Trial is one unit of work: a case in one grid cell and variant with one
// seed replicate. It becomes one API task with NumberResults results.
type Trial struct {
	// Key identifies the trial across runs: a hash of the canonical request
	// (without taskUUID) plus case id, cell and variant.
	Key    string
	CaseID string
	Tags   []string
	// Cell is the canonical label of the grid cell, e.g.
	// "settings.thinkingLevel=low settings.temperature=0.2"; "" without a grid.
	Cell       string
	CellValues map[string]any
	Variant    string
	Replicate  int
	// Repeat is the index (0-based) of an identical repetition of the
	// request when the suite sets repeat > 1; it enters the key when > 0.
	Repeat int
	Seed   int64
	// NumberResults is how many samples the task yields.
	NumberResults int
	// Request is the native textInference task without taskType and
	// taskUUID: model, messages, settings, seed, numberResults,
	// deliveryMethod, includeCost, includeUsage and any other field. It is
	// the trial's own (ExpandSeq): a consumer may change it.
	Request map[string]any
	// RequestHash is a hash of the canonical JSON of Request.
	RequestHash string
	// Transport is "native" (default), "openai" (chat completions) or
	// "websocket" (the native API over Runware's WebSocket).
	Transport string
	Vars      map[string]any
	Case      *Case
	// Media lists the trial's media inputs as short records ("image
	// data/cat.png sha256:<hex>", or the URL or UUID), never their content.
	Media []string
}

// Pricing is USD per one million tokens.
type Pricing struct {
	Input    float64 `json:"input"`
	Output   float64 `json:"output"`
	Thinking float64 `json:"thinking"` // 0 = priced as output
}

// Cost prices a usage.
func (p Pricing) Cost(prompt, completion, thinking int) float64 {
	th := p.Thinking
	if th == 0 {
		th = p.Output
	}
	visible := completion - thinking
	if visible < 0 {
		visible = 0
	}
	return (float64(prompt)*p.Input + float64(visible)*p.Output + float64(thinking)*th) / 1e6
}

// DefaultPricing is Runware's published price for Kimi K2.6 (USD per 1M
// tokens; thinking tokens priced as output).
var DefaultPricing = Pricing{Input: 0.90, Output: 4.20}

// Limits are the suite's pacing and budget limits; flags override them.
type Limits struct {
	Rate            float64       // requests per second; 0 = unlimited
	Concurrency     int           // in-flight cap; 0 = default
	MaxCost         float64       // USD; 0 = no cap
	Timeout         time.Duration // per request; 0 = default
	TokensPerMinute int           // 0 = no cap
}
