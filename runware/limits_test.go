package runware

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// hugeDeltas streams 1 MiB text deltas until the client hangs up.
func hugeDeltas(w http.ResponseWriter, r *http.Request, chat bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := strings.Repeat("x", 1<<20)
	line := `data: {"taskUUID":"a","delta":{"text":"` + chunk + `"}}` + "\n\n"
	if chat {
		line = `data: {"choices":[{"index":0,"delta":{"content":"` + chunk + `"}}]}` + "\n\n"
	}
	for i := 0; i < 10000 && r.Context().Err() == nil; i++ {
		if _, err := io.WriteString(w, line); err != nil {
			return
		}
	}
}

// A stream of many 1 MiB deltas ends with a resultTooLarge error once the
// result passes the cap, instead of growing until memory runs out; the same
// holds for the OpenAI-compatible stream.
func TestStreamResultCap(t *testing.T) {
	for _, chat := range []bool{false, true} {
		t.Run(fmt.Sprint("chat=", chat), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hugeDeltas(w, r, chat) }))
			defer srv.Close()
			c := NewClient(testKey, WithEndpoint(srv.URL+"/v1"), WithMaxResultBytes(3<<20))
			task := textTask("a")
			task.DeliveryMethod = DeliveryStream
			var resp *Response
			if chat {
				var err error
				if resp, err = c.Chat(context.Background(), task); err != nil {
					t.Fatal(err)
				}
			} else {
				resps, err := c.Do(context.Background(), []Task{task})
				if err != nil {
					t.Fatal(err)
				}
				resp = resps[0]
			}
			if e := resp.Err; e == nil || e.Code != CodeResultTooLarge {
				t.Fatalf("err = %v, want code %s", e, CodeResultTooLarge)
			}
			if n := len(resp.Results); n != 1 || resp.Results[0].Err == nil || len(resp.Results[0].Text) > 4<<20 {
				t.Errorf("results = %d, want one failed result of at most 4 MiB", n)
			}
		})
	}
}

// A line that never ends is cut at the line limit (about twice the result
// cap) with a clear error.
func TestStreamLineLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"delta":{"text":"`)
		chunk := strings.Repeat("y", 64<<10)
		for i := 0; i < 1000 && r.Context().Err() == nil; i++ {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := NewClient(testKey, WithEndpoint(srv.URL+"/v1"), WithMaxResultBytes(1<<20))
	task := textTask("a")
	task.DeliveryMethod = DeliveryStream
	resps, _ := c.Do(context.Background(), []Task{task})
	if e := resps[0].Err; e == nil || e.Code != CodeResultTooLarge || !strings.Contains(e.Message, "SSE line exceeds") {
		t.Fatalf("err = %v, want the SSE line limit", e)
	}
}

// pipeStream answers every request with an event stream whose body is fed by
// write and closed when the request's context ends.
func pipeStream(write func(w *io.PipeWriter)) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		pr, pw := io.Pipe()
		go write(pw)
		go func() { <-r.Context().Done(); pw.CloseWithError(r.Context().Err()) }()
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: pr, Request: r}, nil
	})}
}

// A stream that sends one delta and then nothing (pings do not count) fails
// with idleTimeout after the idle bound, not after the request bound.
func TestStreamIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hc := pipeStream(func(w *io.PipeWriter) {
			_, _ = io.WriteString(w, `data: {"delta":{"text":"Par"}}`+"\n\n")
			for range 100 {
				time.Sleep(10 * time.Second)
				if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
					return
				}
			}
		})
		c := NewClient(testKey, WithHTTPClient(hc), WithIdleTimeout(30*time.Second), WithRequestTimeout(time.Hour))
		task := textTask("a")
		task.DeliveryMethod = DeliveryStream
		start := time.Now()
		resps, _ := c.Do(context.Background(), []Task{task})
		e := resps[0].Err
		if e == nil || e.Class != ClassTimeout || e.Code != CodeIdleTimeout {
			t.Fatalf("err = %v, want idleTimeout", e)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("ended after %v, want 30s", d)
		}
		if got := resps[0].Results; len(got) != 1 || got[0].Text != "Par" {
			t.Errorf("results = %+v, want the partial text kept", got)
		}
		time.Sleep(time.Minute) // let the writer see the closed pipe and end
	})
}

// Events arriving more often than the idle bound keep a stream alive.
func TestStreamIdleResetByEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hc := pipeStream(func(w *io.PipeWriter) {
			for range 5 {
				time.Sleep(20 * time.Second)
				_, _ = io.WriteString(w, `data: {"delta":{"text":"a"}}`+"\n\n")
			}
			_, _ = io.WriteString(w, `data: {"delta":{},"finishReason":"stop"}`+"\n\ndata: [DONE]\n\n")
			_ = w.Close()
		})
		c := NewClient(testKey, WithHTTPClient(hc), WithIdleTimeout(30*time.Second))
		task := textTask("a")
		task.DeliveryMethod = DeliveryStream
		resps, _ := c.Do(context.Background(), []Task{task})
		if e := resps[0].Err; e != nil {
			t.Fatalf("err = %v, want success", e)
		}
		if got := resps[0].Results[0].Text; got != "aaaaa" {
			t.Errorf("text = %q", got)
		}
	})
}

