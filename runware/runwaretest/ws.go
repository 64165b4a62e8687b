package runwaretest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/promptgrid/promptgrid/runware"
)

// Bounds of the WebSocket endpoint (simulator choices, docs/simulator.md).
const (
	// wsAuthTimeout is how long a new connection may take to send its
	// authentication frame.
	wsAuthTimeout = 30 * time.Second
	// wsWriteTimeout bounds writing one frame to a client.
	wsWriteTimeout = 10 * time.Second
	// wsMaxBuffered is how many frames a disconnected session keeps for
	// replay; older ones are dropped.
	wsMaxBuffered = 4096
	// wsMaxSessions is how many sessions are remembered for resumption.
	wsMaxSessions = 1024
)

// WebSocketStats are the counters of the WebSocket endpoint.
type WebSocketStats struct {
	// Connections counts accepted WebSocket connections; Resumed those that
	// authenticated with a known connectionSessionUUID.
	Connections int64 `json:"connections"`
	Resumed     int64 `json:"resumed"`
	// AuthFailures counts connections refused with invalidApiKey.
	AuthFailures int64 `json:"authFailures"`
	// Frames counts task frames received (pings and authentication excluded);
	// Pings counts ping tasks answered.
	Frames int64 `json:"frames"`
	Pings  int64 `json:"pings"`
	// Replayed counts frames buffered while a session was disconnected and
	// sent after it resumed.
	Replayed int64 `json:"replayed"`
	// Deduplicated counts resubmitted tasks ignored because the session
	// already had them in progress (they are answered once).
	Deduplicated int64 `json:"deduplicated"`
	// Dropped counts connections closed by DropWebSockets or
	// DropWebSocketsAfter.
	Dropped int64 `json:"dropped"`
}

// wsHub is a Handler's WebSocket state. The zero value is ready.
type wsHub struct {
	mu        sync.Mutex
	sessions  map[string]*wsSession
	order     []string // session ids, oldest first, for eviction
	conns     map[*websocket.Conn]*wsSession
	stats     WebSocketStats
	sent      int64 // result frames sent or buffered, for DropWebSocketsAfter
	dropAfter int64 // 0: off
}

// wsSession is one connectionSessionUUID: its key, its current connection
// (nil while disconnected), the frames buffered meanwhile and the taskUUIDs it
// has in progress.
type wsSession struct {
	id, key string

	mu       sync.Mutex
	conn     *websocket.Conn
	buffered [][]byte
	running  map[string]bool
}

// WebSocketURL is the URL of the WebSocket endpoint, "ws://127.0.0.1:PORT/v1".
func (s *Server) WebSocketURL() string { return "ws" + strings.TrimPrefix(s.ts.URL, "http") + "/v1" }

// WebSocketStats returns a snapshot of the WebSocket counters.
func (h *Handler) WebSocketStats() WebSocketStats {
	h.ws.mu.Lock()
	defer h.ws.mu.Unlock()
	return h.ws.stats
}

// DropWebSockets closes every open WebSocket connection at once (a fault
// hook for reconnect tests) and returns how many it closed. Sessions survive:
// results finished meanwhile are buffered and replayed when the client
// re-authenticates with its connectionSessionUUID.
func (h *Handler) DropWebSockets() int {
	h.ws.mu.Lock()
	defer h.ws.mu.Unlock()
	return h.ws.dropLocked()
}

// DropWebSocketsAfter arms a one-shot fault: once n result frames have been
// sent, every connection is closed before the next result frame, which is
// buffered for replay. n <= 0 disarms it.
func (h *Handler) DropWebSocketsAfter(n int) {
	h.ws.mu.Lock()
	h.ws.dropAfter, h.ws.sent = int64(max(n, 0)), 0
	h.ws.mu.Unlock()
}

