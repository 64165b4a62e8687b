package runwaretest

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// hook is one webhook POST as a receiver saw it.
type hook struct {
	query, contentType string
	body               []byte
}

// receiver is a webhook endpoint on 127.0.0.1 that answers attempt k (from
// 1) with status(k) and records every POST.
type receiver struct {
	mu     sync.Mutex
	hooks  []hook
	status func(k int) int
	url    string
}

func newReceiver(t *testing.T, status func(k int) int) *receiver {
	t.Helper()
	rc := &receiver{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hooks = append(rc.hooks, hook{r.URL.RawQuery, r.Header.Get("Content-Type"), b})
		k := len(rc.hooks)
		rc.mu.Unlock()
		w.WriteHeader(rc.status(k))
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL
	return rc
}

func (rc *receiver) got() []hook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hook(nil), rc.hooks...)
}

func always(status int) func(int) int { return func(int) int { return status } }

func waitWebhooks(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Handler().WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
}

// A task with webhookURL is acknowledged like an async task; then each of
// its results is posted to the URL as one JSON body (the bare result item by
// default, {"data":[item]} when configured), with the URL's query intact,
// and stays pollable with getResponse.
func TestWebhookDeliversEachResult(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		// Default: the bare result item.
		{"bare", ""},
		// Configured: the item wrapped in a data array.
		{"data", WebhookBodyData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, always(http.StatusNoContent))
			s := newTestServer(t, Options{Webhook: WebhookOptions{Body: tc.body}})
			const query = "token=s%20cr%2Bet&x=1&x=2"
			tk := task("hook me", with("webhookURL", rc.url+"/hooks/runware?"+query), with("numberResults", 2), with("includeCost", true))
			ack := post(t, s.URL(), testKey, []any{tk})
			e := ack.envelope(t)
			if ack.status != http.StatusOK || len(e.Data) != 1 || e.Data[0]["taskUUID"] != tk["taskUUID"] || len(e.Data[0]) != 2 {
				t.Fatalf("ack %d %s", ack.status, ack.body)
			}
			waitWebhooks(t, s)

			hooks := rc.got()
			if len(hooks) != 2 {
				t.Fatalf("receiver got %d posts, want one per result (2)", len(hooks))
			}
			for _, hk := range hooks {
				if hk.query != query || hk.contentType != "application/json" {
					t.Errorf("query %q content type %q; want the URL's query %q intact and JSON", hk.query, hk.contentType, query)
				}
				var item map[string]any
				if tc.body == WebhookBodyData {
					var env struct{ Data []map[string]any }
					if err := json.Unmarshal(hk.body, &env); err != nil || len(env.Data) != 1 {
						t.Fatalf("body %s is not {\"data\":[item]}: %v", hk.body, err)
					}
					item = env.Data[0]
				} else if err := json.Unmarshal(hk.body, &item); err != nil {
					t.Fatalf("body %s: %v", hk.body, err)
				}
				if item["taskUUID"] != tk["taskUUID"] || item["status"] != "success" || item["text"] == "" || item["cost"] == nil {
					t.Errorf("item %v; want the complete result", item)
				}
			}
			if p := poll(t, s, tk["taskUUID"]).envelope(t); len(p.Data) != 2 || p.Data[0]["status"] != "success" {
				t.Errorf("getResponse of a webhook task: %+v", p)
			}
			st := s.Stats()
			if st.WebhookDeliveries != 2 || st.WebhookFailures != 0 || st.Delivery["webhook"] != 1 || st.Results != 2 {
				t.Errorf("stats: deliveries %d failures %d delivery %v results %d", st.WebhookDeliveries, st.WebhookFailures, st.Delivery, st.Results)
			}
		})
	}
}

