package journal

import (
	"encoding/json"

	"github.com/promptgrid/promptgrid/internal/jsonscan"
)

// recDecoder decodes one journal line into a Record without reflection: the
// fast path of Read. It gives exactly what json.Unmarshal into a zero Record
// gives, or reports that it cannot vouch for the result (false), and the
// line then goes to json.Unmarshal (which also gives the error of a line that
// is not a record). It gives up on anything unusual: a key spelt in another
// case or with escapes, a value of an unexpected type, a repeated array
// field, deep nesting. Strings decode as json.Unmarshal decodes them
// (jsonscan.Scanner.String), invalid UTF-8 and surrogates included. The
// rarely written agent fields (steps, toolCalls, media) are decoded by
// json.Unmarshal into the field itself, which is what the full decoder does
// with them. Strings that repeat from line to line (run id, suite, model,
// check names...) are shared with the previous line's when equal.
//
// A recDecoder is not safe for concurrent use.
type recDecoder struct {
	keyScanner
	cache [slotCount]string
}

// Slots of recDecoder.cache: the string fields whose values repeat.
const (
	slotRunID = iota
	slotSuite
	slotSuiteHash
	slotCell
	slotVariant
	slotModel
	slotDelivery
	slotTransport
	slotFinish
	slotErrClass
	slotErrCode
	slotCheck0 // slotCheck0 + i for the name of check i < 4
	slotCount  = slotCheck0 + 4
)

// noSlot marks a string that is not shared.
const noSlot = -1

// decode fills rec (zero) from line (trimmed, not empty); false: use
// json.Unmarshal.
func (d *recDecoder) decode(line []byte, rec *Record) bool {
	d.Reset(line)
	return d.Object(func(name []byte) bool { return d.recordField(name, rec) }) && d.End()
}

// unknown handles a key that names no field of a struct whose folded
// (lowercased) names are folded: json.Unmarshal ignores its value, unless
// the key matches a field case-insensitively (or might, being non-ASCII).
func (d *recDecoder) unknown(name []byte, folded jsonscan.Names) bool {
	return !folded.MayMatch(name) && d.Value()
}

// str decodes a string value as json.Unmarshal does, sharing it with the
// previous value of slot when equal.
func (d *recDecoder) str(slot int) (string, bool) {
	b, ok := d.String()
	if !ok {
		return "", false
	}
	if slot != noSlot {
		if c := d.cache[slot]; c == string(b) {
			return c, true
		}
		s := string(b)
		d.cache[slot] = s
		return s, true
	}
	return string(b), true
}

// strField decodes a string field: null leaves it as it was.
func (d *recDecoder) strField(dst *string, slot int) bool {
	if d.Null() {
		return true
	}
	s, ok := d.str(slot)
	if ok {
		*dst = s
	}
	return ok
}

// floatPtr decodes a *float64 field: null sets it to nil, a number to a
// new value (json.Unmarshal reuses a pointer already set; the value is the
// same).
func (d *recDecoder) floatPtr(dst **float64) bool {
	if d.Null() {
		*dst = nil
		return true
	}
	f, ok := d.Float64()
	if ok {
		*dst = &f
	}
	return ok
}

func (d *recDecoder) boolField(dst *bool) bool {
	switch {
	case d.Literal("true"):
		*dst = true
	case d.Literal("false"):
		*dst = false
	case d.Null():
	default:
		return false
	}
	return true
}

// sub decodes the value with json.Unmarshal into dst (a field of the record
// being decoded, as the full decoder would).
func (d *recDecoder) sub(dst any) bool {
	start := d.Pos()
	if !d.Value() {
		return false
	}
	return json.Unmarshal(d.From(start), dst) == nil
}

// maxAnyDepth bounds the nesting recDecoder decodes into any values itself.
const maxAnyDepth = 64

// anyValue decodes a value into an interface as json.Unmarshal does:
// objects as map[string]any, arrays as []any, numbers as float64.
func (d *recDecoder) anyValue(depth int) (any, bool) {
	if depth > maxAnyDepth {
		return nil, false
	}
	switch c := d.Peek(); {
	case c == '"':
		return d.str(noSlot)
	case c == '{':
		m := map[string]any{}
		ok := d.mapInto(m, depth+1)
		return m, ok
	case c == '[':
		xs := make([]any, 0)
		ok := d.Array(func() bool {
			v, ok := d.anyValue(depth + 1)
			xs = append(xs, v)
			return ok
		})
		return xs, ok
	case c == '-' || '0' <= c && c <= '9':
		return d.Float64()
	case d.Literal("true"):
		return true, true
	case d.Literal("false"):
		return false, true
	case d.Null():
		return nil, true
	}
	return nil, false
}

// mapInto decodes an object's members into m (the last of a repeated key
// wins, as in json.Unmarshal).
func (d *recDecoder) mapInto(m map[string]any, depth int) bool {
	if !d.Eat('{') {
		return false
	}
	d.WS()
	if d.Eat('}') {
		return true
	}
	for {
		d.WS()
		k, ok := d.str(noSlot)
		if !ok {
			return false
		}
		d.WS()
		if !d.Eat(':') {
			return false
		}
		d.WS()
		v, ok := d.anyValue(depth)
		if !ok {
			return false
		}
		m[k] = v
		d.WS()
		if d.Eat('}') {
			return true
		}
		if !d.Eat(',') {
			return false
		}
	}
}

