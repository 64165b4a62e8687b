// Package jsonscan walks JSON text without reflection, for the decoders that
// fill a known struct faster than encoding/json does. A Scanner checks the
// syntax as encoding/json's scanner does (the same grammar and nesting limit)
// and decodes strings exactly as json.Unmarshal does, so that a decoder built
// on it can give json.Unmarshal's result or know it cannot.
package jsonscan

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds nesting as encoding/json does: a text nested deeper is a
// syntax error there.
const MaxDepth = 10000

// Scanner walks one JSON text; the zero value walks an empty one.
type Scanner struct {
	b     []byte
	i     int
	depth int    // objects and arrays open at the position
	buf   []byte // the last string decoded by String, when it needed decoding
}

// Reset starts walking b from its first byte (keeping the buffer String
// decodes into).
func (s *Scanner) Reset(b []byte) { *s = Scanner{b: b, buf: s.buf[:0]} }

// Pos is the offset of the next byte to read.
func (s *Scanner) Pos() int { return s.i }

// From returns the text from offset start to the position: the value just
// walked when start is where it began.
func (s *Scanner) From(start int) []byte { return s.b[start:s.i] }

// Peek returns the next byte, 0 at the end.
func (s *Scanner) Peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// Eat consumes c if it is the next byte.
func (s *Scanner) Eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// WS skips JSON whitespace.
func (s *Scanner) WS() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// End reports whether only whitespace follows.
func (s *Scanner) End() bool {
	s.WS()
	return s.i == len(s.b)
}

// Literal consumes lit if the text goes on with it.
func (s *Scanner) Literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// Null consumes a null literal.
func (s *Scanner) Null() bool { return s.Literal("null") }

// Object walks the members of an object value, calling member with each
// key (plain: see PlainString) positioned at its value; false when the
// syntax is not an object's or member refuses.
func (s *Scanner) Object(member func(name []byte) bool) bool {
	return s.object(true, member)
}

// object is Object; with plain false it takes any key, passing member nil
// for it (to skip the object).
func (s *Scanner) object(plain bool, member func(name []byte) bool) bool {
	if !s.open('{') {
		return false
	}
	s.WS()
	if s.close('}') {
		return true
	}
	for {
		s.WS()
		var name []byte
		if plain {
			var ok bool
			if name, ok = s.PlainString(); !ok {
				return false
			}
		} else if !s.SkipString() {
			return false
		}
		s.WS()
		if !s.Eat(':') {
			return false
		}
		s.WS()
		if !member(name) {
			return false
		}
		s.WS()
		if s.close('}') {
			return true
		}
		if !s.Eat(',') {
			return false
		}
	}
}

// Array walks the elements of an array value; elem is called positioned at
// each one.
func (s *Scanner) Array(elem func() bool) bool {
	if !s.open('[') {
		return false
	}
	s.WS()
	if s.close(']') {
		return true
	}
	for {
		s.WS()
		if !elem() {
			return false
		}
		s.WS()
		if s.close(']') {
			return true
		}
		if !s.Eat(',') {
			return false
		}
	}
}

// open consumes the opening bracket c of a container within MaxDepth.
func (s *Scanner) open(c byte) bool {
	if s.depth >= MaxDepth || !s.Eat(c) {
		return false
	}
	s.depth++
	return true
}

// close consumes the closing bracket c of the innermost container.
func (s *Scanner) close(c byte) bool {
	if !s.Eat(c) {
		return false
	}
	s.depth--
	return true
}

// Value skips one JSON value, checking its syntax.
func (s *Scanner) Value() bool {
	switch c := s.Peek(); {
	case c == '"':
		return s.SkipString()
	case c == '{':
		return s.object(false, func([]byte) bool { return s.Value() })
	case c == '[':
		return s.Array(s.Value)
	case c == '-' || '0' <= c && c <= '9':
		return s.Number()
	}
	return s.Literal("true") || s.Literal("false") || s.Null()
}

