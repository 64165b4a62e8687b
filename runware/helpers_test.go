package runware

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is a realistic-looking key; tests assert it never leaks.
const testKey = "rw-test-key-0123456789abcdef"

// recorded is one request as the test server saw it.
type recorded struct {
	header http.Header
	path   string
	body   []byte
}

// recorder collects the requests a test server receives.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) add(req *http.Request) []byte {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, recorded{header: req.Header.Clone(), path: req.URL.Path, body: b})
	return b
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// serve starts a loopback server whose handler gets the decoded task array.
// It returns a client pointed at it and the recorder.
func serve(t *testing.T, h func(w http.ResponseWriter, tasks []map[string]any, body []byte), opts ...Option) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := rec.add(r)
		var tasks []map[string]any
		_ = json.Unmarshal(body, &tasks)
		h(w, tasks, body)
	}))
	t.Cleanup(srv.Close)
	opts = append([]Option{WithEndpoint(srv.URL + "/v1")}, opts...)
	return NewClient(testKey, opts...), rec
}

// writeJSON answers with status and a raw JSON body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// textTask is a minimal valid textInference task.
func textTask(id string) Task {
	return Task{TaskType: TaskTextInference, TaskUUID: id, Model: KimiK26AIR,
		Messages: []Message{{Role: "user", Content: "What is the capital of France?"}}}
}

// str returns the string of a task field decoded from JSON.
func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// sharedPayloads returns ../shared/reference/payloads/<sub> relative to the
// module root, skipping the test when it is absent.
func sharedPayloads(t *testing.T, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "reference", "payloads", sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("reference payloads absent: %v", err)
	}
	return p
}

// allErrorText gathers every error string of responses, for leak checks.
func allErrorText(resps []*Response) string {
	var b strings.Builder
	for _, r := range resps {
		if r.Err != nil {
			b.WriteString(r.Err.Error())
			b.WriteString(r.Err.Code + r.Err.Parameter + r.Err.Doc)
		}
		for _, res := range r.Results {
			if res.Err != nil {
				b.WriteString(res.Err.Error())
			}
		}
	}
	return b.String()
}

// roundTripFunc adapts a function to http.RoundTripper, for tests that need
// no socket (inside synctest bubbles).
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// handlerTransport serves requests in memory with h.
func handlerTransport(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, r)
		if err := r.Context().Err(); err != nil {
			return nil, err
		}
		return rw.Result(), nil
	})}
}

// readStreamTest feeds the SSE payloads of body to feed with a default client.
func readStreamTest(body io.Reader, feed func([]byte, time.Time) bool) *Error {
	c := NewClient(testKey)
	ex := &exchange{resp: &http.Response{Body: io.NopCloser(body)}}
	return c.readStream(context.Background(), ex, feed)
}