// Without any deadline from the caller, a server that never answers is cut
// off by the request timeout (default DefaultRequestTimeout).
func TestRequestTimeout(t *testing.T) {
	for _, tt := range []struct {
		opts []Option
		want time.Duration
	}{
		{nil, DefaultRequestTimeout},
		{[]Option{WithRequestTimeout(time.Minute)}, time.Minute},
	} {
		synctest.Test(t, func(t *testing.T) {
			hang := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			})
			c := NewClient(testKey, append([]Option{WithHTTPClient(&http.Client{Transport: hang})}, tt.opts...)...)
			start := time.Now()
			resps, _ := c.Do(context.Background(), []Task{textTask("a")})
			if e := resps[0].Err; e == nil || e.Class != ClassTimeout || e.Code != CodeTimeout {
				t.Fatalf("err = %v, want a request timeout", e)
			}
			if d := time.Since(start); d != tt.want {
				t.Errorf("ended after %v, want %v", d, tt.want)
			}
		})
	}
}

// A 3xx is an error naming the (redacted) Location and is never followed:
// the target, even the same host on another port, receives no request and
// so neither the prompt nor the key.
func TestRedirectsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeJSON(w, 200, `{"data":[{"taskUUID":"a","text":"Paris","finishReason":"stop"}]}`)
	}))
	defer target.Close()
	for _, status := range []int{302, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			loc := target.URL + "/v1?token=" + testKey
			c, rec := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) {
				w.Header().Set("Location", loc)
				w.WriteHeader(status)
			})
			resps, err := c.Do(context.Background(), []Task{textTask("a")})
			if err != nil {
				t.Fatal(err)
			}
			e := resps[0].Err
			if e == nil || e.Code != CodeRedirect || e.HTTPStatus != status || !strings.Contains(e.Message, target.URL+"/v1") {
				t.Fatalf("err = %v, want a redirect error naming %s", e, target.URL)
			}
			if strings.Contains(allErrorText(resps), testKey) {
				t.Errorf("the key leaked into %q", allErrorText(resps))
			}
			if n := len(rec.all()); n != 1 {
				t.Errorf("origin saw %d requests, want 1 (no resend)", n)
			}
			if hits.Load() != 0 {
				t.Errorf("redirect target got %d requests, want none", hits.Load())
			}
		})
	}
}

// CapRetryAfter honours a pause up to the limit and says when it cut one.
func TestCapRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		d, limit, want time.Duration
		capped         bool
	}{
		{30 * time.Second, 0, 30 * time.Second, false},       // under the default cap
		{99999 * time.Second, 0, DefaultMaxRetryAfter, true}, // Retry-After: 99999
		{2 * time.Minute, time.Minute, time.Minute, true},    // a tighter --max-retry-after
		{-time.Second, time.Minute, 0, false},                // nonsense is no pause
	} {
		got, capped := CapRetryAfter(tt.d, tt.limit)
		if got != tt.want || capped != tt.capped {
			t.Errorf("CapRetryAfter(%v, %v) = %v, %v; want %v, %v", tt.d, tt.limit, got, capped, tt.want, tt.capped)
		}
	}
}

// RedactURL hides userinfo and query values, keeping what a reader needs.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.runware.ai/v1":                       "https://api.runware.ai/v1",
		"https://user:" + testKey + "@h.example/v1":       "https://redacted@h.example/v1",
		"http://127.0.0.1:8080/v1?key=" + testKey + "&a=": "http://127.0.0.1:8080/v1?a=redacted&key=redacted",
		"https://h/v1#" + testKey:                         "https://h/v1",
		"http://[::1%zz/":                                 "[unparsable URL redacted]",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A sync answer whose result passes the cap fails with resultTooLarge too.
func TestSyncResultCap(t *testing.T) {
	big := strings.Repeat("z", 2<<20)
	c, _ := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) {
		writeJSON(w, 200, `{"data":[{"taskUUID":"a","text":"`+big+`","finishReason":"stop"}]}`)
	}, WithMaxResultBytes(1<<20))
	resps, _ := c.Do(context.Background(), []Task{textTask("a")})
	if e := resps[0].Err; e == nil || e.Code != CodeResultTooLarge {
		t.Fatalf("err = %v, want %s", e, CodeResultTooLarge)
	}
}

// A transport error quotes the endpoint with userinfo and query redacted.
func TestTransportErrorRedactsURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := NewClient(testKey, WithEndpoint("http://bob:hunter2-secret@"+addr+"/v1?sig=s3cr3t-value"))
	resps, _ := c.Do(context.Background(), []Task{textTask("a")})
	text := allErrorText(resps)
	if text == "" || strings.Contains(text, "hunter2-secret") || strings.Contains(text, "s3cr3t-value") {
		t.Errorf("transport error = %q, want userinfo and query redacted", text)
	}
}
