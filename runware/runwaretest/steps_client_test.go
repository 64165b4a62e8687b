package runwaretest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// tripScenario is a three-step agent: look the city up, then ask for its
// weather and local time in parallel, then answer with every result.
var tripScenario = runwaretest.Scenario{
	Name:   "trip",
	Match:  runwaretest.Match{Contains: "trip"},
	Answer: "unused: the steps answer",
	Steps: []runwaretest.Step{
		{ToolCall: &runwaretest.ToolCallSpec{Name: "find_city", Arguments: json.RawMessage(`{"q": "capital of Japan"}`)}},
		{ToolCalls: []runwaretest.ToolCallSpec{
			{Name: "get_weather", Arguments: json.RawMessage(`{"city":"Tokyo"}`)},
			{Name: "get_time", Arguments: json.RawMessage(`{"city":"Tokyo"}`)},
		}},
		{Answer: "Trip: {results}. Latest: {result}."},
	},
}

var tripTools = []runware.Tool{
	{Type: "function", Name: "find_city", Schema: json.RawMessage(`{"type":"object"}`)},
	{Type: "function", Name: "get_weather", Schema: json.RawMessage(`{"type":"object"}`)},
	{Type: "function", Name: "get_time", Schema: json.RawMessage(`{"type":"object"}`)},
}

// tripToolResult is the scripted output of a tool the agent calls.
func tripToolResult(tc runware.ToolCall) string {
	return map[string]string{"find_city": "Tokyo", "get_weather": "22°C", "get_time": "09:00"}[tc.Name]
}

// A three-step scenario driven through the project's clients as an agent
// loop (call → tool messages → call again): natively over sync, stream,
// async and the WebSocket, and over the OpenAI-compatible endpoint, plain
// and streamed (where parallel calls need distinct delta indexes). Each
// turn is the scripted step, the second one two parallel calls with
// distinct ids, and the last answer fills in {result} and {results} from
// the tool messages sent back.
func TestStepsAgentLoopThroughClient(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{Scenarios: []runwaretest.Scenario{tripScenario}})
	defer s.Close()
	hc := runware.NewClient("k", runware.WithEndpoint(s.URL()), runware.WithPollInterval(time.Millisecond))
	wc, err := runware.NewWS(wsKey, s.URL(), runware.WithRequestTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	for _, via := range []string{"sync", "stream", "async", "websocket", "chat", "chat-stream"} {
		t.Run(via, func(t *testing.T) {
			send := func(msgs []runware.Message) runware.Result {
				t.Helper()
				task := runware.Task{Model: runware.KimiK26AIR, Tools: tripTools, Messages: msgs, DeliveryMethod: via}
				var resps []*runware.Response
				var err error
				switch via {
				case "chat", "chat-stream":
					task.DeliveryMethod = map[string]string{"chat": "", "chat-stream": runware.DeliveryStream}[via]
					var r *runware.Response
					r, err = hc.Chat(context.Background(), task)
					resps = []*runware.Response{r}
				case "websocket":
					task.DeliveryMethod = runware.DeliverySync
					resps, err = wc.Do(context.Background(), []runware.Task{task})
				default:
					resps, err = hc.Do(context.Background(), []runware.Task{task})
				}
				if err != nil || resps[0].Err != nil || len(resps[0].Results) != 1 {
					t.Fatalf("err %v resp %+v", err, resps[0])
				}
				return resps[0].Results[0]
			}
			msgs := []runware.Message{{Role: "user", Content: "Plan a trip to the capital of Japan."}}
			var turns [][]string
			var last runware.Result
			for range 5 {
				last = send(msgs)
				if len(last.ToolCalls) == 0 {
					break
				}
				var names []string
				msgs = append(msgs, runware.AssistantToolMessage(last))
				for _, tc := range last.ToolCalls {
					names = append(names, tc.Name)
					msgs = append(msgs, runware.ToolResultMessage(tc.ID, tripToolResult(tc)))
				}
				turns = append(turns, names)
			}
			if got := fmt.Sprint(turns); got != "[[find_city] [get_weather get_time]]" {
				t.Fatalf("calls per turn %s", got)
			}
			// msgs: user, assistant (find_city), tool, assistant (two calls), tool, tool.
			if ids := msgs[3].Tools; len(ids) != 2 || ids[0].ID == ids[1].ID || ids[0].ID == msgs[1].Tools[0].ID {
				t.Fatalf("call ids not unique: %+v / %+v", msgs[1].Tools, ids)
			}
			if string(msgs[3].Tools[0].Input) != `{"city":"Tokyo"}` {
				t.Fatalf("arguments %s", msgs[3].Tools[0].Input)
			}
			if want := "Trip: Tokyo; 22°C; 09:00. Latest: 09:00."; last.Text != want || last.FinishReason != "stop" {
				t.Fatalf("final answer %q (%s), want %q", last.Text, last.FinishReason, want)
			}
		})
	}
}