// mapField decodes a map[string]any field: null sets it to nil, an object
// adds its members to the map (made if nil).
func (d *recDecoder) mapField(dst *map[string]any) bool {
	if d.Null() {
		*dst = nil
		return true
	}
	if d.Peek() != '{' {
		return false
	}
	if *dst == nil {
		*dst = map[string]any{}
	}
	return d.mapInto(*dst, 1)
}

// stringsField decodes a []string field into a nil slice (a repeated one
// gives up: json.Unmarshal merges it into the earlier one).
func (d *recDecoder) stringsField(dst *[]string) bool {
	if d.Null() {
		*dst = nil
		return true
	}
	if *dst != nil || d.Peek() != '[' {
		return false
	}
	out := make([]string, 0)
	ok := d.Array(func() bool {
		var s string
		if !d.strField(&s, noSlot) {
			return false
		}
		out = append(out, s)
		return true
	})
	*dst = out
	return ok
}

// Folded field names of the nested structs (see unknown).
var (
	timingsFolded = jsonscan.NewNames("scheduled", "attemptScheduledMs", "admittedMs", "dispatchedMs", "firstByteMs",
		"firstReasoningMs", "firstTextMs", "lastDeltaMs", "doneMs", "ttftMs", "ttfoMs", "e2eMs", "queueMs",
		"toSuccessMs", "lateMs")
	usageFolded = jsonscan.NewNames("prompt", "completion", "total", "thinking")
	errorFolded = jsonscan.NewNames("class", "code", "message", "parameter", "httpStatus")
	checkFolded = jsonscan.NewNames("check", "pass", "reason", "weight", "judgeCost", "judgeTokens", "judgeCached", "unjudged")
	recFolded   = jsonscan.NewNames("v", "runId", "suite", "suiteHash", "caseId", "tags", "cell", "cellValues", "variant",
		"seed", "replicate", "resultIndex", "numberResults", "trialKey", "taskUUID", "requestHash", "model",
		"deliveryMethod", "transport", "vars", "media", "prompt", "timings", "text", "reasoning", "finishReason",
		"toolCalls", "usage", "cost", "usageShared", "costEstimated", "error", "attempts", "retried", "cached",
		"resent", "steps", "stepLimit", "checks", "pass", "score")
)

// recordField decodes the value of the top-level field name.
func (d *recDecoder) recordField(name []byte, r *Record) bool {
	switch string(name) {
	case "v":
		return jsonscan.IntField(&d.Scanner, &r.V)
	case "runId":
		return d.strField(&r.RunID, slotRunID)
	case "suite":
		return d.strField(&r.Suite, slotSuite)
	case "suiteHash":
		return d.strField(&r.SuiteHash, slotSuiteHash)
	case "caseId":
		return d.strField(&r.CaseID, noSlot)
	case "tags":
		return d.stringsField(&r.Tags)
	case "cell":
		return d.strField(&r.Cell, slotCell)
	case "cellValues":
		return d.mapField(&r.CellValues)
	case "variant":
		return d.strField(&r.Variant, slotVariant)
	case "seed":
		return jsonscan.IntField(&d.Scanner, &r.Seed)
	case "replicate":
		return jsonscan.IntField(&d.Scanner, &r.Replicate)
	case "resultIndex":
		return jsonscan.IntField(&d.Scanner, &r.ResultIndex)
	case "numberResults":
		return jsonscan.IntField(&d.Scanner, &r.Results)
	case "trialKey":
		return d.strField(&r.TrialKey, noSlot)
	case "taskUUID":
		return d.strField(&r.TaskUUID, noSlot)
	case "requestHash":
		return d.strField(&r.RequestHash, noSlot)
	case "model":
		return d.strField(&r.Model, slotModel)
	case "deliveryMethod":
		return d.strField(&r.Delivery, slotDelivery)
	case "transport":
		return d.strField(&r.Transport, slotTransport)
	case "vars":
		return d.mapField(&r.Vars)
	case "media":
		return d.sub(&r.Media)
	case "prompt":
		return d.strField(&r.Prompt, noSlot)
	case "timings":
		return d.timings(&r.Timings)
	case "text":
		return d.strField(&r.Text, noSlot)
	case "reasoning":
		return d.strField(&r.Reasoning, noSlot)
	case "finishReason":
		return d.strField(&r.FinishReason, slotFinish)
	case "toolCalls":
		return d.sub(&r.ToolCalls)
	case "usage":
		return d.usage(&r.Usage)
	case "cost":
		return d.floatPtr(&r.Cost)
	case "usageShared":
		return d.boolField(&r.UsageShared)
	case "costEstimated":
		return d.boolField(&r.CostEstimated)
	case "error":
		return d.errorField(&r.Error)
	case "attempts":
		return jsonscan.IntField(&d.Scanner, &r.Attempts)
	case "retried":
		return d.boolField(&r.Retried)
	case "cached":
		return d.boolField(&r.Cached)
	case "resent":
		return d.boolField(&r.Resent)
	case "steps":
		return d.sub(&r.Steps)
	case "stepLimit":
		return d.boolField(&r.StepLimit)
	case "checks":
		return d.checks(&r.Checks)
	case "pass":
		return d.boolField(&r.Pass)
	case "score":
		return d.FloatField(&r.Score)
	}
	return d.unknown(name, recFolded)
}

