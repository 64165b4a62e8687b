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
	"strconv"
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
		if i := strings.LastIndexByte(path, '.'); i >= 0 && isIndex(path[i+1:]) {
			// An element of a list of other things (wrong: [1]): about the list.
			path, got = path[:i], "a list holding "+got
		}
		if path == "" {
			path, got = te.Field, describeValue(nil, te.Value)
		}
		return sc, path, fmt.Sprintf("%s must be %s; got %s", displayPath(path), simWant(path, te.Type.String()), got)
	}
	return sc, "", err.Error()
}

// simKeys are the keys of a scenario's mappings (runwaretest.Scenario's JSON
// names) by dotted path, with * for a thinking level or a list index.
var simKeys = map[string][]string{
	"": {"name", "match", "answer", "wrong", "pCorrect", "thinkingTokens", "ttft", "tokenTime", "toolCall", "afterTool",
		"steps", "search", "codeInterpreter"},
	"match":                     {"exact", "regex", "contains", "image"},
	"thinkingTokens.*":          {"mean", "sd"},
	"ttft.*":                    {"mean", "sd"},
	"tokenTime":                 {"mean", "sd"},
	"toolCall":                  {"name", "arguments"},
	"steps.*":                   {"toolCall", "toolCalls", "answer", "pCorrect", "wrong"},
	"steps.*.toolCall":          {"name", "arguments"},
	"steps.*.toolCalls.*":       {"name", "arguments"},
	"steps.*.wrong":             {"toolCall", "toolCalls", "answer"},
	"steps.*.wrong.toolCall":    {"name", "arguments"},
	"steps.*.wrong.toolCalls.*": {"name", "arguments"},
	"search":                    {"query", "result", "pCorrect", "latency"},
	"search.latency":            {"mean", "sd"},
	"codeInterpreter":           {"code", "output", "pCorrect", "latency"},
	"codeInterpreter.latency":   {"mean", "sd"},
}

// levelMaps are the scenario mappings keyed by thinking level.
var levelMaps = map[string]bool{"pCorrect": true, "thinkingTokens": true, "ttft": true}

// simPattern is the simKeys and simWants key of a dotted path: list
// indexes and thinking levels become *.
func simPattern(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if isIndex(p) || (i > 0 && levelMaps[parts[i-1]]) {
			parts[i] = "*"
		}
	}
	return strings.Join(parts, ".")
}

// isIndex reports whether a path segment is a list index.
func isIndex(seg string) bool {
	_, err := strconv.Atoi(seg)
	return err == nil
}

// displayPath writes a dotted path's list indexes in brackets, as the
// simulator's messages do: steps.0.toolCall → steps[0].toolCall.
func displayPath(path string) string {
	var b strings.Builder
	for i, seg := range strings.Split(path, ".") {
		switch {
		case isIndex(seg):
			b.WriteString("[" + seg + "]")
		case i > 0:
			b.WriteString("." + seg)
		default:
			b.WriteString(seg)
		}
	}
	return b.String()
}

