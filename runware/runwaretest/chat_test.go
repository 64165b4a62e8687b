package runwaretest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func chatURL(s *Server) string { return s.URL() + "/chat/completions" }

type chatResp struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role             string         `json:"role"`
			Content          *string        `json:"content"`
			ReasoningContent string         `json:"reasoning_content"`
			ToolCalls        []chatToolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

var weatherScenario = Scenario{
	Match:    Match{Contains: "weather"},
	Answer:   "It is sunny in Paris.",
	ToolCall: &ToolCallSpec{Name: "get_weather", Arguments: json.RawMessage(`{ "city": "Paris" }`)},
}

var weatherTools = []any{map[string]any{"type": "function", "function": map[string]any{
	"name": "get_weather", "parameters": map[string]any{"type": "object"}}}}

// A plain chat completion has the OpenAI shape, echoes the model and counts
// usage in snake_case; reasoning_effort turns on reasoning_content.
func TestChatPlain(t *testing.T) {
	s := newTestServer(t, Options{Scenarios: []Scenario{{Match: Match{Exact: "2+2?"}, Answer: "4"}}})
	r := post(t, chatURL(s), testKey, map[string]any{
		"model":    "moonshotai-kimi-k2-6",
		"messages": []any{map[string]any{"role": "system", "content": "Answer briefly."}, map[string]any{"role": "user", "content": "2+2?"}},
		"seed":     1, "reasoning_effort": "low",
	})
	var c chatResp
	if err := json.Unmarshal(r.body, &c); err != nil || r.status != 200 {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	ch := c.Choices[0]
	if c.Object != "chat.completion" || c.Model != "moonshotai-kimi-k2-6" || !strings.HasPrefix(c.ID, "chatcmpl-") ||
		ch.Message.Role != "assistant" || ch.Message.Content == nil || *ch.Message.Content != "4" || ch.FinishReason != "stop" {
		t.Fatalf("response %s", r.body)
	}
	if ch.Message.ReasoningContent == "" {
		t.Fatal("no reasoning_content with reasoning_effort low")
	}
	u := c.Usage
	if u.PromptTokens != CountTokens("Answer briefly.")+CountTokens("2+2?") || u.TotalTokens != u.PromptTokens+u.CompletionTokens ||
		u.CompletionTokens != 1+CountTokens(ch.Message.ReasoningContent) {
		t.Fatalf("usage %+v", u)
	}
}

// With tools offered and a scenario asking for a call, the answer is a tool
// call; after the tool result comes back the answer is text.
func TestChatToolCalls(t *testing.T) {
	s := newTestServer(t, Options{Scenarios: []Scenario{weatherScenario}})
	user := map[string]any{"role": "user", "content": "What is the weather in Paris?"}
	r := post(t, chatURL(s), testKey, map[string]any{"model": "moonshotai:kimi@k2.6", "messages": []any{user}, "tools": weatherTools})
	var c chatResp
	json.Unmarshal(r.body, &c)
	ch := c.Choices[0]
	if ch.FinishReason != "tool_calls" || ch.Message.Content != nil || len(ch.Message.ToolCalls) != 1 {
		t.Fatalf("body %s", r.body)
	}
	tc := ch.Message.ToolCalls[0]
	if tc.Type != "function" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` || tc.ID == "" {
		t.Fatalf("tool call %+v", tc)
	}

	// tool_choice none: no call.
	r = post(t, chatURL(s), testKey, map[string]any{"model": "moonshotai:kimi@k2.6", "messages": []any{user}, "tools": weatherTools, "tool_choice": "none"})
	json.Unmarshal(r.body, &c)
	if c.Choices[0].FinishReason != "stop" {
		t.Fatalf("tool_choice none: %s", r.body)
	}

	// The tool result is in: the final answer is text.
	r = post(t, chatURL(s), testKey, map[string]any{"model": "moonshotai:kimi@k2.6", "tools": weatherTools, "messages": []any{user,
		map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{"id": tc.ID, "type": "function", "function": map[string]any{"name": "get_weather", "arguments": "{}"}}}},
		map[string]any{"role": "tool", "tool_call_id": tc.ID, "content": "sunny"}}})
	c = chatResp{}
	json.Unmarshal(r.body, &c)
	if c.Choices[0].FinishReason != "stop" || *c.Choices[0].Message.Content != "It is sunny in Paris." {
		t.Fatalf("after tool result: %s", r.body)
	}
}

// Native tasks get the same tool call in toolCalls with finishReason
// tool_calls (simulator choice: the native field is undocumented).
func TestNativeToolCall(t *testing.T) {
	s := newTestServer(t, Options{Scenarios: []Scenario{weatherScenario}})
	tools := []any{map[string]any{"type": "function", "name": "get_weather"}}
	d := syncResults(t, s, task("weather in Paris?", with("tools", tools)))[0]
	calls, _ := d["toolCalls"].([]any)
	if d["finishReason"] != "tool_calls" || d["text"] != "" || len(calls) != 1 {
		t.Fatalf("result %v", d)
	}
	// A forced toolChoice calls the named tool even without a scenario.
	d = syncResults(t, s, task("hello", with("tools", tools), with("toolChoice", map[string]any{"type": "tool", "name": "get_weather"})))[0]
	if d["finishReason"] != "tool_calls" {
		t.Fatalf("forced call: %v", d)
	}
}

// Streaming chat: chunk objects, role first, content deltas that add up to
// the plain answer, a finish chunk, a usage chunk when asked, then [DONE].
func TestChatStream(t *testing.T) {
	s := newTestServer(t, Options{})
	req := map[string]any{"model": "moonshotai-kimi-k2-6", "seed": 3, "reasoning_effort": "medium",
		"messages": []any{map[string]any{"role": "user", "content": "Tell me about rivers"}}}
	plain := post(t, chatURL(s), testKey, req)
	var pc chatResp
	json.Unmarshal(plain.body, &pc)

	req["stream"] = true
	req["stream_options"] = map[string]any{"include_usage": true}
	r := post(t, chatURL(s), testKey, req)
	if r.header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content-type %q", r.header.Get("Content-Type"))
	}
	ev := sseEvents(t, r.body)
	if ev[len(ev)-1] != "[DONE]" {
		t.Fatal("no [DONE]")
	}
	var content, reasoning strings.Builder
	var finish string
	var usage map[string]any
	for i, e := range ev[:len(ev)-1] {
		var c struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct {
					Role             string `json:"role"`
					Content          string `json:"content"`
					ReasoningContent string `json:"reasoning_content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal([]byte(e), &c); err != nil || c.Object != "chat.completion.chunk" {
			t.Fatalf("event %d %s", i, e)
		}
		if i == 0 && c.Choices[0].Delta.Role != "assistant" {
			t.Fatalf("first chunk %s", e)
		}
		if len(c.Choices) == 0 {
			usage = c.Usage
			continue
		}
		if c.Choices[0].Delta.ReasoningContent != "" && content.Len() > 0 {
			t.Fatal("reasoning after content")
		}
		content.WriteString(c.Choices[0].Delta.Content)
		reasoning.WriteString(c.Choices[0].Delta.ReasoningContent)
		if c.Choices[0].FinishReason != nil {
			finish = *c.Choices[0].FinishReason
		}
	}
	if content.String() != *pc.Choices[0].Message.Content || reasoning.String() != pc.Choices[0].Message.ReasoningContent || finish != "stop" {
		t.Fatalf("stream differs from plain: %q vs %q, finish %q", content.String(), *pc.Choices[0].Message.Content, finish)
	}
	if usage == nil || int(usage["total_tokens"].(float64)) != pc.Usage.TotalTokens {
		t.Fatalf("usage chunk %v vs %+v", usage, pc.Usage)
	}
}