// dropLocked closes every connection; h.ws.mu is held.
func (hub *wsHub) dropLocked() int {
	n := 0
	for c, s := range hub.conns {
		s.detach(c)
		delete(hub.conns, c)
		go c.Close(websocket.StatusGoingAway, "dropped by the simulator")
		n++
	}
	hub.stats.Dropped += int64(n)
	return n
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// serveWS serves GET /v1: a WebSocket upgrade speaks the native task
// protocol (docs/simulator.md, "WebSocket"); any other GET is not found.
func (h *Handler) serveWS(w http.ResponseWriter, r *http.Request) {
	if !isUpgrade(r) {
		writeErrors(w, http.StatusNotFound, []apiError{{Code: "notFound", Message: "No such endpoint: " + r.Method + " " + r.URL.Path + " (the WebSocket API needs an Upgrade: websocket request)"}})
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered the client
	}
	defer c.CloseNow()
	c.SetReadLimit(maxBody)
	ctx := r.Context()
	h.ws.mu.Lock()
	h.ws.stats.Connections++
	h.ws.mu.Unlock()

	actx, cancel := context.WithTimeout(ctx, wsAuthTimeout)
	_, first, err := c.Read(actx)
	cancel()
	if err != nil {
		return
	}
	sess, rest, ok := h.wsAuthenticate(ctx, c, first)
	if !ok {
		return
	}
	defer h.wsDetach(c, sess)
	if len(rest) > 0 {
		h.wsFrame(ctx, c, sess, rest)
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		var elems []json.RawMessage
		if json.Unmarshal(b, &elems) != nil || len(elems) == 0 {
			h.wsSend(sess, mustJSON(map[string]any{"errors": []apiError{{Code: "invalidRequest",
				Message: "Each WebSocket message must be a non-empty JSON array of task objects."}}}))
			continue
		}
		h.wsFrame(ctx, c, sess, elems)
	}
}

// wsAuthenticate checks the first frame: an authentication task with an
// accepted apiKey, optionally resuming a session. It answers, and returns the
// session and the tasks that followed the authentication task in the frame.
func (h *Handler) wsAuthenticate(ctx context.Context, c *websocket.Conn, first []byte) (*wsSession, []json.RawMessage, bool) {
	var elems []json.RawMessage
	var auth struct {
		TaskType              string `json:"taskType"`
		APIKey                string `json:"apiKey"`
		ConnectionSessionUUID string `json:"connectionSessionUUID"`
	}
	if json.Unmarshal(first, &elems) != nil || len(elems) == 0 || json.Unmarshal(elems[0], &auth) != nil ||
		auth.TaskType != runware.TaskAuthentication || !h.keyOK(auth.APIKey) {
		h.ws.mu.Lock()
		h.ws.stats.AuthFailures++
		h.ws.mu.Unlock()
		h.countErrors([]apiError{invalidAPIKey})
		wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
		c.Write(wctx, websocket.MessageText, mustJSON(map[string]any{"errors": []apiError{invalidAPIKey}}))
		cancel()
		c.Close(websocket.StatusPolicyViolation, "invalidApiKey")
		return nil, nil, false
	}

	h.ws.mu.Lock()
	if h.ws.sessions == nil {
		h.ws.sessions, h.ws.conns = map[string]*wsSession{}, map[*websocket.Conn]*wsSession{}
	}
	sess := h.ws.sessions[auth.ConnectionSessionUUID]
	resumed := sess != nil && sess.key == auth.APIKey
	if !resumed {
		sess = &wsSession{id: uuid.NewString(), key: auth.APIKey, running: map[string]bool{}}
		h.ws.sessions[sess.id] = sess
		h.ws.order = append(h.ws.order, sess.id)
		h.ws.evictLocked()
	} else {
		h.ws.stats.Resumed++
	}
	h.ws.conns[c] = sess
	h.ws.mu.Unlock()

	// Buffered frames go first, then the acknowledgement: a client that sees
	// the acknowledgement has every result the session kept for it.
	// Lock order: h.ws.mu before sess.mu (as in dropLocked).
	h.ws.mu.Lock()
	sess.mu.Lock()
	replay := sess.buffered
	sess.buffered = nil
	sess.conn = c
	h.ws.stats.Replayed += int64(len(replay))
	h.ws.mu.Unlock()
	ack := mustJSON(map[string]any{"data": []map[string]string{{
		"taskType": runware.TaskAuthentication, "connectionSessionUUID": sess.id}}})
	for _, f := range append(replay, ack) {
		if !sess.writeLocked(f) {
			break
		}
	}
	sess.mu.Unlock()
	return sess, elems[1:], true
}

// evictLocked forgets the oldest disconnected, idle sessions beyond
// wsMaxSessions; h.ws.mu is held.
func (hub *wsHub) evictLocked() {
	for i := 0; len(hub.sessions) > wsMaxSessions && i < len(hub.order); {
		s := hub.sessions[hub.order[i]]
		s.mu.Lock()
		idle := s.conn == nil && len(s.running) == 0
		s.mu.Unlock()
		if !idle {
			i++
			continue
		}
		delete(hub.sessions, s.id)
		hub.order = append(hub.order[:i], hub.order[i+1:]...)
	}
}

// wsDetach ends connection c of sess.
func (h *Handler) wsDetach(c *websocket.Conn, sess *wsSession) {
	h.ws.mu.Lock()
	delete(h.ws.conns, c)
	h.ws.mu.Unlock()
	sess.detach(c)
}

// detach marks sess disconnected if c is its connection.
func (s *wsSession) detach(c *websocket.Conn) {
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	s.mu.Unlock()
}

// writeLocked writes f to the session's connection, or buffers it when there
// is none or the write fails; s.mu is held. It reports whether f was written.
func (s *wsSession) writeLocked(f []byte) bool {
	if s.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), wsWriteTimeout)
		err := s.conn.Write(ctx, websocket.MessageText, f)
		cancel()
		if err == nil {
			return true
		}
		s.conn = nil
	}
	s.buffered = append(s.buffered, f)
	if len(s.buffered) > wsMaxBuffered {
		s.buffered = s.buffered[len(s.buffered)-wsMaxBuffered:]
	}
	return false
}

