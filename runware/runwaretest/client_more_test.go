package runwaretest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

func userTask(content string) runware.Task {
	return runware.Task{Model: runware.KimiK26AIR, Messages: []runware.Message{{Role: "user", Content: content}}}
}

// A batch of sync tasks in which one is invalid keeps the valid tasks'
// results and attaches the validation error to the invalid task only,
// whatever order the simulator answers in.
func TestClientBatchPartialFailure(t *testing.T) {
	for _, delivery := range []string{runware.DeliverySync, runware.DeliveryAsync} {
		t.Run(delivery, func(t *testing.T) {
			s := runwaretest.NewServer(runwaretest.Options{ShuffleResults: true})
			defer s.Close()
			c := runware.NewClient("k", runware.WithEndpoint(s.URL()), runware.WithPollInterval(time.Millisecond))
			good1, bad, good2 := userTask("first question"), userTask("second question"), userTask("third question")
			good1.NumberResults = 2
			temp := 3.5
			bad.Settings = &runware.Settings{Temperature: &temp}
			tasks := []runware.Task{good1, bad, good2}
			for i := range tasks {
				tasks[i].DeliveryMethod = delivery
			}
			resps, err := c.Do(context.Background(), tasks)
			if err != nil {
				t.Fatal(err)
			}
			if r := resps[0]; r.Err != nil || len(r.Results) != 2 {
				t.Errorf("task 1: err %v, %d results; want 2 results", r.Err, len(r.Results))
			}
			if r := resps[2]; r.Err != nil || len(r.Results) != 1 || !strings.Contains(r.Results[0].Text, "third question") {
				t.Errorf("task 3: err %v, results %+v; want its own answer", r.Err, r.Results)
			}
			e := resps[1].Err
			if e == nil || e.Class != runware.ClassValidation || e.Parameter != "settings.temperature" || e.HTTPStatus == 0 {
				t.Errorf("task 2: error %+v; want a validation error on settings.temperature", e)
			}
			// One HTTP request carried the whole batch; the simulator
			// accepted the two valid tasks of it.
			st := s.Stats()
			if st.Tasks != 2 || (delivery == runware.DeliverySync && st.Requests != 1) {
				t.Errorf("simulator saw %d requests and accepted %d tasks; want the batch in 1 request, 2 accepted", st.Requests, st.Tasks)
			}
		})
	}
}

// Every fault the simulator can inject reaches the client as the class the
// runner's retry policy depends on, and no error text carries the key.
func TestClientErrorClassesAgainstSimulator(t *testing.T) {
	const key = "sk-live-0123456789abcdef"
	tests := []struct {
		name      string
		opts      runwaretest.Options
		task      func() runware.Task
		class     runware.Class
		transient bool
	}{
		// An unknown key is an auth error, never retried.
		{"auth", runwaretest.Options{APIKeys: []string{"other"}}, func() runware.Task { return userTask("hi") }, runware.ClassAuth, false},
		// 403 is an auth error too.
		{"forbidden", runwaretest.Options{Faults: runwaretest.Faults{Forbidden: runwaretest.Fault{First: 1}}}, func() runware.Task { return userTask("hi") }, runware.ClassAuth, false},
		// An unknown model is not found, never retried.
		{"model", runwaretest.Options{}, func() runware.Task { t := userTask("hi"); t.Model = "nobody:nothing@1"; return t }, runware.ClassNotFound, false},
		// 503 is a server error, retried.
		{"503", runwaretest.Options{Faults: runwaretest.Faults{Unavailable: runwaretest.Fault{First: 1}}}, func() runware.Task { return userTask("hi") }, runware.ClassServer, true},
		// 504 with timeoutProvider is a timeout, retried.
		{"504", runwaretest.Options{Faults: runwaretest.Faults{GatewayTimeout: runwaretest.Fault{First: 1}}}, func() runware.Task { return userTask("hi") }, runware.ClassTimeout, true},
		// 500 is a server error, retried.
		{"500", runwaretest.Options{Faults: runwaretest.Faults{ServerError: runwaretest.Fault{First: 1}}}, func() runware.Task { return userTask("hi") }, runware.ClassServer, true},
		// A connection reset is a network error, retried.
		{"reset", runwaretest.Options{Faults: runwaretest.Faults{Reset: runwaretest.Fault{First: 1}}}, func() runware.Task { return userTask("hi") }, runware.ClassNetwork, true},
		// A body cut off mid-JSON is malformed, retried.
		{"malformed", runwaretest.Options{Faults: runwaretest.Faults{Malformed: runwaretest.Fault{First: 1}}}, func() runware.Task { return userTask("hi") }, runware.ClassMalformed, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := runwaretest.NewServer(tc.opts)
			defer s.Close()
			c := runware.NewClient(key, runware.WithEndpoint(s.URL()))
			resps, err := c.Do(context.Background(), []runware.Task{tc.task()})
			if err != nil {
				t.Fatal(err)
			}
			e := resps[0].Err
			if e == nil {
				t.Fatalf("no error; results %+v", resps[0].Results)
			}
			if e.Class != tc.class || e.Class.Transient() != tc.transient {
				t.Errorf("class %s (transient %v), want %s (transient %v): %v", e.Class, e.Class.Transient(), tc.class, tc.transient, e)
			}
			if strings.Contains(e.Error(), key) {
				t.Errorf("error text carries the API key: %s", e)
			}
		})
	}
}

