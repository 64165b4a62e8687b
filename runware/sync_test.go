package runware

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A sync task is POSTed as a JSON array with bearer auth, and its one result
// comes back with status, timings in order, and no usage/cost unless sent.
func TestDoSyncSendsArrayAndDecodesResult(t *testing.T) {
	c, rec := serve(t, func(w http.ResponseWriter, tasks []map[string]any, _ []byte) {
		writeJSON(w, 200, fmt.Sprintf(`{"data":[{"taskType":"textInference","taskUUID":%q,"text":"Paris","finishReason":"stop"}]}`, str(tasks[0], "taskUUID")))
	})
	task := textTask("11111111-1111-4111-8111-111111111111")
	task.Settings = &Settings{SystemPrompt: "Answer with the city name only."}
	resps, err := c.Do(context.Background(), []Task{task})
	if err != nil {
		t.Fatal(err)
	}
	r := resps[0]
	if r.Err != nil {
		t.Fatalf("unexpected error: %v", r.Err)
	}
	want := []Result{{TaskType: TaskTextInference, TaskUUID: task.TaskUUID, Text: "Paris", FinishReason: "stop"}}
	if diff := cmp.Diff(want, r.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if r.HTTPStatus != 200 || r.TaskUUID != task.TaskUUID {
		t.Errorf("status %d uuid %s", r.HTTPStatus, r.TaskUUID)
	}
	tm := r.Timings
	if tm.Dispatched.IsZero() || tm.FirstByte.IsZero() || tm.Done.IsZero() ||
		tm.FirstByte.Before(tm.Dispatched) || tm.Done.Before(tm.FirstByte) {
		t.Errorf("timings not set in order: %+v", tm)
	}
	req := rec.all()[0]
	if got := req.header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	if got := req.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if req.path != "/v1" {
		t.Errorf("path = %q, want the endpoint itself", req.path)
	}
	var sent []Task
	if err := json.Unmarshal(req.body, &sent); err != nil {
		t.Fatalf("body is not a JSON array of tasks: %v: %s", err, req.body)
	}
	if diff := cmp.Diff([]Task{task}, sent); diff != "" {
		t.Errorf("sent task (-want +got):\n%s", diff)
	}
}

// numberResults 3 yields three results for that task, all kept in order.
func TestDoSyncNumberResults(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, tasks []map[string]any, _ []byte) {
		id := str(tasks[0], "taskUUID")
		writeJSON(w, 200, fmt.Sprintf(`{"data":[
			{"taskType":"textInference","taskUUID":%[1]q,"text":"a","finishReason":"stop","resultIndex":0},
			{"taskType":"textInference","taskUUID":%[1]q,"text":"b","finishReason":"stop","resultIndex":1},
			{"taskType":"textInference","taskUUID":%[1]q,"text":"c","finishReason":"length","resultIndex":2}]}`, id))
	})
	task := textTask(NewTaskUUID())
	task.NumberResults = 3
	resps, err := c.Do(context.Background(), []Task{task})
	if err != nil {
		t.Fatal(err)
	}
	if resps[0].Err != nil {
		t.Fatal(resps[0].Err)
	}
	var texts []string
	for _, r := range resps[0].Results {
		texts = append(texts, r.Text)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, texts); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}
}

// A sync answer with fewer results than numberResults keeps what came and
// reports the shortfall, so the runner does not record missing samples as done.
func TestDoSyncMissingResults(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, tasks []map[string]any, _ []byte) {
		writeJSON(w, 200, fmt.Sprintf(`{"data":[{"taskUUID":%q,"text":"only one","finishReason":"stop"}]}`, str(tasks[0], "taskUUID")))
	})
	task := textTask(NewTaskUUID())
	task.NumberResults = 2
	resps, _ := c.Do(context.Background(), []Task{task})
	r := resps[0]
	if len(r.Results) != 1 || r.Err == nil || r.Err.Class != ClassMalformed {
		t.Fatalf("got %d results, err %v; want 1 result and a malformed error", len(r.Results), r.Err)
	}
}

