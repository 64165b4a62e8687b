package runwaretest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// chunk is a decoded native stream event.
type chunk struct {
	TaskUUID     string            `json:"taskUUID"`
	TaskType     string            `json:"taskType"`
	Delta        map[string]any    `json:"delta"`
	FinishReason *string           `json:"finishReason"`
	Usage        map[string]int    `json:"usage"`
	Cost         *float64          `json:"cost"`
	Errors       []json.RawMessage `json:"errors"`
}

func decodeChunks(t *testing.T, events []string) []chunk {
	t.Helper()
	var out []chunk
	for _, ev := range events {
		if ev == "[DONE]" {
			continue
		}
		var c chunk
		if err := json.Unmarshal([]byte(ev), &c); err != nil {
			t.Fatalf("event %q: %v", ev, err)
		}
		out = append(out, c)
	}
	return out
}

// A stream with thinking sends reasoning deltas, then text deltas, then a
// final chunk with usage and cost, then [DONE]; the deltas add up to the
// sync text of the same request.
func TestStreamEventOrder(t *testing.T) {
	s := newTestServer(t, Options{})
	mk := func(delivery string) map[string]any {
		return task("Explain tides", with("deliveryMethod", delivery), with("seed", 9), withSetting("thinkingLevel", "low"),
			with("includeUsage", true), with("includeCost", true))
	}
	tk := mk("stream")
	r := post(t, s.URL(), testKey, []any{tk})
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d content-type %q", r.status, r.header.Get("Content-Type"))
	}
	events := sseEvents(t, r.body)
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("last event %q, want [DONE]", events[len(events)-1])
	}
	chunks := decodeChunks(t, events)
	var reasoning, text strings.Builder
	phase := 0 // 0 reasoning, 1 text, 2 final
	for i, c := range chunks {
		if c.TaskUUID != tk["taskUUID"] || c.TaskType != "textInference" || c.Delta == nil {
			t.Fatalf("chunk %d: %+v", i, c)
		}
		switch {
		case c.Delta["reasoningContent"] != nil:
			if phase != 0 || c.FinishReason != nil {
				t.Fatalf("reasoning delta after text at %d", i)
			}
			reasoning.WriteString(c.Delta["reasoningContent"].(string))
		case c.Delta["text"] != nil:
			if phase > 1 || c.FinishReason != nil {
				t.Fatalf("text delta out of order at %d", i)
			}
			phase = 1
			text.WriteString(c.Delta["text"].(string))
		default:
			if i != len(chunks)-1 || c.FinishReason == nil || *c.FinishReason != "stop" || c.Usage == nil || c.Cost == nil {
				t.Fatalf("final chunk %d: %+v", i, c)
			}
			phase = 2
		}
	}
	if phase != 2 || reasoning.Len() == 0 {
		t.Fatalf("phases incomplete: phase %d reasoning %d chars", phase, reasoning.Len())
	}
	final := chunks[len(chunks)-1]
	if final.Usage["thinkingTokens"] != CountTokens(reasoning.String()) ||
		final.Usage["completionTokens"] != CountTokens(text.String())+final.Usage["thinkingTokens"] {
		t.Fatalf("usage %v vs streamed reasoning %d text %d tokens", final.Usage, CountTokens(reasoning.String()), CountTokens(text.String()))
	}
	sync := syncResults(t, s, mk("sync"))[0]
	if sync["text"] != text.String() {
		t.Fatalf("stream text %q != sync text %q", text.String(), sync["text"])
	}
}

// Without thinking there are no reasoning deltas, and without include flags
// the final chunk has neither usage nor cost.
func TestStreamNoThinkingNoFlags(t *testing.T) {
	s := newTestServer(t, Options{})
	r := post(t, s.URL(), testKey, []any{task("hi", with("deliveryMethod", "stream"))})
	chunks := decodeChunks(t, sseEvents(t, r.body))
	for _, c := range chunks {
		if c.Delta["reasoningContent"] != nil {
			t.Fatal("reasoning delta with thinkingLevel none")
		}
	}
	final := chunks[len(chunks)-1]
	if final.Usage != nil || final.Cost != nil || final.FinishReason == nil {
		t.Fatalf("final chunk %+v", final)
	}
}

