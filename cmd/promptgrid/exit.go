package main

import "strconv"

// Exit codes. CI relies on them; docs/ci.md lists them.
const (
	exitOK          = 0   // the run finished and every gate passed
	exitGate        = 1   // a quality gate failed: regression, --fail-under, --fail-on any-fail
	exitInput       = 2   // bad input: usage, invalid suite, missing API key, unreadable files
	exitBudget      = 3   // the run stopped at --max-cost
	exitAPI         = 4   // a fatal API error (auth, credits) stopped the run, or no request got an answer
	exitInterrupted = 130 // interrupted by a second Ctrl-C
)

// exitError carries an exit code out of a command; main prints err (if any)
// once and exits with code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return "exit status " + strconv.Itoa(e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that main exits with code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }
