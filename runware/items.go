package runware

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Item statuses on getResponse (and optionally on other) result items.
// "pending" (legacy docs), "queued", "scheduled" and "waiting" (old Python SDK)
// are treated like "processing": anything that is not success or error.
const (
	statusSuccess = "success"
	statusError   = "error"
)

// wireItem is one element of "data": a result, an async placeholder, or a
// failed item carrying its error embedded or as top-level code/message.
type wireItem struct {
	Result
	// Text shadows Result.Text so that one decode also tells an item without
	// a "text" field from one with empty text.
	Text    *string         `json:"text"`
	Error   json.RawMessage `json:"error"`
	Code    flexString      `json:"code"`
	Message flexString      `json:"message"`
}

// decodeItem turns one data element into a Result. A failed item has Err set
// (HTTP status status). An element that does not decode yields a Result
// carrying a ClassMalformed error, routed by taskUUID when one can be read.
func decodeItem(raw json.RawMessage, status int) Result {
	var w wireItem
	if err := json.Unmarshal(raw, &w); err != nil {
		var id struct {
			TaskUUID flexString `json:"taskUUID"`
		}
		_ = json.Unmarshal(raw, &id)
		return Result{TaskUUID: string(id.TaskUUID), Status: statusError,
			Err: malformed(0, fmt.Sprintf("decode result: %v", err), raw)}
	}
	return finishItem(&w, status)
}

// finishItem turns a decoded data element into a Result (see decodeItem).
func finishItem(w *wireItem, status int) Result {
	r := w.Result
	if w.Text != nil {
		r.Text = *w.Text
	}
	if r.Status == statusSuccess && r.Err == nil && len(r.ToolCalls) == 0 && w.Text == nil {
		r.Err = &Error{Class: ClassMalformed, Code: CodeNotTextResult, TaskUUID: r.TaskUUID, TaskType: r.TaskType,
			Message: "a successful item without text: not a textInference answer"}
		return r
	}
	embedded := bytes.TrimSpace(w.Error)
	hasEmbedded := len(embedded) > 0 && string(embedded) != "null"
	if r.Status != statusError && !hasEmbedded {
		return r
	}
	var e *Error
	if hasEmbedded {
		if errs, err := decodeErrors(embedded, status); err == nil && len(errs) > 0 {
			e = errs[0]
		}
	}
	if e == nil {
		e = wireError{Code: w.Code, Message: w.Message}.toError(status)
	}
	if e.TaskUUID == "" {
		e.TaskUUID = r.TaskUUID
	}
	if e.TaskType == "" {
		e.TaskType = r.TaskType
	}
	if e.Class == ClassUnknown || e.Class == "" {
		// An item that says it failed, with nothing telling why, is most
		// likely an upstream failure; the SDKs file taskFailed there too.
		e.Class = ClassProvider
	}
	r.Status = statusError
	r.Err = e
	return r
}

// terminal reports whether an item is final: succeeded or failed. An item
// without status but with a finishReason is a finished result too.
func (r *Result) terminal() bool {
	return r.Status == statusSuccess || r.Status == statusError || r.Err != nil ||
		(r.Status == "" && r.FinishReason != "")
}