// usage and cost are decoded when present and stay nil when the API omits
// them (includeUsage/includeCost false), so "not reported" is distinguishable.
func TestDoSyncUsageAndCost(t *testing.T) {
	cost := 0.0000504
	tests := []struct {
		name      string
		include   bool
		extra     string
		wantUsage *Usage
		wantCost  *float64
	}{
		// Flags off: the API sends neither field, the result has neither.
		{name: "absent", include: false, extra: ``},
		// Flags on: usage (with thinking tokens) and cost are carried through.
		{name: "present", include: true,
			extra:     `,"usage":{"promptTokens":14,"completionTokens":9,"totalTokens":23,"thinkingTokens":4},"cost":0.0000504`,
			wantUsage: &Usage{PromptTokens: 14, CompletionTokens: 9, TotalTokens: 23, ThinkingTokens: 4}, wantCost: &cost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := serve(t, func(w http.ResponseWriter, tasks []map[string]any, _ []byte) {
				writeJSON(w, 200, fmt.Sprintf(`{"data":[{"taskUUID":%q,"text":"Paris","finishReason":"stop"%s}]}`, str(tasks[0], "taskUUID"), tt.extra))
			})
			task := textTask(NewTaskUUID())
			task.IncludeCost, task.IncludeUsage = tt.include, tt.include
			resps, _ := c.Do(context.Background(), []Task{task})
			res := resps[0].Results[0]
			if diff := cmp.Diff(tt.wantUsage, res.Usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCost, res.Cost); diff != "" {
				t.Errorf("cost (-want +got):\n%s", diff)
			}
			body := string(rec.all()[0].body)
			if got := strings.Contains(body, `"includeCost":true`); got != tt.include {
				t.Errorf("includeCost sent = %v, want %v: %s", got, tt.include, body)
			}
		})
	}
}

// Results are matched to tasks by taskUUID even when the API returns them in
// another order.
func TestDoSyncMatchesByTaskUUID(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, tasks []map[string]any, _ []byte) {
		var items []string
		for i := len(tasks) - 1; i >= 0; i-- {
			id := str(tasks[i], "taskUUID")
			items = append(items, fmt.Sprintf(`{"taskUUID":%q,"text":"for %s","finishReason":"stop"}`, id, id))
		}
		writeJSON(w, 200, `{"data":[`+strings.Join(items, ",")+`]}`)
	})
	tasks := []Task{textTask("a-1"), textTask("b-2"), textTask("c-3")}
	resps, err := c.Do(context.Background(), tasks)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resps {
		if r.TaskUUID != tasks[i].TaskUUID || len(r.Results) != 1 || r.Results[0].Text != "for "+tasks[i].TaskUUID {
			t.Errorf("response %d = %+v, want the result of %s", i, r, tasks[i].TaskUUID)
		}
	}
}

// In a batch with data and errors, successes are kept, a routed error hits
// only its own task, and an error without taskUUID hits only the tasks left
// without results.
func TestDoSyncPartialFailure(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, tasks []map[string]any, _ []byte) {
		writeJSON(w, 200, `{"data":[{"taskUUID":"ok-1","text":"fine","finishReason":"stop"}],
			"errors":[{"code":"invalidTemperature","message":"temperature out of range","parameter":"settings.temperature","taskType":"textInference","taskUUID":"bad-2"},
			          {"code":"providerError","message":"upstream failed"}]}`)
	})
	resps, err := c.Do(context.Background(), []Task{textTask("ok-1"), textTask("bad-2"), textTask("lost-3")})
	if err != nil {
		t.Fatal(err)
	}
	if resps[0].Err != nil || len(resps[0].Results) != 1 {
		t.Errorf("ok-1: err %v results %d; want success", resps[0].Err, len(resps[0].Results))
	}
	if e := resps[1].Err; e == nil || e.Code != "invalidTemperature" || e.Class != ClassValidation || e.Parameter != "settings.temperature" {
		t.Errorf("bad-2: err %+v; want its own validation error", e)
	}
	if e := resps[2].Err; e == nil || e.Code != "providerError" || e.Class != ClassProvider {
		t.Errorf("lost-3: err %+v; want the unrouted provider error", e)
	}
}

