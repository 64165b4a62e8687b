package runwaretest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

var (
	mtUser      = map[string]any{"role": "user", "content": "What is the weather in Tokyo?"}
	mtAssistant = map[string]any{"role": "assistant", "tools": []any{map[string]any{"id": "c1", "name": "get_weather", "input": map[string]any{"city": "Tokyo"}}}}
	mtTool      = map[string]any{"role": "tool", "id": "c1", "content": "22°C, partly cloudy."}
	mtTools     = []any{map[string]any{"type": "function", "name": "get_weather"}}
)

func msgs(m ...any) func(map[string]any) { return with("messages", m) }

// The native multi-turn shape of Runware's Python SDK README is accepted;
// after the tool result the answer is text, never another call (although
// the scenario would call the tool), and with afterTool it is that text with
// {result} replaced by the tool result.
func TestNativeToolConversationAnswersAfterResult(t *testing.T) {
	sc := weatherScenario
	sc.AfterTool = "Tokyo: {result}"
	s := newTestServer(t, Options{Scenarios: []Scenario{sc}})
	d := syncResults(t, s, task("", with("tools", mtTools), msgs(mtUser, mtAssistant, mtTool)))[0]
	if d["finishReason"] != "stop" || d["text"] != "Tokyo: 22°C, partly cloudy." || d["toolCalls"] != nil {
		t.Fatalf("result %v", d)
	}
	// The same conversation before the result is a call.
	d = syncResults(t, s, task("", with("tools", mtTools), msgs(mtUser)))[0]
	if d["finishReason"] != "tool_calls" {
		t.Fatalf("first turn %v", d)
	}
	// Without afterTool the scenario's answer stays the answer.
	s = newTestServer(t, Options{Scenarios: []Scenario{weatherScenario}})
	d = syncResults(t, s, task("", with("tools", mtTools), msgs(mtUser, mtAssistant, mtTool)))[0]
	if d["text"] != weatherScenario.Answer {
		t.Fatalf("without afterTool %v", d)
	}
	// Without a scenario the generic answer quotes the tool result, and
	// text beside the calls plus several calls answered in any order pass.
	s = newTestServer(t, Options{})
	two := map[string]any{"role": "assistant", "content": "Checking.", "tools": []any{
		map[string]any{"id": "a", "name": "f", "input": map[string]any{}}, map[string]any{"id": "b", "name": "g"}}}
	d = syncResults(t, s, task("", msgs(mtUser, two,
		map[string]any{"role": "tool", "id": "b", "content": "B"}, map[string]any{"role": "tool", "id": "a", "content": "A result"})))[0]
	if text, _ := d["text"].(string); !strings.Contains(text, `after the tool result "A result"`) {
		t.Fatalf("generic answer %v", d)
	}
}

// The tool calls and the result are part of the prompt: they count as
// prompt tokens and change the generic answer's seed-independent hash.
func TestNativeToolConversationPrompt(t *testing.T) {
	s := newTestServer(t, Options{})
	seed := with("seed", 5)
	a := syncResults(t, s, task("", seed, with("includeUsage", true), msgs(mtUser, mtAssistant, mtTool)))[0]
	other := map[string]any{"role": "assistant", "tools": []any{map[string]any{"id": "c1", "name": "get_weather", "input": map[string]any{"city": "Osaka"}}}}
	b := syncResults(t, s, task("", seed, with("includeUsage", true), msgs(mtUser, other, mtTool)))[0]
	want := CountTokens("What is the weather in Tokyo?") + CountTokens(`get_weather{"city":"Tokyo"}`) + CountTokens("22°C, partly cloudy.")
	if got := a["usage"].(map[string]any)["promptTokens"]; got != float64(want) {
		t.Fatalf("promptTokens %v, want %d", got, want)
	}
	if a["text"] == b["text"] {
		t.Fatal("different tool input, same answer: the calls do not reach the prompt hash")
	}
}

