package runner

import (
	"context"
	"testing"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// Trials of transport websocket go over the WebSocket client, one
// connection for the run, and are journaled as such; --transport sends
// every trial that way whatever the suite says.
func TestWebSocketTransport(t *testing.T) {
	for _, override := range []bool{false, true} {
		const key = "ws-test-key-0123456789abcdef"
		h := newHarness(t, runwaretest.Options{APIKeys: []string{key}})
		cfg := h.config()
		ws, err := runware.NewWS(key, h.sim.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		cfg.WS = ws
		trials := makeTrials(6, 2, nil)
		if override {
			cfg.Transport = "websocket"
		} else {
			for i := range trials {
				trials[i].Transport = "websocket"
			}
		}
		_, recs := h.run(context.Background(), cfg, trials)
		if len(recs) != 12 {
			t.Fatalf("%d samples, want 12", len(recs))
		}
		for _, r := range recs {
			if r.Error != nil || r.Transport != "websocket" || r.Timings.E2E == nil {
				t.Errorf("sample %s/%d: transport %q error %+v e2e %v", r.TrialKey, r.ResultIndex, r.Transport, r.Error, r.Timings.E2E)
			}
		}
		st := h.sim.Handler().WebSocketStats()
		if st.Connections != 1 || st.Frames != 6 {
			t.Errorf("override %v: %d connections, %d task frames; want 1 and 6", override, st.Connections, st.Frames)
		}
		if n := h.sim.Stats().Endpoints["POST /v1"]; n != 0 {
			t.Errorf("%d HTTP requests; want every trial over the WebSocket", n)
		}
	}
}