// SkipString skips a string, checking its escapes; like json.Unmarshal it
// accepts invalid UTF-8 (decoded as U+FFFD) but no control characters.
func (s *Scanner) SkipString() bool {
	if !s.Eat('"') {
		return false
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			switch s.Peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if !isHex(s.Peek()) {
						return false
					}
					s.i++
				}
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

// Number skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) Number() bool {
	s.Eat('-')
	switch c := s.Peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.Eat('.') && !s.digits() {
		return false
	}
	if s.Eat('e') || s.Eat('E') {
		if !s.Eat('+') {
			s.Eat('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// NumberBytes skips a number, returning its text.
func (s *Scanner) NumberBytes() ([]byte, bool) {
	start := s.i
	if !s.Number() {
		return nil, false
	}
	return s.b[start:s.i], true
}

// Int64 decodes a number as json.Unmarshal does into an int64: one without
// fraction or exponent, in range.
func (s *Scanner) Int64() (int64, bool) {
	b, ok := s.NumberBytes()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// Float64 decodes a number as json.Unmarshal does into a float64: one in
// range.
func (s *Scanner) Float64() (float64, bool) {
	b, ok := s.NumberBytes()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// Integer is the integer types Int decodes.
type Integer interface{ ~int | ~int64 }

// Int decodes a number as json.Unmarshal does into a T: one without
// fraction or exponent, in T's range.
func Int[T Integer](s *Scanner) (T, bool) {
	n, ok := s.Int64()
	if !ok || int64(T(n)) != n {
		return 0, false
	}
	return T(n), true
}

// IntField decodes an integer field as json.Unmarshal does: null leaves
// *dst as it was.
func IntField[T Integer](s *Scanner, dst *T) bool {
	if s.Null() {
		return true
	}
	n, ok := Int[T](s)
	if ok {
		*dst = n
	}
	return ok
}

// FloatField decodes a float64 field as json.Unmarshal does: null leaves
// *dst as it was.
func (s *Scanner) FloatField(dst *float64) bool {
	if s.Null() {
		return true
	}
	f, ok := s.Float64()
	if ok {
		*dst = f
	}
	return ok
}

// digits skips one or more digits.
func (s *Scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// PlainString scans a string without escapes whose bytes are valid UTF-8
// (so that json.Unmarshal would give exactly those bytes) and returns its
// contents; anything else is not plain.
func (s *Scanner) PlainString() ([]byte, bool) {
	v, _, slow := s.plainHead()
	return v, v != nil && !slow
}

// String decodes a string value as json.Unmarshal does: escapes resolved,
// surrogate pairs joined, lone surrogates and invalid UTF-8 replaced by
// U+FFFD. The result is the text's own bytes when it needs no decoding, else
// the Scanner's buffer, valid until the next String.
func (s *Scanner) String() ([]byte, bool) {
	v, start, slow := s.plainHead()
	if !slow {
		return v, v != nil
	}
	// The decoded string is at most as long as its text but for invalid
	// UTF-8 (one byte for three): size the buffer once.
	rest := Scanner{b: s.b, i: start - 1}
	if !rest.SkipString() {
		return nil, false
	}
	if n := rest.i - start; cap(s.buf) < n {
		s.buf = make([]byte, 0, n)
	}
	v, ok := s.unquote(append(s.buf[:0], s.b[start:s.i]...))
	if ok {
		s.buf = v
	}
	return v, ok
}

// plainHead scans a string up to its closing quote and returns its contents
// (non-nil), or stops at the first byte that needs decoding, a backslash or
// invalid UTF-8 (slow; the contents begin at start). v is nil and slow false
// on a syntax error.
func (s *Scanner) plainHead() (v []byte, start int, slow bool) {
	if !s.Eat('"') {
		return nil, 0, false
	}
	start = s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, start, false
		case c == '\\':
			return nil, start, true
		case c < 0x20:
			return nil, start, false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, start, true
			}
			s.i += size
			continue
		}
		s.i++
	}
	return nil, start, false
}

// unquote decodes the rest of a string, from the position, appending to out:
// encoding/json's unquoting, step for step.
func (s *Scanner) unquote(out []byte) ([]byte, bool) {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return out, true
		case c < 0x20:
			return nil, false
		case c == '\\':
			var ok bool
			if out, ok = s.escape(out); !ok {
				return nil, false
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			s.i += size
			out = utf8.AppendRune(out, r)
		}
	}
	return nil, false
}

// escape decodes the escape at the position (a backslash) onto out.
func (s *Scanner) escape(out []byte) ([]byte, bool) {
	s.i++
	if s.i >= len(s.b) {
		return nil, false
	}
	e := s.b[s.i]
	s.i++
	switch e {
	case '"', '\\', '/':
		return append(out, e), true
	case 'b':
		return append(out, '\b'), true
	case 'f':
		return append(out, '\f'), true
	case 'n':
		return append(out, '\n'), true
	case 'r':
		return append(out, '\r'), true
	case 't':
		return append(out, '\t'), true
	case 'u':
		r := s.hex4()
		if r < 0 {
			return nil, false
		}
		if utf16.IsSurrogate(r) {
			// A pair is consumed whole; anything else leaves the next
			// escape for the next step, as encoding/json does.
			save := s.i
			if s.Literal(`\u`) {
				if dec := utf16.DecodeRune(r, s.hex4()); dec != utf8.RuneError {
					return utf8.AppendRune(out, dec), true
				}
			}
			s.i = save
			r = utf8.RuneError
		}
		return utf8.AppendRune(out, r), true
	}
	return nil, false
}

// hex4 consumes four hex digits, returning their value; -1 (consuming
// nothing) when they are not there.
func (s *Scanner) hex4() rune {
	if len(s.b)-s.i < 4 {
		return -1
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	s.i += 4
	return r
}

// isHex reports whether c is a hex digit.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isASCII reports whether b is all ASCII.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// LowerASCII lowercases the ASCII letters of s.
func LowerASCII(s string) string { return string(appendLower(nil, []byte(s))) }

// appendLower appends b with its ASCII letters lowercased.
func appendLower(out, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return out
}

// Names is a set of a struct's JSON field names as json.Unmarshal matches
// keys to them: a key that is none of them exactly may still match one by
// case folding. It holds the names lowercased.
type Names map[string]bool

// NewNames is the set of names.
func NewNames(names ...string) Names {
	n := make(Names, len(names))
	for _, name := range names {
		n.Add(name)
	}
	return n
}

// Add adds name to the set.
func (n Names) Add(name string) { n[LowerASCII(name)] = true }

// MayMatch reports whether json.Unmarshal may match key, known to be none
// of the names exactly, to one of them: an ASCII key that folds to one, or
// any other key (other runes fold to ASCII letters too: the Kelvin sign to
// k). A decoder skips the value of a key that may not match.
func (n Names) MayMatch(key []byte) bool {
	if !isASCII(key) {
		return true
	}
	var buf [64]byte
	return n[string(appendLower(buf[:0], key))]
}
