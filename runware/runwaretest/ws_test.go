package runwaretest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsFrame is a decoded server frame.
type wsFrame struct {
	Data   []map[string]any `json:"data"`
	Errors []map[string]any `json:"errors"`
}

type wsPeer struct {
	t *testing.T
	c *websocket.Conn
}

// dialWS opens a raw WebSocket to the simulator (suffix is appended to the
// URL, e.g. a query string).
func dialWS(t *testing.T, s *Server, suffix string) *wsPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.WebSocketURL()+suffix, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &wsPeer{t: t, c: c}
}

func (p *wsPeer) send(v any) {
	p.t.Helper()
	b, _ := json.Marshal(v)
	if err := p.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *wsPeer) read() (wsFrame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := p.c.Read(ctx)
	if err != nil {
		return wsFrame{}, err
	}
	var f wsFrame
	if err := json.Unmarshal(b, &f); err != nil {
		p.t.Fatalf("frame %s: %v", b, err)
	}
	return f, nil
}

func (p *wsPeer) mustRead() wsFrame {
	p.t.Helper()
	f, err := p.read()
	if err != nil {
		p.t.Fatal(err)
	}
	return f
}

// auth authenticates and returns the connectionSessionUUID, skipping (and
// returning) frames replayed before the acknowledgement.
func (p *wsPeer) auth(session string) (string, []wsFrame) {
	p.t.Helper()
	a := map[string]any{"taskType": "authentication", "apiKey": testKey}
	if session != "" {
		a["connectionSessionUUID"] = session
	}
	p.send([]any{a})
	var before []wsFrame
	for {
		f := p.mustRead()
		if len(f.Data) == 1 && f.Data[0]["taskType"] == "authentication" {
			id, _ := f.Data[0]["connectionSessionUUID"].(string)
			if id == "" {
				p.t.Fatalf("acknowledgement without connectionSessionUUID: %+v", f)
			}
			return id, before
		}
		before = append(before, f)
	}
}

// The endpoint accepts the sdk-js query string, authenticates, answers
// pings, and multiplexes tasks of several frames, each answer carrying its
// taskUUID.
func TestWSEndpointProtocol(t *testing.T) {
	s := newTestServer(t, Options{APIKeys: []string{testKey}, TimeScale: 0.01})
	p := dialWS(t, s, "?sdk=js&version=1.3.2")
	if _, before := p.auth(""); len(before) != 0 {
		t.Fatalf("frames before the acknowledgement: %+v", before)
	}
	p.send([]any{map[string]any{"taskType": "ping", "ping": true}})
	if f := p.mustRead(); len(f.Data) != 1 || f.Data[0]["taskType"] != "ping" || f.Data[0]["pong"] != true {
		t.Fatalf("pong frame %+v", f)
	}
	// A slow task and a fast one in separate frames: the fast one is answered first.
	slow := task("slow", withSetting("thinkingLevel", "xhigh"))
	fast := task("fast")
	p.send([]any{slow})
	p.send([]any{fast})
	got := map[string]string{}
	var order []string
	for len(got) < 2 {
		f := p.mustRead()
		for _, d := range f.Data {
			id, _ := d["taskUUID"].(string)
			text, _ := d["text"].(string)
			got[id] = text
			order = append(order, id)
		}
	}
	if !strings.Contains(got[slow["taskUUID"].(string)], "slow") || !strings.Contains(got[fast["taskUUID"].(string)], "fast") {
		t.Fatalf("answers %v", got)
	}
	if order[0] != fast["taskUUID"] {
		t.Fatalf("answers not multiplexed: %v", order)
	}
	ws := s.Stats().WebSocket
	if ws.Connections != 1 || ws.Frames != 2 || ws.Pings != 1 {
		t.Fatalf("stats %+v", ws)
	}
}

// A bad key gets the invalidApiKey errors frame, then close 1008.
func TestWSEndpointBadKey(t *testing.T) {
	s := newTestServer(t, Options{APIKeys: []string{testKey}})
	p := dialWS(t, s, "")
	p.send([]any{map[string]any{"taskType": "authentication", "apiKey": "wrong"}})
	f := p.mustRead()
	if len(f.Errors) != 1 || f.Errors[0]["code"] != "invalidApiKey" || f.Errors[0]["taskType"] != "authentication" {
		t.Fatalf("frame %+v", f)
	}
	_, err := p.read()
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("close %v, want 1008", err)
	}
	if st := s.Stats(); st.WebSocket.AuthFailures != 1 || st.ErrorCodes["invalidApiKey"] != 1 {
		t.Fatalf("stats %+v %v", st.WebSocket, st.ErrorCodes)
	}
}

// A frame that is not an array gets an errors frame without taskUUID; an
// invalid task an error with its taskUUID; the connection stays usable.
func TestWSEndpointErrorFrames(t *testing.T) {
	s := newTestServer(t, Options{})
	p := dialWS(t, s, "")
	p.auth("")
	p.send(map[string]any{"taskType": "textInference"})
	f := p.mustRead()
	if len(f.Errors) != 1 || f.Errors[0]["code"] != "invalidRequest" || f.Errors[0]["taskUUID"] != nil {
		t.Fatalf("non-array frame: %+v", f)
	}
	bad := task("hi", with("model", "nope"))
	p.send([]any{bad})
	f = p.mustRead()
	if len(f.Errors) != 1 || f.Errors[0]["code"] != "modelNotFound" || f.Errors[0]["taskUUID"] != bad["taskUUID"] {
		t.Fatalf("invalid task: %+v", f)
	}
	ok := task("hi")
	p.send([]any{ok})
	if f = p.mustRead(); len(f.Data) != 1 || f.Data[0]["taskUUID"] != ok["taskUUID"] {
		t.Fatalf("after errors: %+v", f)
	}
}

