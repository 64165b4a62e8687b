package eval

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"
)

// compileFunc compiles the argument of one check type. It reports problems
// through c and returns nil when the argument is unusable.
type compileFunc func(c *compiler, key, val *yaml.Node) Check

// checkTypes maps every check type's YAML key to its compiler. It is filled
// in init because the combinators compile nested checks through it.
var checkTypes map[string]compileFunc

func init() {
	checkTypes = map[string]compileFunc{
		"equals":            compileEquals,
		"contains":          compileContains,
		"notContains":       compileNotContains,
		"icontains":         compileIContains,
		"startsWith":        compileStartsWith,
		"endsWith":          compileEndsWith,
		"regex":             compileRegex,
		"notRegex":          compileNotRegex,
		"length":            compileLength,
		"wordCount":         compileWordCount,
		"json":              compileJSON,
		"jsonSchema":        compileJSONSchema,
		"jsonPath":          compileJSONPath,
		"finishReason":      compileFinishReason,
		"maxLatency":        compileMaxLatency,
		"maxTTFT":           compileMaxTTFT,
		"maxTTFO":           compileMaxTTFO,
		"maxCost":           compileMaxCost,
		"maxThinkingTokens": compileMaxThinkingTokens,
		"minThinkingTokens": compileMinThinkingTokens,
		"maxOutputTokens":   compileMaxOutputTokens,
		"toolCall":          compileToolCall,
		"trajectory":        compileTrajectory,
		"steps":             compileSteps,
		"expr":              compileExpr,
		"judge":             compileJudge,
		"not":               compileNot,
		"anyOf":             compileAnyOf,
		"allOf":             compileAllOf,
	}
}

