package runware

import (
	"fmt"
	"strings"
)

// Class groups errors by what a caller should do about them.
type Class string

// Error classes. Transient classes are worth retrying; the others are not.
const (
	ClassNetwork    Class = "network"    // connection refused, reset, DNS
	ClassTimeout    Class = "timeout"    // client deadline, 408, 504, provider timeouts
	ClassRateLimit  Class = "rateLimit"  // 429 and rate-limit codes
	ClassServer     Class = "server"     // 5xx and server codes
	ClassProvider   Class = "provider"   // upstream provider failures
	ClassTruncated  Class = "truncated"  // stream closed without [DONE] or finishReason
	ClassMalformed  Class = "malformed"  // a body that does not decode
	ClassValidation Class = "validation" // 400 and invalid*/missing*/unsupported* codes
	ClassAuth       Class = "auth"       // 401/403, invalidApiKey
	ClassCredits    Class = "credits"    // 402, insufficientCredits
	ClassNotFound   Class = "notFound"   // 404, modelNotFound, taskNotFound
	ClassSafety     Class = "safety"     // content policy
	ClassUnknown    Class = "unknown"
)

// Transient reports whether an error of this class may succeed when retried.
func (c Class) Transient() bool {
	switch c {
	case ClassNetwork, ClassTimeout, ClassRateLimit, ClassServer, ClassProvider, ClassTruncated, ClassMalformed:
		return true
	}
	return false
}

// Fatal reports whether an error of this class will fail every further request
// with the same credentials, so a run should stop early.
func (c Class) Fatal() bool { return c == ClassAuth || c == ClassCredits }

// Error is an API or transport error. Code, Message and Parameter are kept
// verbatim as the API sent them.
type Error struct {
	Class      Class    `json:"class"`
	Code       string   `json:"code,omitempty"`
	Message    string   `json:"message"`
	Parameter  string   `json:"parameter,omitempty"`
	TaskType   string   `json:"taskType,omitempty"`
	TaskUUID   string   `json:"taskUUID,omitempty"`
	HTTPStatus int      `json:"httpStatus,omitempty"`
	Type       string   `json:"type,omitempty"`
	Doc        string   `json:"documentation,omitempty"`
	Allowed    []any    `json:"allowedValues,omitempty"`
	RetryAfter Duration `json:"retryAfter,omitempty"`
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(e.Code)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Parameter != "" {
		fmt.Fprintf(&b, " (parameter %s)", e.Parameter)
	}
	return b.String()
}