// Over the OpenAI-compatible endpoint, a scenario that asks for a tool call
// comes back as a tool call with its id, name and JSON arguments, and
// finishReason tool_calls, both plain and streamed.
func TestClientToolCallsOverCompatibleEndpoint(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{Scenarios: []runwaretest.Scenario{{
		Match:    runwaretest.Match{Contains: "weather in Tokyo"},
		Answer:   "It is sunny.",
		ToolCall: &runwaretest.ToolCallSpec{Name: "get_weather", Arguments: json.RawMessage(`{"city":"Tokyo"}`)},
	}}})
	defer s.Close()
	c := runware.NewClient("k", runware.WithEndpoint(s.URL()))
	task := userTask("What is the weather in Tokyo?")
	task.Tools = []runware.Tool{{Type: "function", Name: "get_weather", Description: "Weather for a city",
		Schema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}}
	for _, delivery := range []string{runware.DeliverySync, runware.DeliveryStream} {
		t.Run(delivery, func(t *testing.T) {
			task.DeliveryMethod = delivery
			r, err := c.Chat(context.Background(), task)
			if err != nil {
				t.Fatal(err)
			}
			if r.Err != nil || len(r.Results) != 1 {
				t.Fatalf("err %v, %d results", r.Err, len(r.Results))
			}
			res := r.Results[0]
			if res.FinishReason != "tool_calls" || len(res.ToolCalls) != 1 {
				t.Fatalf("result %+v; want one tool call with finishReason tool_calls", res)
			}
			tc := res.ToolCalls[0]
			var args map[string]any
			if tc.ID == "" || tc.Name != "get_weather" || json.Unmarshal(tc.Arguments, &args) != nil || args["city"] != "Tokyo" {
				t.Errorf("tool call %+v (arguments %s)", tc, tc.Arguments)
			}
		})
	}
}

// An async task some of whose results fail (status "error" with an
// embedded error) keeps its successful results, and each failed result
// carries its error with the class the runner's retry policy reads; the
// task's error is that of a failed result.
func TestClientAsyncMixedOutcomes(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{Faults: runwaretest.Faults{AsyncItemError: runwaretest.Fault{Every: 2}}})
	defer s.Close()
	c := runware.NewClient("k", runware.WithEndpoint(s.URL()), runware.WithPollInterval(time.Millisecond))
	task := userTask("four answers please")
	task.DeliveryMethod = runware.DeliveryAsync
	task.NumberResults = 4
	resps, err := c.Do(context.Background(), []runware.Task{task})
	if err != nil {
		t.Fatal(err)
	}
	r := resps[0]
	if len(r.Results) != 4 {
		t.Fatalf("%d results, want all 4 (2 succeeded, 2 failed): %+v", len(r.Results), r.Results)
	}
	var ok, failed int
	for _, res := range r.Results {
		switch {
		case res.Err == nil && res.Status == "success" && strings.Contains(res.Text, "four answers please"):
			ok++
		case res.Err != nil && res.Err.Code == "timeoutProvider" && res.Err.Class == runware.ClassTimeout && res.Err.TaskUUID == r.TaskUUID:
			failed++
		default:
			t.Errorf("unexpected result %+v (err %+v)", res, res.Err)
		}
	}
	if ok != 2 || failed != 2 {
		t.Fatalf("%d successes and %d failures, want 2 and 2", ok, failed)
	}
	if r.Err == nil || r.Err.Class != runware.ClassTimeout {
		t.Fatalf("task error %+v; want the failed results' timeout", r.Err)
	}
}

// A stream interleaved with ": ping" keep-alive comments reads exactly like
// the same stream without them, on the native and the OpenAI-compatible
// endpoint.
func TestClientStreamIgnoresPings(t *testing.T) {
	read := func(ping int, chat bool) runware.Result {
		t.Helper()
		s := runwaretest.NewServer(runwaretest.Options{Ping: ping})
		defer s.Close()
		c := runware.NewClient("k", runware.WithEndpoint(s.URL()))
		task := userTask("Explain tides")
		task.DeliveryMethod = runware.DeliveryStream
		task.Settings = &runware.Settings{ThinkingLevel: "low"}
		seed := int64(11)
		task.Seed = &seed
		task.IncludeUsage = true
		var r *runware.Response
		var err error
		if chat {
			r, err = c.Chat(context.Background(), task)
		} else {
			var rs []*runware.Response
			rs, err = c.Do(context.Background(), []runware.Task{task})
			if err == nil {
				r = rs[0]
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Err != nil || len(r.Results) != 1 {
			t.Fatalf("ping %d chat %v: err %v, %d results", ping, chat, r.Err, len(r.Results))
		}
		return r.Results[0]
	}
	for _, chat := range []bool{false, true} {
		plain, pinged := read(0, chat), read(1, chat)
		if pinged.Text == "" || pinged.Text != plain.Text || pinged.ReasoningContent != plain.ReasoningContent ||
			pinged.FinishReason != plain.FinishReason || *pinged.Usage != *plain.Usage {
			t.Errorf("chat %v: with pings %+v, without %+v", chat, pinged, plain)
		}
	}
}
