package eval

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v4"
)

// exprCheck evaluates an expr-lang expression that must return a boolean.
// The expression sees only the sample (see exprEnv); no functions beyond
// expr's builtins are provided, so it has no shell, file or network access.
type exprCheck struct {
	src  string
	prog *vm.Program
}

// exprTypes declares the variables an expression may use and their types;
// an expression naming anything else does not compile.
var exprTypes = map[string]any{
	"text":         "",
	"reasoning":    "",
	"usage":        map[string]any{},
	"cost":         0.0,
	"latency":      0.0,
	"ttft":         0.0,
	"ttfo":         0.0,
	"finishReason": "",
	"toolCalls":    []any{},
	"vars":         map[string]any{},
}

// MaxExprNodes bounds the size of an expr check's syntax tree, so that an
// expression cannot be made arbitrarily expensive by its length alone.
const MaxExprNodes = 1000

// MaxExprStringBytes bounds a string that replace() or repeat() builds in
// an expr check, so that nesting them cannot allocate gigabytes.
const MaxExprStringBytes = 1 << 20

// boundedReplace is expr's replace(s, old, new), refusing results past
// MaxExprStringBytes before building them.
func boundedReplace(p ...any) (any, error) {
	s, old, nw := p[0].(string), p[1].(string), p[2].(string)
	n := strings.Count(s, old)
	if old == "" {
		n = len(s) + 1
	}
	if size := int64(len(s)) + int64(n)*(int64(len(nw))-int64(len(old))); size > MaxExprStringBytes {
		return nil, fmt.Errorf("replace() would build a string of %d bytes, more than the limit of %d", size, MaxExprStringBytes)
	}
	return strings.ReplaceAll(s, old, nw), nil
}

// boundedRepeat is expr's repeat(s, n) under the same bound.
func boundedRepeat(p ...any) (any, error) {
	s, n := p[0].(string), p[1].(int)
	if n < 0 {
		return nil, fmt.Errorf("repeat() count %d is negative", n)
	}
	if size := int64(len(s)) * int64(n); size > MaxExprStringBytes || (len(s) > 0 && n > MaxExprStringBytes) {
		return nil, fmt.Errorf("repeat() would build a string of more than %d bytes", MaxExprStringBytes)
	}
	return strings.Repeat(s, n), nil
}

func compileExpr(c *compiler, key, val *yaml.Node) Check {
	src, ok := c.nonEmptyText(val, key.Value)
	if !ok {
		return nil
	}
	prog, err := compileExprSource(src)
	if err != nil {
		line, col := exprErrorPos(deref(val), err)
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			msg = fe.Message
		}
		c.errorAt(line, col, "expr does not compile: %s", msg)
		return nil
	}
	return exprCheck{src: src, prog: prog}
}

// exprOptions are the options every expr check compiles with.
func exprOptions(env map[string]any) []expr.Option {
	return []expr.Option{expr.Env(env), expr.AsBool(), expr.MaxNodes(MaxExprNodes),
		expr.Function("replace", boundedReplace, new(func(string, string, string) string)),
		expr.Function("repeat", boundedRepeat, new(func(string, int) string))}
}

// exprBoundTypes is exprTypes plus the evaluation budget.
var exprBoundTypes = func() map[string]any {
	m := map[string]any{exprBudgetVar: (*exprBudget)(nil)}
	for k, v := range exprTypes {
		m[k] = v
	}
	return m
}()

// compileExprSource compiles an expression twice: as written, for its
// errors (every type error is reported against the expression the user
// wrote), then with the step calls of the evaluation bounds patched in,
// for running.
func compileExprSource(src string) (*vm.Program, error) {
	if _, err := expr.Compile(src, exprOptions(exprTypes)...); err != nil {
		return nil, err
	}
	prog, err := expr.Compile(src, append(exprOptions(exprBoundTypes), exprBoundOptions()...)...)
	if err != nil {
		return nil, fmt.Errorf("internal error bounding the expression: %w", err)
	}
	return prog, nil
}

