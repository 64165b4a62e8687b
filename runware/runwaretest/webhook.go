package runwaretest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// Webhook body shapes (WebhookOptions.Body).
const (
	// WebhookBodyBare posts the result item itself: {"taskType", "taskUUID",
	// "status", "text", ...}.
	WebhookBodyBare = "bare"
	// WebhookBodyData posts the result item wrapped as {"data":[item]}.
	WebhookBodyData = "data"
)

// Webhook delivery defaults.
const (
	DefaultWebhookAttempts   = 3
	DefaultWebhookRetryDelay = time.Second
	DefaultWebhookTimeout    = 10 * time.Second
)

// WebhookOptions configure how results of tasks that carry a webhookURL are
// posted. The simulator only ever posts to loopback hosts: a webhookURL whose
// host is not 127.0.0.0/8, ::1 or localhost is refused with
// invalidWebhookURL, and the dialer refuses any connection to an address that
// is not loopback, so no webhook traffic leaves the machine.
type WebhookOptions struct {
	// Body is WebhookBodyBare (default) or WebhookBodyData.
	Body string `json:"body,omitempty"`
	// Attempts is the number of delivery attempts per result, the first
	// included; default 3.
	Attempts int `json:"attempts,omitempty"`
	// RetryDelay is the wait between attempts, multiplied by TimeScale
	// (so TimeScale 0 retries at once); default 1s.
	RetryDelay runware.Duration `json:"retryDelay,omitempty"`
	// Timeout bounds one attempt (absolute, not scaled); default 10s.
	Timeout runware.Duration `json:"timeout,omitempty"`
}

// withDefaults fills the zero fields; it reports an unknown Body.
func (o WebhookOptions) withDefaults() (WebhookOptions, error) {
	switch o.Body {
	case "":
		o.Body = WebhookBodyBare
	case WebhookBodyBare, WebhookBodyData:
	default:
		return o, fmt.Errorf("webhook body %q: want %q or %q", o.Body, WebhookBodyBare, WebhookBodyData)
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultWebhookAttempts
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = runware.Duration(DefaultWebhookRetryDelay)
	}
	if o.Timeout <= 0 {
		o.Timeout = runware.Duration(DefaultWebhookTimeout)
	}
	return o, nil
}

// loopbackHost reports whether a URL host (without port or brackets) names
// the local machine: "localhost" or a loopback IP literal.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOnly is a net.Dialer Control function: it refuses to connect to
// any address that is not a loopback IP. It runs after name resolution, so
// "localhost" resolving elsewhere is refused too.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("runwaretest: webhook dial %s: %w", address, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("runwaretest: webhook dial to %s refused: not a loopback address", address)
	}
	return nil
}

// newWebhookClient returns the HTTP client of webhook deliveries: no proxy
// (a proxy would carry the request off the machine), no redirects (a 3xx is
// a failed attempt), no kept-alive connections, and a dialer that counts its
// attempts in dials and refuses non-loopback addresses.
func newWebhookClient(dials func()) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(network, address string, c syscall.RawConn) error {
		dials()
		return loopbackOnly(network, address, c)
	}}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			DisableKeepAlives:   true,
			TLSHandshakeTimeout: 5 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// startWebhooks posts every result of a to its task's webhookURL once the
// result is complete, one goroutine per result.
func (h *Handler) startWebhooks(a *asyncTask) {
	for i := range a.gens {
		h.mu.Lock()
		if h.whPending == 0 {
			h.whIdle = make(chan struct{})
		}
		h.whPending++
		h.mu.Unlock()
		go func() {
			defer h.webhookDone()
			h.deliverResult(a, i)
		}()
	}
}

func (h *Handler) webhookDone() {
	h.mu.Lock()
	h.whPending--
	if h.whPending == 0 {
		close(h.whIdle)
	}
	h.mu.Unlock()
}

// WaitWebhooks blocks until no webhook delivery is pending (every result of
// every webhook task has been delivered or given up) or ctx is done.
func (h *Handler) WaitWebhooks(ctx context.Context) error {
	h.mu.Lock()
	idle := h.whIdle
	h.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("runwaretest: waiting for webhook deliveries: %w", ctx.Err())
	}
}

// deliverResult waits until result i of a is complete, then posts it,
// retrying per the webhook options. Close ends it early, uncounted.
func (h *Handler) deliverResult(a *asyncTask, i int) {
	ctx := h.base
	if h.sleep(ctx, a.readyAt[i].Sub(h.now())) != nil {
		return
	}
	var body any = h.asyncItem(a, i, a.readyAt[i])
	if h.webhook.Body == WebhookBodyData {
		body = map[string]any{"data": []any{body}}
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic("runwaretest: encoding a webhook body: " + err.Error())
	}
	for k := range h.webhook.Attempts {
		if k > 0 && h.sleep(ctx, h.scaled(time.Duration(h.webhook.RetryDelay))) != nil {
			return
		}
		ok := h.postWebhook(ctx, a.task.Webhook, b)
		if ctx.Err() != nil {
			return
		}
		h.mu.Lock()
		if ok {
			h.stats.WebhookDeliveries++
		} else {
			h.stats.WebhookFailures++
		}
		h.mu.Unlock()
		if ok {
			return
		}
	}
	h.mu.Lock()
	h.stats.WebhookAbandoned++
	h.mu.Unlock()
}

// postWebhook makes one delivery attempt and reports whether the receiver
// answered 2xx.
func (h *Handler) postWebhook(ctx context.Context, url string, body []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(h.webhook.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "runwaretest-webhook/1")
	res, err := h.whClient.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	return res.StatusCode >= 200 && res.StatusCode < 300
}