// Only a 2xx answer delivers a result: a failing receiver is retried on the
// configured schedule (RetryDelay × TimeScale between attempts, Attempts in
// all), and a result is given up after the last attempt.
func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		name       string
		opts       WebhookOptions
		status     func(k int) int
		posts      int
		stats      [3]int64 // deliveries, failures, abandoned
		retryWaits []time.Duration
	}{
		// Defaults (3 attempts 1 s apart): 500, 503, then 200 delivers.
		{"fails twice then succeeds", WebhookOptions{}, func(k int) int {
			switch k {
			case 1:
				return http.StatusInternalServerError
			case 2:
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}, 3, [3]int64{1, 2, 0}, []time.Duration{time.Second, time.Second}},
		// A redirect is not a delivery, and is not followed.
		{"redirect then success", WebhookOptions{RetryDelay: runware.Duration(250 * time.Millisecond)}, func(k int) int {
			if k == 1 {
				return http.StatusTemporaryRedirect
			}
			return http.StatusOK
		}, 2, [3]int64{1, 1, 0}, []time.Duration{250 * time.Millisecond}},
		// Two attempts, both 404: the result is abandoned.
		{"gives up", WebhookOptions{Attempts: 2}, always(http.StatusNotFound), 2, [3]int64{0, 2, 1}, []time.Duration{time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, tc.status)
			var mu sync.Mutex
			var waits []time.Duration
			clock := &fakeClock{t: time.Unix(0, 0)}
			s := newTestServer(t, Options{Webhook: tc.opts, TimeScale: 1, Now: clock.Now,
				Sleep: func(ctx context.Context, d time.Duration) error {
					mu.Lock()
					waits = append(waits, d)
					mu.Unlock()
					return ctx.Err()
				}})
			tk := task("retry me", with("webhookURL", rc.url), with("deliveryMethod", "async"))
			if r := post(t, s.URL(), testKey, []any{tk}); r.status != http.StatusOK {
				t.Fatalf("ack %d %s", r.status, r.body)
			}
			waitWebhooks(t, s)
			if n := len(rc.got()); n != tc.posts {
				t.Errorf("receiver got %d posts, want %d", n, tc.posts)
			}
			st := s.Stats()
			if got := [3]int64{st.WebhookDeliveries, st.WebhookFailures, st.WebhookAbandoned}; got != tc.stats {
				t.Errorf("deliveries, failures, abandoned = %v, want %v", got, tc.stats)
			}
			// The first wait is the result's completion time; the rest
			// are the retry schedule.
			mu.Lock()
			defer mu.Unlock()
			if len(waits) != 1+len(tc.retryWaits) || waits[0] <= 0 {
				t.Fatalf("waits %v; want the completion wait then %v", waits, tc.retryWaits)
			}
			for i, w := range tc.retryWaits {
				if waits[1+i] != w {
					t.Errorf("retry wait %d = %v, want %v", i+1, waits[1+i], w)
				}
			}
		})
	}
}

// A receiver that cannot be reached (nothing listens) is a failed attempt.
func TestWebhookUnreachableReceiverFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	s := newTestServer(t, Options{Webhook: WebhookOptions{Attempts: 2}})
	post(t, s.URL(), testKey, []any{task("q", with("webhookURL", url))})
	waitWebhooks(t, s)
	if st := s.Stats(); st.WebhookFailures != 2 || st.WebhookAbandoned != 1 || st.WebhookDeliveries != 0 {
		t.Fatalf("stats: deliveries %d failures %d abandoned %d", st.WebhookDeliveries, st.WebhookFailures, st.WebhookAbandoned)
	}
}