// A stream task must be alone in its request (simulator choice).
func TestStreamInBatchRefused(t *testing.T) {
	s := newTestServer(t, Options{})
	r := post(t, s.URL(), testKey, []any{task("a", with("deliveryMethod", "stream")), task("b")})
	e := r.envelope(t)
	if len(e.Errors) != 1 || e.Errors[0].Code != "invalidDeliveryMethod" || len(e.Data) != 1 {
		t.Fatalf("body %s", r.body)
	}
}

// A validation error on a stream task is a plain JSON 400, not an SSE stream.
func TestStreamValidationError(t *testing.T) {
	s := newTestServer(t, Options{})
	r := post(t, s.URL(), testKey, []any{task("a", with("deliveryMethod", "stream"), withSetting("topK", -1))})
	if r.status != http.StatusBadRequest || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d content-type %q", r.status, r.header.Get("Content-Type"))
	}
}

// timedRecorder records, in the (fake) clock of a synctest bubble, when each
// SSE event is written.
type timedRecorder struct {
	*httptest.ResponseRecorder
	times []time.Time
}

func (r *timedRecorder) Write(b []byte) (int, error) {
	if bytes.HasPrefix(b, []byte("data: ")) {
		r.times = append(r.times, time.Now())
	}
	return r.ResponseRecorder.Write(b)
}

// The latency model: the first delta waits TTFT, each later delta waits its
// tokens times the per-token time, all multiplied by TimeScale.
func TestStreamLatencyModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{TimeScale: 2, Scenarios: []Scenario{{
			Match:          Match{Exact: "go"},
			Answer:         "abcd efgh",                         // deltas "abcd " (2 tokens) and "efgh" (1 token)
			TTFT:           map[string]Dist{"low": {Mean: 100}}, // ms
			TokenTime:      Dist{Mean: 10},                      // ms per token
			ThinkingTokens: map[string]Dist{"low": {Mean: 8}},   // two reasoning deltas of 4 tokens
		}}})
		defer h.Close()
		body, _ := json.Marshal([]any{task("go", with("deliveryMethod", "stream"), withSetting("thinkingLevel", "low"))})
		req := httptest.NewRequest(http.MethodPost, "/v1", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		rec := &timedRecorder{ResponseRecorder: httptest.NewRecorder()}
		start := time.Now()
		h.ServeHTTP(rec, req)
		var got []time.Duration
		for _, tm := range rec.times {
			got = append(got, tm.Sub(start))
		}
		ms := time.Millisecond
		// reasoning 4 tok: (100+40)*2; reasoning 4 tok: +80; "abcd " 2 tok: +40; "efgh" 1 tok: +20; final and [DONE] at once.
		want := []time.Duration{280 * ms, 360 * ms, 400 * ms, 420 * ms, 420 * ms, 420 * ms}
		if len(got) != len(want) {
			t.Fatalf("event times %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("event times %v, want %v", got, want)
			}
		}
	})
}

// A sync response arrives after the slowest result's full generation time.
func TestSyncLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{TimeScale: 1, Scenarios: []Scenario{{
			Match: Match{Exact: "go"}, Answer: "abcdefgh", // 2 tokens
			TTFT: map[string]Dist{"none": {Mean: 50}}, TokenTime: Dist{Mean: 5},
		}}})
		defer h.Close()
		body, _ := json.Marshal([]any{task("go")})
		req := httptest.NewRequest(http.MethodPost, "/v1", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		start := time.Now()
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got := time.Since(start); got != 60*time.Millisecond {
			t.Fatalf("sync took %v, want 60ms", got)
		}
	})
}
