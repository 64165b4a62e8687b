package runwaretest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// A two-turn tool conversation through the project's client, natively (sync
// and stream, whose toolCalls deltas are the simulator's own framing) and
// over the OpenAI-compatible transport: the first answer is
// a call, the call and its result go back as messages, and the second answer
// is the scenario's afterTool text with the result in it.
func TestClientToolRoundTrip(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{Scenarios: []runwaretest.Scenario{{
		Match: runwaretest.Match{Contains: "weather"}, Answer: "unused",
		ToolCall:  &runwaretest.ToolCallSpec{Name: "get_weather", Arguments: json.RawMessage(`{"city":"Tokyo"}`)},
		AfterTool: "In Tokyo: {result}",
	}}})
	defer s.Close()
	c := runware.NewClient("k", runware.WithEndpoint(s.URL()))
	tools := []runware.Tool{{Type: "function", Name: "get_weather", Schema: json.RawMessage(`{"type":"object"}`)}}
	for _, via := range []string{"sync", "stream", "chat"} {
		t.Run(via, func(t *testing.T) {
			send := func(msgs []runware.Message) runware.Result {
				t.Helper()
				task := runware.Task{Model: runware.KimiK26AIR, Tools: tools, Messages: msgs}
				var resp *runware.Response
				var err error
				if via == "chat" {
					resp, err = c.Chat(context.Background(), task)
				} else {
					task.DeliveryMethod = via
					var resps []*runware.Response
					resps, err = c.Do(context.Background(), []runware.Task{task})
					if err == nil {
						resp = resps[0]
					}
				}
				if err != nil || resp.Err != nil || len(resp.Results) != 1 {
					t.Fatalf("err %v resp %+v", err, resp)
				}
				return resp.Results[0]
			}
			msgs := []runware.Message{{Role: "user", Content: "What is the weather in Tokyo?"}}
			first := send(msgs)
			if len(first.ToolCalls) != 1 || first.ToolCalls[0].Name != "get_weather" {
				t.Fatalf("first turn %+v", first)
			}
			msgs = append(msgs, runware.AssistantToolMessage(first), runware.ToolResultMessage(first.ToolCalls[0].ID, "22°C"))
			second := send(msgs)
			if len(second.ToolCalls) != 0 || second.Text != "In Tokyo: 22°C" || second.FinishReason != "stop" {
				t.Fatalf("second turn %+v", second)
			}
		})
	}
}