func TestChatErrors(t *testing.T) {
	s := newTestServer(t, Options{APIKeys: []string{testKey}})
	msgs := []any{map[string]any{"role": "user", "content": "hi"}}
	tests := []struct {
		name   string
		key    string
		body   any
		status int
		code   string
	}{
		// A wrong key is refused with an OpenAI-style error.
		{"auth", "bad", map[string]any{"model": "moonshotai-kimi-k2-6", "messages": msgs}, 401, "invalidApiKey"},
		// Unknown models are refused.
		{"model", testKey, map[string]any{"model": "gpt-5", "messages": msgs}, 400, "modelNotFound"},
		// Out-of-range temperature.
		{"temperature", testKey, map[string]any{"model": "moonshotai-kimi-k2-6", "messages": msgs, "temperature": 3}, 400, "invalid_value"},
		// Unknown reasoning_effort.
		{"effort", testKey, map[string]any{"model": "moonshotai-kimi-k2-6", "messages": msgs, "reasoning_effort": "max"}, 400, "invalid_value"},
		// A body that is not an object.
		{"body", testKey, "[1]", 400, "invalidRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, chatURL(s), tc.key, tc.body)
			var e struct {
				Error chatError `json:"error"`
			}
			if json.Unmarshal(r.body, &e) != nil || r.status != tc.status || e.Error.Code != tc.code {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
		})
	}
}

func TestModels(t *testing.T) {
	s := newTestServer(t, Options{})
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/models", nil)
	req.Header.Set("Authorization", "Bearer k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got map[string]any
	json.NewDecoder(res.Body).Decode(&got)
	b, _ := json.Marshal(got)
	want := `{"data":[{"context_length":262144,"id":"moonshotai-kimi-k2-6","input_modalities":["text","image","video"],"max_output_tokens":49152,"name":"Kimi K2.6","pricing":{"completion":"0.0000042","prompt":"0.0000009"}}]}`
	if string(b) != want {
		t.Fatalf("models %s\nwant   %s", b, want)
	}
}

// Stats count requests, endpoints, statuses, tasks, results, tokens and errors.
func TestStats(t *testing.T) {
	s := newTestServer(t, Options{})
	syncResults(t, s, task("a", with("numberResults", 3), withSetting("thinkingLevel", "high")), task("b"))
	post(t, s.URL(), testKey, []any{task("c", withSetting("topP", 5))})
	post(t, s.URL(), testKey, []any{task("d", with("deliveryMethod", "stream"))})
	post(t, chatURL(s), testKey, map[string]any{"model": "moonshotai-kimi-k2-6", "messages": []any{map[string]any{"role": "user", "content": "e"}}})

	res, err := http.Get(s.URL()[:len(s.URL())-3] + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st Stats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Requests != 5 || // the GET /stats itself counts st.Tasks != 4 || st.Results != 6 || st.Status[200] != 3 || st.Status[400] != 1 ||
		st.Endpoints["POST /v1"] != 3 || st.Endpoints["POST /v1/chat/completions"] != 1 || st.Endpoints["GET /stats"] != 1 ||
		st.ErrorCodes["invalidTopP"] != 1 || st.Delivery["sync"] != 2 || st.Delivery["stream"] != 1 || st.Delivery["chat"] != 1 ||
		st.ThinkingLevels["high"] != 1 || st.ThinkingTokens == 0 || st.Cost <= 0 || st.InFlight != 1 || st.MaxInFlight < 1 {
		t.Fatalf("stats %+v", st)
	}
}
