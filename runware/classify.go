package runware

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// exactCodes maps normalised API codes (lower case, no "_" or "-") to a class.
// The names are the raw server codes Runware's SDKs classify in their tests
// (reference §4.3) plus the OpenAI-style codes and error types the chat
// endpoint may send. Families not listed here are caught by codePatterns.
var exactCodes = map[string]Class{
	// auth, including the ones whose names would match other families.
	"invalidapikey": ClassAuth, "missingapikey": ClassAuth, "authenticationfailed": ClassAuth,
	"authfailed": ClassAuth, "authtimeout": ClassAuth, "unauthorized": ClassAuth,
	"forbidden": ClassAuth, "permissiondenied": ClassAuth, "insufficientpermissions": ClassAuth,
	"tokenexpired": ClassAuth, "accountsuspended": ClassAuth, "organizationdisabled": ClassAuth,
	"workspacesuspended": ClassAuth, "authenticationerror": ClassAuth, "permissionerror": ClassAuth,
	// credits
	"insufficientcredits": ClassCredits, "quotaexceeded": ClassCredits, "paymentrequired": ClassCredits,
	"insufficientquota": ClassCredits,
	// rate limit (the SDK files inferenceRateLimitRequestTooLarge here too)
	"inferenceratelimitrequesttoolarge": ClassRateLimit,
	// provider: upstream failures that are not named provider*.
	"inferenceerror": ClassProvider, "processingfailed": ClassProvider, "taskfailed": ClassProvider,
	"downloadfailed": ClassProvider, "uploadfailed": ClassProvider, "noavailableserver": ClassProvider,
	"modelunavailable": ClassProvider, "modeldisabled": ClassProvider, "modelnotready": ClassProvider,
	"providerauthenticationfailed": ClassProvider,
	// timeout
	"timeout": ClassTimeout, "timeoutprovider": ClassTimeout,
	// not found
	"taskcancelled": ClassNotFound, "taskfailedornotfound": ClassNotFound, "unknownmodel": ClassNotFound,
	// server
	"internalservererror": ClassServer, "serviceunavailable": ClassServer, "serverunavailable": ClassServer,
	"standarderror": ClassServer, "unknownerror": ClassServer, "undefinederror": ClassServer,
	"defaulterror": ClassServer, "unrecognizedresponse": ClassServer, "servererror": ClassServer,
	"errorretrievingaccountmanagement": ClassServer,
	// network (client-side connection codes of the SDKs)
	"connectionfailed": ClassNetwork, "notconnected": ClassNetwork, "notopen": ClassNetwork,
	"reconnectionfailed": ClassNetwork, "disconnected": ClassNetwork,
	// validation codes without a telling prefix
	"valuetoolarge": ClassValidation, "arraytoosmall": ClassValidation, "unknownparameter": ClassValidation,
	"incompatibleparameters": ClassValidation, "modelownershipvalidationerror": ClassValidation,
	"modelalreadyexists": ClassValidation, "validationfailed": ClassValidation,
	"conflicttaskuuid": ClassValidation, "contextlengthexceeded": ClassValidation,
}

// codePatterns classify the code families by name, in order: the first match
// wins, so the more specific families come first.
var codePatterns = []struct {
	match func(string) bool
	class Class
}{
	{func(c string) bool { return strings.Contains(c, "insufficientcredits") }, ClassCredits},
	{func(c string) bool { return strings.Contains(c, "ratelimit") || strings.Contains(c, "toomanyrequests") }, ClassRateLimit},
	{func(c string) bool {
		return strings.Contains(c, "contentpolicy") || strings.Contains(c, "moderation") ||
			strings.HasSuffix(c, "blocked") || strings.HasSuffix(c, "contentdetected") || c == "contentfilter"
	}, ClassSafety},
	{func(c string) bool { return strings.Contains(c, "timeout") || strings.Contains(c, "timedout") }, ClassTimeout},
	{func(c string) bool { return strings.HasSuffix(c, "notfound") || strings.HasSuffix(c, "expired") }, ClassNotFound},
	{func(c string) bool { return strings.HasPrefix(c, "provider") }, ClassProvider},
	{func(c string) bool {
		for _, p := range []string{"invalid", "missing", "unsupported", "max", "duplicate", "mismatch", "conflict"} {
			if strings.HasPrefix(c, p) {
				return true
			}
		}
		return false
	}, ClassValidation},
}

// Classify maps an HTTP status and/or an API error code to a Class. A known
// code decides (Runware's codes are more specific than statuses, and a body
// may carry an error under any status); otherwise the status does. Codes are
// compared without case, "_" or "-", so OpenAI-style "invalid_api_key" and
// "rate_limit_error" classify like their camelCase relatives.
func Classify(status int, code string) Class {
	if c, ok := classifyCode(code); ok {
		return c
	}
	return classifyStatus(status)
}

// classifyCode reports the class of a known code or code family.
func classifyCode(code string) (Class, bool) {
	n := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(strings.TrimSpace(code)))
	if n == "" {
		return "", false
	}
	if c, ok := exactCodes[n]; ok {
		return c, true
	}
	for _, p := range codePatterns {
		if p.match(n) {
			return p.class, true
		}
	}
	return "", false
}

// classifyStatus maps an HTTP status alone (reference §4.2 and §5).
func classifyStatus(status int) Class {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ClassAuth
	case status == http.StatusPaymentRequired:
		return ClassCredits
	case status == http.StatusNotFound:
		return ClassNotFound
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return ClassTimeout
	case status == http.StatusTooManyRequests:
		return ClassRateLimit
	case status >= 500 && status <= 599:
		return ClassServer
	case status >= 400 && status <= 499:
		return ClassValidation
	}
	return ClassUnknown
}

// maxRetryAfterSecs caps Retry-After at one day; larger values are treated as
// one day rather than overflowing time.Duration.
const maxRetryAfterSecs = 24 * 60 * 60

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). Anything unparsable, negative or in the past is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		// Clamp before multiplying so a huge value cannot overflow.
		return time.Duration(min(max(secs, 0), maxRetryAfterSecs)) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return max(t.Sub(now), 0)
}
