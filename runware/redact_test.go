package runware

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// The Redactor hides the key and its URL-encoded and base64 forms, whole
// tokens only.
func TestRedactor(t *testing.T) {
	key := "rw/key+0123456789abcdef=="
	r := NewRedactor(key)
	b := []byte(key)
	for _, form := range []string{key, url.QueryEscape(key), url.PathEscape(key),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)} {
		in := "auth failed for (" + form + ") at /v1?k=" + form
		if got := r.Redact(in); strings.Contains(got, form) || strings.Count(got, "[redacted]") != 2 {
			t.Errorf("Redact(%q) = %q, want both forms redacted", in, got)
		}
	}
	// A key inside a longer word is not a token of its own.
	short := NewRedactor("cat")
	if got := short.Redact("concatenate the cat, Cat and cat_2"); got != "concatenate the [redacted], Cat and cat_2" {
		t.Errorf("short key: %q", got)
	}
	if got := NewRedactor("").Redact("text"); got != "text" {
		t.Errorf("empty key changed text: %q", got)
	}
	var nilR *Redactor
	if got := nilR.Redact("text"); got != "text" {
		t.Errorf("nil Redactor changed text: %q", got)
	}
}

// Keys under MinAPIKeyLength, empty or with spaces are input errors that do
// not quote the key; a real-length key passes.
func TestCheckAPIKey(t *testing.T) {
	for _, k := range []string{"", "short-key", "0123456789abcde", "0123456789 abcdef0"} {
		err := CheckAPIKey(k)
		if err == nil {
			t.Errorf("CheckAPIKey(%q) = nil, want an error", k)
			continue
		}
		if k != "" && strings.Contains(err.Error(), k) {
			t.Errorf("error %q quotes the key", err)
		}
		if _, err := New(k); err == nil {
			t.Errorf("New(%q) accepted the key", k)
		}
	}
	if err := CheckAPIKey(testKey); err != nil {
		t.Errorf("CheckAPIKey(testKey) = %v", err)
	}
	if c, err := New(testKey); err != nil || c == nil {
		t.Errorf("New(testKey) = %v, %v", c, err)
	}
}
