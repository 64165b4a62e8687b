package eval

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

// decodeStd is jsonRow's encoding/json path.
func decodeStd(line []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil || d.More() {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// TestFlatJSONRow checks the fast row decoder against encoding/json: on
// every line it accepts, the same map; lines it must leave to
// encoding/json (escapes, nesting, bad numbers, trailing data) it refuses.
func TestFlatJSONRow(t *testing.T) {
	lines := []string{
		`{}`, ` { } `, `{"a": "x"}`, `{"a":"x","b":1,"c":-0.5e+3,"d":true,"e":false,"f":null}`,
		`{"a": 1, "a": 2}`, `{"n": 12345678901234567890}`, `{"s": "thé ✓"}`, "{\"a\":\t\"b\"\r}",
		`{"a": "x\"y"}`, `{"a": "\u00e9"}`, `{"a": [1]}`, `{"a": {"b": 1}}`, `{"a": 01}`, `{"a": 1.}`, `{"a": .5}`,
		`{"a": -}`, `{"a": 1e}`, `{"a": +1}`, `{"a": 1} x`, `{"a": 1}{}`, `{"a": 1,}`, `{"a" 1}`, `{a: 1}`, `[1]`, `"x"`,
		`{"a": tru}`, `{"a": nulls}`, `{"a": 1`, `{"a": "x`, "{\"a\": \"\x01\"}", `{"a": 1 "b": 2}`, ``, `   `,
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`{}[]":,. -+eE0123456789truefalsn\ab`)
	for range 20000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		lines = append(lines, string(b))
	}
	for _, l := range lines {
		got, ok := flatJSONRow([]byte(l))
		want, wok := decodeStd([]byte(l))
		if ok && (!wok || !reflect.DeepEqual(got, want)) {
			t.Errorf("%q: fast %v, encoding/json %v (ok %v)", l, got, want, wok)
		}
	}
	for _, l := range []string{`{"a": "x", "b": 1.5, "c": null}`, `{}`} {
		if _, ok := flatJSONRow([]byte(l)); !ok {
			t.Errorf("%q: not taken by the fast path", l)
		}
	}
}
