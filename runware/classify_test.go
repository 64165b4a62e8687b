package runware

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every class is reachable, codes decide over statuses, and each retryable
// family of the reference §4.3 lands in a transient class while validation,
// auth, credits and not-found do not.
func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   Class
	}{
		// Statuses alone (no code, or a code nobody knows).
		{400, "", ClassValidation},           // bad request
		{401, "", ClassAuth},                 // no valid key
		{403, "", ClassAuth},                 // key lacks permission
		{402, "", ClassCredits},              // balance insufficient
		{404, "", ClassNotFound},             // resource not found
		{408, "", ClassTimeout},              // request timeout
		{409, "", ClassValidation},           // other 4xx: the request is at fault
		{429, "", ClassRateLimit},            // queue capacity exceeded
		{500, "", ClassServer},               // server error
		{502, "", ClassServer},               // bad gateway
		{503, "", ClassServer},               // temporary capacity constraint
		{504, "", ClassTimeout},              // maximum queue wait exceeded
		{200, "", ClassUnknown},              // nothing says what went wrong
		{0, "", ClassUnknown},                // no status, no code
		{500, "somethingWeird", ClassServer}, // unknown code: the status decides
		// Documented codes.
		{401, "invalidApiKey", ClassAuth},      // docs' auth example
		{504, "timeoutProvider", ClassTimeout}, // docs' provider timeout
		// Rate-limit family (retryable).
		{429, "rateLimitExceeded", ClassRateLimit},
		{400, "providerRateLimitExceeded", ClassRateLimit}, // code beats status
		{0, "inferenceRateLimitRequestTooLarge", ClassRateLimit},
		// Provider family (retryable).
		{0, "providerError", ClassProvider},
		{502, "providerBadGateway", ClassProvider},
		{0, "modelUnavailable", ClassProvider},
		{0, "noAvailableServer", ClassProvider},
		// Timeout family (retryable); authTimeout is auth, as in the SDKs.
		{0, "providerGatewayTimeout", ClassTimeout},
		{0, "timeout", ClassTimeout},
		{0, "authTimeout", ClassAuth},
		// Server family (retryable).
		{0, "internalServerError", ClassServer},
		{0, "serviceUnavailable", ClassServer},
		{0, "unknownError", ClassServer},
		// Validation family (not retryable).
		{400, "invalidTemperature", ClassValidation},
		{400, "missingMessages", ClassValidation},
		{400, "unsupportedParameter", ClassValidation},
		{400, "maxTokensExceeded", ClassValidation},
		{400, "conflictTaskUUID", ClassValidation},
		{400, "unknownParameter", ClassValidation},
		// Auth (fatal).
		{403, "permissionDenied", ClassAuth},
		{0, "accountSuspended", ClassAuth},
		// Credits (fatal).
		{402, "insufficientCredits", ClassCredits},
		{0, "textInferenceVideoInputInsufficientCredits", ClassCredits},
		{0, "providerInsufficientCredits", ClassCredits}, // credits before provider
		// Not found.
		{404, "modelNotFound", ClassNotFound},
		{0, "taskNotFound", ClassNotFound},
		{0, "taskExpired", ClassNotFound},
		// Safety.
		{400, "contentPolicyViolation", ClassSafety},
		{0, "promptBlocked", ClassSafety},
		// Network (client-side codes).
		{0, "connectionFailed", ClassNetwork},
		// OpenAI-style snake_case codes and error types.
		{401, "invalid_api_key", ClassAuth},
		{429, "rate_limit_exceeded", ClassRateLimit},
		{429, "insufficient_quota", ClassCredits},
		{404, "model_not_found", ClassNotFound},
		{400, "invalid_request_error", ClassValidation},
		{500, "server_error", ClassServer},
		{400, "context_length_exceeded", ClassValidation},
	}
	seen := map[Class]bool{}
	for _, tt := range tests {
		got := Classify(tt.status, tt.code)
		if got != tt.want {
			t.Errorf("Classify(%d, %q) = %s, want %s", tt.status, tt.code, got, tt.want)
		}
		seen[got] = true
	}
	for _, c := range []Class{ClassNetwork, ClassTimeout, ClassRateLimit, ClassServer, ClassProvider,
		ClassValidation, ClassAuth, ClassCredits, ClassNotFound, ClassSafety, ClassUnknown} {
		if !seen[c] {
			t.Errorf("class %s not covered by the table", c)
		}
	}
}

// Every raw code Runware's TypeScript SDK classifies maps to our class of the
// same family, so retry decisions agree with the official client.
func TestClassifyAgreesWithSDKCatalogue(t *testing.T) {
	dir := sharedPayloads(t, "native-json")
	f, err := os.Open(filepath.Join(dir, "runware-typescript_errors.test.ts_raw-error-codes.tsv"))
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	family := map[string]Class{
		"validation": ClassValidation, "auth": ClassAuth, "quota": ClassCredits, "rateLimit": ClassRateLimit,
		"safety": ClassSafety, "provider": ClassProvider, "timeout": ClassTimeout, "notFound": ClassNotFound,
		"serverError": ClassServer, "connection": ClassNetwork,
	}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		code, cat, ok := strings.Cut(sc.Text(), "\t")
		want, known := family[cat]
		if !ok || !known {
			continue // "aborted" and "unknown" are client-side notions
		}
		n++
		if got := Classify(0, code); got != want {
			t.Errorf("Classify(0, %q) = %s, SDK says %s", code, got, cat)
		}
	}
	if n < 80 {
		t.Errorf("only %d codes checked", n)
	}
}

// Retry-After is read as seconds or as an HTTP date; junk, negatives and
// past dates mean "no advice", and huge values are capped.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},                               // absent
		{"7", 7 * time.Second},                // delay-seconds
		{" 120 ", 2 * time.Minute},            // whitespace tolerated
		{"-3", 0},                             // negative: no advice
		{"soon", 0},                           // junk: no advice
		{"99999999999999999", 24 * time.Hour}, // capped instead of overflowing
		{now.Add(90 * time.Second).Format(http1123), 90 * time.Second}, // HTTP date
		{now.Add(-time.Minute).Format(http1123), 0},                    // date in the past
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// http1123 is the HTTP date layout (RFC 1123 with GMT).
const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"
