package runware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// envelope is the union of every top-level body shape Runware's SDKs accept:
// {"data":[...]}, {"errors":[...]}, both at once (partial success), the legacy
// {"error":{...}} or {"error":[...]}, and {"error":{...},"taskUUID":...} as
// sent before a stream starts. The OpenAI-style {"error":{"message","type",
// "code","param"}} fits the same error slot.
type envelope struct {
	Data json.RawMessage `json:"data"`
	envelopeErrors
}

// envelopeErrors are the fields of an envelope beside "data".
type envelopeErrors struct {
	Errors   json.RawMessage `json:"errors"`
	Error    json.RawMessage `json:"error"`
	TaskUUID flexString      `json:"taskUUID"`
	TaskType flexString      `json:"taskType"`
}

// answerEnvelope is an envelope with its data items decoded in the same pass.
type answerEnvelope struct {
	Data []wireItem `json:"data"`
	envelopeErrors
}

// decodedBody is an envelope taken apart: the data items, either still raw
// (items) or already decoded (results, from decodeAnswer), and the errors.
type decodedBody struct {
	items   []json.RawMessage
	results []Result
	errs    []*Error
}

// itemResults returns the body's data items as Results, decoding the raw ones
// (a WebSocket task's collected items) under HTTP status status.
func (d decodedBody) itemResults(status int) []Result {
	if len(d.items) == 0 {
		return d.results
	}
	out := make([]Result, 0, len(d.results)+len(d.items))
	out = append(out, d.results...)
	for _, raw := range d.items {
		out = append(out, decodeItem(raw, status))
	}
	return out
}

// decodeEnvelope parses a native response body. status is the HTTP status and
// goes into every Error (and into its class). A body that is not a JSON object
// is an error of ClassMalformed. The data items are left raw.
func decodeEnvelope(body []byte, status int) (decodedBody, *Error) {
	return decodeBody(body, status, false)
}

// decodeAnswer is decodeEnvelope with the data items decoded into results, as
// decodeItem decodes each: the answer to a sync request or an async poll.
func decodeAnswer(body []byte, status int) (decodedBody, *Error) {
	return decodeBody(body, status, true)
}

// decodeBody is decodeEnvelope, and decodeAnswer when results is set.
func decodeBody(body []byte, status int, results bool) (decodedBody, *Error) {
	var env envelope
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return decodedBody{}, malformed(status, "response body is not a JSON object", body)
	}
	if results {
		if out, derr, ok := decodeAnswerOnce(trimmed, status, body); ok {
			return out, derr
		}
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return decodedBody{}, malformed(status, fmt.Sprintf("decode response body: %v", err), body)
	}
	var out decodedBody
	items, err := rawList(env.Data)
	if err != nil {
		return decodedBody{}, malformed(status, fmt.Sprintf("decode data: %v", err), body)
	}
	out.items = items
	if results {
		out.items, out.results = nil, out.itemResults(status)
	}
	var derr *Error
	if out.errs, derr = env.decode(status, body); derr != nil {
		return decodedBody{}, derr
	}
	return out, nil
}

// decode reads the errors of an envelope whose body is body.
func (env *envelopeErrors) decode(status int, body []byte) ([]*Error, *Error) {
	var out []*Error
	for _, raw := range []json.RawMessage{env.Errors, env.Error} {
		errs, err := decodeErrors(raw, status)
		if err != nil {
			return nil, malformed(status, fmt.Sprintf("decode errors: %v", err), body)
		}
		for _, e := range errs {
			// The pre-stream shape puts taskUUID/taskType beside "error".
			if e.TaskUUID == "" {
				e.TaskUUID = string(env.TaskUUID)
			}
			if e.TaskType == "" {
				e.TaskType = string(env.TaskType)
			}
		}
		out = append(out, errs...)
	}
	return out, nil
}

// decodeAnswerOnce is decodeAnswer in one decoding of the whole body (obj,
// trimmed) into an answerEnvelope, for the usual answer: by scanEnvelope,
// else by json.Unmarshal. It reports false, leaving the body to the passes
// of decodeBody, when the body does not decode so (a lone object as data,
// an item that does not decode, a syntax error) or holds more than one key
// that may be "data" (json.Unmarshal would merge them where decodeBody
// takes the last). Scanning the body is most of the cost of decoding it,
// and decodeBody scans it three times.
func decodeAnswerOnce(obj []byte, status int, body []byte) (decodedBody, *Error, bool) {
	var env answerEnvelope
	if !scanEnvelope(obj, &env) {
		env = answerEnvelope{}
		if json.Unmarshal(obj, &env) != nil || dataKeys(obj) > 1 {
			return decodedBody{}, nil, false
		}
	}
	out, derr := env.answer(status, body)
	return out, derr, true
}

// answer is decodeAnswer's result for a body (body) decoded into env.
func (env *answerEnvelope) answer(status int, body []byte) (decodedBody, *Error) {
	var out decodedBody
	if len(env.Data) > 0 {
		out.results = make([]Result, len(env.Data))
		for i := range env.Data {
			out.results[i] = finishItem(&env.Data[i], status)
		}
	}
	var derr *Error
	if out.errs, derr = env.decode(status, body); derr != nil {
		return decodedBody{}, derr
	}
	return out, nil
}

