package runware

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestWSURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.runware.ai/v1":     "wss://ws-api.runware.ai/v1",
		"http://127.0.0.1:8080/v1":      "ws://127.0.0.1:8080/v1",
		"wss://ws-api.runware.ai/v1":    "wss://ws-api.runware.ai/v1",
		"ws://127.0.0.1:1/v1?sdk=go":    "ws://127.0.0.1:1/v1?sdk=go",
		"HTTPS://API.RUNWARE.AI:443/v1": "wss://ws-api.runware.ai:443/v1",
	} {
		if got, err := WSURL(in); err != nil || got != want {
			t.Errorf("WSURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://x/v1", "/v1", "::"} {
		if _, err := WSURL(bad); err == nil {
			t.Errorf("WSURL(%q) accepted", bad)
		}
	}
}

// NewWS applies the key checks of New and never quotes the key.
func TestNewWSChecks(t *testing.T) {
	if _, err := NewWS("short", ""); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := NewWS(testKey, "ftp://"+testKey+"@x/v1"); err == nil || strings.Contains(err.Error(), testKey) {
		t.Fatalf("bad endpoint: %v", err)
	}
	w, err := NewWS(testKey, "")
	if err != nil || w.URL() != DefaultWSEndpoint {
		t.Fatalf("default endpoint: %v %v", w, err)
	}
	w.Close()
	if _, err := w.Do(context.Background(), []Task{{Model: KimiK26AIR}}); err == nil {
		t.Fatal("Do after Close accepted")
	}
}

// fakeWS is a scripted WebSocket server: it acknowledges authentication
// with session "s1" (or refuses), then hands every task frame to onTasks.
type fakeWS struct {
	srv *httptest.Server

	mu       sync.Mutex
	conns    int
	auths    []map[string]string // authentication tasks received, in order
	pings    int
	noPong   bool               // do not answer pings
	session  func(n int) string // session UUID for connection n (1-based)
	refuse   bool
	onTasks  func(n int, c *websocket.Conn, tasks []map[string]any)
	onAuth   func(n int, c *websocket.Conn) // after the acknowledgement
	received []string                       // taskUUIDs received, in order
}

func newFakeWS(t *testing.T) *fakeWS {
	f := &fakeWS{session: func(int) string { return "s1" }}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		f.mu.Lock()
		f.conns++
		n := f.conns
		f.mu.Unlock()
		ctx := r.Context()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var tasks []map[string]any
			if json.Unmarshal(b, &tasks) != nil {
				continue
			}
			var work []map[string]any
			for _, tk := range tasks {
				switch tk["taskType"] {
				case "authentication":
					a := map[string]string{}
					for k, v := range tk {
						a[k], _ = v.(string)
					}
					f.mu.Lock()
					f.auths = append(f.auths, a)
					refuse, sess := f.refuse, f.session(n)
					f.mu.Unlock()
					if refuse {
						wsWrite(c, map[string]any{"errors": []any{map[string]any{"code": "invalidApiKey", "taskType": "authentication",
							"message": "Invalid API key " + a["apiKey"]}}})
						c.Close(websocket.StatusPolicyViolation, "")
						return
					}
					wsWrite(c, map[string]any{"data": []any{map[string]any{"taskType": "authentication", "connectionSessionUUID": sess}}})
					if f.onAuth != nil {
						go f.onAuth(n, c)
					}
				case "ping":
					f.mu.Lock()
					f.pings++
					noPong := f.noPong
					f.mu.Unlock()
					if !noPong {
						wsWrite(c, map[string]any{"data": []any{map[string]any{"taskType": "ping", "pong": true}}})
					}
				default:
					f.mu.Lock()
					f.received = append(f.received, tk["taskUUID"].(string))
					f.mu.Unlock()
					work = append(work, tk)
				}
			}
			if len(work) > 0 && f.onTasks != nil {
				f.onTasks(n, c, work)
			}
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func wsWrite(c *websocket.Conn, v any) {
	b, _ := json.Marshal(v)
	c.Write(context.Background(), websocket.MessageText, b)
}

func answer(tk map[string]any, text string) map[string]any {
	return map[string]any{"data": []any{map[string]any{"taskType": "textInference", "taskUUID": tk["taskUUID"], "text": text, "finishReason": "stop"}}}
}

func (f *fakeWS) client(t *testing.T, opts ...Option) *WSClient {
	opts = append([]Option{WithRequestTimeout(30 * time.Second)}, opts...) // a broken client fails, not hangs
	w, err := NewWS(testKey, f.srv.URL+"/v1", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func (f *fakeWS) snapshot() (conns int, auths []map[string]string, pings int, received []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns, append([]map[string]string(nil), f.auths...), f.pings, append([]string(nil), f.received...)
}

func wsDo(t *testing.T, w *WSClient, tasks ...Task) []*Response {
	t.Helper()
	resps, err := w.Do(context.Background(), tasks)
	if err != nil {
		t.Fatal(err)
	}
	return resps
}

func kimi(prompt string) Task {
	return Task{Model: KimiK26AIR, Messages: []Message{{Role: "user", Content: prompt}}}
}

// Keep-alive: the client pings; when pongs stop coming it drops the
// connection, re-authenticates with the session's connectionSessionUUID and
// sends the unanswered task again, which is then answered.
func TestWSPongTimeoutReconnects(t *testing.T) {
	f := newFakeWS(t)
	f.noPong = true
	f.onTasks = func(n int, c *websocket.Conn, tasks []map[string]any) {
		if n == 1 {
			return // the first connection never answers
		}
		for _, tk := range tasks {
			wsWrite(c, answer(tk, "second connection"))
		}
	}
	w := f.client(t, WithPingInterval(5*time.Millisecond), WithPongTimeout(20*time.Millisecond))
	r := wsDo(t, w, kimi("hi"))[0]
	if r.Err != nil || r.Results[0].Text != "second connection" {
		t.Fatalf("got %+v / %v", r.Results, r.Err)
	}
	conns, auths, pings, received := f.snapshot()
	if conns < 2 || pings == 0 || len(auths) < 2 || auths[0]["connectionSessionUUID"] != "" || auths[1]["connectionSessionUUID"] != "s1" {
		t.Fatalf("conns %d, pings %d, auths %v", conns, pings, auths)
	}
	if len(received) < 2 || received[0] != r.TaskUUID || received[1] != r.TaskUUID {
		t.Fatalf("received %v", received)
	}
}

// Pings answered in time keep the connection: one connection only.
func TestWSPingsKeepConnection(t *testing.T) {
	f := newFakeWS(t)
	release := make(chan struct{})
	f.onTasks = func(n int, c *websocket.Conn, tasks []map[string]any) {
		go func() {
			<-release
			for _, tk := range tasks {
				wsWrite(c, answer(tk, "ok"))
			}
		}()
	}
	w := f.client(t, WithPingInterval(time.Millisecond), WithPongTimeout(time.Minute))
	done := make(chan *Response)
	go func() { done <- wsDo(t, w, kimi("hi"))[0] }()
	for {
		if _, _, pings, _ := f.snapshot(); pings >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	r := <-done
	if conns, _, _, _ := f.snapshot(); r.Err != nil || conns != 1 {
		t.Fatalf("err %v, %d connections", r.Err, conns)
	}
}

// After a drop into a new session (the server did not resume), a partly
// answered stream fails as cut off and is not sent again; an unanswered task
// is sent again and answered.
func TestWSNewSessionAfterDrop(t *testing.T) {
	f := newFakeWS(t)
	f.session = func(n int) string { return map[int]string{1: "s1", 2: "s2"}[n] }
	f.onTasks = func(n int, c *websocket.Conn, tasks []map[string]any) {
		for _, tk := range tasks {
			switch {
			case n == 1 && tk["deliveryMethod"] == "stream":
				wsWrite(c, map[string]any{"data": []any{map[string]any{"taskUUID": tk["taskUUID"], "delta": map[string]any{"text": "Once"}}}})
			case n == 1:
				c.CloseNow() // drops the connection without answering
			default:
				wsWrite(c, answer(tk, "again"))
			}
		}
	}
	w := f.client(t)
	st := kimi("story")
	st.DeliveryMethod = DeliveryStream
	got := make(chan *Response)
	go func() { got <- wsDo(t, w, st)[0] }()
	for {
		if _, _, _, rec := f.snapshot(); len(rec) == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // let the delta arrive (not a timing assertion)
	r := wsDo(t, w, kimi("plain"))[0]
	if r.Err != nil || r.Results[0].Text != "again" {
		t.Fatalf("unanswered task: %+v / %v", r.Results, r.Err)
	}
	s := <-got
	if s.Err == nil || s.Err.Class != ClassTruncated || len(s.Results) != 1 || s.Results[0].Text != "Once" {
		t.Fatalf("stream: err %+v, results %+v", s.Err, s.Results)
	}
	_, _, _, received := f.snapshot()
	n := 0
	for _, id := range received {
		if id == s.TaskUUID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the partly answered stream was sent %d times: %v", n, received)
	}
}

// An error frame without taskUUID reaches every task waiting on the
// connection; one with a taskUUID only its task.
func TestWSErrorRouting(t *testing.T) {
	f := newFakeWS(t)
	var mu sync.Mutex
	var got []map[string]any
	f.onTasks = func(n int, c *websocket.Conn, tasks []map[string]any) {
		mu.Lock()
		got = append(got, tasks...)
		k := len(got)
		mu.Unlock()
		if k < 3 {
			return
		}
		wsWrite(c, map[string]any{"errors": []any{map[string]any{"code": "invalidModel", "message": "bad", "taskUUID": got[0]["taskUUID"]}}})
		wsWrite(c, map[string]any{"errors": []any{map[string]any{"code": "serverError", "message": "boom"}}})
	}
	w := f.client(t)
	var wg sync.WaitGroup
	resps := make([]*Response, 3)
	ids := []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"}
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := kimi("hi")
			tk.TaskUUID = ids[i]
			resps[i] = wsDo(t, w, tk)[0]
		}()
		for { // send in order, so got[0] is ids[0]
			if _, _, _, rec := f.snapshot(); len(rec) == i+1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	if e := resps[0].Err; e == nil || e.Code != "invalidModel" || e.Class != ClassValidation {
		t.Fatalf("task 0: %+v", e)
	}
	for _, r := range resps[1:] {
		if r.Err == nil || r.Err.Message != "boom" || r.Err.Class != ClassServer || r.Err.TaskUUID != r.TaskUUID {
			t.Fatalf("task %s: %+v", r.TaskUUID, r.Err)
		}
	}
}

// A frame past the frame limit fails the waiting task with resultTooLarge;
// the task is not sent again.
func TestWSFrameLimit(t *testing.T) {
	f := newFakeWS(t)
	f.onTasks = func(n int, c *websocket.Conn, tasks []map[string]any) {
		for _, tk := range tasks {
			a := answer(tk, "ok")
			a["data"].([]any)[0].(map[string]any)["padding"] = strings.Repeat("x", 2<<20)
			wsWrite(c, a)
		}
	}
	w := f.client(t, WithMaxResultBytes(1000)) // frame limit 1 MiB + 8000 bytes
	r := wsDo(t, w, kimi("hi"))[0]
	if r.Err == nil || r.Err.Code != CodeResultTooLarge {
		t.Fatalf("err %+v", r.Err)
	}
	if _, _, _, rec := f.snapshot(); len(rec) != 1 {
		t.Fatalf("sent %d times", len(rec))
	}
}

// A refused key fails with class auth, the key redacted from the message;
// misuse is an error: async delivery, a taskUUID already waiting.
func TestWSRefusedAndMisuse(t *testing.T) {
	f := newFakeWS(t)
	f.refuse = true
	w := f.client(t)
	r := wsDo(t, w, kimi("hi"))[0]
	if r.Err == nil || r.Err.Class != ClassAuth || strings.Contains(r.Err.Error(), testKey) || !strings.Contains(r.Err.Message, "[redacted]") {
		t.Fatalf("err %+v", r.Err)
	}

	g := newFakeWS(t) // never answers
	w2 := g.client(t)
	tk := kimi("hi")
	tk.TaskUUID = "00000000-0000-4000-8000-000000000009"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Response)
	go func() {
		resps, _ := w2.Do(ctx, []Task{tk})
		done <- resps[0]
	}()
	for {
		if _, _, _, rec := g.snapshot(); len(rec) == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := w2.Do(context.Background(), []Task{tk}); err == nil {
		t.Fatal("a taskUUID already waiting was accepted")
	}
	cancel()
	if r := <-done; r.Err == nil || r.Err.Code != "aborted" || r.Timings.Dispatched.IsZero() {
		t.Fatalf("cancelled: %+v %+v", r.Err, r.Timings)
	}
}

// Close fails the tasks still waiting with code aborted.
func TestWSCloseFailsPending(t *testing.T) {
	f := newFakeWS(t)
	w := f.client(t)
	done := make(chan *Response)
	go func() { done <- wsDo(t, w, kimi("hi"))[0] }()
	for {
		if _, _, _, rec := f.snapshot(); len(rec) == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.Err == nil || r.Err.Code != "aborted" {
		t.Fatalf("err %+v", r.Err)
	}
}

// A resumed session (same connectionSessionUUID) delivers the rest of a
// partly answered stream on the new connection; the task is not sent again.
func TestWSResumedSessionNoResend(t *testing.T) {
	f := newFakeWS(t)
	var mu sync.Mutex
	var uuid any
	f.onTasks = func(n int, c *websocket.Conn, tasks []map[string]any) {
		mu.Lock()
		uuid = tasks[0]["taskUUID"]
		mu.Unlock()
		if n == 1 {
			wsWrite(c, map[string]any{"data": []any{map[string]any{"taskUUID": uuid, "delta": map[string]any{"text": "Once "}}}})
			time.Sleep(10 * time.Millisecond) // let it arrive before the drop (not a timing assertion)
			c.CloseNow()
		}
	}
	f.onAuth = func(n int, c *websocket.Conn) {
		if n < 2 {
			return
		}
		mu.Lock()
		id := uuid
		mu.Unlock()
		time.Sleep(50 * time.Millisecond) // room for a wrong resend to arrive first (not a timing assertion)
		wsWrite(c, map[string]any{"data": []any{map[string]any{"taskUUID": id, "delta": map[string]any{"text": "upon a time"}}}})
		wsWrite(c, map[string]any{"data": []any{map[string]any{"taskUUID": id, "finishReason": "stop"}}})
		wsWrite(c, map[string]any{"data": []any{map[string]any{"taskUUID": id, "done": true}}})
	}
	st := kimi("story")
	st.DeliveryMethod = DeliveryStream
	r := wsDo(t, f.client(t), st)[0]
	if r.Err != nil || len(r.Results) != 1 || r.Results[0].Text != "Once upon a time" {
		t.Fatalf("err %v, results %+v", r.Err, r.Results)
	}
	if _, auths, _, rec := f.snapshot(); len(rec) != 1 || len(auths) != 2 || auths[1]["connectionSessionUUID"] != "s1" {
		t.Fatalf("received %v, auths %v", rec, auths)
	}
}

// The idle timeout is the pause between events, not the stream's length:
// a stream longer than it, with short pauses, succeeds.
func TestWSIdleTimeoutResets(t *testing.T) {
	f := newFakeWS(t)
	f.onTasks = func(n int, c *websocket.Conn, tasks []map[string]any) {
		id := tasks[0]["taskUUID"]
		go func() {
			for range 20 {
				time.Sleep(50 * time.Millisecond)
				wsWrite(c, map[string]any{"data": []any{map[string]any{"taskUUID": id, "delta": map[string]any{"text": "a"}}}})
			}
			wsWrite(c, map[string]any{"data": []any{map[string]any{"taskUUID": id, "finishReason": "stop"}}})
			wsWrite(c, map[string]any{"data": []any{map[string]any{"taskUUID": id, "done": true}}})
		}()
	}
	st := kimi("story")
	st.DeliveryMethod = DeliveryStream
	r := wsDo(t, f.client(t, WithIdleTimeout(500*time.Millisecond)), st)[0]
	if r.Err != nil || r.Results[0].Text != strings.Repeat("a", 20) {
		t.Fatalf("err %v, results %+v", r.Err, r.Results)
	}
}
