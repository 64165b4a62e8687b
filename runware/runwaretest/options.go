// Package runwaretest is an in-process simulator of Runware's text-inference
// API, in the spirit of net/http/httptest. It speaks the native task protocol
// (sync, stream and async delivery, getResponse, authentication, webhooks to
// loopback receivers, X-Runware-Dry-Run), the OpenAI-compatible chat
// completions endpoint and the model list, produces output that is a pure
// function of the request and its seed, models thinking tokens, latency and
// correctness per thinkingLevel from scriptable scenarios, and injects faults
// (429/5xx bursts, malformed bodies, truncated streams, connection resets,
// slow first bytes, failed async results). docs/simulator.md describes every
// behaviour and marks what the real API does not document as "simulator
// choice".
package runwaretest

import (
	"context"
	"encoding/json"
	"time"
)

// Options configure a simulator. The zero value is usable: any non-empty API
// key is accepted, no scenarios, no faults, no delays, default pricing.
type Options struct {
	// APIKeys lists the accepted bearer keys; empty accepts any non-empty key.
	APIKeys []string `json:"apiKeys,omitempty"`
	// Scenarios script answers for prompts they match (first match wins).
	Scenarios []Scenario `json:"scenarios,omitempty"`
	// Faults configures fault injection.
	Faults Faults `json:"faults,omitempty"`
	// TimeScale multiplies every simulated model delay (TTFT, per-token time,
	// async completion). 0 disables model delays entirely; 1 is realistic.
	// Fault delays (Faults.SlowFirstByte) are absolute and not scaled.
	TimeScale float64 `json:"timeScale,omitempty"`
	// Pricing sets USD per one million tokens; zero fields take defaults.
	Pricing Pricing `json:"pricing,omitempty"`
	// Seed seeds fault injection, result shuffling and the seed drawn for
	// tasks that do not send one.
	Seed int64 `json:"seed,omitempty"`
	// ShuffleResults returns the data array of a multi-task or multi-result
	// sync response in a seeded random order, so that clients must match
	// results by taskUUID instead of position.
	ShuffleResults bool `json:"shuffleResults,omitempty"`
	// ResultExtras adds fields the API does not document to native results:
	// resultIndex, seed (the seed of that result) and reasoningContent (the
	// thinking text, on sync and async results).
	ResultExtras bool `json:"resultExtras,omitempty"`
	// Webhook configures the delivery of results to a task's webhookURL
	// (loopback hosts only; see docs/simulator.md).
	Webhook WebhookOptions `json:"webhook,omitempty"`
	// Ping, when positive, adds an SSE comment line ": ping" to every stream
	// (native and chat) right after the headers and after every Ping data
	// events, as a keep-alive that clients must ignore.
	Ping int `json:"ping,omitempty"`
	// Progress adds "progress" (0-99, the percentage of the result's
	// simulated duration elapsed) to processing items on getResponse.
	Progress bool `json:"progress,omitempty"`
	// StrictContentType answers a POST whose Content-Type is not
	// application/json with HTTP 415 unsupportedContentType; the default is
	// lenient and ignores the header.
	StrictContentType bool `json:"strictContentType,omitempty"`
	// AlwaysUsage sends usage on native results and final stream chunks even
	// when the task does not set includeUsage.
	AlwaysUsage bool `json:"alwaysUsage,omitempty"`
	// Now returns the current time; nil uses time.Now (which is the fake
	// clock inside a testing/synctest bubble).
	Now func() time.Time `json:"-"`
	// Sleep waits for d or until ctx is done; nil uses a timer, which works
	// inside testing/synctest bubbles.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
}

// Pricing is the price table in USD per one million tokens.
type Pricing struct {
	// Input prices prompt tokens; default 0.90.
	Input float64 `json:"input,omitempty"`
	// Output prices visible completion tokens; default 4.20.
	Output float64 `json:"output,omitempty"`
	// Thinking prices thinking tokens; default equal to Output.
	Thinking float64 `json:"thinking,omitempty"`
}

// Default prices of Kimi K2.6 on Runware, USD per one million tokens.
const (
	DefaultInputPrice  = 0.90
	DefaultOutputPrice = 4.20
)

func (p Pricing) withDefaults() Pricing {
	if p.Input == 0 {
		p.Input = DefaultInputPrice
	}
	if p.Output == 0 {
		p.Output = DefaultOutputPrice
	}
	if p.Thinking == 0 {
		p.Thinking = p.Output
	}
	return p
}

