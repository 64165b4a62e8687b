package runware

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// RedactURL returns u fit for storage and messages: userinfo becomes
// "redacted", every query value becomes "redacted" (names are kept) and the
// fragment is dropped, since any of them may carry a key. A URL that does not
// parse is replaced whole by "[unparsable URL redacted]".
func RedactURL(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		return "[unparsable URL redacted]"
	}
	if p.User != nil {
		p.User = url.User("redacted")
	}
	if p.RawQuery != "" {
		q := p.Query()
		for k := range q {
			q[k] = []string{"redacted"}
		}
		p.RawQuery = q.Encode()
	}
	p.Fragment, p.RawFragment = "", ""
	return p.String()
}

// MinAPIKeyLength is the shortest API key the client accepts. Runware's keys
// are 32 alphanumeric characters; anything under 16 is a typo or a
// placeholder, and a short key would also make redaction hit unrelated words.
const MinAPIKeyLength = 16

// CheckAPIKey reports, as an input error, a key that is empty, shorter than
// MinAPIKeyLength or holds whitespace or control characters. The error never
// quotes the key.
func CheckAPIKey(key string) error {
	switch {
	case key == "":
		return errors.New("runware: no API key: set RUNWARE_API_KEY")
	case len(key) < MinAPIKeyLength:
		return fmt.Errorf("runware: the API key has %d characters, fewer than the minimum of %d: check RUNWARE_API_KEY", len(key), MinAPIKeyLength)
	case strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return errors.New("runware: the API key holds whitespace or control characters: check RUNWARE_API_KEY")
	}
	return nil
}

// New is NewClient that first refuses a key CheckAPIKey rejects.
func New(apiKey string, opts ...Option) (*Client, error) {
	if err := CheckAPIKey(apiKey); err != nil {
		return nil, err
	}
	return NewClient(apiKey, opts...), nil
}

// Redactor replaces an API key in text with "[redacted]": the key itself, its
// URL-encoded forms (query and path escaping) and its base64 forms (standard
// and URL alphabets, padded and unpadded). Only whole tokens are replaced: a
// match next to a letter, digit, '-' or '_' is left alone, so a short key
// never mangles unrelated words. The zero value and a Redactor for "" change
// nothing. It is safe for concurrent use.
type Redactor struct {
	forms []string // longest first, so a longer form wins over its prefix
}

// NewRedactor returns a Redactor for key.
func NewRedactor(key string) *Redactor {
	if key == "" {
		return &Redactor{}
	}
	b := []byte(key)
	seen := map[string]bool{}
	var forms []string
	for _, f := range []string{key, url.QueryEscape(key), url.PathEscape(key),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)} {
		if !seen[f] {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	return &Redactor{forms: forms}
}

// redacted replaces a key in text.
const redacted = "[redacted]"

// Redact returns s with every whole-token occurrence of a form of the key
// replaced by "[redacted]".
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	for _, f := range r.forms {
		s = replaceTokens(s, f)
	}
	return s
}

// replaceTokens replaces the occurrences of f in s that are whole tokens.
func replaceTokens(s, f string) string {
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, f)
		if i < 0 {
			break
		}
		end := i + len(f)
		prevOK := i > 0 && !tokenByte(rest[i-1]) || i == 0 && (b.Len() == 0 || !tokenByte(lastByte(&b)))
		nextOK := end == len(rest) || !tokenByte(rest[end])
		if prevOK && nextOK {
			b.WriteString(rest[:i])
			b.WriteString(redacted)
		} else {
			b.WriteString(rest[:end])
		}
		rest = rest[end:]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(rest)
	return b.String()
}

// tokenByte reports whether c continues a token (so a match beside it is part
// of a longer word).
func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// lastByte returns the last byte written to b.
func lastByte(b *strings.Builder) byte { s := b.String(); return s[len(s)-1] }
