package runwaretest

import (
	"net/http"
	"strings"
)

// Hostile-server fault kinds as counted in Stats.Faults (issue 11): they test
// the client's bounds, not its retries.
const (
	FaultRedirect   = "redirect"
	FaultHang       = "hang"
	FaultHugeDeltas = "hugeDeltas"
)

// Defaults of the hostile faults.
const (
	defaultRedirectTo     = "http://127.0.0.1:1/v1"
	defaultRedirectStatus = http.StatusTemporaryRedirect
	defaultHugeDeltaBytes = 1 << 20
	// maxHugeDeltas bounds a HugeDeltas stream (16 GiB at 1 MiB) so that
	// even a client without a cap eventually sees the end.
	maxHugeDeltas = 16 << 10
)

// hostile decides the hostile faults of request n into p.
func (in *injector) hostile(p *plan, n int64) {
	if in.fires(in.f.Redirect, n, FaultRedirect) {
		p.redirect = true
	}
	if in.fires(in.f.Hang, n, FaultHang) {
		p.hang = true
	}
	if in.fires(in.f.HugeDeltas, n, FaultHugeDeltas) {
		p.huge = in.f.HugeDeltaBytes
		if p.huge <= 0 {
			p.huge = defaultHugeDeltaBytes
		}
	}
}

// applyHostile answers a request that got Redirect (a 3xx with Location) or
// Hang (200 event-stream headers, then nothing until the client hangs up).
// It reports whether it answered.
func (h *Handler) applyHostile(w http.ResponseWriter, r *http.Request, p plan) bool {
	switch {
	case p.redirect:
		h.countFault(FaultRedirect)
		to, status := h.opts.Faults.RedirectTo, h.opts.Faults.RedirectStatus
		if to == "" {
			to = defaultRedirectTo
		}
		if status < 300 || status > 399 {
			status = defaultRedirectStatus
		}
		w.Header().Set("Location", to)
		w.WriteHeader(status)
		return true
	case p.hang:
		h.countFault(FaultHang)
		startSSE(w)
		<-r.Context().Done()
		return true
	}
	return false
}

// hugeText is the text of one HugeDeltas delta.
func hugeText(n int) string { return strings.Repeat("x", n) }

// deliverHuge sends the delta event ev (carrying HugeDeltaBytes of text) up
// to maxHugeDeltas times, never a final chunk, until the client hangs up.
func (h *Handler) deliverHuge(sse *sseWriter, r *http.Request, ev []byte) {
	h.countFault(FaultHugeDeltas)
	for i := 0; i < maxHugeDeltas && r.Context().Err() == nil; i++ {
		if sse.data(ev) != nil {
			return
		}
	}
}
