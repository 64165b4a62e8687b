package main

import (
	"errors"
	"fmt"

	"github.com/promptgrid/promptgrid/eval"
)

// loadSuite loads and validates the suite at path and keeps the cases that
// filter selects (by id or tag; "" keeps all). Every failure is bad input:
// the error (exit code 2) carries the full rendered problem list, each
// problem as file:line:col, the source line and a caret.
func loadSuite(s *streams, path, filter string) (*eval.Suite, error) {
	suite, err := eval.LoadWithOptions(path, s.loadOptions())
	if err != nil {
		var ps *eval.Problems
		if errors.As(err, &ps) {
			n := max(ps.Total, len(ps.List))
			noun := "problems"
			if n == 1 {
				noun = "problem"
			}
			return nil, withCode(exitInput, fmt.Errorf("%s: %d %s:\n%w", path, n, noun, ps))
		}
		return nil, withCode(exitInput, err)
	}
	if err := eval.Filter(suite, filter); err != nil {
		return nil, withCode(exitInput, err)
	}
	return suite, nil
}

// loadOptions are the eval.LoadOptions the global flags ask for.
func (s *streams) loadOptions() eval.LoadOptions {
	// Data-file cases stay rows in their file until reached, so a suite of
	// a million rows loads in flat memory.
	return eval.LoadOptions{AllowOutside: s.AllowOutsideSuiteDir, CompactCases: true}
}
