package runware

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// chatRequest is an OpenAI Chat Completions request as Runware's
// /v1/chat/completions accepts it (reference §8).
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"` // mapped by MarshalJSON
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty,omitempty"`
	PresencePenalty     *float64        `json:"presence_penalty,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	N                   int             `json:"n,omitempty"`
	Tools               []chatTool      `json:"tools,omitempty"`
	ToolChoice          any             `json:"tool_choice,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	ResponseFormat      *responseFormat `json:"response_format,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *streamOptions  `json:"stream_options,omitempty"`
}

// MarshalJSON encodes the request with its messages in the OpenAI shape
// (chatMsgFor), keeping the field order of the struct: a message without
// tool fields encodes as {"role","content"}, as it did before tools.
func (r chatRequest) MarshalJSON() ([]byte, error) {
	type plain chatRequest
	if r.Messages == nil {
		return json.Marshal(plain(r))
	}
	msgs := make([]chatMsgSent, len(r.Messages))
	for i, m := range r.Messages {
		cm, err := chatMsgFor(m)
		if err != nil {
			return nil, err
		}
		msgs[i] = cm
	}
	p := plain(r)
	p.Messages = nil
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	model, _ := json.Marshal(r.Model)
	prefix := append(append([]byte(`{"model":`), model...), `,"messages":null`...)
	if !bytes.HasPrefix(body, prefix) {
		return nil, errors.New("runware: chat request encoding: unexpected layout")
	}
	enc, err := json.Marshal(msgs)
	if err != nil {
		return nil, err
	}
	out := append(append(append([]byte{}, prefix[:len(prefix)-len("null")]...), enc...), body[len(prefix):]...)
	return out, nil
}

