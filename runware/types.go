// Package runware is a client for Runware's native task API for text inference
// (textInference over sync, stream and async delivery) and for its
// OpenAI-compatible chat completions endpoint. It imports nothing else of
// promptgrid; field names follow Runware's wire format exactly.
package runware

import (
	"encoding/json"
	"time"
)

// DefaultEndpoint is Runware's native REST endpoint.
const DefaultEndpoint = "https://api.runware.ai/v1"

// Model identifiers for Kimi K2.6: the AIR id and the slug both resolve.
const (
	KimiK26AIR  = "moonshotai:kimi@k2.6"
	KimiK26Slug = "moonshotai-kimi-k2-6"
)

// Task types used on the wire.
const (
	TaskTextInference  = "textInference"
	TaskGetResponse    = "getResponse"
	TaskAuthentication = "authentication"
)

// Delivery methods accepted by deliveryMethod.
const (
	DeliverySync   = "sync"
	DeliveryAsync  = "async"
	DeliveryStream = "stream"
)

// Message is one chat message. Kimi K2.6 documents the roles user and
// assistant; a multi-turn tool conversation adds, in Runware's native shape
// (Python SDK README, docs/protocol.md), an assistant message carrying the
// calls it made in Tools and a message of role "tool" answering one call by
// its ID. Both fields are omitted when empty, so a plain message encodes as
// {"role","content"} exactly as before.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	// Tools are the calls of an assistant message (native "tools").
	Tools []MessageTool `json:"tools,omitempty"`
	// ID is, on a role "tool" message, the id of the call it answers.
	ID string `json:"id,omitempty"`
}

// MessageTool is one tool call replayed in an assistant message:
// {"id","name","input"} with input the arguments object.
type MessageTool struct {
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// MarshalJSON omits "content" on an assistant message that carries tool
// calls and no text (the SDK README's example sends none) and sends a nil
// Input as {}. Any other message encodes as the plain struct.
func (m Message) MarshalJSON() ([]byte, error) {
	type plain Message
	if len(m.Tools) == 0 {
		return json.Marshal(plain(m))
	}
	tools := make([]MessageTool, len(m.Tools))
	for i, tl := range m.Tools {
		if len(tl.Input) == 0 {
			tl.Input = json.RawMessage(`{}`)
		}
		tools[i] = tl
	}
	if m.Content != "" {
		m.Tools = tools
		return json.Marshal(plain(m))
	}
	return json.Marshal(struct {
		Role  string        `json:"role"`
		Tools []MessageTool `json:"tools"`
		ID    string        `json:"id,omitempty"`
	}{m.Role, tools, m.ID})
}

// AssistantToolMessage is the assistant message that replays a result's
// tool calls (from Result.ToolCalls, native or OpenAI-compatible) in the
// next request, with the result's text as content (usually empty).
func AssistantToolMessage(r Result) Message {
	m := Message{Role: "assistant", Content: r.Text}
	for _, tc := range r.ToolCalls {
		m.Tools = append(m.Tools, MessageTool{ID: tc.ID, Name: tc.Name, Input: tc.Arguments})
	}
	return m
}

// ToolResultMessage answers the call with this id.
func ToolResultMessage(id, content string) Message {
	return Message{Role: "tool", ID: id, Content: content}
}

// Settings holds the generation parameters nested under "settings".
// Pointers distinguish "not sent" from a zero value.
type Settings struct {
	SystemPrompt      string   `json:"systemPrompt,omitempty"`
	Temperature       *float64 `json:"temperature,omitempty"`
	TopP              *float64 `json:"topP,omitempty"`
	TopK              *int     `json:"topK,omitempty"`
	MinP              *float64 `json:"minP,omitempty"`
	FrequencyPenalty  *float64 `json:"frequencyPenalty,omitempty"`
	PresencePenalty   *float64 `json:"presencePenalty,omitempty"`
	RepetitionPenalty *float64 `json:"repetitionPenalty,omitempty"`
	MaxTokens         *int     `json:"maxTokens,omitempty"`
	StopSequences     []string `json:"stopSequences,omitempty"`
	ThinkingLevel     string   `json:"thinkingLevel,omitempty"`
	PromptCacheKey    string   `json:"promptCacheKey,omitempty"`
}

// Tool is a tool definition offered to the model.
type Tool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
}