// exprErrorPos maps an expression's error position to the suite file. The
// mapping is exact for a plain or quoted scalar on one line; for other
// scalars (block scalars, multi-line) it is the scalar's own position.
func exprErrorPos(n *yaml.Node, err error) (int, int) {
	var fe *file.Error
	if !errors.As(err, &fe) || fe.Line != 1 || strings.Contains(n.Value, "\n") {
		return n.Line, n.Column
	}
	switch n.Style {
	case 0:
		return n.Line, n.Column + fe.Column
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		return n.Line, n.Column + 1 + fe.Column
	}
	return n.Line, n.Column
}

// exprEnv is what an expression sees: text, reasoning, usage (prompt,
// completion, thinking, output = completion - thinking), cost (USD),
// latency, ttft and ttfo (seconds), finishReason, toolCalls (id, name,
// arguments decoded from JSON) and vars. A measurement the sample lacks is
// nil, so that using it fails the check with a reason instead of counting
// as zero.
func exprEnv(s Sample) map[string]any {
	env := map[string]any{
		"text":         s.Text,
		"reasoning":    s.Reasoning,
		"finishReason": s.FinishReason,
		"usage":        nil,
		"cost":         nil,
		"latency":      nil,
		"ttft":         nil,
		"ttfo":         nil,
		"vars":         s.Vars,
	}
	if s.Vars == nil {
		env["vars"] = map[string]any{}
	}
	if u := s.Usage; u != nil {
		env["usage"] = map[string]any{"prompt": u.Prompt, "completion": u.Completion, "thinking": u.Thinking, "output": max(0, u.Completion-u.Thinking)}
	}
	if s.Cost != nil {
		env["cost"] = *s.Cost
	}
	if s.Latency != nil {
		env["latency"] = s.Latency.Seconds()
	}
	if s.TTFT != nil {
		env["ttft"] = s.TTFT.Seconds()
	}
	if s.TTFO != nil {
		env["ttfo"] = s.TTFO.Seconds()
	}
	calls := make([]any, 0, len(s.ToolCalls))
	for _, tc := range s.ToolCalls {
		args, err := decodeArguments(tc.Arguments)
		if err != nil {
			args = string(tc.Arguments)
		}
		calls = append(calls, map[string]any{"id": tc.ID, "name": tc.Name, "arguments": normJSON(args)})
	}
	env["toolCalls"] = calls
	return env
}

func (e exprCheck) Name() string { return "expr " + e.src }

func (e exprCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: e.Name()}
	env := exprEnv(s)
	env[exprBudgetVar] = newExprBudget()
	out, err := expr.Run(e.prog, env)
	if err != nil {
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			msg = fe.Message
		}
		o.Reason = "expression failed: " + msg
		var be *exprBoundError
		if errors.As(err, &be) || strings.Contains(msg, "memory budget exceeded") {
			if !errors.As(err, &be) {
				o.Reason = fmt.Sprintf("expression failed: it built more than %d list, map or range entries, the limit per evaluation", exprVMMemoryBudget)
			}
			return o
		}
		if m := missingMeasurements(s); len(m) > 0 {
			o.Reason += fmt.Sprintf(" (nil for this sample: %s)", strings.Join(m, ", "))
		}
		return o
	}
	b, ok := out.(bool)
	switch {
	case !ok:
		o.Reason = fmt.Sprintf("expression returned %T, not a boolean", out)
	case !b:
		o.Reason = fmt.Sprintf("expected the expression to be true; it was false: %s", e.src)
	default:
		o.Pass = true
	}
	return o
}

// missingMeasurements names the expression variables that are nil for s.
func missingMeasurements(s Sample) []string {
	var m []string
	for _, v := range []struct {
		name string
		nil  bool
	}{{"usage", s.Usage == nil}, {"cost", s.Cost == nil}, {"latency", s.Latency == nil}, {"ttft", s.TTFT == nil}, {"ttfo", s.TTFO == nil}} {
		if v.nil {
			m = append(m, v.name)
		}
	}
	return m
}
