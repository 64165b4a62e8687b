package runware

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Runware's test-stream fixture ends with an error event after a chunk that
// carried finishReason: the task is an error and so is every result, not a
// success with the error dropped.
func TestStreamErrorAfterFinishReason(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedPayloads(t, "native-sse"), "runware-typescript_test-stream.test.ts_lines.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var tm Timings
	st := newNativeStream(textTask("abc-123"), &tm)
	if rerr := readStreamTest(strings.NewReader(string(b)), st.feed); rerr != nil {
		t.Fatal(rerr)
	}
	results, taskErr := st.finish(nil)
	if taskErr == nil || taskErr.Code != "timeoutProvider" {
		t.Fatalf("task err = %v, want timeoutProvider", taskErr)
	}
	for i, r := range results {
		if r.Err == nil {
			t.Errorf("result %d (finishReason %q) has no error: the in-stream error was dropped", i, r.FinishReason)
		}
	}
}

// The same over the OpenAI-compatible stream: an error object after a choice
// finished fails that choice.
func TestChatStreamErrorAfterFinish(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(`data: {"choices":[{"index":0,"delta":{"content":"Paris"},"finish_reason":"stop"}]}` + "\n\n" +
			`data: {"error":{"message":"upstream died","type":"server_error"}}` + "\n\ndata: [DONE]\n\n"))
	})
	task := textTask("a")
	task.DeliveryMethod = DeliveryStream
	resp, err := c.Chat(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Err == nil || len(resp.Results) != 1 || resp.Results[0].Err == nil {
		t.Fatalf("err = %v, results = %+v: want the finished choice failed", resp.Err, resp.Results)
	}
}

// An authentication item and an image result (Runware's own fixtures) are
// not successful empty answers.
func TestNonTextItemsRejected(t *testing.T) {
	dir := sharedPayloads(t, "native-json")
	for _, name := range []string{
		"runware-typescript_sync-delivery.test.ts_ws-auth-success.json",
		"runware-typescript_sync-delivery.test.ts_rest-sync-success.json",
	} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			c, _ := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) { writeJSON(w, 200, string(body)) })
			resps, err := c.Do(context.Background(), []Task{textTask("sync-1")})
			if err != nil {
				t.Fatal(err)
			}
			if resps[0].Err == nil {
				t.Fatalf("accepted %s as a successful answer: %+v", name, resps[0].Results)
			}
		})
	}
	// A polled item with status success but no text field fails too.
	if r := decodeItem([]byte(`{"taskUUID":"a","status":"success","imageURL":"x"}`), 200); r.Err == nil {
		t.Error("status success without text accepted")
	}
	// A real empty answer stays a success.
	if r := decodeItem([]byte(`{"taskUUID":"a","status":"success","text":"","finishReason":"length"}`), 200); r.Err != nil {
		t.Errorf("empty text answer rejected: %v", r.Err)
	}
}

// With numberResults 2 over the OpenAI-compatible endpoint, the one usage
// object is request-level (Response.Usage), not the first result's.
func TestChatSharedUsage(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) {
		writeJSON(w, 200, `{"choices":[{"index":0,"message":{"content":"a"},"finish_reason":"stop"},`+
			`{"index":1,"message":{"content":"b"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":10,"completion_tokens":400,"total_tokens":410,"completion_tokens_details":{"reasoning_tokens":300}}}`)
	})
	task := textTask("a")
	task.NumberResults = 2
	resp, err := c.Chat(context.Background(), task)
	if err != nil || resp.Err != nil {
		t.Fatal(err, resp.Err)
	}
	if resp.Usage == nil || resp.Usage.ThinkingTokens != 300 {
		t.Errorf("Response.Usage = %+v, want the request's usage", resp.Usage)
	}
	for i, r := range resp.Results {
		if r.Usage != nil {
			t.Errorf("result %d carries usage %+v, want none", i, r.Usage)
		}
	}
}
