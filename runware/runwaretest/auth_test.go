package runwaretest

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuthentication(t *testing.T) {
	s := newTestServer(t, Options{APIKeys: []string{testKey}})
	authTask := func(key string) map[string]any { return map[string]any{"taskType": "authentication", "apiKey": key} }
	tests := []struct {
		name   string
		key    string // bearer header; "" sends none
		body   []any
		status int
	}{
		// The documented header form with a listed key is accepted.
		{"bearer header", testKey, []any{task("hi")}, http.StatusOK},
		// A request without any credentials is refused.
		{"no key", "", []any{task("hi")}, http.StatusUnauthorized},
		// A key not in APIKeys is refused.
		{"unknown key", "sk-other", []any{task("hi")}, http.StatusUnauthorized},
		// An authentication task as the first element replaces the header.
		{"auth task", "", []any{authTask(testKey), task("hi")}, http.StatusOK},
		// An authentication task with a wrong key is refused even when the header is right.
		{"auth task wrong key", testKey, []any{authTask("sk-bad"), task("hi")}, http.StatusUnauthorized},
		// An authentication task anywhere but first does not authenticate.
		{"auth task second", "", []any{task("hi"), authTask(testKey)}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s.URL(), tc.key, tc.body)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.status, r.body)
			}
		})
	}
}

// The 401 body is exactly the documented invalidApiKey envelope.
func TestAuthenticationErrorBody(t *testing.T) {
	s := newTestServer(t, Options{})
	r := post(t, s.URL(), "", []any{task("hi")})
	want := `{"errors":[{"code":"invalidApiKey","message":"Invalid API key. Get one at https://my.runware.ai/signup","parameter":"apiKey","taskType":"authentication"}]}`
	if string(r.body) != want {
		t.Fatalf("body = %s\nwant   %s", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
}

// With no APIKeys configured any non-empty key is accepted.
func TestAnyKeyAccepted(t *testing.T) {
	s := newTestServer(t, Options{})
	if r := post(t, s.URL(), "whatever", []any{task("hi")}); r.status != http.StatusOK {
		t.Fatalf("status = %d; body %s", r.status, r.body)
	}
}

// Extra keys in the authentication task are rejected (the schema has
// additionalProperties: false).
func TestAuthTaskExtraKey(t *testing.T) {
	s := newTestServer(t, Options{})
	r := post(t, s.URL(), "", []any{map[string]any{"taskType": "authentication", "apiKey": "k", "extra": 1}, task("hi")})
	e := r.envelope(t)
	if r.status != http.StatusBadRequest || len(e.Errors) != 1 || e.Errors[0].Code != "unsupportedParameter" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
}

// The API key never appears in a response body.
func TestKeyNotEchoed(t *testing.T) {
	s := newTestServer(t, Options{APIKeys: []string{testKey}})
	for _, body := range []any{
		[]any{map[string]any{"taskType": "authentication", "apiKey": "sk-secret-wrong"}, task("hi")},
		[]any{map[string]any{"taskType": "authentication", "apiKey": testKey}, task("hi")},
	} {
		r := post(t, s.URL(), "", body)
		if strings.Contains(string(r.body), "sk-secret-wrong") || strings.Contains(string(r.body), testKey) {
			t.Fatalf("key echoed: %s", r.body)
		}
	}
}
