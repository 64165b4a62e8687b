package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// TestMain lets the test binary act as the promptgrid command inside the
// scripts of testdata/script: testscript copies it into $PATH under the name
// "promptgrid", and when started under that name it runs mainRun.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"promptgrid": func() { os.Exit(mainRun()) },
	})
}

// TestScript runs the CLI golden tests in testdata/script: each .txtar file is
// a shell-like script that runs the promptgrid binary and checks what a user
// sees (exit codes, stdout, stderr, files written). Every script starts with
// an environment that holds no RUNWARE_API_KEY; scripts that need one set a
// dummy key and assert that it never appears in any output.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			// Plain, colourless output whatever the developer's terminal.
			env.Setenv("NO_COLOR", "1")
			// Under -race every process sleeps 1s at exit by default; the
			// scripts start dozens of them.
			if os.Getenv("GORACE") == "" {
				env.Setenv("GORACE", "atexit_sleep_ms=0")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":  cmdExitCode,
			"lines":     cmdLines,
			"jsonvalid": cmdJSONValid,
			"simserver": cmdSimServer,
			"spent":     cmdSpent,
		},
	})
}

// cmdExitCode runs a program like exec and checks its exact exit status,
// which exec alone cannot (it only tells zero from non-zero):
//
//	exitcode N program [args...]
//
// Stdout and stderr are kept for the following stdout/stderr/cmp commands.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad code %q: %v", args[0], err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: running %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with code %d, want %d", args[1], got, want)
	}
}

// cmdLines checks the number of lines of a file:
//
//	lines FILE N
func cmdLines(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: lines FILE N")
	}
	want, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("lines: bad count %q: %v", args[1], err)
	}
	got := 0
	sc := bufio.NewScanner(bytes.NewReader([]byte(ts.ReadFile(args[0]))))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		got++
	}
	ts.Check(sc.Err())
	switch {
	case neg && got == want:
		ts.Fatalf("%s has %d lines, want any other number", args[0], got)
	case !neg && got != want:
		ts.Fatalf("%s has %d lines, want %d", args[0], got, want)
	}
}

// cmdJSONValid checks that every file holds one valid JSON value, or with
// "jsonl" as the first argument that every line of each file is one:
//
//	jsonvalid [jsonl] FILE...
func cmdJSONValid(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! jsonvalid")
	}
	perLine := len(args) > 0 && args[0] == "jsonl"
	if perLine {
		args = args[1:]
	}
	if len(args) == 0 {
		ts.Fatalf("usage: jsonvalid [jsonl] FILE...")
	}
	for _, f := range args {
		data := []byte(ts.ReadFile(f))
		if !perLine {
			if !json.Valid(data) {
				ts.Fatalf("%s is not valid JSON", f)
			}
			continue
		}
		for i, line := range bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n")) {
			if !json.Valid(line) {
				ts.Fatalf("%s:%d is not valid JSON", f, i+1)
			}
		}
	}
}

// cmdSimServer starts the Runware simulator in the test process on
// 127.0.0.1:0 for the rest of the script and puts its native endpoint URL in
// the environment variable VAR. With keys it accepts only those API keys,
// else any non-empty key:
//
//	simserver VAR [key...]
func cmdSimServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: simserver VAR [key...]")
	}
	srv := runwaretest.NewServer(runwaretest.Options{APIKeys: args[1:]})
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL())
}

// cmdSpent checks the money a run spent, the sum of the cost of every line of
// its journal, against a bound in USD:
//
//	spent JOURNAL <= USD
//	spent JOURNAL > USD
func cmdSpent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 || (args[1] != "<=" && args[1] != ">") {
		ts.Fatalf("usage: spent JOURNAL <=|> USD")
	}
	bound, err := strconv.ParseFloat(args[2], 64)
	if err != nil {
		ts.Fatalf("spent: bad amount %q: %v", args[2], err)
	}
	var total float64
	data := ts.ReadFile(args[0])
	dec := json.NewDecoder(bytes.NewReader([]byte(data)))
	for dec.More() {
		var rec struct {
			Cost *float64 `json:"cost"`
		}
		ts.Check(dec.Decode(&rec))
		if rec.Cost != nil {
			total += *rec.Cost
		}
	}
	ok := total <= bound
	if args[1] == ">" {
		ok = total > bound
	}
	if !ok {
		ts.Fatalf("%s spent $%s, want %s $%s", args[0], fmt.Sprint(total), args[1], args[2])
	}
	ts.Logf("%s spent $%v", args[0], total)
}