// chatMsgSent is an OpenAI chat message as sent. Content is null only on an
// assistant message that carries tool calls and no text.
type chatMsgSent struct {
	Role       string         `json:"role"`
	Content    *string        `json:"content"`
	ToolCalls  []chatCallSent `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

// chatCallSent is a tool call replayed in an assistant message:
// {"id","type":"function","function":{"name","arguments":"<JSON text>"}}.
type chatCallSent struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// chatMsgFor maps a native message: assistant tools → tool_calls (input
// re-encoded as a compact JSON string, none → "{}"), a tool message's id →
// tool_call_id.
func chatMsgFor(m Message) (chatMsgSent, error) {
	content := m.Content
	cm := chatMsgSent{Role: m.Role, Content: &content}
	if m.Role == "tool" {
		cm.ToolCallID = m.ID
	} else if m.ID != "" {
		return cm, fmt.Errorf("runware: a %s message has no id (only tool messages do)", m.Role)
	}
	if len(m.Tools) > 0 && m.Role != "assistant" {
		return cm, fmt.Errorf("runware: a %s message cannot carry tool calls", m.Role)
	}
	for _, tl := range m.Tools {
		args := "{}"
		if len(tl.Input) > 0 {
			var b bytes.Buffer
			if err := json.Compact(&b, tl.Input); err != nil {
				return cm, fmt.Errorf("runware: tool call %q: input is not JSON: %w", tl.ID, err)
			}
			args = b.String()
		}
		c := chatCallSent{ID: tl.ID, Type: "function"}
		c.Function.Name, c.Function.Arguments = tl.Name, args
		cm.ToolCalls = append(cm.ToolCalls, c)
	}
	if len(cm.ToolCalls) > 0 && content == "" {
		cm.Content = nil
	}
	return cm, nil
}

// chatTool is an OpenAI function tool.
type chatTool struct {
	Type     string       `json:"type"`
	Function chatFunction `json:"function"`
}

// chatFunction describes one function a model may call.
type chatFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// chatNamedChoice forces one function: {"type":"function","function":{"name":...}}.
type chatNamedChoice struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

// responseFormat asks for JSON output.
type responseFormat struct {
	Type string `json:"type"`
}

// streamOptions asks for a final usage chunk in a stream.
type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// chatRequestFor maps a native task onto a chat completions request.
// Fields with no OpenAI counterpart (topK, minP, repetitionPenalty,
// promptCacheKey, includeCost, includeUsage, webhookURL) are not sent;
// inputs and non-function tools cannot be expressed and are refused.
func chatRequestFor(task Task) (chatRequest, error) {
	req := chatRequest{Model: task.Model, Seed: task.Seed, N: task.NumberResults}
	if task.Inputs != nil && (len(task.Inputs.Images) > 0 || len(task.Inputs.Videos) > 0) {
		return req, errors.New("runware: Chat does not map media inputs; use the native API")
	}
	s := task.Settings
	if s == nil {
		s = &Settings{}
	}
	if s.SystemPrompt != "" {
		req.Messages = append(req.Messages, Message{Role: "system", Content: s.SystemPrompt})
	}
	for _, m := range task.Messages {
		if _, err := chatMsgFor(m); err != nil {
			return req, err
		}
	}
	req.Messages = append(req.Messages, task.Messages...)
	req.Temperature, req.TopP = s.Temperature, s.TopP
	req.FrequencyPenalty, req.PresencePenalty = s.FrequencyPenalty, s.PresencePenalty
	req.MaxCompletionTokens, req.Stop = s.MaxTokens, s.StopSequences
	// Undocumented mapping (our choice): Runware documents no correspondence
	// between settings.thinkingLevel and reasoning_effort; its Dify plugin
	// offers reasoning_effort low|medium|high for reasoning models. xhigh has
	// no OpenAI value and becomes high; none (the default) sends nothing.
	switch s.ThinkingLevel {
	case "low", "medium", "high":
		req.ReasoningEffort = s.ThinkingLevel
	case "xhigh":
		req.ReasoningEffort = "high"
	case "", "none":
	default:
		return req, fmt.Errorf("runware: thinkingLevel %q has no reasoning_effort mapping", s.ThinkingLevel)
	}
	if strings.EqualFold(task.OutputFormat, "JSON") {
		req.ResponseFormat = &responseFormat{Type: "json_object"}
	}
	for _, tl := range task.Tools {
		if tl.Type != "" && tl.Type != "function" {
			return req, fmt.Errorf("runware: tool %q of type %q has no OpenAI chat equivalent", tl.Name, tl.Type)
		}
		req.Tools = append(req.Tools, chatTool{Type: "function",
			Function: chatFunction{Name: tl.Name, Description: tl.Description, Parameters: tl.Schema}})
	}
	if tc := task.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto", "none":
			req.ToolChoice = tc.Type
		case "any":
			req.ToolChoice = "required"
		case "tool":
			if tc.Name == "" {
				return req, errors.New("runware: toolChoice type tool needs a name")
			}
			named := chatNamedChoice{Type: "function"}
			named.Function.Name = tc.Name
			req.ToolChoice = named
		default:
			return req, fmt.Errorf("runware: unknown toolChoice type %q", tc.Type)
		}
	}
	if task.DeliveryMethod == DeliveryStream {
		req.Stream = true
		req.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	return req, nil
}

// Chat sends one task through the OpenAI-compatible endpoint
// POST {endpoint}/chat/completions (streamed when task.DeliveryMethod is
// "stream") and maps the answer into a Response: one Result per choice in
// index order, with text, reasoning, finishReason and tool calls. OpenAI
// reports usage once for all choices: with one choice it is that result's
// Usage; with several it is Response.Usage (request-level) and no result
// carries it. Failures are in Response.Err; the
// returned error is only for a task the endpoint cannot express or a context
// cancelled before sending.
func (c *Client) Chat(ctx context.Context, task Task) (*Response, error) {
	if task.TaskUUID == "" {
		task.TaskUUID = NewTaskUUID()
	}
	if task.TaskType == "" {
		task.TaskType = TaskTextInference
	}
	req, err := chatRequestFor(task)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("runware: not sent: %w", err)
	}
	resp := &Response{TaskUUID: task.TaskUUID}
	resps := []*Response{resp}
	url := strings.TrimRight(c.endpoint, "/") + "/chat/completions"
	accept := "application/json"
	if req.Stream {
		accept = "text/event-stream"
	}
	ex, terr := c.send(ctx, url, req, accept)
	if terr != nil {
		failAll(resps, terr, ex)
		c.redactResponse(resp)
		return resp, nil
	}
	if isEventStream(ex) {
		c.readChatStream(ctx, task, resp, ex)
	} else {
		c.readChatJSON(ctx, task, resp, ex)
	}
	shareUsage(resp)
	c.redactResponse(resp)
	return resp, nil
}

// shareUsage moves a usage that covers several results from the first result
// to Response.Usage, so that it is never read as that one result's usage.
func shareUsage(resp *Response) {
	if len(resp.Results) > 1 && resp.Results[0].Usage != nil {
		resp.Usage, resp.Results[0].Usage = resp.Results[0].Usage, nil
	}
}
