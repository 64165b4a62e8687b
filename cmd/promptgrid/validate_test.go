package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateCommand checks the exit codes and outputs of validate: a
// one-line summary and 0 for a valid suite; problems on stderr and 2 as
// soon as one suite has a problem.
func TestValidateCommand(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: b\nmodel: m\ncases:\n  - {id: a, prompt: hi, request: {settings: {topP: 2}}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	quick := filepath.Join("..", "..", "suites", "quickstart.yaml")
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		// the shipped quickstart validates with its summary line
		{[]string{"validate", quick}, 0, quick + ": ok — 5 cases, 3 cells, 45 trials, 45 samples\n", ""},
		// a filter by tag narrows the summary
		{[]string{"validate", "--filter", "geography", quick}, 0, quick + ": ok — 2 cases, 3 cells, 18 trials, 18 samples\n", ""},
		// one bad suite among good ones: exit 2, its problem with caret on stderr
		{[]string{"validate", quick, bad}, 2, "ok —", bad + ":4:52: settings.topP must be between 0 and 1; got 2\n"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		root := newRootCmd(&streams{Out: &out, Err: &errb, Getenv: func(string) string { return "" }})
		root.SetArgs(tt.args)
		err := root.Execute()
		code := 0
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		} else if err != nil {
			code = -1
		}
		if code != tt.code {
			t.Errorf("%v: exit %d (%v); want %d", tt.args, code, err, tt.code)
		}
		if !strings.Contains(out.String(), tt.out) {
			t.Errorf("%v: stdout %q; want %q", tt.args, out.String(), tt.out)
		}
		if !strings.Contains(errb.String(), tt.err) || (tt.err != "" && !strings.Contains(errb.String(), "^")) {
			t.Errorf("%v: stderr %q; want %q with a caret", tt.args, errb.String(), tt.err)
		}
	}
}
