package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// simFlags parses args with the sim command's flags and maps them.
func simFlags(t *testing.T, args ...string) (runwaretest.Options, error) {
	t.Helper()
	o := &simOptions{}
	fs := pflag.NewFlagSet("sim", pflag.ContinueOnError)
	o.bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return o.options()
}

func TestSimFlagsToOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want func(*runwaretest.Options)
	}{
		// Defaults: realistic delays, no faults except the default truncation point.
		{"defaults", nil, func(o *runwaretest.Options) {}},
		// Status-fault probabilities and the Retry-After header.
		{"status faults", []string{"--fault-429", "0.1", "--fault-503", "0.2", "--fault-504", "0.3", "--fault-500", "0.4",
			"--fault-402", "0.05", "--fault-403", "0.06", "--retry-after", "2", "--burst-429", "3"}, func(o *runwaretest.Options) {
			o.Faults.RateLimit = runwaretest.Fault{P: 0.1, First: 3}
			o.Faults.Unavailable = runwaretest.Fault{P: 0.2}
			o.Faults.GatewayTimeout = runwaretest.Fault{P: 0.3}
			o.Faults.ServerError = runwaretest.Fault{P: 0.4}
			o.Faults.InsufficientCredits = runwaretest.Fault{P: 0.05}
			o.Faults.Forbidden = runwaretest.Fault{P: 0.06}
			o.Faults.RetryAfter = runware.Duration(2 * time.Second)
		}},
		// Stream and connection faults, max rate and slow first byte.
		{"stream faults", []string{"--truncate", "0.5", "--truncate-after", "4", "--mid-stream-error", "0.25", "--reset", "0.1",
			"--malformed", "0.2", "--max-rate", "5", "--slow-first-byte", "3s", "--slow-first-byte-p", "0.5"}, func(o *runwaretest.Options) {
			o.Faults.Truncate = runwaretest.Fault{P: 0.5}
			o.Faults.TruncateAfter = 4
			o.Faults.MidStreamError = runwaretest.Fault{P: 0.25}
			o.Faults.Reset = runwaretest.Fault{P: 0.1}
			o.Faults.Malformed = runwaretest.Fault{P: 0.2}
			o.Faults.MaxRate = 5
			o.Faults.SlowFirstByte = runwaretest.Fault{P: 0.5}
			o.Faults.SlowFirstByteDelay = runware.Duration(3 * time.Second)
		}},
		// Protocol options: async item errors, pings, progress, strictness,
		// usage, [DONE] after a mid-stream error, webhook delivery.
		{"protocol", []string{"--async-item-error", "0.3", "--ping", "5", "--progress", "--strict-content-type", "--always-usage",
			"--mid-stream-error-done", "--webhook-body", "data", "--webhook-attempts", "5", "--webhook-retry-delay", "250ms"}, func(o *runwaretest.Options) {
			o.Faults.AsyncItemError = runwaretest.Fault{P: 0.3}
			o.Faults.MidStreamErrorDone = true
			o.Ping, o.Progress, o.StrictContentType, o.AlwaysUsage = 5, true, true, true
			o.Webhook = runwaretest.WebhookOptions{Body: "data", Attempts: 5, RetryDelay: runware.Duration(250 * time.Millisecond)}
		}},
		// General options.
		{"general", []string{"--time-scale", "0", "--seed", "9", "--api-key", "a,b", "--shuffle", "--result-extras"}, func(o *runwaretest.Options) {
			o.TimeScale, o.Seed, o.APIKeys, o.ShuffleResults, o.ResultExtras = 0, 9, []string{"a", "b"}, true, true
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := simFlags(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			want := runwaretest.Options{TimeScale: 1}
			want.Faults.TruncateAfter = 2
			want.Webhook = runwaretest.WebhookOptions{Body: "bare", Attempts: 3, RetryDelay: runware.Duration(time.Second)}
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// A probability outside [0,1] is an input error.
func TestSimFlagsBadProbability(t *testing.T) {
	if _, err := simFlags(t, "--fault-500", "1.5"); err == nil || !strings.Contains(err.Error(), "--fault-500") {
		t.Fatalf("err = %v", err)
	}
}

// Out-of-range protocol flags are input errors naming the flag.
func TestSimFlagsBadProtocolOptions(t *testing.T) {
	tests := []struct {
		args []string
		flag string
	}{
		// A per-result probability above 1.
		{[]string{"--async-item-error", "2"}, "--async-item-error"},
		// A negative ping interval.
		{[]string{"--ping", "-1"}, "--ping"},
		// A body shape that does not exist.
		{[]string{"--webhook-body", "envelope"}, "--webhook-body"},
		// No delivery attempt at all.
		{[]string{"--webhook-attempts", "0"}, "--webhook-attempts"},
		// A negative retry delay.
		{[]string{"--webhook-retry-delay", "-1s"}, "--webhook-retry-delay"},
	}
	for _, tc := range tests {
		if _, err := simFlags(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%v: err = %v, want one naming %s", tc.args, err, tc.flag)
		}
	}
}

func TestParseSimScenarios(t *testing.T) {
	yamlDoc := `
scenarios:
  - name: capital
    match: {contains: "capital of France"}
    answer: Paris
    wrong: [Lyon]
    pCorrect: {none: 0.6, high: 0.95}
    thinkingTokens: {high: {mean: 1200, sd: 100}}
    ttft: {none: {mean: 200}}
    tokenTime: {mean: 10, sd: 2}
    toolCall: {name: get_weather, arguments: {city: Paris}}
`
	got, err := parseSimScenarios([]byte(yamlDoc))
	if err != nil {
		t.Fatal(err)
	}
	want := []runwaretest.Scenario{{
		Name: "capital", Match: runwaretest.Match{Contains: "capital of France"}, Answer: "Paris", Wrong: []string{"Lyon"},
		PCorrect:       map[string]float64{"none": 0.6, "high": 0.95},
		ThinkingTokens: map[string]runwaretest.Dist{"high": {Mean: 1200, SD: 100}},
		TTFT:           map[string]runwaretest.Dist{"none": {Mean: 200}},
		TokenTime:      runwaretest.Dist{Mean: 10, SD: 2},
		ToolCall:       &runwaretest.ToolCallSpec{Name: "get_weather", Arguments: []byte(`{"city":"Paris"}`)},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("scenarios (-want +got):\n%s", diff)
	}

	// A bare JSON list is accepted too.
	if got, err := parseSimScenarios([]byte(`[{"match":{"exact":"hi"},"answer":"hello"}]`)); err != nil || got[0].Answer != "hello" {
		t.Fatalf("json list: %v %v", got, err)
	}
	bad := []struct{ name, doc, want string }{
		// A misspelt key is an error, not silently ignored.
		{"unknown key", `[{"answr": "x"}]`, "answr"},
		// A bad regex is reported.
		{"regex", `[{"match": {"regex": "("}, "answer": "x"}]`, "regex"},
		// A probability above 1 is reported.
		{"pCorrect", `[{"answer": "x", "pCorrect": {"low": 2}}]`, "pCorrect"},
		// An object without scenarios is refused.
		{"no list", `foo: 1`, "scenarios"},
	}
	for _, tc := range bad {
		if _, err := parseSimScenarios([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want mention of %q", tc.name, err, tc.want)
		}
	}
}

// The scenarios file named by --scenarios is loaded.
func TestSimScenariosFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(path, []byte("- match: {exact: hi}\n  answer: hello\n"), 0o644)
	got, err := simFlags(t, "--scenarios", path)
	if err != nil || len(got.Scenarios) != 1 || got.Scenarios[0].Answer != "hello" {
		t.Fatalf("%+v %v", got.Scenarios, err)
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true,  // IPv4 loopback
		"[::1]:0":        true,  // IPv6 loopback
		"localhost:9":    true,  // the loopback name
		"0.0.0.0:8080":   false, // every interface
		"10.1.2.3:80":    false, // a LAN address
		":8080":          false, // empty host means every interface
	} {
		if got := isLoopbackAddr(addr); got != want {
			t.Errorf("isLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}
