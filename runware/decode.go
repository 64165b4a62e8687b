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
	Data     json.RawMessage `json:"data"`
	Errors   json.RawMessage `json:"errors"`
	Error    json.RawMessage `json:"error"`
	TaskUUID flexString      `json:"taskUUID"`
	TaskType flexString      `json:"taskType"`
}

// decodedBody is an envelope taken apart: the raw data items and the errors.
type decodedBody struct {
	items []json.RawMessage
	errs  []*Error
}

// decodeEnvelope parses a native response body. status is the HTTP status and
// goes into every Error (and into its class). A body that is not a JSON object
// is an error of ClassMalformed.
func decodeEnvelope(body []byte, status int) (decodedBody, *Error) {
	var env envelope
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return decodedBody{}, malformed(status, "response body is not a JSON object", body)
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
	for _, raw := range []json.RawMessage{env.Errors, env.Error} {
		errs, err := decodeErrors(raw, status)
		if err != nil {
			return decodedBody{}, malformed(status, fmt.Sprintf("decode errors: %v", err), body)
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
		out.errs = append(out.errs, errs...)
	}
	return out, nil
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
