package runware

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/promptgrid/promptgrid/internal/jsonscan"
)

// answerScanner decodes an answer body into an answerEnvelope without
// reflection: the fast path of decodeAnswerOnce. It gives exactly what
// json.Unmarshal into a zero answerEnvelope gives, or reports that it
// cannot vouch for the result (false), and the body then goes to
// json.Unmarshal. It gives up on anything unusual: a key spelt in another
// case or with escapes, a value of a type json.Unmarshal would refuse for
// its field (it then fails the whole body), a repeated "data" (which
// decodeAnswerOnce leaves to decodeBody) or "toolCalls" (json.Unmarshal
// decodes it into the earlier slice). A repeated key of any other field
// overwrites it (*Usage merges) as in json.Unmarshal. The values an
// item's pointer fields point to share one allocation (itemValues).
type answerScanner struct {
	jsonscan.Scanner
}

// JSON names of the fields of the structs answerScanner decodes: a key
// that is none of them exactly is skipped unless it may match one by case
// (jsonscan.Names.MayMatch). They are read from the structs, so that a
// field added later sends its key to json.Unmarshal until answerScanner
// decodes it, instead of being skipped.
var (
	envelopeNames = jsonNames(reflect.TypeFor[answerEnvelope]())
	itemNames     = jsonNames(reflect.TypeFor[wireItem]())
	usageNames    = jsonNames(reflect.TypeFor[Usage]())
	toolCallNames = jsonNames(reflect.TypeFor[ToolCall]())
)

// jsonNames is the set of JSON names of typ's fields, those of embedded
// structs included, as encoding/json names them.
func jsonNames(typ reflect.Type) jsonscan.Names {
	names := jsonscan.Names{}
	addJSONNames(names, typ)
	return names
}

// addJSONNames adds the JSON names of typ's fields to names.
func addJSONNames(names jsonscan.Names, typ reflect.Type) {
	for f := range typ.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			addJSONNames(names, f.Type)
		case f.IsExported():
			if name == "" {
				name = f.Name
			}
			names.Add(name)
		}
	}
}

// scanEnvelope fills env (zero) from obj, a body trimmed of space; false:
// use json.Unmarshal.
func scanEnvelope(obj []byte, env *answerEnvelope) bool {
	var s answerScanner
	s.Reset(obj)
	data := false
	return s.Object(func(name []byte) bool {
		switch string(name) {
		case "data":
			if data {
				return false
			}
			data = true
			return s.items(&env.Data)
		case "errors":
			return s.raw(&env.Errors)
		case "error":
			return s.raw(&env.Error)
		case "taskUUID":
			return s.flex(&env.TaskUUID)
		case "taskType":
			return s.flex(&env.TaskType)
		}
		return s.unknown(name, envelopeNames)
	}) && s.End()
}

// unknown skips the value of a key that names no field of a struct whose
// names are names, unless json.Unmarshal may match it to one.
func (s *answerScanner) unknown(name []byte, names jsonscan.Names) bool {
	return !names.MayMatch(name) && s.Value()
}

// items decodes "data": null as nil, an array element by element (a null
// element is a zero item); a lone object is not decoded so.
func (s *answerScanner) items(dst *[]wireItem) bool {
	if s.Null() {
		*dst = nil
		return true
	}
	out := make([]wireItem, 0, 1)
	ok := s.Array(func() bool {
		out = append(out, wireItem{})
		return s.item(&out[len(out)-1])
	})
	*dst = out
	return ok
}

// itemValues holds the values an item's pointer fields point to, so that
// one allocation serves them all.
type itemValues struct {
	text        string
	usage       Usage
	cost        float64
	resultIndex int
	seed        int64
}

// item decodes one data element into w (zero).
func (s *answerScanner) item(w *wireItem) bool {
	if s.Null() {
		return true
	}
	v := new(itemValues)
	return s.Object(func(name []byte) bool {
		switch string(name) {
		case "taskType":
			return s.str(&w.TaskType)
		case "taskUUID":
			return s.str(&w.TaskUUID)
		case "status":
			return s.str(&w.Status)
		case "text":
			return s.strPtr(&w.Text, &v.text)
		case "reasoningContent":
			return s.str(&w.ReasoningContent)
		case "finishReason":
			return s.str(&w.FinishReason)
		case "usage":
			return s.usage(&w.Usage, &v.usage)
		case "cost":
			return s.floatPtr(&w.Cost, &v.cost)
		case "resultIndex":
			return intPtr(s, &w.ResultIndex, &v.resultIndex)
		case "seed":
			return intPtr(s, &w.Seed, &v.seed)
		case "toolCalls":
			return s.toolCalls(&w.ToolCalls)
		case "error":
			return s.raw(&w.Error)
		case "code":
			return s.flex(&w.Code)
		case "message":
			return s.flex(&w.Message)
		}
		return s.unknown(name, itemNames)
	})
}

