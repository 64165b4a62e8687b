package runwaretest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

const hostileKey = "rw-hostile-key-0123456789abcdef"

func hostileTask(delivery string) runware.Task {
	return runware.Task{Model: runware.KimiK26AIR, DeliveryMethod: delivery,
		Messages: []runware.Message{{Role: "user", Content: "What is the capital of France?"}}}
}

// Redirect answers a 3xx with Location; the runware client reports it and
// does not follow, so the simulator sees the request once.
func TestFaultRedirect(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{Redirect: Fault{First: 1}, RedirectStatus: 308, RedirectTo: "http://127.0.0.1:9/v1"}})
	c := runware.NewClient(hostileKey, runware.WithEndpoint(s.URL()), runware.WithHTTPClient(s.Client()))
	resps, err := c.Do(context.Background(), []runware.Task{hostileTask("")})
	if err != nil {
		t.Fatal(err)
	}
	if e := resps[0].Err; e == nil || e.Code != runware.CodeRedirect || e.HTTPStatus != 308 || !strings.Contains(e.Message, "127.0.0.1:9") {
		t.Fatalf("err = %v, want a 308 redirect error", e)
	}
	if n := s.Stats().Faults[FaultRedirect]; n != 1 {
		t.Errorf("redirect faults = %d, want 1", n)
	}
}

// HugeDeltas streams 1 MiB deltas without end; the client's result cap ends
// it, over both the native and the OpenAI-compatible stream.
func TestFaultHugeDeltas(t *testing.T) {
	s := newTestServer(t, Options{Faults: Faults{HugeDeltas: Fault{Every: 1}}})
	c := runware.NewClient(hostileKey, runware.WithEndpoint(s.URL()), runware.WithHTTPClient(s.Client()), runware.WithMaxResultBytes(2<<20))
	resps, err := c.Do(context.Background(), []runware.Task{hostileTask(runware.DeliveryStream)})
	if err != nil {
		t.Fatal(err)
	}
	if e := resps[0].Err; e == nil || e.Code != runware.CodeResultTooLarge {
		t.Fatalf("native: err = %v, want %s", e, runware.CodeResultTooLarge)
	}
	resp, err := c.Chat(context.Background(), hostileTask(runware.DeliveryStream))
	if err != nil {
		t.Fatal(err)
	}
	if e := resp.Err; e == nil || e.Code != runware.CodeResultTooLarge {
		t.Fatalf("chat: err = %v, want %s", e, runware.CodeResultTooLarge)
	}
}

// Hang never ends its response: a stream ends at the idle timeout, a sync
// request at the request timeout, on the bubble's fake clock.
func TestFaultHang(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{Faults: Faults{Hang: Fault{Every: 1}}})
		defer h.Close()
		c := runware.NewClient(hostileKey, runware.WithEndpoint("http://sim/v1"),
			runware.WithHTTPClient(&http.Client{Transport: h.Transport()}),
			runware.WithIdleTimeout(time.Minute), runware.WithRequestTimeout(5*time.Minute))
		for _, tt := range []struct {
			delivery, code string
			after          time.Duration
		}{
			{runware.DeliveryStream, runware.CodeIdleTimeout, time.Minute},
			{runware.DeliverySync, runware.CodeTimeout, 5 * time.Minute},
		} {
			start := time.Now()
			resps, err := c.Do(context.Background(), []runware.Task{hostileTask(tt.delivery)})
			if err != nil {
				t.Fatal(err)
			}
			if e := resps[0].Err; e == nil || e.Code != tt.code {
				t.Errorf("%s: err = %v, want %s", tt.delivery, e, tt.code)
			}
			if d := time.Since(start); d != tt.after {
				t.Errorf("%s: ended after %v, want %v", tt.delivery, d, tt.after)
			}
		}
		synctest.Wait()
	})
}