// CheckTypes lists the YAML keys of every check type, sorted.
func CheckTypes() []string {
	names := make([]string, 0, len(checkTypes))
	for k := range checkTypes {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// CompileCheck compiles one entry of a case's `checks:` list: a mapping whose
// one key names the check type, plus an optional `weight` (a positive number,
// default 1) for the weighted score. Every problem is reported at the
// offending node's position in file (the suite file the node was parsed from;
// relative paths in check arguments, such as a JSON Schema file, are resolved
// against its directory). On problems the returned Check is nil.
//
// Files a check reads obey the rules of Load: inside the directory of file,
// regular, at most MaxInputFileBytes.
func CompileCheck(n *yaml.Node, file string) (Check, []Problem) {
	return compileCheck(n, file, newInputFiles(file, LoadOptions{}))
}

// compileCheck compiles a check reading its files through files (the
// suite's, so that they count in its hash).
func compileCheck(n *yaml.Node, file string, files *inputFiles) (Check, []Problem) {
	c := &compiler{file: file, files: files}
	chk := c.entry(n, true)
	if len(c.probs) > 0 {
		return nil, c.probs
	}
	return chk, nil
}

// compiler collects the problems of one check entry.
type compiler struct {
	file  string
	files *inputFiles
	probs []Problem
}

func (c *compiler) errorf(n *yaml.Node, format string, args ...any) {
	c.probs = append(c.probs, Problem{File: c.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

// errorAt reports a problem at an explicit position (for errors located
// inside a scalar, such as an expression's syntax error).
func (c *compiler) errorAt(line, col int, format string, args ...any) {
	c.probs = append(c.probs, Problem{File: c.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// entry compiles one check mapping. Weights are allowed only at the top
// level: a nested check's weight would have no effect on a combinator's
// pass/fail outcome, so it is rejected rather than silently ignored.
func (c *compiler) entry(n *yaml.Node, top bool) Check {
	n = deref(n)
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		c.errorf(n, "a check is a mapping with one key naming its type, e.g. `contains: Paris`")
		return nil
	}
	var typeKey, typeVal, weightKey, weightVal *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		switch {
		case k.Value == "weight":
			if weightKey != nil {
				c.errorf(k, "weight is given twice")
				continue
			}
			weightKey, weightVal = k, v
		case checkTypes[k.Value] != nil:
			if typeKey != nil {
				c.errorf(k, "a check has one type; this one has both %s and %s (write them as two checks)", typeKey.Value, k.Value)
				continue
			}
			typeKey, typeVal = k, v
		default:
			c.errorf(k, "unknown check type %q%s", k.Value, chkSuggest(k.Value, append(CheckTypes(), "weight")))
		}
	}
	if typeKey == nil {
		if len(c.probs) == 0 {
			c.errorf(n, "a check needs a type, e.g. `contains: Paris`; known types: %s", strings.Join(CheckTypes(), ", "))
		}
		return nil
	}
	chk := checkTypes[typeKey.Value](c, typeKey, typeVal)
	if weightKey == nil {
		return chk
	}
	if !top {
		c.errorf(weightKey, "weight applies to top-level checks only; put it on the enclosing not, anyOf or allOf")
		return nil
	}
	w, ok := c.number(weightVal, "weight")
	if !ok {
		return nil
	}
	if w <= 0 {
		c.errorf(weightVal, "weight must be greater than 0, got %v", w)
		return nil
	}
	if chk == nil {
		return nil
	}
	return weighted{Check: chk, weight: w}
}

// weighted gives a check a weight in the sample's weighted score.
type weighted struct {
	Check
	weight float64
}

func (w weighted) Eval(ctx context.Context, s Sample) Outcome {
	o := w.Check.Eval(ctx, s)
	o.Weight = w.weight
	return o
}

// weightOf is a check's weight in the weighted score (default 1).
func weightOf(c Check) float64 {
	if w, ok := c.(weighted); ok {
		return w.weight
	}
	return 1
}

// Verdict is the scored result of one sample against its case's checks.
type Verdict struct {
	Outcomes []Outcome
	// Score is the weighted share of passing checks, in [0, 1].
	Score float64
	Pass  bool
	// JudgeCost and JudgeTokens add up what judge checks spent on this
	// sample (verdicts served from the cache cost nothing); they are not part
	// of the sample's own cost.
	JudgeCost   float64
	JudgeTokens int
}

// Score runs every check on the sample. A failed request fails every check
// with the request's error as the reason. The sample passes when every check
// passes or when its weighted score (each top-level check counts with its
// weight; a combinator counts once, with its own weight) reaches
// rule.Threshold (0 means 1: every check must pass).
func Score(ctx context.Context, s Sample, checks []Check, rule PassRule) Verdict {
	v := Verdict{Outcomes: make([]Outcome, 0, len(checks))}
	var total, passed float64
	allPass := true
	for _, c := range checks {
		var o Outcome
		if s.Err != "" {
			o = Outcome{Check: c.Name(), Reason: "request failed: " + s.Err}
			if w := weightOf(c); w != 1 {
				o.Weight = w
			}
		} else {
			o = safeEval(ctx, c, s)
		}
		w := o.Weight
		if w == 0 {
			w = 1
		}
		total += w
		if o.Pass {
			passed += w
		} else {
			allPass = false
		}
		v.JudgeCost += o.JudgeCost
		v.JudgeTokens += o.JudgeTokens
		v.Outcomes = append(v.Outcomes, o)
	}
	switch {
	case s.Err != "":
		v.Score = 0
	case total == 0:
		v.Score = 1
	default:
		v.Score = passed / total
	}
	th := rule.Threshold
	if th == 0 {
		th = 1
	}
	v.Pass = s.Err == "" && (allPass || v.Score >= th-1e-9)
	return v
}

// safeEval runs one check, turning a panic (a bug in a check, or an answer
// that trips one) into that check's failure with the reason, so that one
// sample can never kill a run.
func safeEval(ctx context.Context, c Check, s Sample) (o Outcome) {
	defer func() {
		if r := recover(); r != nil {
			o = Outcome{Check: c.Name(), Reason: fmt.Sprintf("check crashed (a bug in promptgrid; please report it): %v", r)}
			if w := weightOf(c); w != 1 {
				o.Weight = w
			}
		}
	}()
	return c.Eval(ctx, s)
}