// Scenario scripts the simulated model's behaviour for prompts whose last
// user message matches. Field names are camelCase so that suites can write
// scenarios in YAML or JSON.
type Scenario struct {
	// Name labels the scenario in docs and stats; optional.
	Name string `json:"name,omitempty"`
	// Match selects the prompts this scenario answers.
	Match Match `json:"match"`
	// Answer is the right answer text.
	Answer string `json:"answer"`
	// Wrong lists wrong answers; one is picked per wrong result. Empty uses
	// a generic wrong text that does not contain Answer.
	Wrong []string `json:"wrong,omitempty"`
	// PCorrect is, per thinkingLevel, the probability that a result is
	// Answer. A level missing from the map takes the nearest listed level
	// (ties go to the lower one); a nil map means always correct.
	PCorrect map[string]float64 `json:"pCorrect,omitempty"`
	// ThinkingTokens is, per thinkingLevel, the distribution of thinking
	// tokens; missing levels take the simulator defaults.
	ThinkingTokens map[string]Dist `json:"thinkingTokens,omitempty"`
	// TTFT is, per thinkingLevel, the time to first token in milliseconds;
	// missing levels take the simulator defaults.
	TTFT map[string]Dist `json:"ttft,omitempty"`
	// TokenTime is the time per generated token in milliseconds; a zero
	// Dist takes the default.
	TokenTime Dist `json:"tokenTime,omitempty"`
	// ToolCall, when set and the task offers a function tool of that name
	// (and toolChoice is not "none"), makes the result a tool call.
	ToolCall *ToolCallSpec `json:"toolCall,omitempty"`
	// AfterTool, when set, is the right answer when the last message is a
	// tool result (the model then always answers in text); "{result}" in it
	// is replaced by that result's content. Empty keeps Answer. Wrong
	// answers and pCorrect apply as to Answer. (A simulator choice.)
	AfterTool string `json:"afterTool,omitempty"`
	// Steps script an agent conversation: Steps[k] is what the model does
	// at its k-th turn, k being the number of assistant messages with tool
	// calls after the last user message. Once k reaches len(Steps) the model
	// answers in text (AfterTool or Answer, with PCorrect). Steps and
	// ToolCall exclude each other. (A simulator choice; see steps.go.)
	Steps []Step `json:"steps,omitempty"`
	// Search, when set and the task offers the built-in search tool, is the
	// search the provider pretends to run before the model answers in text.
	Search *SearchSpec `json:"search,omitempty"`
	// CodeInterpreter, when set and the task offers the built-in
	// codeInterpreter tool, is the code run the provider pretends to make
	// before the model answers in text.
	CodeInterpreter *CodeInterpreterSpec `json:"codeInterpreter,omitempty"`
}

// Match is a conjunction of conditions on the last user message; empty
// conditions are ignored, and a Match with no conditions matches everything.
type Match struct {
	// Exact requires the message, trimmed of surrounding space, to equal it.
	Exact string `json:"exact,omitempty"`
	// Regex requires a RE2 match anywhere in the message.
	Regex string `json:"regex,omitempty"`
	// Contains requires the message to contain it.
	Contains string `json:"contains,omitempty"`
	// Image requires one of the task's inputs.images to be this image:
	// "sha256:<at least 8 hex digits>" matches the content of a data URI
	// (or base64) entry, anything else the last path segment of an image
	// URL, or a UUID. (A simulator choice.)
	Image string `json:"image,omitempty"`
}

// ToolCallSpec is the tool call a scenario makes.
type ToolCallSpec struct {
	// Name is the function tool to call.
	Name string `json:"name"`
	// Arguments is the JSON object of arguments; empty means {}.
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// Dist is a normal distribution clipped at zero: a draw is
// max(0, Mean + SD*N(0,1)).
type Dist struct {
	// Mean of the distribution.
	Mean float64 `json:"mean"`
	// SD is the standard deviation; 0 makes every draw Mean.
	SD float64 `json:"sd,omitempty"`
}

func (d Dist) isZero() bool { return d.Mean == 0 && d.SD == 0 }

// Thinking levels accepted by Kimi K2.6, in increasing depth.
var thinkingLevels = []string{"none", "low", "medium", "high", "xhigh"}

// Default model of the simulator when no scenario overrides it.
var (
	defaultThinkingTokens = map[string]Dist{
		"none":   {0, 0},
		"low":    {200, 60},
		"medium": {600, 150},
		"high":   {1500, 350},
		"xhigh":  {4000, 800},
	}
	defaultTTFT = map[string]Dist{
		"none":   {300, 80},
		"low":    {350, 90},
		"medium": {400, 100},
		"high":   {450, 110},
		"xhigh":  {500, 120},
	}
	defaultTokenTime = Dist{Mean: 15, SD: 3}
)
