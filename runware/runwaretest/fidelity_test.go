package runwaretest

import (
	"slices"
	"strings"
	"testing"
)

// sseBlocks splits an SSE body into its blank-line separated blocks.
func sseBlocks(body []byte) []string {
	var out []string
	for _, b := range strings.Split(string(body), "\n\n") {
		if b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Options.Ping puts a ": ping" comment before the first event and after
// every Ping data events of native and chat streams, and changes nothing
// else: without the comments the stream is the same.
func TestStreamPing(t *testing.T) {
	tests := []struct {
		name string
		url  func(*Server) string
		body func() any
	}{
		// Native stream.
		{"native", func(s *Server) string { return s.URL() }, func() any {
			return []any{task("Explain tides", with("deliveryMethod", "stream"), with("seed", 4))}
		}},
		// OpenAI-compatible stream.
		{"chat", chatURL, func() any {
			return map[string]any{"model": "moonshotai:kimi@k2.6", "stream": true, "seed": 4,
				"messages": []any{map[string]any{"role": "user", "content": "Explain tides"}}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body()
			plain := sseBlocks(post(t, tc.url(newTestServer(t, Options{})), testKey, body).body)
			pinged := sseBlocks(post(t, tc.url(newTestServer(t, Options{Ping: 3})), testKey, body).body)

			var data []string
			for i, b := range pinged {
				if b == ": ping" {
					// Position i holds the ping after len(data) events.
					if len(data)%3 != 0 {
						t.Fatalf("ping at block %d after %d data events; want every 3", i, len(data))
					}
					continue
				}
				data = append(data, b)
			}
			if pinged[0] != ": ping" {
				t.Fatalf("first block %q, want the ping", pinged[0])
			}
			// One ping first, then one before each event k (k >= 1, k a
			// multiple of 3) of the events before [DONE].
			if want := 1 + (len(plain)-2)/3; len(pinged)-len(data) != want {
				t.Fatalf("%d pings for %d events, want %d", len(pinged)-len(data), len(plain), want)
			}
			if !slices.Equal(stripIDs(data), stripIDs(plain)) {
				t.Fatalf("events differ with pings:\n%q\n%q", data, plain)
			}
		})
	}
}

// stripIDs removes the chat completion id and creation time, which may
// differ between two servers only by their clocks.
func stripIDs(events []string) []string {
	out := make([]string, len(events))
	for i, e := range events {
		if j := strings.Index(e, `"created":`); j >= 0 {
			k := j + strings.IndexAny(e[j:], ",}")
			e = e[:j] + e[k:]
		}
		out[i] = e
	}
	return out
}

// Faults.MidStreamErrorDone sends [DONE] after the mid-stream error event;
// by default the stream closes right after it.
func TestMidStreamErrorDone(t *testing.T) {
	for _, done := range []bool{false, true} {
		s := newTestServer(t, Options{Faults: Faults{MidStreamError: Fault{First: 1}, MidStreamErrorDone: done}})
		ev := sseEvents(t, post(t, s.URL(), testKey, []any{task("q", with("deliveryMethod", "stream"))}).body)
		last, errAt := ev[len(ev)-1], len(ev)-1
		if done {
			errAt--
			if last != "[DONE]" {
				t.Fatalf("MidStreamErrorDone: last event %q, want [DONE]", last)
			}
		} else if last == "[DONE]" {
			t.Fatalf("[DONE] after a mid-stream error by default")
		}
		if !strings.Contains(ev[errAt], `"timeoutProvider"`) {
			t.Fatalf("done %v: event %q, want the error", done, ev[errAt])
		}
	}
}

// Options.StrictContentType refuses POSTs whose body is not declared JSON
// with 415 on both endpoints; by default the header is ignored.
func TestStrictContentType(t *testing.T) {
	chatBody := map[string]any{"model": "moonshotai:kimi@k2.6", "messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	tests := []struct {
		name   string
		strict bool
		ct     string
		status int
	}{
		// Lenient by default: a missing header is fine.
		{"lenient missing", false, "", 200},
		// Lenient: a wrong type is fine too.
		{"lenient text", false, "text/plain", 200},
		// Strict: JSON with a charset parameter is JSON.
		{"strict json charset", true, "application/json; charset=utf-8", 200},
		// Strict: a missing header is refused.
		{"strict missing", true, "", 415},
		// Strict: another type is refused.
		{"strict form", true, "application/x-www-form-urlencoded", 415},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{StrictContentType: tc.strict})
			hdr := map[string]string{"Content-Type": tc.ct}
			r := postHeader(t, s.URL(), hdr, []any{task("hi")})
			if r.status != tc.status {
				t.Fatalf("native: status %d body %s, want %d", r.status, r.body, tc.status)
			}
			if tc.status == 415 && r.envelope(t).Errors[0].Code != "unsupportedContentType" {
				t.Fatalf("native body %s", r.body)
			}
			if r := postHeader(t, chatURL(s), hdr, chatBody); r.status != tc.status {
				t.Fatalf("chat: status %d body %s, want %d", r.status, r.body, tc.status)
			}
		})
	}
}

// Options.AlwaysUsage sends usage without includeUsage, on sync results and
// on the final stream chunk.
func TestAlwaysUsage(t *testing.T) {
	for _, always := range []bool{false, true} {
		s := newTestServer(t, Options{AlwaysUsage: always})
		d := syncResults(t, s, task("q"))[0]
		if _, ok := d["usage"]; ok != always {
			t.Fatalf("AlwaysUsage %v: sync result %v", always, d)
		}
		chunks := decodeChunks(t, sseEvents(t, post(t, s.URL(), testKey, []any{task("q", with("deliveryMethod", "stream"))}).body))
		if got := chunks[len(chunks)-1].Usage != nil; got != always {
			t.Fatalf("AlwaysUsage %v: final chunk usage %v", always, chunks[len(chunks)-1].Usage)
		}
	}
}