// usage decodes a *Usage: null sets it to nil, an object merges into what
// it points to (when nil, into *slot, zeroed), as json.Unmarshal does.
func (s *answerScanner) usage(dst **Usage, slot *Usage) bool {
	if s.Null() {
		*dst = nil
		return true
	}
	if s.Peek() != '{' {
		return false
	}
	if *dst == nil {
		// slot may hold an earlier "usage" since set to null.
		*slot = Usage{}
		*dst = slot
	}
	u := *dst
	return s.Object(func(name []byte) bool {
		switch string(name) {
		case "promptTokens":
			return jsonscan.IntField(&s.Scanner, &u.PromptTokens)
		case "completionTokens":
			return jsonscan.IntField(&s.Scanner, &u.CompletionTokens)
		case "totalTokens":
			return jsonscan.IntField(&s.Scanner, &u.TotalTokens)
		case "thinkingTokens":
			return jsonscan.IntField(&s.Scanner, &u.ThinkingTokens)
		}
		return s.unknown(name, usageNames)
	})
}

// toolCalls decodes the calls into a nil slice: null keeps it nil, an
// array (a null element is a zero call) makes it non-nil even when empty.
func (s *answerScanner) toolCalls(dst *[]ToolCall) bool {
	if s.Null() {
		*dst = nil
		return true
	}
	if *dst != nil {
		return false
	}
	out := make([]ToolCall, 0, 1)
	ok := s.Array(func() bool {
		out = append(out, ToolCall{})
		if s.Null() {
			return true
		}
		tc := &out[len(out)-1]
		return s.Object(func(name []byte) bool {
			switch string(name) {
			case "id":
				return s.str(&tc.ID)
			case "name":
				return s.str(&tc.Name)
			case "arguments":
				return s.raw(&tc.Arguments)
			}
			return s.unknown(name, toolCallNames)
		})
	})
	*dst = out
	return ok
}

// str decodes a string field: null leaves it as it was, anything but a
// string fails json.Unmarshal.
func (s *answerScanner) str(dst *string) bool {
	if s.Null() {
		return true
	}
	b, ok := s.String()
	if ok {
		*dst = intern(b)
	}
	return ok
}

// strPtr decodes a *string field: null sets it to nil, a string to slot
// holding it.
func (s *answerScanner) strPtr(dst **string, slot *string) bool {
	if s.Null() {
		*dst = nil
		return true
	}
	b, ok := s.String()
	if ok {
		*slot = intern(b)
		*dst = slot
	}
	return ok
}

// intern returns b as a string, without allocating for the values every
// answer repeats.
func intern(b []byte) string {
	switch string(b) {
	case TaskTextInference:
		return TaskTextInference
	case statusSuccess:
		return statusSuccess
	case "stop":
		return "stop"
	}
	return string(b)
}

// raw decodes a json.RawMessage field: a copy of the value's text, null
// included.
func (s *answerScanner) raw(dst *json.RawMessage) bool {
	start := s.Pos()
	if !s.Value() {
		return false
	}
	*dst = append(json.RawMessage(nil), s.From(start)...)
	return true
}

// flex decodes a flexString field as its UnmarshalJSON does: a string
// unquoted, null as "", any other value as its text.
func (s *answerScanner) flex(dst *flexString) bool {
	switch {
	case s.Null():
		*dst = ""
		return true
	case s.Peek() == '"':
		b, ok := s.String()
		*dst = flexString(b)
		return ok
	}
	start := s.Pos()
	if !s.Value() {
		return false
	}
	*dst = flexString(s.From(start))
	return true
}

// floatPtr decodes a *float64 field: null sets it to nil, a number to
// slot holding it.
func (s *answerScanner) floatPtr(dst **float64, slot *float64) bool {
	if s.Null() {
		*dst = nil
		return true
	}
	f, ok := s.Float64()
	if ok {
		*slot = f
		*dst = slot
	}
	return ok
}

// intPtr decodes a pointer to an integer field: null sets it to nil, a
// number to slot holding it.
func intPtr[T jsonscan.Integer](s *answerScanner, dst **T, slot *T) bool {
	if s.Null() {
		*dst = nil
		return true
	}
	n, ok := jsonscan.Int[T](&s.Scanner)
	if ok {
		*slot = n
		*dst = slot
	}
	return ok
}