// timings decodes into t (an object merges into what is there, as in
// json.Unmarshal; null changes nothing).
func (d *recDecoder) timings(t *Timings) bool {
	if d.Null() {
		return true
	}
	return d.Object(func(name []byte) bool {
		switch string(name) {
		case "scheduled":
			if d.Null() {
				return true
			}
			start := d.Pos()
			if !d.SkipString() {
				return false
			}
			return t.Scheduled.UnmarshalJSON(d.From(start)) == nil
		case "attemptScheduledMs":
			return d.floatPtr(&t.AttemptScheduled)
		case "admittedMs":
			return d.floatPtr(&t.Admitted)
		case "dispatchedMs":
			return d.floatPtr(&t.Dispatched)
		case "firstByteMs":
			return d.floatPtr(&t.FirstByte)
		case "firstReasoningMs":
			return d.floatPtr(&t.FirstReasoning)
		case "firstTextMs":
			return d.floatPtr(&t.FirstText)
		case "lastDeltaMs":
			return d.floatPtr(&t.LastDelta)
		case "doneMs":
			return d.floatPtr(&t.Done)
		case "ttftMs":
			return d.floatPtr(&t.TTFT)
		case "ttfoMs":
			return d.floatPtr(&t.TTFO)
		case "e2eMs":
			return d.floatPtr(&t.E2E)
		case "queueMs":
			return d.floatPtr(&t.Queue)
		case "toSuccessMs":
			return d.floatPtr(&t.ToSuccess)
		case "lateMs":
			return d.floatPtr(&t.Late)
		}
		return d.unknown(name, timingsFolded)
	})
}

func (d *recDecoder) usage(dst **Usage) bool {
	return objectPtr(d, dst, func(u *Usage, name []byte) bool {
		switch string(name) {
		case "prompt":
			return jsonscan.IntField(&d.Scanner, &u.Prompt)
		case "completion":
			return jsonscan.IntField(&d.Scanner, &u.Completion)
		case "total":
			return jsonscan.IntField(&d.Scanner, &u.Total)
		case "thinking":
			return jsonscan.IntField(&d.Scanner, &u.Thinking)
		}
		return d.unknown(name, usageFolded)
	})
}

// objectPtr decodes an object into *dst as json.Unmarshal does with a
// pointer to a struct: null sets it to nil, an object merges into what
// *dst points to (a new T when nil), member decoding each member.
func objectPtr[T any](d *recDecoder, dst **T, member func(v *T, name []byte) bool) bool {
	if d.Null() {
		*dst = nil
		return true
	}
	if d.Peek() != '{' {
		return false
	}
	if *dst == nil {
		*dst = new(T)
	}
	v := *dst
	return d.Object(func(name []byte) bool { return member(v, name) })
}

func (d *recDecoder) errorField(dst **Error) bool {
	return objectPtr(d, dst, func(e *Error, name []byte) bool {
		switch string(name) {
		case "class":
			return d.strField(&e.Class, slotErrClass)
		case "code":
			return d.strField(&e.Code, slotErrCode)
		case "message":
			return d.strField(&e.Message, noSlot)
		case "parameter":
			return d.strField(&e.Parameter, noSlot)
		case "httpStatus":
			return jsonscan.IntField(&d.Scanner, &e.HTTPStatus)
		}
		return d.unknown(name, errorFolded)
	})
}

// checks decodes the check outcomes into a nil slice (a repeated field
// gives up, as in stringsField).
func (d *recDecoder) checks(dst *[]CheckOutcome) bool {
	if d.Null() {
		*dst = nil
		return true
	}
	if *dst != nil || d.Peek() != '[' {
		return false
	}
	out := make([]CheckOutcome, 0, 2)
	ok := d.Array(func() bool {
		out = append(out, CheckOutcome{})
		if d.Null() {
			return true
		}
		o := &out[len(out)-1]
		slot := noSlot
		if i := len(out) - 1; i < 4 {
			slot = slotCheck0 + i
		}
		return d.Object(func(name []byte) bool {
			switch string(name) {
			case "check":
				return d.strField(&o.Check, slot)
			case "pass":
				return d.boolField(&o.Pass)
			case "reason":
				return d.strField(&o.Reason, noSlot)
			case "weight":
				return d.FloatField(&o.Weight)
			case "judgeCost":
				return d.FloatField(&o.JudgeCost)
			case "judgeTokens":
				return jsonscan.IntField(&d.Scanner, &o.JudgeTokens)
			case "judgeCached":
				return d.boolField(&o.JudgeCached)
			case "unjudged":
				return d.boolField(&o.Unjudged)
			}
			return d.unknown(name, checkFolded)
		})
	})
	*dst = out
	return ok
}
