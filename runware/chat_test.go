package runware

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// serveChat answers every request with status, content type and body, and
// records the requests.
func serveChat(t *testing.T, status int, contentType, body string) (*Client, *recorder) {
	t.Helper()
	return serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// A native task is mapped field by field onto an OpenAI request sent to
// {endpoint}/chat/completions.
func TestChatRequestMapping(t *testing.T) {
	c, rec := serveChat(t, 200, "application/json", `{"choices":[{"index":0,"message":{"content":"a"},"finish_reason":"stop"},{"index":1,"message":{"content":"b"},"finish_reason":"stop"}]}`)
	temp, topP, maxTok, seed := 0.3, 0.9, 256, int64(42)
	task := Task{TaskUUID: "t1", Model: KimiK26AIR, NumberResults: 2, Seed: &seed,
		Messages: []Message{{Role: "user", Content: "Weather in Tokyo?"}},
		Settings: &Settings{SystemPrompt: "Be brief.", Temperature: &temp, TopP: &topP, MaxTokens: &maxTok,
			StopSequences: []string{"END"}, ThinkingLevel: "medium", TopK: ptr(5)},
		Tools: []Tool{{Type: "function", Name: "get_weather", Description: "Weather by city",
			Schema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}},
		ToolChoice: &ToolChoice{Type: "tool", Name: "get_weather"},
	}
	resp, err := c.Chat(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	req := rec.all()[0]
	if req.path != "/v1/chat/completions" || req.header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("path %q auth %q", req.path, req.header.Get("Authorization"))
	}
	var got, want map[string]any
	_ = json.Unmarshal(req.body, &got)
	_ = json.Unmarshal([]byte(`{
		"model":"moonshotai:kimi@k2.6",
		"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in Tokyo?"}],
		"temperature":0.3,"top_p":0.9,"max_completion_tokens":256,"stop":["END"],"seed":42,"n":2,
		"reasoning_effort":"medium",
		"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather by city",
			"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
		"tool_choice":{"type":"function","function":{"name":"get_weather"}}}`), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if len(resp.Results) != 2 || resp.Results[1].Text != "b" || *resp.Results[1].ResultIndex != 1 {
		t.Errorf("results = %+v, want the two choices in order", resp.Results)
	}
}

// toolChoice and thinkingLevel map onto their OpenAI spellings.
func TestChatChoiceAndEffortMapping(t *testing.T) {
	tests := []struct {
		choice     *ToolChoice
		level      string
		wantChoice string // JSON of tool_choice, "" = omitted
		wantEffort string
	}{
		{nil, "", "", ""}, // nothing set: nothing sent
		{&ToolChoice{Type: "auto"}, "none", `"auto"`, ""}, // auto stays auto; thinking none sends no effort
		{&ToolChoice{Type: "none"}, "low", `"none"`, "low"},
		{&ToolChoice{Type: "any"}, "high", `"required"`, "high"},                                               // any = must call some tool
		{&ToolChoice{Type: "tool", Name: "f"}, "xhigh", `{"type":"function","function":{"name":"f"}}`, "high"}, // xhigh has no OpenAI value
	}
	for _, tt := range tests {
		task := textTask("t")
		task.ToolChoice = tt.choice
		task.Settings = &Settings{ThinkingLevel: tt.level}
		req, err := chatRequestFor(task)
		if err != nil {
			t.Fatal(err)
		}
		gotChoice := ""
		if req.ToolChoice != nil {
			b, _ := json.Marshal(req.ToolChoice)
			gotChoice = string(b)
		}
		if gotChoice != tt.wantChoice || req.ReasoningEffort != tt.wantEffort {
			t.Errorf("choice %+v level %q: tool_choice %s effort %q, want %s %q", tt.choice, tt.level, gotChoice, req.ReasoningEffort, tt.wantChoice, tt.wantEffort)
		}
	}
}

// Tasks the chat endpoint cannot express are refused before sending.
func TestChatRefusesUnmappable(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Task)
	}{
		// Server-side tools exist only in the native API.
		{"search tool", func(t *Task) { t.Tools = []Tool{{Type: "search"}} }},
		// Media inputs are not mapped.
		{"image input", func(t *Task) { t.Inputs = &Inputs{Images: []string{"https://x/y.png"}} }},
		// toolChoice tool without a name.
		{"nameless tool choice", func(t *Task) { t.ToolChoice = &ToolChoice{Type: "tool"} }},
		// A thinking level the API does not know.
		{"unknown level", func(t *Task) { t.Settings = &Settings{ThinkingLevel: "max"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := serveChat(t, 200, "application/json", `{}`)
			task := textTask("t")
			tt.edit(&task)
			if _, err := c.Chat(context.Background(), task); err == nil {
				t.Error("no error")
			}
			if len(rec.all()) != 0 {
				t.Error("request sent")
			}
		})
	}
}

// A completion with tool calls, reasoning and detailed usage maps onto a
// Result: arguments decoded from their JSON string, reasoning tokens as
// thinking tokens.
func TestChatToolCallsResponse(t *testing.T) {
	c, _ := serveChat(t, 200, "application/json", `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,
		"message":{"role":"assistant","content":null,"reasoning_content":"Need the weather.",
		"tool_calls":[{"id":"functions.get_weather:0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}},
		              {"id":"call_2","type":"function","function":{"name":"now","arguments":""}}]},
		"finish_reason":"tool_calls"}],
		"usage":{"prompt_tokens":144,"completion_tokens":17,"total_tokens":161,"completion_tokens_details":{"reasoning_tokens":5}}}`)
	resp, err := c.Chat(context.Background(), textTask("t1"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{{TaskType: TaskTextInference, TaskUUID: "t1", ReasoningContent: "Need the weather.", FinishReason: "tool_calls",
		ResultIndex: ptr(0), Usage: &Usage{PromptTokens: 144, CompletionTokens: 17, TotalTokens: 161, ThinkingTokens: 5},
		ToolCalls: []ToolCall{{ID: "functions.get_weather:0", Name: "get_weather", Arguments: json.RawMessage(`{"city":"Tokyo"}`)},
			{ID: "call_2", Name: "now", Arguments: json.RawMessage(`{}`)}}}}
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	if diff := cmp.Diff(want, resp.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// A streamed chat answer: reasoning and content deltas accumulate, parallel
// tool calls are assembled by index from interleaved fragments, usage comes
// from the include_usage chunk, and the request asks for all of it.
func TestChatStream(t *testing.T) {
	body := strings.Join([]string{
		`data: {"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Check "},"finish_reason":null}]}`,
		`data: {"choices":[{"index":0,"delta":{"reasoning_content":"both."},"finish_reason":null}]}`,
		`data: {"choices":[{"index":0,"delta":{"content":"Calling"},"finish_reason":null}]}`,
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_01a","type":"function","function":{"name":"health","arguments":""}}]}}]}`,
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"toolu_01b","type":"function","function":{"name":"health","arguments":"{\"serv"}}]}}]}`,
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"service\":\"checkout\"}"}}]}}]}`,
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"ice\":\"search\"}"}}]}}]}`,
		`data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,"completion_tokens_details":{"reasoning_tokens":4}}}`,
		`data: [DONE]`, ``}, "\n\n")
	c, rec := serveChat(t, 200, "text/event-stream", body)
	task := textTask("t1")
	task.DeliveryMethod = DeliveryStream
	resp, err := c.Chat(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	want := []Result{{TaskType: TaskTextInference, TaskUUID: "t1", Text: "Calling", ReasoningContent: "Check both.", FinishReason: "tool_calls",
		ResultIndex: ptr(0), Usage: &Usage{PromptTokens: 10, CompletionTokens: 20, TotalTokens: 30, ThinkingTokens: 4},
		ToolCalls: []ToolCall{{ID: "toolu_01a", Name: "health", Arguments: json.RawMessage(`{"service":"checkout"}`)},
			{ID: "toolu_01b", Name: "health", Arguments: json.RawMessage(`{"service":"search"}`)}}}}
	if diff := cmp.Diff(want, resp.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	tm := resp.Timings
	if tm.FirstReasoning.IsZero() || tm.FirstText.Before(tm.FirstReasoning) || tm.LastDelta.Before(tm.FirstText) || tm.Done.Before(tm.LastDelta) {
		t.Errorf("timings: %+v", tm)
	}
	req := rec.all()[0]
	var sent map[string]any
	_ = json.Unmarshal(req.body, &sent)
	if sent["stream"] != true || !cmp.Equal(sent["stream_options"], map[string]any{"include_usage": true}) || req.header.Get("Accept") != "text/event-stream" {
		t.Errorf("stream request: %s (Accept %q)", req.body, req.header.Get("Accept"))
	}
}

// Chat failures: OpenAI and Runware error bodies, a mid-stream error and a
// stream cut short are all reported in Response.Err with their class.
func TestChatErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		ct        string
		body      string
		stream    bool
		wantClass Class
		wantCode  string
		wantText  string
	}{
		// OpenAI-style auth error.
		{"openai 401", 401, "application/json", `{"error":{"message":"Invalid API key","type":"invalid_request_error","code":"invalid_api_key"}}`, false, ClassAuth, "invalid_api_key", ""},
		// Runware envelope on the chat endpoint.
		{"runware 400", 400, "application/json", `{"errors":[{"code":"invalidModel","message":"unknown model","parameter":"model"}]}`, false, ClassValidation, "invalidModel", ""},
		// A 200 that carries an error instead of choices.
		{"200 error", 200, "application/json", `{"error":{"message":"overloaded","type":"server_error","code":null}}`, false, ClassServer, "", ""},
		// A body that is no JSON at all.
		{"garbage", 502, "text/html", `<html>bad gateway</html>`, false, ClassServer, "", ""},
		// An error chunk mid-stream keeps the partial text.
		{"mid-stream", 200, "text/event-stream", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"error\":{\"message\":\"upstream timed out\",\"type\":\"timeout\",\"code\":\"providerTimeout\"}}\n\n", true, ClassTimeout, "providerTimeout", "Hi"},
		// A stream closed before [DONE] and before finish_reason is truncated.
		{"truncated", 200, "text/event-stream", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n", true, ClassTruncated, "streamTruncated", "Hel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serveChat(t, tt.status, tt.ct, tt.body)
			task := textTask("t1")
			if tt.stream {
				task.DeliveryMethod = DeliveryStream
			}
			resp, err := c.Chat(context.Background(), task)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Err == nil || resp.Err.Class != tt.wantClass || resp.Err.Code != tt.wantCode {
				t.Fatalf("err = %+v, want class %s code %q", resp.Err, tt.wantClass, tt.wantCode)
			}
			if resp.HTTPStatus != tt.status {
				t.Errorf("HTTPStatus = %d", resp.HTTPStatus)
			}
			if tt.wantText != "" && (len(resp.Results) != 1 || resp.Results[0].Text != tt.wantText || resp.Results[0].Err == nil) {
				t.Errorf("results = %+v, want the partial text with its error", resp.Results)
			}
		})
	}
}

// Runware's documented chat completion examples decode into results: text or
// tool calls with valid JSON arguments, finish reason and usage.
func TestChatReferencePayloads(t *testing.T) {
	dir := sharedPayloads(t, "openai-compat")
	files, _ := filepath.Glob(filepath.Join(dir, "*response.json"))
	if len(files) == 0 {
		t.Skip("no response payloads")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var raw struct {
				Choices []struct {
					Message struct {
						Content   *string           `json:"content"`
						ToolCalls []json.RawMessage `json:"tool_calls"`
					} `json:"message"`
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
				Usage struct {
					TotalTokens int `json:"total_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			c, _ := serveChat(t, 200, "application/json", string(b))
			resp, err := c.Chat(context.Background(), textTask("t1"))
			if err != nil || resp.Err != nil {
				t.Fatalf("Chat: %v %v", err, resp.Err)
			}
			r := resp.Results[0]
			want := raw.Choices[0]
			if want.Message.Content != nil && r.Text != *want.Message.Content {
				t.Errorf("text = %q", r.Text)
			}
			if r.FinishReason != want.FinishReason || r.Usage == nil || r.Usage.TotalTokens != raw.Usage.TotalTokens {
				t.Errorf("finish %q usage %+v", r.FinishReason, r.Usage)
			}
			if len(r.ToolCalls) != len(want.Message.ToolCalls) {
				t.Fatalf("%d tool calls, want %d", len(r.ToolCalls), len(want.Message.ToolCalls))
			}
			for _, tc := range r.ToolCalls {
				var args map[string]any
				if tc.ID == "" || tc.Name == "" || json.Unmarshal(tc.Arguments, &args) != nil {
					t.Errorf("tool call %+v: want id, name and object arguments", tc)
				}
			}
		})
	}
	// The documented request shape is what chatRequestFor produces for the
	// equivalent native task.
	b, err := os.ReadFile(filepath.Join(dir, "runware-skills_llm-agent_examples_r1-request.json"))
	if err != nil {
		return
	}
	var doc chatRequest
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	task := Task{Model: doc.Model, Messages: doc.Messages[1:],
		Settings: &Settings{SystemPrompt: doc.Messages[0].Content, Temperature: doc.Temperature, MaxTokens: doc.MaxCompletionTokens}}
	got, err := chatRequestFor(task)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doc, got); diff != "" {
		t.Errorf("request for the documented example (-doc +ours):\n%s", diff)
	}
}
