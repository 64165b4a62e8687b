package runwaretest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// ErrSimulatedReset is the error a Transport returns for a request that the
// Reset fault cut off.
var ErrSimulatedReset = errors.New("runwaretest: connection reset by simulated peer")

// Transport returns an http.RoundTripper that serves requests by calling the
// handler in-process, with no network and no connection state. Everything it
// uses (goroutines, io.Pipe, timers) belongs to the caller, so a client using
// it inside a testing/synctest bubble sees simulated delays, max-rate windows
// and Retry-After waits on the bubble's fake clock. The request URL's host is
// ignored. The Reset fault surfaces as ErrSimulatedReset.
func (h *Handler) Transport() http.RoundTripper { return memTransport{h} }

type memTransport struct{ h http.Handler }

func (t memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "127.0.0.1:1"
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			if v := recover(); v != nil {
				w.abort()
				pw.CloseWithError(ErrSimulatedReset)
				if v != http.ErrAbortHandler {
					panic(v)
				}
				return
			}
			w.WriteHeader(http.StatusOK) // a handler that wrote nothing answers 200
			pw.Close()
		}()
		t.h.ServeHTTP(w, sreq)
	}()
	select {
	case <-w.ready:
	case <-req.Context().Done():
		pr.CloseWithError(req.Context().Err())
		return nil, fmt.Errorf("runwaretest: %w", req.Context().Err())
	}
	if w.aborted {
		return nil, ErrSimulatedReset
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Body:          pr,
		ContentLength: -1,
		Request:       req,
	}, nil
}

// pipeWriter is an http.ResponseWriter whose body is the read side of a pipe.
type pipeWriter struct {
	header  http.Header
	sent    http.Header
	pw      *io.PipeWriter
	once    sync.Once
	ready   chan struct{}
	status  int
	aborted bool
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	w.once.Do(func() {
		w.status = code
		w.sent = w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(b)
}

// Flush is a no-op: every Write reaches the reader at once.
func (w *pipeWriter) Flush() {}

func (w *pipeWriter) abort() {
	w.once.Do(func() {
		w.aborted = true
		close(w.ready)
	})
}