// Error bodies of every documented shape, and bodies that are not JSON, are
// surfaced with code, message, parameter, status and class.
func TestDoSyncErrorBodies(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   Error
	}{
		// Invalid key: 401 with the documented envelope → ClassAuth.
		{name: "401 invalidApiKey", status: 401,
			body: `{"errors":[{"code":"invalidApiKey","message":"Invalid API key. Get one at https://my.runware.ai/signup","parameter":"apiKey","taskType":"authentication"}]}`,
			want: Error{Class: ClassAuth, Code: "invalidApiKey", Message: "Invalid API key. Get one at https://my.runware.ai/signup", Parameter: "apiKey", TaskType: "authentication", HTTPStatus: 401}},
		// Validation: 400 with code, parameter, type, documentation and allowedValues.
		{name: "400 validation", status: 400,
			body: `{"errors":[{"code":"invalidThinkingLevel","message":"bad level","parameter":"settings.thinkingLevel","type":"string","documentation":"https://runware.ai/docs","allowedValues":["none","low"],"taskType":"textInference","taskUUID":"T"}]}`,
			want: Error{Class: ClassValidation, Code: "invalidThinkingLevel", Message: "bad level", Parameter: "settings.thinkingLevel", Type: "string", Doc: "https://runware.ai/docs", Allowed: []any{"none", "low"}, TaskType: "textInference", TaskUUID: "T", HTTPStatus: 400}},
		// A cross-field error names its parameters as an array: joined with ",".
		{name: "parameter array", status: 400,
			body: `{"errors":[{"code":"incompatibleParameters","message":"pick one","parameter":["settings.topK","settings.minP"],"taskUUID":"T"}]}`,
			want: Error{Class: ClassValidation, Code: "incompatibleParameters", Message: "pick one", Parameter: "settings.topK,settings.minP", TaskUUID: "T", HTTPStatus: 400}},
		// Legacy singular object, with taskUUID/taskType beside it (pre-stream shape).
		{name: "singular error object", status: 429, header: map[string]string{"Retry-After": "7"},
			body: `{"error":{"code":"rateLimitExceeded","message":"slow down"},"taskUUID":"T","taskType":"textInference"}`,
			want: Error{Class: ClassRateLimit, Code: "rateLimitExceeded", Message: "slow down", TaskUUID: "T", TaskType: "textInference", HTTPStatus: 429, RetryAfter: Duration(7 * time.Second)}},
		// Singular key with an array value and no taskUUID: applies to the task.
		{name: "singular error array", status: 500,
			body: `{"error":[{"code":"internalServerError","message":"boom"}]}`,
			want: Error{Class: ClassServer, Code: "internalServerError", Message: "boom", HTTPStatus: 500}},
		// OpenAI-style error: class from the type when the code is null.
		{name: "openai style", status: 400,
			body: `{"error":{"message":"max_tokens too large","type":"invalid_request_error","param":"max_tokens","code":null}}`,
			want: Error{Class: ClassValidation, Message: "max_tokens too large", Parameter: "max_tokens", Type: "invalid_request_error", HTTPStatus: 400}},
		// 503 without a decodable body: class by status, Retry-After as a date in the future.
		{name: "503 html", status: 503, header: map[string]string{"Retry-After": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)},
			body: `<html>busy</html>`,
			want: Error{Class: ClassServer, HTTPStatus: 503}},
		// 404 with an empty body: class by status.
		{name: "404 empty", status: 404, body: ``,
			want: Error{Class: ClassNotFound, HTTPStatus: 404}},
		// 200 with a body that is not JSON: malformed, worth a retry.
		{name: "200 garbage", status: 200, body: `{"data":[{"taskUUID":`,
			want: Error{Class: ClassMalformed, HTTPStatus: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, tt.status, tt.body)
			})
			resps, err := c.Do(context.Background(), []Task{textTask("T")})
			if err != nil {
				t.Fatal(err)
			}
			got := resps[0].Err
			if got == nil {
				t.Fatal("no error reported")
			}
			if resps[0].HTTPStatus != tt.status {
				t.Errorf("HTTPStatus = %d", resps[0].HTTPStatus)
			}
			if tt.want.Message == "" { // undecodable bodies: compare all but the message
				if got.Message == "" {
					t.Error("empty message")
				}
				tt.want.Message = got.Message
				tt.want.TaskUUID = got.TaskUUID
			}
			if tt.name == "503 html" {
				ra := time.Duration(got.RetryAfter)
				if ra < 59*time.Minute || ra > time.Hour {
					t.Errorf("RetryAfter = %v, want about an hour", ra)
				}
				got.RetryAfter = 0
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}
