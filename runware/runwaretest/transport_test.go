package runwaretest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func memPost(t *testing.T, c *http.Client, ctx context.Context, body any) (*http.Response, error) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://sim/v1", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer k")
	return c.Do(req)
}

// Through the in-memory transport, a client inside a synctest bubble sees
// max-rate windows and Retry-After on the fake clock.
func TestTransportMaxRateUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{Faults: Faults{MaxRate: 1}})
		defer h.Close()
		c := &http.Client{Transport: h.Transport()}
		status := func() (int, string) {
			res, err := memPost(t, c, t.Context(), []any{task("hi")})
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode, res.Header.Get("Retry-After")
		}
		if s, _ := status(); s != 200 {
			t.Fatalf("first: %d", s)
		}
		s, ra := status()
		if s != 429 || ra != "1" {
			t.Fatalf("second: %d Retry-After %q", s, ra)
		}
		time.Sleep(time.Second)
		if s, _ := status(); s != 200 {
			t.Fatalf("after 1s: %d", s)
		}
	})
}

// Stream events arrive through the transport at the model's times.
func TestTransportStreamTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{TimeScale: 1, Scenarios: []Scenario{{
			Match: Match{Exact: "go"}, Answer: "abcd efgh",
			TTFT: map[string]Dist{"none": {Mean: 100}}, TokenTime: Dist{Mean: 10},
		}}})
		defer h.Close()
		c := &http.Client{Transport: h.Transport()}
		start := time.Now()
		res, err := memPost(t, c, t.Context(), []any{task("go", with("deliveryMethod", "stream"))})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var at []time.Duration
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				at = append(at, time.Since(start))
			}
		}
		ms := time.Millisecond
		want := []time.Duration{120 * ms, 130 * ms, 130 * ms, 130 * ms} // "abcd " 2 tokens, "efgh" 1, final, [DONE]
		if len(at) != len(want) {
			t.Fatalf("times %v, want %v", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Fatalf("times %v, want %v", at, want)
			}
		}
	})
}

// The Reset fault surfaces as ErrSimulatedReset.
func TestTransportReset(t *testing.T) {
	h := NewHandler(Options{Faults: Faults{Reset: Fault{First: 1}}})
	c := &http.Client{Transport: h.Transport()}
	_, err := memPost(t, c, t.Context(), []any{task("hi")})
	if !errors.Is(err, ErrSimulatedReset) {
		t.Fatalf("err = %v, want ErrSimulatedReset", err)
	}
}

// Cancelling the request ends a pending simulated delay.
func TestTransportCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHandler(Options{TimeScale: 1000})
		defer h.Close()
		c := &http.Client{Transport: h.Transport()}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := memPost(t, c, ctx, []any{task("hi")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		synctest.Wait()
		if n := h.Stats().InFlight; n != 0 {
			t.Fatalf("%d requests still in flight", n)
		}
	})
}