// ToolChoice controls whether and which tool the model calls.
type ToolChoice struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// Inputs carries media inputs for vision models.
type Inputs struct {
	Images []string `json:"images,omitempty"`
	Videos []string `json:"videos,omitempty"`
}

// Task is one textInference task as sent on the wire.
type Task struct {
	TaskType       string      `json:"taskType"`
	TaskUUID       string      `json:"taskUUID"`
	Model          string      `json:"model"`
	Messages       []Message   `json:"messages"`
	Settings       *Settings   `json:"settings,omitempty"`
	Tools          []Tool      `json:"tools,omitempty"`
	ToolChoice     *ToolChoice `json:"toolChoice,omitempty"`
	Inputs         *Inputs     `json:"inputs,omitempty"`
	OutputFormat   string      `json:"outputFormat,omitempty"`
	WebhookURL     string      `json:"webhookURL,omitempty"`
	DeliveryMethod string      `json:"deliveryMethod,omitempty"`
	IncludeCost    bool        `json:"includeCost,omitempty"`
	IncludeUsage   bool        `json:"includeUsage,omitempty"`
	NumberResults  int         `json:"numberResults,omitempty"`
	Seed           *int64      `json:"seed,omitempty"`
}

// Usage is the token accounting of one result.
type Usage struct {
	PromptTokens     int `json:"promptTokens"`
	CompletionTokens int `json:"completionTokens"`
	TotalTokens      int `json:"totalTokens"`
	ThinkingTokens   int `json:"thinkingTokens,omitempty"`
}

// ToolCall is one call the model asked for (from the OpenAI-compatible endpoint).
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Result is one generated result of a task. A task with numberResults N yields
// N results sharing its taskUUID.
type Result struct {
	TaskType         string     `json:"taskType,omitempty"`
	TaskUUID         string     `json:"taskUUID"`
	Status           string     `json:"status,omitempty"`
	Text             string     `json:"text"`
	ReasoningContent string     `json:"reasoningContent,omitempty"`
	FinishReason     string     `json:"finishReason,omitempty"`
	Usage            *Usage     `json:"usage,omitempty"`
	Cost             *float64   `json:"cost,omitempty"`
	ResultIndex      *int       `json:"resultIndex,omitempty"`
	Seed             *int64     `json:"seed,omitempty"`
	ToolCalls        []ToolCall `json:"toolCalls,omitempty"`
	// Err is a per-result failure (an async item with status "error", a
	// mid-stream error, a truncated stream). Not part of the wire format.
	Err *Error `json:"-"`
}

// Timings are the monotonic timestamps of one attempt (DESIGN §5). Zero
// values mean "did not happen".
type Timings struct {
	Dispatched     time.Time
	FirstByte      time.Time
	FirstReasoning time.Time
	FirstText      time.Time
	LastDelta      time.Time
	Done           time.Time
}

// Response is what the client returns for one task: its results (numberResults
// of them on success), the attempt's timings and a task-level error if the task
// failed as a whole.
type Response struct {
	TaskUUID string
	Results  []Result
	Timings  Timings
	// HTTPStatus is the status of the HTTP response that carried the task.
	HTTPStatus int
	// Err is set when the whole task failed; Results may still hold partial
	// results (for example some async items succeeded and some failed).
	Err *Error
	// Usage is request-level usage: set when the transport reported one
	// usage for several results (the OpenAI-compatible endpoint with
	// numberResults > 1), in which case no Result carries Usage. Divide it
	// by len(Results) for a per-result mean, and mark such values as shared.
	Usage *Usage
}
