package journal

import (
	"encoding/json"
	"time"

	"github.com/promptgrid/promptgrid/internal/jsonenc"
)

// appendAttempt appends a's JSON line (without the newline) to b: the bytes
// json.Marshal writes, without its reflection (one attempt line is written
// per request and per answer). Strings that would need escaping, and
// non-finite numbers, go through json.Marshal.
func appendAttempt(b []byte, a *Attempt) ([]byte, error) {
	if !plainJSON(a.Kind) || !plainJSON(a.TrialKey) || !plainJSON(a.TaskUUID) || !plainJSON(a.Delivery) ||
		!finite(a.Bound) || !finite(a.Charged) || a.At.Year() < 0 || a.At.Year() > 9999 {
		line, err := json.Marshal(a)
		return append(b, line...), err
	}
	b = append(b, `{"kind":"`...)
	b = append(b, a.Kind...)
	b = append(b, `","trialKey":"`...)
	b = append(b, a.TrialKey...)
	b = append(b, `","taskUUID":"`...)
	b = append(b, a.TaskUUID...)
	b = append(b, '"')
	if a.Delivery != "" {
		b = append(b, `,"deliveryMethod":"`...)
		b = append(b, a.Delivery...)
		b = append(b, '"')
	}
	if a.Judge {
		b = append(b, `,"judge":true`...)
	}
	if a.Agent {
		b = append(b, `,"agent":true`...)
	}
	if a.Bound != 0 {
		b = append(b, `,"bound":`...)
		b = appendJSONFloat(b, a.Bound)
	}
	b = append(b, `,"charged":`...)
	b = appendJSONFloat(b, a.Charged)
	b = append(b, `,"at":"`...)
	b = a.At.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...), nil
}

// plainJSON reports whether s encodes in JSON as itself between quotes:
// printable ASCII other than the characters json.Marshal escapes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func finite(f float64) bool { return jsonenc.Finite(f) }

func appendJSONFloat(b []byte, f float64) []byte { return jsonenc.AppendFloat(b, f) }
