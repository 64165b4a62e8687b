package runware

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// streamTask is a one-task stream request with taskUUID "t1".
func streamTask() Task {
	t := textTask("t1")
	t.DeliveryMethod = DeliveryStream
	return t
}

// doSSE serves body (with contentType and status) to one stream task.
func doSSE(t *testing.T, status int, contentType, body string) (*Response, *recorder) {
	t.Helper()
	c, rec := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
	resps, err := c.Do(context.Background(), []Task{streamTask()})
	if err != nil {
		t.Fatal(err)
	}
	return resps[0], rec
}

func ptr[T any](v T) *T { return &v }

// A full stream: reasoning then text deltas accumulate separately, the final
// chunk brings finishReason, usage and cost, and the delta timestamps are
// stamped in order.
func TestStreamAccumulates(t *testing.T) {
	body := `: ping

data: {"taskUUID":"t1","taskType":"textInference","delta":{"reasoningContent":"Let me "},"finishReason":null}

data: {"taskUUID":"t1","taskType":"textInference","delta":{"reasoningContent":"think."},"finishReason":null}

data: {"taskUUID":"t1","taskType":"textInference","delta":{"text":"Hello"},"finishReason":null}

data: {"taskUUID":"t1","taskType":"textInference","delta":{"text":" world"},"finishReason":null}

data: {"taskUUID":"t1","taskType":"textInference","delta":{},"finishReason":"stop","usage":{"promptTokens":10,"completionTokens":5,"totalTokens":15,"thinkingTokens":2},"cost":0.001}

data: [DONE]

`
	r, rec := doSSE(t, 200, "text/event-stream", body)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	want := []Result{{TaskType: TaskTextInference, TaskUUID: "t1", Text: "Hello world", ReasoningContent: "Let me think.",
		FinishReason: "stop", Usage: &Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15, ThinkingTokens: 2}, Cost: ptr(0.001)}}
	if diff := cmp.Diff(want, r.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	tm := r.Timings
	order := []struct {
		name string
		at   interface{ IsZero() bool }
	}{{"Dispatched", tm.Dispatched}, {"FirstByte", tm.FirstByte}, {"FirstReasoning", tm.FirstReasoning},
		{"FirstText", tm.FirstText}, {"LastDelta", tm.LastDelta}, {"Done", tm.Done}}
	for _, o := range order {
		if o.at.IsZero() {
			t.Errorf("%s not stamped", o.name)
		}
	}
	if tm.FirstText.Before(tm.FirstReasoning) || tm.LastDelta.Before(tm.FirstText) || tm.Done.Before(tm.LastDelta) || tm.FirstReasoning.Before(tm.Dispatched) {
		t.Errorf("timings out of order: %+v", tm)
	}
	if got := rec.all()[0].header.Get("Accept"); got != "text/event-stream" {
		t.Errorf("Accept = %q", got)
	}
}

// Every ending of a stream the SDKs accept, and those they report.
func TestStreamEndings(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantText  string
		wantFin   string
		wantClass Class // "" = success
		wantCode  string
	}{
		// A final chunk without delta and without taskType (TS text-stream fixture).
		{"final without delta", "data: {\"delta\":{\"text\":\"x\"},\"taskUUID\":\"t1\"}\ndata: {\"finishReason\":\"stop\",\"usage\":{\"promptTokens\":3,\"completionTokens\":1,\"totalTokens\":4},\"cost\":0.001,\"taskUUID\":\"t1\"}\ndata: [DONE]\n",
			"x", "stop", "", ""},
		// A final chunk carrying the full text wins over the deltas (old Python SDK).
		{"final with full text", "data: {\"delta\":{\"text\":\"par\"}}\ndata: {\"finishReason\":\"length\",\"text\":\"partial answer\"}\ndata: [DONE]\n",
			"partial answer", "length", "", ""},
		// finishReason seen, connection closed without [DONE]: complete.
		{"finish without DONE", "data: {\"delta\":{\"text\":\"ok\"}}\n\ndata: {\"delta\":{},\"finishReason\":\"stop\"}\n\n",
			"ok", "stop", "", ""},
		// [DONE] without finishReason (TS reasoning fixture): complete.
		{"DONE without finish", "data: {\"delta\":{\"reasoningContent\":\"hm\"}}\ndata: {\"delta\":{\"text\":\"answer\"}}\ndata: [DONE]\n",
			"answer", "", "", ""},
		// Neither [DONE] nor finishReason: truncated, partial text kept.
		{"truncated", "data: {\"delta\":{\"text\":\"Hel\"}}\n\ndata: {\"delta\":{\"text\":\"lo\"}}\n\n",
			"Hello", "", ClassTruncated, "streamTruncated"},
		// Nothing at all before the close: truncated with no text.
		{"empty body", "", "", "", ClassTruncated, "streamTruncated"},
		// Plural error envelope mid-stream: the API's error, partial text kept.
		{"mid-stream errors", "data: {\"delta\":{\"text\":\"Hi\"}}\n\ndata: {\"errors\":[{\"code\":\"timeoutProvider\",\"message\":\"The provider timed out.\",\"taskType\":\"textInference\",\"taskUUID\":\"t1\"}]}\n\n",
			"Hi", "", ClassTimeout, "timeoutProvider"},
		// Singular error object mid-stream (Python SDK shape).
		{"mid-stream error", "data: {\"delta\":{\"text\":\"Hi\"}}\ndata: {\"error\":{\"code\":\"rateLimitExceeded\",\"message\":\"slow down\"}}\ndata: [DONE]\n",
			"Hi", "", ClassRateLimit, "rateLimitExceeded"},
		// An error event without code (TS edge-case fixture) still ends the stream as an error.
		{"error without code", "data: {\"errors\":[{\"message\":\"bad\"}]}\n",
			"", "", ClassUnknown, ""},
		// A chunk that is not JSON: malformed, text so far kept.
		{"malformed chunk", "data: {\"delta\":{\"text\":\"a\"}}\ndata: {oops}\n\ndata: [DONE]\n",
			"a", "", ClassMalformed, ""},
		// The legacy wrapped chunk {"data":{...}}.
		{"wrapped chunk", "data: {\"data\":{\"delta\":{\"text\":\"w\"},\"taskUUID\":\"t1\"}}\ndata: {\"data\":{\"finishReason\":\"stop\"}}\n",
			"w", "stop", "", ""},
		// [DONE] alone: one empty result.
		{"DONE only", "data: [DONE]\n", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := doSSE(t, 200, "text/event-stream", tt.body)
			gotClass := Class("")
			if r.Err != nil {
				gotClass = r.Err.Class
				if r.Err.Code != tt.wantCode {
					t.Errorf("code = %q, want %q", r.Err.Code, tt.wantCode)
				}
			}
			if gotClass != tt.wantClass {
				t.Fatalf("class = %q (err %v), want %q", gotClass, r.Err, tt.wantClass)
			}
			if tt.wantText == "" && len(r.Results) == 0 {
				return
			}
			if len(r.Results) != 1 {
				t.Fatalf("%d results, want 1", len(r.Results))
			}
			res := r.Results[0]
			if res.Text != tt.wantText || res.FinishReason != tt.wantFin {
				t.Errorf("text %q finish %q, want %q %q", res.Text, res.FinishReason, tt.wantText, tt.wantFin)
			}
			if tt.wantClass != "" && res.Err == nil && res.FinishReason == "" {
				t.Error("an unfinished result of a failed stream lacks its Result.Err")
			}
		})
	}
}

