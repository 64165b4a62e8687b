package runware

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// toolConversation is the native multi-turn example of Runware's Python SDK
// README: a question, the assistant's call, the tool's result.
func toolConversation() []Message {
	return []Message{
		{Role: "user", Content: "Weather in Tokyo?"},
		{Role: "assistant", Tools: []MessageTool{{ID: "c1", Name: "get_weather", Input: json.RawMessage(`{"city": "Tokyo"}`)}}},
		{Role: "tool", ID: "c1", Content: "22°C, partly cloudy."},
	}
}

// A task without tool messages encodes byte for byte as before the tool
// fields existed, natively and on the OpenAI-compatible transport.
func TestMessagesWithoutToolsEncodeUnchanged(t *testing.T) {
	task := Task{TaskType: TaskTextInference, TaskUUID: "u1", Model: KimiK26AIR,
		Messages: []Message{{Role: "user", Content: "Hi"}, {Role: "assistant", Content: "Hello"}, {Role: "user", Content: ""}}}
	b, err := json.Marshal(task)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"taskType":"textInference","taskUUID":"u1","model":"moonshotai:kimi@k2.6","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":""}]}`
	if string(b) != want {
		t.Errorf("native:\n got %s\nwant %s", b, want)
	}
	task.Settings = &Settings{SystemPrompt: "S"}
	req, err := chatRequestFor(task)
	if err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"model":"moonshotai:kimi@k2.6","messages":[{"role":"system","content":"S"},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":""}]}`
	if string(b) != want {
		t.Errorf("chat:\n got %s\nwant %s", b, want)
	}
}

// The native shape: assistant {role, tools:[{id,name,input}]} without
// content, then {role:"tool", content, id}; it decodes back unchanged.
func TestNativeToolMessagesEncode(t *testing.T) {
	b, err := json.Marshal(toolConversation())
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"role":"user","content":"Weather in Tokyo?"},{"role":"assistant","tools":[{"id":"c1","name":"get_weather","input":{"city":"Tokyo"}}]},{"role":"tool","content":"22°C, partly cloudy.","id":"c1"}]`
	if string(b) != want {
		t.Errorf("\n got %s\nwant %s", b, want)
	}
	var back []Message
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if string(again) != want {
		t.Errorf("round trip:\n got %s\nwant %s", again, want)
	}
	// Text beside the calls is kept; a missing input is sent as {}.
	m := Message{Role: "assistant", Content: "Let me look.", Tools: []MessageTool{{ID: "c2", Name: "f"}}}
	b, _ = json.Marshal(m)
	if want := `{"role":"assistant","content":"Let me look.","tools":[{"id":"c2","name":"f","input":{}}]}`; string(b) != want {
		t.Errorf("\n got %s\nwant %s", b, want)
	}
}

// The OpenAI-compatible transport sends tool_calls with arguments as a JSON
// string and content null, and the tool result with tool_call_id.
func TestChatMapsToolMessages(t *testing.T) {
	c, rec := serveChat(t, 200, "application/json", `{"choices":[{"index":0,"message":{"content":"It is 22°C."},"finish_reason":"stop"}]}`)
	task := textTask("t")
	task.Messages = toolConversation()
	resp, err := c.Chat(context.Background(), task)
	if err != nil || resp.Err != nil {
		t.Fatal(err, resp.Err)
	}
	var body struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(rec.all()[0].body, &body); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range body.Messages {
		got = append(got, string(m))
	}
	want := []string{
		`{"role":"user","content":"Weather in Tokyo?"}`,
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}]}`,
		`{"role":"tool","content":"22°C, partly cloudy.","tool_call_id":"c1"}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

// The other way: tool_calls of a chat answer become Result.ToolCalls, which
// AssistantToolMessage turns into the native assistant message; sent back
// through Chat it yields the same tool_calls the endpoint produced.
func TestChatToolCallsBackToMessages(t *testing.T) {
	answer := `{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}]}`
	c, rec := serveChat(t, 200, "application/json", answer)
	resp, err := c.Chat(context.Background(), textTask("t"))
	if err != nil || resp.Err != nil {
		t.Fatal(err, resp.Err)
	}
	am := AssistantToolMessage(resp.Results[0])
	if len(am.Tools) != 1 || am.Tools[0].ID != "call_9" || am.Tools[0].Name != "get_weather" || string(am.Tools[0].Input) != `{"city":"Paris"}` {
		t.Fatalf("assistant message %+v", am)
	}
	b, _ := json.Marshal(am)
	if want := `{"role":"assistant","tools":[{"id":"call_9","name":"get_weather","input":{"city":"Paris"}}]}`; string(b) != want {
		t.Errorf("native:\n got %s\nwant %s", b, want)
	}
	next := textTask("t2")
	next.Messages = append(next.Messages, am, ToolResultMessage("call_9", "sunny"))
	if _, err := c.Chat(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Messages []struct {
			Role       string            `json:"role"`
			ToolCalls  []json.RawMessage `json:"tool_calls"`
			ToolCallID string            `json:"tool_call_id"`
		} `json:"messages"`
	}
	json.Unmarshal(rec.all()[1].body, &sent)
	var orig struct {
		Choices []struct {
			Message struct {
				ToolCalls []json.RawMessage `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
	}
	json.Unmarshal([]byte(answer), &orig)
	if len(sent.Messages) != 3 || sent.Messages[2].Role != "tool" || sent.Messages[2].ToolCallID != "call_9" {
		t.Fatalf("sent %+v", sent)
	}
	if diff := cmp.Diff(string(orig.Choices[0].Message.ToolCalls[0]), string(sent.Messages[1].ToolCalls[0])); diff != "" {
		t.Errorf("replayed tool call differs from the received one:\n%s", diff)
	}
}

// Messages the OpenAI shape cannot carry are refused before sending.
func TestChatRefusesMisplacedToolFields(t *testing.T) {
	for name, m := range map[string]Message{
		"tools on a user message": {Role: "user", Content: "x", Tools: []MessageTool{{ID: "a", Name: "f"}}},
		"id on a user message":    {Role: "user", Content: "x", ID: "a"},
		"input not JSON":          {Role: "assistant", Tools: []MessageTool{{ID: "a", Name: "f", Input: json.RawMessage(`{bad`)}}},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			c, rec := serveChat(t, 200, "application/json", `{}`)
			task := textTask("t")
			task.Messages = append(task.Messages, m)
			if _, err := c.Chat(context.Background(), task); err == nil {
				t.Error("no error")
			}
			if len(rec.all()) != 0 {
				t.Error("request sent")
			}
		})
	}
}