// A stream is one frame per event, ending with the done marker, and its
// deltas concatenate to the sync text.
func TestWSEndpointStream(t *testing.T) {
	s := newTestServer(t, Options{})
	sync := post(t, s.URL(), testKey, []any{task("story", with("seed", 5))}).envelope(t)
	p := dialWS(t, s, "")
	p.auth("")
	st := task("story", with("seed", 5), with("deliveryMethod", "stream"))
	p.send([]any{st})
	var text strings.Builder
	for {
		f := p.mustRead()
		if len(f.Data) != 1 || f.Data[0]["taskUUID"] != st["taskUUID"] {
			t.Fatalf("frame %+v", f)
		}
		if f.Data[0]["done"] == true {
			break
		}
		if d, ok := f.Data[0]["delta"].(map[string]any); ok {
			s, _ := d["text"].(string)
			text.WriteString(s)
		}
	}
	if want := sync.Data[0]["text"]; text.String() != want {
		t.Fatalf("stream text %q, sync %q", text.String(), want)
	}
}

// DropWebSocketsAfter closes the connection; results finished meanwhile are
// buffered and replayed before the acknowledgement of the resumed session;
// a resubmitted running task is answered once.
func TestWSEndpointResume(t *testing.T) {
	s := newTestServer(t, Options{TimeScale: 0.02})
	p := dialWS(t, s, "")
	id, _ := p.auth("")
	s.Handler().DropWebSocketsAfter(1)
	a, b := task("first"), task("second", withSetting("thinkingLevel", "high"))
	p.send([]any{a})
	if f := p.mustRead(); len(f.Data) != 1 || f.Data[0]["taskUUID"] != a["taskUUID"] {
		t.Fatalf("first answer %+v", f)
	}
	p.send([]any{b})
	if _, err := p.read(); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("want the connection dropped, got %v", err)
	}
	// Wait until b's answer is buffered for the session.
	buffered := func() int {
		h := s.Handler()
		h.ws.mu.Lock()
		sess := h.ws.sessions[id]
		h.ws.mu.Unlock()
		sess.mu.Lock()
		defer sess.mu.Unlock()
		return len(sess.buffered)
	}
	deadline := time.Now().Add(10 * time.Second)
	for buffered() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	q := dialWS(t, s, "")
	id2, before := q.auth(id)
	if id2 != id || len(before) != 1 || before[0].Data[0]["taskUUID"] != b["taskUUID"] {
		t.Fatalf("resumed session %s (was %s), replayed %+v", id2, id, before)
	}
	ws := s.Stats().WebSocket
	if ws.Dropped != 1 || ws.Resumed != 1 || ws.Replayed != 1 {
		t.Fatalf("stats %+v", ws)
	}
	// An unknown session UUID starts a new session.
	r := dialWS(t, s, "")
	if id3, _ := r.auth("6f0b3a52-2a43-4c55-9a0e-2b8d2f3c1d10"); id3 == id || id3 == "6f0b3a52-2a43-4c55-9a0e-2b8d2f3c1d10" {
		t.Fatalf("unknown session resumed as %s", id3)
	}
}

// A task resubmitted while the session still runs it is answered once.
func TestWSEndpointDeduplicates(t *testing.T) {
	s := newTestServer(t, Options{TimeScale: 0.05})
	p := dialWS(t, s, "")
	p.auth("")
	a := task("slow one", withSetting("thinkingLevel", "high"))
	p.send([]any{a})
	p.send([]any{a})
	if f := p.mustRead(); len(f.Data) != 1 || f.Data[0]["taskUUID"] != a["taskUUID"] {
		t.Fatalf("answer %+v", f)
	}
	st := s.Stats()
	if st.Tasks != 1 || st.WebSocket.Deduplicated != 1 {
		t.Fatalf("tasks %d, websocket %+v", st.Tasks, st.WebSocket)
	}
}

// A plain GET /v1 is not found, /stats carries the WebSocket counters, and
// the simulator frees a taskUUID whose request a fault answered, so a retry
// with the same UUID is served (over HTTP and WebSocket alike).
func TestWSEndpointMisc(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{RateLimit: Fault{First: 1}}})
	res, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /v1: %d", res.StatusCode)
	}
	tk := task("hi")
	if r := post(t, s.URL(), testKey, []any{tk}); r.status != http.StatusTooManyRequests {
		t.Fatalf("first: %d", r.status)
	}
	if r := post(t, s.URL(), testKey, []any{tk}); r.status != http.StatusOK {
		t.Fatalf("retry with the same taskUUID: %d %s", r.status, r.body)
	}
	p := dialWS(t, s, "")
	p.auth("")
	res, err = http.Get(strings.TrimSuffix(s.URL(), "/v1") + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		WebSocket WebSocketStats `json:"webSocket"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || st.WebSocket.Connections != 1 {
		t.Fatalf("/stats webSocket %+v, %v", st.WebSocket, err)
	}
	// The upgrade's status is counted when the connection ends.
	p.c.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Status[http.StatusSwitchingProtocols] == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if full := s.Stats(); full.Status[http.StatusSwitchingProtocols] != 1 || full.Endpoints["GET /v1"] != 2 || full.InFlight != 0 {
		t.Fatalf("status %v, endpoints %v, in flight %d", full.Status, full.Endpoints, full.InFlight)
	}
}
