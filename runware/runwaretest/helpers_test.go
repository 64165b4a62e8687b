package runwaretest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

const testKey = "sk-test-1"

// newTestServer starts a simulator without delays and closes it with t.
func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// resp is a decoded HTTP response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// envelope is the native response body.
type envelope struct {
	Data   []map[string]any `json:"data"`
	Errors []apiError       `json:"errors"`
}

func (r resp) envelope(t *testing.T) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("decode body %q: %v", r.body, err)
	}
	return e
}

// post sends body (marshalled unless it is a string) with a bearer key
// (none when key is empty).
func post(t *testing.T, url, key string, body any) resp {
	t.Helper()
	return postWith(t, url, key, nil, body)
}

// postHeader is post with testKey and extra request headers.
func postHeader(t *testing.T, url string, header map[string]string, body any) resp {
	t.Helper()
	return postWith(t, url, testKey, header, body)
}

// postWith is post with extra request headers (which may replace
// Content-Type; an empty value deletes a header).
func postWith(t *testing.T, url, key string, header map[string]string, body any) resp {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp{res.StatusCode, res.Header, out}
}

var uuidCounter int

// newUUID returns a fresh, well-formed task UUID.
func newUUID() string {
	uuidCounter++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", uuidCounter)
}

// task returns a valid textInference task asking prompt; edits modify it.
func task(prompt string, edits ...func(map[string]any)) map[string]any {
	m := map[string]any{
		"taskType": "textInference",
		"taskUUID": newUUID(),
		"model":    "moonshotai:kimi@k2.6",
		"messages": []any{map[string]any{"role": "user", "content": prompt}},
	}
	for _, e := range edits {
		e(m)
	}
	return m
}

func settings(m map[string]any) map[string]any {
	s, ok := m["settings"].(map[string]any)
	if !ok {
		s = map[string]any{}
		m["settings"] = s
	}
	return s
}

func with(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }

func withSetting(k string, v any) func(map[string]any) {
	return func(m map[string]any) { settings(m)[k] = v }
}

// sseEvents splits an SSE body into its data payloads.
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	for _, block := range strings.Split(string(body), "\n\n") {
		if block == "" {
			continue
		}
		if !strings.HasPrefix(block, "data: ") {
			t.Fatalf("event %q is not a data line", block)
		}
		out = append(out, strings.TrimPrefix(block, "data: "))
	}
	return out
}
