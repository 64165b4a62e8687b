package journal

import (
	"encoding/json"
	"time"

	"github.com/promptgrid/promptgrid/internal/jsonenc"
)

// appendAttempt appends a's JSON line (without the newline) to b: the bytes
// json.Marshal writes, without its reflection (one attempt line is written
// per request and per answer). Non-finite numbers and times json.Marshal
// refuses go through json.Marshal, for its error.
func appendAttempt(b []byte, a *Attempt) ([]byte, error) {
	if !jsonenc.Finite(a.Bound) || !jsonenc.Finite(a.Charged) || a.At.Year() < 0 || a.At.Year() > 9999 {
		line, err := json.Marshal(a)
		return append(b, line...), err
	}
	b = appendKeyString(b, `{"kind":`, a.Kind)
	b = appendKeyString(b, `,"trialKey":`, a.TrialKey)
	b = appendKeyString(b, `,"taskUUID":`, a.TaskUUID)
	if a.Delivery != "" {
		b = appendKeyString(b, `,"deliveryMethod":`, a.Delivery)
	}
	b = appendFlag(b, `,"judge":true`, a.Judge)
	b = appendFlag(b, `,"agent":true`, a.Agent)
	if a.Bound != 0 {
		b = append(b, `,"bound":`...)
		b = jsonenc.AppendFloat(b, a.Bound)
	}
	b = append(b, `,"charged":`...)
	b = jsonenc.AppendFloat(b, a.Charged)
	b = append(b, `,"at":"`...)
	b = a.At.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...), nil
}
