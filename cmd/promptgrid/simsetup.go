package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// simKey is the API key of the in-process simulator started by `run --sim`.
const simKey = "promptgrid-built-in-simulator-key"

// simScenarios converts a suite's `sim:` list into simulator scenarios; both
// `validate` and `run --sim` use it, so a suite that validates starts the
// simulator. The suite keeps the entries as decoded JSON values and
// runwaretest.Scenario is json-tagged, so a JSON round trip per entry is the
// conversion; unknown keys are refused (a misspelt key would silently do
// nothing) and runwaretest.CheckScenarios checks the values. Every bad entry
// is reported, each as file:line:col with the source line and a caret, naming
// the entry, the field, what it should be and what it is.
func simScenarios(s *eval.Suite) ([]runwaretest.Scenario, error) {
	if len(s.Sim) == 0 {
		return nil, nil
	}
	out := make([]runwaretest.Scenario, 0, len(s.Sim))
	var probs []eval.Problem
	for i, entry := range s.Sim {
		var pos eval.SimPos
		if i < len(s.SimPos) {
			pos = s.SimPos[i]
		}
		if pos.File == "" {
			pos.File = s.Path
		}
		label := fmt.Sprintf("sim entry %d", i+1)
		if name, ok := entry["name"].(string); ok && name != "" {
			label += fmt.Sprintf(" (%s)", name)
		}
		sc, path, msg := simScenario(entry)
		at := pos.At(path)
		if kp, ok := pos.KeyNames[path]; ok && strings.HasPrefix(msg, "unknown key") {
			at = kp
		}
		if msg == "" {
			if err := runwaretest.CheckScenarios([]runwaretest.Scenario{sc}); err != nil {
				path, msg = simCheckProblem(err, sc.Name)
				at = pos.At(path)
			}
		}
		if msg != "" {
			probs = append(probs, eval.Problem{File: at.File, Line: at.Line, Col: at.Col, Msg: label + ": " + msg})
			continue
		}
		out = append(out, sc)
	}
	if len(probs) == 0 {
		return out, nil
	}
	ps := &eval.Problems{List: probs, Sources: map[string][]byte{}}
	for _, p := range probs {
		if _, ok := ps.Sources[p.File]; !ok {
			// Only for carets: without the file the messages still stand.
			ps.Sources[p.File], _ = os.ReadFile(p.File)
		}
	}
	noun := "problems"
	if len(probs) == 1 {
		noun = "problem"
	}
	return nil, fmt.Errorf("%s: %d %s in sim:\n%w", s.Path, len(probs), noun, ps)
}

// simScenario decodes one entry. On failure it returns the dotted path of
// the offending value within the entry ("" = the entry) and a message.
func simScenario(entry map[string]any) (sc runwaretest.Scenario, path, msg string) {
	if path, msg := unknownSimKey(entry, ""); msg != "" {
		return sc, path, msg
	}
	b, err := json.Marshal(entry)
	if err != nil {
		return sc, "", fmt.Sprintf("cannot be read: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err = dec.Decode(&sc)
	if err == nil {
		return sc, "", ""
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		path := locateValue(entry, strings.Split(te.Field, "."), te.Value)
		got := describeValue(lookupValue(entry, path), te.Value)
		if path == "" {
			// Not found as such: an element of a list (wrong: [1]).
			path, got = te.Field, describeValue(nil, te.Value)
			if _, isList := lookupValue(entry, path).([]any); isList {
				got = "a list holding " + got
			}
		}
		return sc, path, fmt.Sprintf("%s must be %s; got %s", path, simWant(path, te.Type.String()), got)
	}
	return sc, "", err.Error()
}

// simKeys are the keys of a scenario's mappings (runwaretest.Scenario's JSON
// names) by dotted path, with * for a thinking level.
var simKeys = map[string][]string{
	"":                 {"name", "match", "answer", "wrong", "pCorrect", "thinkingTokens", "ttft", "tokenTime", "toolCall", "afterTool"},
	"match":            {"exact", "regex", "contains", "image"},
	"thinkingTokens.*": {"mean", "sd"},
	"ttft.*":           {"mean", "sd"},
	"tokenTime":        {"mean", "sd"},
	"toolCall":         {"name", "arguments"},
}

// unknownSimKey finds a key the scenario does not have in the mapping at
// path (recursively). It is checked here rather than left to the JSON
// decoder, which matches field names regardless of case and would take
// "pcorrect" for "pCorrect" but not "pCorect".
func unknownSimKey(v any, path string) (string, string) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", ""
	}
	pattern := path
	if parts := strings.Split(path, "."); len(parts) == 2 && (parts[0] == "thinkingTokens" || parts[0] == "ttft") {
		pattern = parts[0] + ".*"
	}
	known, checked := simKeys[pattern]
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		if checked && !slices.Contains(known, k) {
			msg := fmt.Sprintf("unknown key %q (want one of %s)", p, strings.Join(known, ", "))
			for _, kk := range known {
				if strings.EqualFold(kk, k) {
					msg = fmt.Sprintf("unknown key %q (did you mean %q?)", p, kk)
				}
			}
			return p, msg
		}
		if p == "toolCall.arguments" {
			continue
		}
		if q, msg := unknownSimKey(m[k], p); msg != "" {
			return q, msg
		}
	}
	return "", ""
}