// dataKeys counts the top-level keys of obj, a valid JSON object, that
// json.Unmarshal may match to the field "data": "data" in any case (no other
// character folds to one of its letters), and every key with an escape in it.
// It returns 2 for anything it cannot walk.
func dataKeys(obj []byte) int {
	n := 0
	i := 1 // past '{'
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) {
			return 2
		}
		switch obj[i] {
		case '}':
			return n
		case ',':
			i = skipSpace(obj, i+1)
		}
		end, escaped := stringEnd(obj, i)
		if end < 0 {
			return 2
		}
		if key := obj[i+1 : end-1]; escaped || bytes.EqualFold(key, []byte("data")) {
			n++
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return 2
		}
		if i = skipValue(obj, skipSpace(obj, i+1)); i < 0 {
			return 2
		}
	}
}

// skipSpace returns the index of the first non-space byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] ('"') and
// whether it holds an escape; -1 when b[i] starts no complete string.
func stringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return -1, false
	}
	escaped := false
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i + 1, escaped
		}
	}
	return -1, false
}

// skipValue returns the index after the valid JSON value starting at b[i],
// or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, _ := stringEnd(b, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// rawList splits a JSON array into its elements; a lone object counts as a
// list of one and null or absent as empty.
func rawList(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '{' {
		return []json.RawMessage{raw}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// wireError is one error object as Runware (or an OpenAI-style server) sends it.
type wireError struct {
	Code          flexString      `json:"code"`
	Message       flexString      `json:"message"`
	Parameter     json.RawMessage `json:"parameter"`
	Param         json.RawMessage `json:"param"` // OpenAI spelling
	TaskType      flexString      `json:"taskType"`
	TaskUUID      flexString      `json:"taskUUID"`
	Type          flexString      `json:"type"`
	Documentation flexString      `json:"documentation"`
	AllowedValues []any           `json:"allowedValues"`
}

// decodeErrors reads an errors value: an array of error objects, one object,
// or a bare string message.
func decodeErrors(raw json.RawMessage, status int) ([]*Error, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var msg string
		if err := json.Unmarshal(raw, &msg); err != nil {
			return nil, err
		}
		return []*Error{{Class: Classify(status, ""), Message: msg, HTTPStatus: status}}, nil
	}
	list, err := rawList(raw)
	if err != nil {
		return nil, err
	}
	out := make([]*Error, 0, len(list))
	for _, item := range list {
		var w wireError
		if err := json.Unmarshal(item, &w); err != nil {
			return nil, err
		}
		out = append(out, w.toError(status))
	}
	return out, nil
}

// toError converts the wire form; the class comes from the code, then the
// OpenAI error type, then the status.
func (w wireError) toError(status int) *Error {
	e := &Error{
		Code:       string(w.Code),
		Message:    string(w.Message),
		Parameter:  joinParameter(w.Parameter),
		TaskType:   string(w.TaskType),
		TaskUUID:   string(w.TaskUUID),
		Type:       string(w.Type),
		Doc:        string(w.Documentation),
		Allowed:    w.AllowedValues,
		HTTPStatus: status,
	}
	if e.Parameter == "" {
		e.Parameter = joinParameter(w.Param)
	}
	// Runware's "type" is the expected type of a parameter ("string"), which
	// names no class; an OpenAI error type ("rate_limit_error") does.
	if c, ok := classifyCode(e.Code); ok {
		e.Class = c
	} else if c, ok := classifyCode(e.Type); ok {
		e.Class = c
	} else {
		e.Class = classifyStatus(status)
	}
	if e.Message == "" {
		e.Message = "(no message)"
	}
	return e
}

// joinParameter turns "parameter" (a string, or an array of strings for
// cross-field errors) into one string, array items joined with ",".
func joinParameter(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var list []flexString
	if raw[0] == '[' && json.Unmarshal(raw, &list) == nil {
		parts := make([]string, len(list))
		for i, p := range list {
			parts[i] = string(p)
		}
		return strings.Join(parts, ",")
	}
	var s flexString
	if json.Unmarshal(raw, &s) == nil {
		return string(s)
	}
	return string(raw)
}

// flexString accepts a JSON string, number, boolean or null (as ""), and keeps
// any other value as its JSON text, so an odd field type never fails a body.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		*f = flexString(b)
	}
	return nil
}

// malformed builds a ClassMalformed error quoting the start of the body.
// A non-2xx status with an undecodable body is classed by the status instead:
// the status is the better signal then.
func malformed(status int, msg string, body []byte) *Error {
	class := ClassMalformed
	if status >= 300 || status < 200 && status != 0 {
		class = classifyStatus(status)
	}
	return &Error{Class: class, Message: msg + ": " + snippet(body), HTTPStatus: status}
}

// snippet quotes at most 200 bytes of a body for an error message.
func snippet(body []byte) string {
	const n = 200
	s := strings.TrimSpace(string(body))
	if len(s) > n {
		return strconv.Quote(s[:n]) + "..."
	}
	return strconv.Quote(s)
}
