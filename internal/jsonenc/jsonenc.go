// Package jsonenc writes JSON values byte for byte as encoding/json writes
// them, without reflection: the journal's lines and the requests' canonical
// encoding (trial keys) are written a million times a run.
package jsonenc

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendString appends s quoted as encoding/json quotes a string: with
// escapeHTML (json.Marshal's default) <, > and & as \u003c, \u003e and
// \u0026; always the short escapes
// for \b \f \n \r \t, other control bytes as \u00XX, invalid UTF-8 as \ufffd
// and U+2028 and U+2029 escaped.
func AppendString(b []byte, s string, escapeHTML bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!escapeHTML || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendFloat formats f as encoding/json does for a float64: the shortest
// representation, in exponent form below 1e-6 and from 1e21 on, with a
// two-digit exponent written without its leading zero (1e-07 → 1e-7). f
// must be finite (encoding/json refuses NaN and infinities).
func AppendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

// Finite reports whether f can be written (neither NaN nor infinite).
func Finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