// Chunks with resultIndex build one result per index.
func TestStreamResultIndex(t *testing.T) {
	body := "data: {\"resultIndex\":1,\"delta\":{\"text\":\"B\"}}\ndata: {\"resultIndex\":0,\"delta\":{\"text\":\"A\"}}\n" +
		"data: {\"resultIndex\":0,\"finishReason\":\"stop\"}\ndata: {\"resultIndex\":1,\"finishReason\":\"stop\"}\ndata: [DONE]\n"
	r, _ := doSSE(t, 200, "text/event-stream", body)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	want := []Result{
		{TaskType: TaskTextInference, TaskUUID: "t1", Text: "A", FinishReason: "stop", ResultIndex: ptr(0)},
		{TaskType: TaskTextInference, TaskUUID: "t1", Text: "B", FinishReason: "stop", ResultIndex: ptr(1)},
	}
	if diff := cmp.Diff(want, r.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// Answers that are not SSE are decoded like sync answers: a pre-stream error
// status with a JSON body, and a JSON success body.
func TestStreamNonSSEAnswers(t *testing.T) {
	t.Run("pre-stream 401", func(t *testing.T) {
		r, _ := doSSE(t, 401, "application/json", `{"error":{"code":"invalidApiKey","message":"no auth"},"taskUUID":"t1","taskType":"textInference"}`)
		if r.Err == nil || r.Err.Class != ClassAuth || r.Err.Code != "invalidApiKey" || r.HTTPStatus != 401 {
			t.Fatalf("err %+v status %d, want invalidApiKey/auth/401", r.Err, r.HTTPStatus)
		}
	})
	t.Run("JSON success", func(t *testing.T) {
		r, _ := doSSE(t, 200, "", `{"data":[{"taskUUID":"t1","text":"whole","finishReason":"stop"}]}`)
		if r.Err != nil || len(r.Results) != 1 || r.Results[0].Text != "whole" {
			t.Fatalf("got %+v, want the JSON result", r)
		}
	})
	t.Run("SSE without content type", func(t *testing.T) {
		r, _ := doSSE(t, 200, "", "\ndata: {\"delta\":{\"text\":\"s\"}}\ndata: [DONE]\n")
		if r.Err != nil || len(r.Results) != 1 || r.Results[0].Text != "s" {
			t.Fatalf("got %+v %v, want the streamed result", r.Results, r.Err)
		}
	})
}

// Every SSE payload Runware's SDK tests feed their parsers is read without a
// parse error: whole bodies end cleanly, and each single line is either
// skipped, [DONE], a chunk, or an API error event (never malformed).
func TestStreamReferencePayloads(t *testing.T) {
	dir := sharedPayloads(t, "native-sse")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(e.Name(), func(t *testing.T) {
			if strings.HasSuffix(e.Name(), ".sse") {
				st := newNativeStream(streamTask(), &Timings{})
				if rerr := readStreamTest(strings.NewReader(string(b)), st.feed); rerr != nil {
					t.Fatal(rerr)
				}
				if _, err := st.finish(nil); err != nil {
					t.Errorf("finish: %v", err)
				}
				return
			}
			for _, line := range strings.Split(string(b), "\n") {
				got, err := readAll(strings.NewReader(line + "\n"))
				if err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				for _, p := range got {
					st := newNativeStream(streamTask(), &Timings{})
					st.feed([]byte(p), time.Now())
					if st.err != nil && st.err.Class == ClassMalformed {
						t.Errorf("line %q: %v", line, st.err)
					}
				}
			}
		})
	}
}
