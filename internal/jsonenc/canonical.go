package jsonenc

import (
	"slices"
	"strconv"
)

// AppendCanonical appends v as a json.Encoder with SetEscapeHTML(false)
// writes it (map keys in byte order, no trailing newline) when v is a tree
// of the values YAML and JSON decode into: map[string]any, []any, string,
// bool, nil, finite float64, and the integer kinds. ok is false for any
// other value (b is then to be discarded), so that the caller can use
// encoding/json itself.
func AppendCanonical(b []byte, v any) (_ []byte, ok bool) { return appendValue(b, v, false) }

// AppendValue is AppendCanonical with json.Marshal's HTML escaping: the
// bytes json.Marshal writes for such a tree.
func AppendValue(b []byte, v any) (_ []byte, ok bool) { return appendValue(b, v, true) }

func appendValue(b []byte, v any, html bool) (_ []byte, ok bool) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return AppendString(b, v, html), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case int32:
		return strconv.AppendInt(b, int64(v), 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	case float64:
		if !Finite(v) {
			return b, false
		}
		return AppendFloat(b, v), true
	case []any:
		if v == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendValue(b, e, html); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		if v == nil {
			return append(b, "null"...), true
		}
		var arr [16]string
		keys := arr[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k, html)
			b = append(b, ':')
			if b, ok = appendValue(b, v[k], html); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}