// Malformed tool turns are refused with the API's error shape (codes are
// the simulator's choice), one error per problem, each at its parameter.
func TestNativeToolMessageValidation(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name  string
		msgs  []any
		code  string
		param string
	}{
		// A tool message must follow an assistant call of its id.
		{"tool first", []any{mtTool}, "invalidToolCallId", "messages[0].id"},
		// The id must name a call of the latest assistant message.
		{"unknown id", []any{mtUser, mtAssistant, map[string]any{"role": "tool", "id": "zz", "content": "x"}, mtTool}, "invalidToolCallId", "messages[2].id"},
		// A call answered twice: the second answer has no pending call.
		{"answered twice", []any{mtUser, mtAssistant, mtTool, mtTool}, "invalidToolCallId", "messages[3].id"},
		// A tool message needs an id.
		{"no id", []any{mtUser, mtAssistant, map[string]any{"role": "tool", "content": "x"}}, "missingToolCallId", "messages[2].id"},
		// A call left unanswered before the next user message.
		{"unanswered", []any{mtUser, mtAssistant, mtUser}, "missingToolResult", "messages[1].tools[0].id"},
		// A call left unanswered at the end.
		{"unanswered at end", []any{mtUser, mtAssistant}, "missingToolResult", "messages[1].tools[0].id"},
		// Call ids are unique in the conversation.
		{"duplicate id", []any{mtUser, mtAssistant, mtTool, mtUser, mtAssistant, mtTool}, "invalidToolCallId", "messages[4].tools[0].id"},
		// input is an object of arguments.
		{"input not object", []any{mtUser, map[string]any{"role": "assistant", "tools": []any{map[string]any{"id": "c1", "name": "get_weather", "input": "Tokyo"}}}, mtTool}, "invalidMessages", "messages[1].tools[0].input"},
		// tools must be a non-empty array.
		{"empty tools", []any{mtUser, map[string]any{"role": "assistant", "tools": []any{}}}, "invalidMessages", "messages[1].tools"},
		// A call needs a valid tool name.
		{"bad name", []any{mtUser, map[string]any{"role": "assistant", "tools": []any{map[string]any{"id": "c1", "name": "bad name"}}}, mtTool}, "invalidToolName", "messages[1].tools[0].name"},
		// Unknown fields of a call are refused.
		{"call field", []any{mtUser, map[string]any{"role": "assistant", "tools": []any{map[string]any{"id": "c1", "name": "f", "arguments": "{}"}}}, mtTool}, "unsupportedParameter", "messages[1].tools[0].arguments"},
		// tools belong to assistant messages only.
		{"tools on user", []any{map[string]any{"role": "user", "content": "x", "tools": []any{}}}, "unsupportedParameter", "messages[0].tools"},
		// id belongs to tool messages only.
		{"id on user", []any{map[string]any{"role": "user", "content": "x", "id": "c1"}}, "unsupportedParameter", "messages[0].id"},
		// A tool message needs content.
		{"tool without content", []any{mtUser, mtAssistant, map[string]any{"role": "tool", "id": "c1"}}, "invalidMessages", "messages[2].content"},
		// An assistant message without calls still needs content.
		{"assistant without content", []any{mtUser, map[string]any{"role": "assistant"}, mtUser}, "invalidMessages", "messages[1].content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s.URL(), testKey, []any{task("", msgs(tc.msgs...))})
			e := r.envelope(t)
			if r.status != http.StatusBadRequest || len(e.Errors) != 1 {
				t.Fatalf("status %d body %s, want one 400 error", r.status, r.body)
			}
			if got := e.Errors[0]; got.Code != tc.code || got.Parameter != tc.param || got.TaskType != "textInference" || got.Message == "" {
				t.Fatalf("error %+v, want %s at %s", got, tc.code, tc.param)
			}
		})
	}
}

func chatMsgs(m ...any) map[string]any {
	return map[string]any{"model": "moonshotai:kimi@k2.6", "messages": m}
}

var (
	chatCall = map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
		"id": "c1", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Tokyo"}`}}}}
	chatToolMsg = map[string]any{"role": "tool", "tool_call_id": "c1", "content": "22°C, partly cloudy."}
)

// The chat endpoint applies the same rules with tool_calls / tool_call_id,
// answers after the result with afterTool, and the calls are part of the
// prompt as natively (same prompt tokens for the same conversation).
func TestChatToolConversation(t *testing.T) {
	sc := weatherScenario
	sc.AfterTool = "Tokyo: {result}"
	s := newTestServer(t, Options{Scenarios: []Scenario{sc}})
	r := post(t, chatURL(s), testKey, chatMsgs(mtUser, chatCall, chatToolMsg))
	var c chatResp
	json.Unmarshal(r.body, &c)
	if r.status != 200 || c.Choices[0].Message.Content == nil || *c.Choices[0].Message.Content != "Tokyo: 22°C, partly cloudy." {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	want := CountTokens("What is the weather in Tokyo?") + CountTokens(`get_weather{"city":"Tokyo"}`) + CountTokens("22°C, partly cloudy.")
	if c.Usage.PromptTokens != want {
		t.Fatalf("prompt tokens %d, want %d", c.Usage.PromptTokens, want)
	}
	tests := []struct {
		name, code, param string
		msgs              []any
	}{
		{"tool first", "invalidToolCallId", "messages[0].tool_call_id", []any{chatToolMsg}},
		{"no tool_call_id", "missingToolCallId", "messages[2].tool_call_id", []any{mtUser, chatCall, map[string]any{"role": "tool", "content": "x"}}},
		{"unanswered", "missingToolResult", "messages[1].tool_calls[0].id", []any{mtUser, chatCall, mtUser}},
		{"tool_calls on user", "invalidMessages", "messages[0].tool_calls", []any{map[string]any{"role": "user", "content": "x", "tool_calls": chatCall["tool_calls"]}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, chatURL(s), testKey, chatMsgs(tc.msgs...))
			var e struct {
				Error chatError `json:"error"`
			}
			json.Unmarshal(r.body, &e)
			if r.status != http.StatusBadRequest || e.Error.Code != tc.code || e.Error.Param != tc.param || e.Error.Type != "invalid_request_error" {
				t.Fatalf("status %d body %s, want %s at %s", r.status, r.body, tc.code, tc.param)
			}
		})
	}
}