// simWants says what a scenario field holds, in the suite's terms, by
// dotted path with * for a thinking level.
var simWants = map[string]string{
	"name":               "a string",
	"match":              "a mapping with contains, regex, exact or image, e.g. {contains: capital of France} or {image: data/cat.png}",
	"answer":             "a string (the right answer)",
	"wrong":              "a list of strings (wrong answers), e.g. [Lyon]",
	"pCorrect":           "a mapping from thinking level to a probability, e.g. {none: 0.6, high: 0.95}",
	"pCorrect.*":         "a probability between 0 and 1",
	"thinkingTokens":     "a mapping from thinking level to {mean, sd}, e.g. {high: {mean: 600, sd: 150}}",
	"thinkingTokens.*":   "{mean, sd} (thinking tokens), e.g. {mean: 600, sd: 150}",
	"ttft":               "a mapping from thinking level to {mean, sd} in milliseconds, e.g. {none: {mean: 250}}",
	"ttft.*":             "{mean, sd} in milliseconds, e.g. {mean: 250}",
	"tokenTime":          "{mean, sd} in milliseconds per token, e.g. {mean: 10, sd: 2}",
	"toolCall":           "a mapping {name, arguments}, e.g. {name: get_weather, arguments: {city: Tokyo}}",
	"afterTool":          "a string: the answer after a tool result, {result} standing for the result",
	"toolCall.arguments": "a mapping of argument names to values",
}

// simWant describes what the value at path should be; goType (the Go type
// the decoder wanted) is the fallback for leaves such as mean and sd.
func simWant(path, goType string) string {
	parts := strings.Split(path, ".")
	if len(parts) >= 2 && (parts[0] == "pCorrect" || parts[0] == "thinkingTokens" || parts[0] == "ttft") {
		parts[1] = "*"
	}
	if w, ok := simWants[strings.Join(parts, ".")]; ok {
		return w
	}
	switch {
	case goType == "string":
		return "a string"
	case goType == "float64" || strings.HasPrefix(goType, "int"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a mapping"
}

// describeValue names a JSON kind ("number", "string", "array", "object",
// "bool") for people, with the value itself when it is short.
func describeValue(v any, kind string) string {
	name := map[string]string{"number": "a number", "string": "a string", "bool": "true/false",
		"array": "a list", "object": "a mapping"}[kind]
	if name == "" {
		name = kind
	}
	switch v.(type) {
	case string, float64, int64, int, bool:
		if s := fmt.Sprint(v); len(s) <= 40 {
			return fmt.Sprintf("%s (%s)", name, s)
		}
	}
	return name
}

// locateValue finds the full path of the value the decoder refused: its
// error names JSON fields but leaves out map keys (pCorrect.none is reported
// as pCorrect, ttft.high.mean as ttft.mean), so where a segment is not a
// key of the current mapping every key is tried, in order, and the first
// path ending at a value of the refused kind wins. "" = not found.
func locateValue(v any, segs []string, kind string) string {
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	if len(segs) == 0 && jsonKind(v) == kind {
		return "."
	}
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	join := func(k, rest string) string {
		if rest == "." {
			return k
		}
		return k + "." + rest
	}
	if len(segs) > 0 {
		if next, ok := m[segs[0]]; ok {
			if rest := locateValue(next, segs[1:], kind); rest != "" {
				return join(segs[0], rest)
			}
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if rest := locateValue(m[k], segs, kind); rest != "" {
			return join(k, rest)
		}
	}
	return ""
}

// lookupValue returns the value at a dotted path of an entry (nil if none).
func lookupValue(v any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[seg]
	}
	return v
}

// jsonKind is the JSON kind of a decoded YAML value, as the JSON decoder's
// UnmarshalTypeError.Value names it.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case float64, int64, int, uint64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return ""
}

// simCheckField picks the field named at the start of a CheckScenarios
// message: "pCorrect[none] = 2 ...", "match.regex: ...".
var simCheckField = regexp.MustCompile(`^([A-Za-z]+(?:\.[A-Za-z]+)*)(?:\[([^\]]+)\])?`)

// simCheckProblem turns a CheckScenarios error about a single scenario into
// the path of the field it names and the message without the scenario's
// label (the caller labels it with the entry's own number).
func simCheckProblem(err error, name string) (path, msg string) {
	label := "scenario 1"
	if name != "" {
		label += fmt.Sprintf(" (%s)", name)
	}
	msg, _ = strings.CutPrefix(err.Error(), label+": ")
	if m := simCheckField.FindStringSubmatch(msg); m != nil {
		path = m[1]
		if m[2] != "" {
			path += "." + m[2]
		}
	}
	return path, msg
}

// startSim starts the simulator in-process on 127.0.0.1 with the suite's
// scenarios, answering only the key simKey. timeScale scales its model
// delays (0 = none). faults, when not nil, configures fault injection.
func startSim(s *eval.Suite, timeScale float64, faults *runwaretest.Faults) (*runwaretest.Server, error) {
	sc, err := simScenarios(s)
	if err != nil {
		return nil, err
	}
	opts := runwaretest.Options{APIKeys: []string{simKey}, Scenarios: sc, TimeScale: timeScale}
	if faults != nil {
		opts.Faults = *faults
	}
	return runwaretest.NewServer(opts), nil
}