// wsSend delivers a result frame to sess, applying DropWebSocketsAfter.
func (h *Handler) wsSend(sess *wsSession, f []byte) {
	h.ws.mu.Lock()
	h.ws.sent++
	if h.ws.dropAfter > 0 && h.ws.sent > h.ws.dropAfter {
		h.ws.dropAfter = 0
		h.ws.dropLocked()
	}
	h.ws.mu.Unlock()
	sess.mu.Lock()
	sess.writeLocked(f)
	sess.mu.Unlock()
}

// wsFrame handles one frame of tasks: pings are answered at once, a repeated
// authentication is ignored, textInference tasks the session already has in
// progress are dropped (a resubmission after a reconnect is answered once),
// and the rest go through the native HTTP handler, in the background, so that
// many frames are served at once.
func (h *Handler) wsFrame(ctx context.Context, c *websocket.Conn, sess *wsSession, elems []json.RawMessage) {
	var tasks []json.RawMessage
	var ids []string
	pongs := 0
	dedup := 0
	sess.mu.Lock()
	for _, e := range elems {
		var t struct {
			TaskType string `json:"taskType"`
			TaskUUID string `json:"taskUUID"`
			Ping     bool   `json:"ping"`
		}
		json.Unmarshal(e, &t) // a non-object reaches the native handler, which reports it
		switch {
		case t.TaskType == "ping":
			pongs++
			continue
		case t.TaskType == runware.TaskAuthentication:
			continue
		case t.TaskType == runware.TaskTextInference && t.TaskUUID != "" && sess.running[t.TaskUUID]:
			dedup++
			continue
		case t.TaskType == runware.TaskTextInference && t.TaskUUID != "":
			sess.running[t.TaskUUID] = true
			ids = append(ids, t.TaskUUID)
		}
		tasks = append(tasks, e)
	}
	sess.mu.Unlock()
	h.ws.mu.Lock()
	h.ws.stats.Pings += int64(pongs)
	h.ws.stats.Deduplicated += int64(dedup)
	if len(tasks) > 0 {
		h.ws.stats.Frames++
	}
	h.ws.mu.Unlock()
	if pongs > 0 {
		wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
		c.Write(wctx, websocket.MessageText, mustJSON(map[string]any{"data": []map[string]any{{"taskType": "ping", "pong": true}}}))
		cancel()
	}
	if len(tasks) == 0 {
		return
	}
	body, _ := json.Marshal(tasks)
	go h.wsServe(sess, body, ids)
}

// wsServe answers one frame of tasks through serveNative, so validation,
// generation, faults and counters are those of HTTP, and sends the answer as
// frames: a JSON body as one frame, a stream as one frame per event. A
// connection reset fault drops the session's connection instead.
func (h *Handler) wsServe(sess *wsSession, body []byte, ids []string) {
	fw := &frameWriter{header: http.Header{}, send: func(f []byte) { h.wsSend(sess, f) }, ids: ids}
	defer func() {
		sess.mu.Lock()
		for _, id := range ids {
			delete(sess.running, id)
		}
		sess.mu.Unlock()
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			h.ws.mu.Lock()
			for c, s := range h.ws.conns {
				if s == sess {
					s.detach(c)
					delete(h.ws.conns, c)
					go c.CloseNow()
				}
			}
			h.ws.mu.Unlock()
		}
	}()
	req, _ := http.NewRequestWithContext(h.base, http.MethodPost, "/v1", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sess.key)
	req.Header.Set("Content-Type", "application/json")
	h.serveNative(fw, req)
	fw.finish()
}

// mustJSON marshals v, which is always encodable.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(errors.New("runwaretest: " + err.Error()))
	}
	return b
}
