package runwaretest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/promptgrid/promptgrid/runware"
)

// frameWriter is the http.ResponseWriter that serveNative writes to when a
// task came over a WebSocket. A JSON body becomes one frame when the handler
// returns; a text/event-stream body becomes one frame per event as it is
// flushed: an event {"errors":[...]} as it is, any other event e as
// {"data":[e]}, and [DONE] as {"data":[{"taskType":"textInference",
// "taskUUID":..., "done":true}]} (simulator choice: Runware documents no
// stream over WebSocket).
type frameWriter struct {
	header http.Header
	status int
	buf    bytes.Buffer
	send   func([]byte)
	ids    []string // the frame's textInference taskUUIDs
}

// Header implements http.ResponseWriter.
func (w *frameWriter) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter.
func (w *frameWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// Write implements http.ResponseWriter.
func (w *frameWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.buf.Write(b)
}

// Flush sends the complete events of a stream written so far.
func (w *frameWriter) Flush() {
	if !w.streaming() {
		return
	}
	for {
		i := bytes.Index(w.buf.Bytes(), []byte("\n\n"))
		if i < 0 {
			return
		}
		ev := string(w.buf.Next(i + 2))
		for _, line := range strings.Split(strings.TrimSpace(ev), "\n") {
			if p, ok := strings.CutPrefix(line, "data: "); ok {
				w.event([]byte(p))
			}
		}
	}
}

// streaming reports whether the body is an event stream.
func (w *frameWriter) streaming() bool {
	return strings.HasPrefix(w.header.Get("Content-Type"), "text/event-stream")
}

// event sends one stream event as a frame.
func (w *frameWriter) event(p []byte) {
	if string(p) == "[DONE]" {
		id := ""
		if len(w.ids) > 0 {
			id = w.ids[0]
		}
		w.send(mustJSON(map[string]any{"data": []map[string]any{{
			"taskType": runware.TaskTextInference, "taskUUID": id, "done": true}}}))
		return
	}
	var probe struct {
		Errors json.RawMessage `json:"errors"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(p, &probe) == nil && (len(probe.Errors) > 0 || len(probe.Error) > 0) {
		w.send(p)
		return
	}
	// A cut-off event (the Malformed fault) stays cut off: the frame does
	// not decode, as the event would not.
	f := append([]byte(`{"data":[`), p...)
	w.send(append(f, "]}"...))
}

// finish sends what is left: a JSON body as one frame, the rest of a stream
// (an unterminated last event is dropped, as a reader of SSE would).
func (w *frameWriter) finish() {
	if w.streaming() {
		w.Flush()
		return
	}
	if w.buf.Len() > 0 {
		w.send(bytes.Clone(w.buf.Bytes()))
	}
}