// The simulator never sends webhook traffic off the machine: a webhookURL
// whose host is not loopback is a validation error, the task is not
// accepted, and no connection is attempted. Loopback hosts pass validation
// (checked with a dry run, which connects nowhere either).
func TestWebhookURLMustBeLoopback(t *testing.T) {
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		// A public name is refused without resolving it.
		{"public name", "https://example.com/hook", false},
		// A documentation-range IPv4 address.
		{"public ipv4", "http://192.0.2.10:8080/hook", false},
		// A private address is still not loopback.
		{"private ipv4", "http://10.0.0.1/hook", false},
		// A public IPv6 address.
		{"public ipv6", "http://[2001:db8::1]/hook", false},
		// A name that merely starts with localhost.
		{"localhost lookalike", "http://localhost.example.com/hook", false},
		// A name that embeds a loopback address.
		{"embedded loopback", "http://127.0.0.1.nip.io/hook", false},
		// The unspecified address is not loopback.
		{"unspecified", "http://0.0.0.0:9/hook", false},
		// Userinfo that looks like a loopback host; the host is elsewhere.
		{"userinfo trick", "http://127.0.0.1:80@example.com/hook", false},
		// Not an http(s) URL at all.
		{"not http", "ftp://127.0.0.1/hook", false},
		// Any address of 127.0.0.0/8.
		{"127/8", "http://127.1.2.3:9/hook?token=x", true},
		// IPv6 loopback.
		{"::1", "http://[::1]:9/hook", true},
		// localhost, case-insensitively.
		{"localhost", "https://LocalHost:9/hook", true},
	}
	s := newTestServer(t, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := task("q", with("webhookURL", tc.url))
			hdr := map[string]string{}
			if tc.ok {
				hdr[DryRunHeader] = "1"
			}
			r := postHeader(t, s.URL(), hdr, []any{tk})
			e := r.envelope(t)
			if tc.ok {
				if r.status != http.StatusOK || len(e.Data) != 1 {
					t.Fatalf("loopback URL refused: %d %s", r.status, r.body)
				}
				return
			}
			if r.status != http.StatusBadRequest || len(e.Errors) != 1 || e.Errors[0].Code != "invalidWebhookURL" || e.Errors[0].Parameter != "webhookURL" {
				t.Fatalf("status %d body %s; want 400 invalidWebhookURL", r.status, r.body)
			}
		})
	}
	st := s.Stats()
	if st.Tasks != 0 || st.WebhookDeliveries+st.WebhookFailures != 0 || s.Handler().whDials.Load() != 0 {
		t.Fatalf("tasks %d, webhook attempts %d, dials %d; want none", st.Tasks, st.WebhookDeliveries+st.WebhookFailures, s.Handler().whDials.Load())
	}
}

// The dial guard behind every webhook connection refuses non-loopback
// addresses even if a name resolved to one, and the counter it feeds does
// see real dials (so the zero above means "no attempt").
func TestWebhookDialGuard(t *testing.T) {
	for _, addr := range []string{"192.0.2.1:80", "[2001:db8::1]:443", "10.1.2.3:8080", "0.0.0.0:80"} {
		if loopbackOnly("tcp", addr, nil) == nil {
			t.Errorf("dial to %s allowed", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:80", "127.9.9.9:1", "[::1]:443"} {
		if err := loopbackOnly("tcp", addr, nil); err != nil {
			t.Errorf("dial to %s refused: %v", addr, err)
		}
	}
	rc := newReceiver(t, always(http.StatusOK))
	s := newTestServer(t, Options{})
	post(t, s.URL(), testKey, []any{task("q", with("webhookURL", rc.url))})
	waitWebhooks(t, s)
	if s.Handler().whDials.Load() != 1 || len(rc.got()) != 1 {
		t.Fatalf("dials %d, posts %d; want 1 and 1", s.Handler().whDials.Load(), len(rc.got()))
	}
}

// A webhook cannot be combined with streaming.
func TestWebhookWithStreamRefused(t *testing.T) {
	s := newTestServer(t, Options{})
	r := post(t, s.URL(), testKey, []any{task("q", with("webhookURL", "http://127.0.0.1:9/h"), with("deliveryMethod", "stream"))})
	if e := r.envelope(t); r.status != http.StatusBadRequest || len(e.Errors) != 1 || e.Errors[0].Code != "invalidDeliveryMethod" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
}

// A result failed by AsyncItemError is posted too, as its error item.
func TestWebhookPostsFailedResults(t *testing.T) {
	rc := newReceiver(t, always(http.StatusOK))
	s := newTestServer(t, Options{Faults: Faults{AsyncItemError: Fault{First: 1}}})
	post(t, s.URL(), testKey, []any{task("q", with("webhookURL", rc.url), with("numberResults", 2))})
	waitWebhooks(t, s)
	statuses := map[string]int{}
	for _, hk := range rc.got() {
		var item struct {
			Status string
			Error  *itemError
		}
		if err := json.Unmarshal(hk.body, &item); err != nil {
			t.Fatal(err)
		}
		if (item.Status == "error") != (item.Error != nil && item.Error.Code == itemErrorCode) {
			t.Fatalf("item %s", hk.body)
		}
		statuses[item.Status]++
	}
	if statuses["error"] != 1 || statuses["success"] != 1 {
		t.Fatalf("statuses %v; want one error and one success", statuses)
	}
}