// unknownSimKey finds a key the scenario does not have in the mapping at
// path (recursively, lists included; list elements have their index as
// path segment). It is checked here rather than left to the JSON decoder,
// which matches field names regardless of case and would take "pcorrect"
// for "pCorrect" but not "pCorect".
func unknownSimKey(v any, path string) (string, string) {
	if list, ok := v.([]any); ok {
		for i, e := range list {
			if q, msg := unknownSimKey(e, path+"."+strconv.Itoa(i)); msg != "" {
				return q, msg
			}
		}
		return "", ""
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", ""
	}
	known, checked := simKeys[simPattern(path)]
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
			msg := fmt.Sprintf("unknown key %q (want one of %s)", displayPath(p), strings.Join(known, ", "))
			for _, kk := range known {
				if strings.EqualFold(kk, k) {
					msg = fmt.Sprintf("unknown key %q (did you mean %q?)", displayPath(p), kk)
				}
			}
			return p, msg
		}
		if k == "arguments" && checked {
			continue // a call's arguments are the suite's own
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
	"name":                       "a string",
	"match":                      "a mapping with contains, regex, exact or image, e.g. {contains: capital of France} or {image: data/cat.png}",
	"answer":                     "a string (the right answer)",
	"wrong":                      "a list of strings (wrong answers), e.g. [Lyon]",
	"pCorrect":                   simWantLevels,
	"pCorrect.*":                 "a probability between 0 and 1",
	"thinkingTokens":             "a mapping from thinking level to {mean, sd}, e.g. {high: {mean: 600, sd: 150}}",
	"thinkingTokens.*":           "{mean, sd} (thinking tokens), e.g. {mean: 600, sd: 150}",
	"ttft":                       "a mapping from thinking level to {mean, sd} in milliseconds, e.g. {none: {mean: 250}}",
	"ttft.*":                     "{mean, sd} in milliseconds, e.g. {mean: 250}",
	"tokenTime":                  "{mean, sd} in milliseconds per token, e.g. {mean: 10, sd: 2}",
	"toolCall":                   simWantCall,
	"afterTool":                  "a string: the answer after a tool result, {result} standing for the result",
	"steps":                      "a list of steps, each {toolCall}, {toolCalls} or {answer} with optional pCorrect and wrong, e.g. [{toolCall: {name: lookup, arguments: {q: x}}}, {answer: ...}]",
	"steps.*":                    "a mapping with one of toolCall, toolCalls or answer, and optionally pCorrect and wrong",
	"steps.*.toolCall":           simWantCall,
	"steps.*.toolCalls":          simWantCalls,
	"steps.*.toolCalls.*":        simWantCall,
	"steps.*.answer":             "a string: the final answer at this step, {result} and {results} standing for tool results",
	"steps.*.pCorrect":           simWantLevels,
	"steps.*.pCorrect.*":         "a probability between 0 and 1",
	"steps.*.wrong":              "a mapping with one of toolCall, toolCalls or answer: what the model does when it gets the step wrong",
	"steps.*.wrong.toolCall":     simWantCall,
	"steps.*.wrong.toolCalls":    simWantCalls,
	"steps.*.wrong.toolCalls.*":  simWantCall,
	"steps.*.wrong.answer":       "a string: the wrong final answer",
	"search":                     "a mapping {query, result, pCorrect, latency}, e.g. {query: Tokyo population, result: 14 million}",
	"search.query":               "a string (what the model searches for)",
	"search.result":              "a string (what the search returns)",
	"search.pCorrect":            simWantLevels,
	"search.pCorrect.*":          "a probability between 0 and 1",
	"search.latency":             "{mean, sd} in milliseconds, e.g. {mean: 400, sd: 100}",
	"codeInterpreter":            "a mapping {code, output, pCorrect, latency}, e.g. {code: print(6*7), output: 42}",
	"codeInterpreter.code":       "a string (the code the model runs)",
	"codeInterpreter.output":     "a string (what the code prints)",
	"codeInterpreter.pCorrect":   simWantLevels,
	"codeInterpreter.pCorrect.*": "a probability between 0 and 1",
	"codeInterpreter.latency":    "{mean, sd} in milliseconds, e.g. {mean: 250, sd: 60}",
}

// Descriptions shared by several simWants paths.
const (
	simWantCall   = "a mapping {name, arguments}, e.g. {name: get_weather, arguments: {city: Tokyo}}"
	simWantCalls  = "a list of calls made at once, each {name, arguments}, e.g. [{name: get_weather, arguments: {city: Tokyo}}]"
	simWantLevels = "a mapping from thinking level to a probability, e.g. {none: 0.6, high: 0.95}"
)

// simWant describes what the value at path should be; goType (the Go type
// the decoder wanted) is the fallback for leaves such as mean and sd.
func simWant(path, goType string) string {
	pattern := simPattern(path)
	if w, ok := simWants[pattern]; ok {
		return w
	}
	if strings.HasSuffix(pattern, ".arguments") {
		return "a mapping of argument names to values"
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
// error names JSON fields but leaves out map keys and list indexes
// (pCorrect.none is reported as pCorrect, ttft.high.mean as ttft.mean,
// steps.1.answer as steps.answer), so where a segment is not a key of the
// current mapping every key is tried, in order, and so is every element of
// a list; the first path ending at a value of the refused kind wins.
// "" = not found.
func locateValue(v any, segs []string, kind string) string {
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	if len(segs) == 0 && jsonKind(v) == kind {
		return "."
	}
	join := func(k, rest string) string {
		if rest == "." {
			return k
		}
		return k + "." + rest
	}
	if list, ok := v.([]any); ok {
		for i, e := range list {
			if rest := locateValue(e, segs, kind); rest != "" {
				return join(strconv.Itoa(i), rest)
			}
		}
		return ""
	}
	m, ok := v.(map[string]any)
	if !ok {
		return ""
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

// lookupValue returns the value at a dotted path of an entry (nil if none);
// a segment of a list is an index.
func lookupValue(v any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
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

// simCheckField picks the path named at the start of a CheckScenarios
// message: "pCorrect[none] = 2 ...", "match.regex: ...",
// "steps[1].toolCalls[0].name ...".
var simCheckField = regexp.MustCompile(`^[A-Za-z]+(?:\.[A-Za-z]+|\[[^\]]+\])*`)

// simCheckProblem turns a CheckScenarios error about a single scenario into
// the path of the field it names and the message without the scenario's
// label (the caller labels it with the entry's own number).
func simCheckProblem(err error, name string) (path, msg string) {
	label := "scenario 1"
	if name != "" {
		label += fmt.Sprintf(" (%s)", name)
	}
	msg, _ = strings.CutPrefix(err.Error(), label+": ")
	path = strings.NewReplacer("[", ".", "]", "").Replace(simCheckField.FindString(msg))
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
