package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// argSpec says how many positional arguments a command takes and what they
// are, so that a wrong count is reported in the user's terms ("report needs
// one RUN_DIR (got 0)") with the usage line, instead of cobra's "accepts 1
// arg(s), received 0".
type argSpec struct {
	min, max int    // max < 0: no upper limit
	what     string // "one RUN_DIR", "two runs, BASE and HEAD", "at least one SUITE file"
	hint     string // optional advice appended to the message
}

// exactArgs accepts exactly n arguments described by what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return argSpec{min: n, max: n, what: what}.check
}

// minArgs accepts n or more arguments described by what.
func minArgs(n int, what string) cobra.PositionalArgs {
	return argSpec{min: n, max: -1, what: what}.check
}

// maxArgs accepts up to n arguments described by what.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return argSpec{min: 0, max: n, what: what}.check
}

// noArgs accepts no argument; hint, when not empty, says where such input
// goes instead (e.g. a flag).
func noArgs(hint string) cobra.PositionalArgs {
	return argSpec{min: 0, max: 0, what: "no arguments", hint: hint}.check
}

// check is a cobra.PositionalArgs.
func (a argSpec) check(cmd *cobra.Command, args []string) error {
	n := len(args)
	if n >= a.min && (a.max < 0 || n <= a.max) {
		return nil
	}
	return withCode(exitInput, a.error(cmd.Name(), cmd.UseLine(), args))
}

// error words the complaint: "needs" when arguments are missing, "takes"
// when there are too many; the arguments received are quoted so that a
// misplaced flag value or a stray word is easy to spot.
func (a argSpec) error(name, usage string, args []string) error {
	verb := "needs"
	if a.max >= 0 && len(args) > a.max {
		verb = "takes"
	}
	got := strconv.Itoa(len(args))
	if len(args) > 0 {
		q := make([]string, len(args))
		for i, s := range args {
			q[i] = strconv.Quote(s)
		}
		got += ": " + strings.Join(q, " ")
	}
	msg := fmt.Sprintf("%s %s %s (got %s); usage: %s", name, verb, a.what, got, usage)
	if a.hint != "" {
		msg += " (" + a.hint + ")"
	}
	return errors.New(msg)
}
