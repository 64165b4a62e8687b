package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

var strs = []string{"", "x", "say \"hi\" <b>&", "tab\t\n\r\b\f\x01\x7f", "é ünï 日本", "\u2028\u2029", "bad \xff\xfe utf8", "\\", "\x00"}

// encoder is what AppendCanonical must equal: a json.Encoder without HTML
// escaping, its newline cut.
func encoder(t *testing.T, v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoder refused %#v: %v", v, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func randomValue(rnd *rand.Rand, depth int) any {
	n := 9
	if depth > 3 {
		n = 7
	}
	switch rnd.IntN(n) {
	case 0:
		return nil
	case 1:
		return strs[rnd.IntN(len(strs))]
	case 2:
		return rnd.IntN(2) == 0
	case 3:
		return int64(rnd.Uint64())
	case 4:
		return []int{0, -1, 7}[rnd.IntN(3)]
	case 5:
		return []float64{0, -0.0, 0.5, 1e-7, 9.99e-7, 1e20, 1e21, 3.96e-05, math.MaxFloat64, math.SmallestNonzeroFloat64, rnd.NormFloat64() * 1e6}[rnd.IntN(11)]
	case 6:
		return uint64(rnd.Uint64())
	case 7:
		l := make([]any, rnd.IntN(4))
		for i := range l {
			l[i] = randomValue(rnd, depth+1)
		}
		return l
	default:
		m := map[string]any{}
		for range rnd.IntN(6) {
			m[strs[rnd.IntN(len(strs))]+string(rune('a'+rnd.IntN(26)))] = randomValue(rnd, depth+1)
		}
		return m
	}
}

// TestAppendCanonicalMatchesEncoder protects every trial key and request
// hash: the canonical encoding of a request is byte for byte the
// json.Encoder's that made the keys of earlier runs (a resumed run must find
// them).
func TestAppendCanonicalMatchesEncoder(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		v := map[string]any{"settings": randomValue(rnd, 0), "messages": randomValue(rnd, 0), "seed": int64(rnd.Uint64())}
		got, ok := AppendCanonical(nil, v)
		if !ok {
			t.Fatalf("AppendCanonical gave up on %#v", v)
		}
		if want := encoder(t, v); !bytes.Equal(got, want) {
			t.Fatalf("AppendCanonical(%#v):\n got %s\nwant %s", v, got, want)
		}
	}
}

// TestAppendValueMatchesMarshal: with HTML escaping, a tree is written as
// json.Marshal writes it.
func TestAppendValueMatchesMarshal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	for range 3000 {
		v := map[string]any{"a<": randomValue(rnd, 0), "b": randomValue(rnd, 0)}
		got, ok := AppendValue(nil, v)
		want, err := json.Marshal(v)
		if !ok || err != nil || !bytes.Equal(got, want) {
			t.Fatalf("AppendValue(%#v) = %s, %v\njson.Marshal: %s, %v", v, got, ok, want, err)
		}
	}
}

// TestAppendCanonicalGivesUp: what it does not know, or what encoding/json
// refuses, is left to the caller.
func TestAppendCanonicalGivesUp(t *testing.T) {
	for _, v := range []any{map[string]any{"x": math.NaN()}, []any{math.Inf(1)}, map[string]string{"a": "b"}, float32(1), struct{}{}} {
		if _, ok := AppendCanonical(nil, v); ok {
			t.Errorf("AppendCanonical took %#v", v)
		}
	}
}

// TestAppendStringMatchesMarshal: with HTML escaping, strings are quoted as
// json.Marshal quotes them.
func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s, true); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// FuzzAppendCanonical: any string, as a key and a value, encodes as the
// json.Encoder encodes it.
func FuzzAppendCanonical(f *testing.F) {
	f.Add("<a href=\"x\">&amp;</a>", 1.5)
	f.Add("\xff\u2028", 1e-9)
	f.Fuzz(func(t *testing.T, s string, x float64) {
		if !Finite(x) {
			return
		}
		v := map[string]any{s: []any{s, x}, "k": s}
		got, ok := AppendCanonical(nil, v)
		if !ok {
			t.Fatalf("gave up on %#v", v)
		}
		if want := encoder(t, v); !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}
