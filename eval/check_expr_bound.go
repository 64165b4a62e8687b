package eval

import (
	"fmt"
	"reflect"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// Bounds on one evaluation of an expr check. expr-lang cannot be
// interrupted from outside, so the compiled program is patched to call a
// step function (below) at every iteration of a closure (all, any, map,
// filter, reduce, ...), at every let binding and at every `+`: the step
// function counts steps, charges the size of the value it sees and looks
// at the clock, and fails the evaluation past any bound. Between two steps
// the work is bounded by the expression's size (MaxExprNodes) and the
// sample's length. Past a bound the check fails with the reason.
const (
	// MaxExprSteps is how many steps (closure iterations, let bindings and
	// `+` operations) one evaluation may take. It is deterministic: the
	// same sample hits it on any machine.
	MaxExprSteps = 1_000_000
	// MaxExprDuration bounds one evaluation's wall-clock time, for work
	// that is slow per step (a closure over a long answer).
	MaxExprDuration = time.Second
	// MaxExprMemoryBytes bounds the bytes an evaluation builds: the sum of
	// the sizes of the values its closures, let bindings and `+` produce
	// (a string counts its length, a list or map 16 bytes per entry).
	MaxExprMemoryBytes = 64 << 20
)

// exprBudgetVar is the environment entry that carries an evaluation's
// budget; an expression cannot name it (# starts a closure pointer).
const exprBudgetVar = "#budget"

// exprBudget is one evaluation's running count.
type exprBudget struct {
	steps    int
	bytes    int64
	deadline time.Time
}

func newExprBudget() *exprBudget {
	return &exprBudget{deadline: time.Now().Add(MaxExprDuration)}
}

// exprBoundError is a bound an evaluation hit.
type exprBoundError struct{ msg string }

func (e *exprBoundError) Error() string { return e.msg }

// step charges one step and the size of v, and returns v.
func (b *exprBudget) step(v any) (any, error) {
	b.steps++
	if b.steps > MaxExprSteps {
		return nil, &exprBoundError{fmt.Sprintf("the expression took more than %d steps (closure iterations, let bindings and + operations), the limit per evaluation", MaxExprSteps)}
	}
	b.bytes += exprValueSize(v)
	if b.bytes > MaxExprMemoryBytes {
		return nil, &exprBoundError{fmt.Sprintf("the expression built more than %d bytes, the limit per evaluation", MaxExprMemoryBytes)}
	}
	if b.steps&15 == 0 && time.Now().After(b.deadline) {
		return nil, &exprBoundError{fmt.Sprintf("the expression ran for more than %v, the limit per evaluation", MaxExprDuration)}
	}
	return v, nil
}

// exprValueSize is what a value costs the memory bound: a string its
// length, a list or map 16 bytes per entry (their elements were charged
// when they were built).
func exprValueSize(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x))
	case []any:
		return 16 * int64(len(x))
	case map[string]any:
		return 16 * int64(len(x))
	case nil, bool, int, float64:
		return 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return int64(rv.Len())
	case reflect.Slice, reflect.Array, reflect.Map:
		return 16 * int64(rv.Len())
	}
	return 0
}

func exprStep(p ...any) (any, error) {
	b, ok := p[0].(*exprBudget)
	if !ok {
		return nil, fmt.Errorf("internal error: no evaluation budget")
	}
	return b.step(p[1])
}

// exprStepFuncs are the typed step functions: the one for a node's type
// keeps the node's type for the checker; any other type goes through
// #step (typed any), which the first, unpatched compilation has already
// checked.
var exprStepFuncs = map[reflect.Type]string{
	reflect.TypeOf(false): "#stepBool",
	reflect.TypeOf(""):    "#stepString",
	reflect.TypeOf(0):     "#stepInt",
	reflect.TypeOf(0.0):   "#stepFloat",
}

// exprBoundOptions are the compile options that patch the step calls in.
func exprBoundOptions() []expr.Option {
	return []expr.Option{
		expr.Function("#step", exprStep, new(func(*exprBudget, any) any)),
		expr.Function("#stepBool", exprStep, new(func(*exprBudget, bool) bool)),
		expr.Function("#stepString", exprStep, new(func(*exprBudget, string) string)),
		expr.Function("#stepInt", exprStep, new(func(*exprBudget, int) int)),
		expr.Function("#stepFloat", exprStep, new(func(*exprBudget, float64) float64)),
		expr.Patch(exprStepPatcher{}),
	}
}

// exprStepPatcher wraps closure bodies, let values and `+` in step calls.
type exprStepPatcher struct{}

func (exprStepPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		n.Node = wrapStep(n.Node)
	case *ast.VariableDeclaratorNode:
		n.Value = wrapStep(n.Value)
	case *ast.BinaryNode:
		if n.Operator == "+" {
			*node = wrapStep(n)
		}
	}
}

// wrapStep returns n inside a call to the step function for its type.
func wrapStep(n ast.Node) ast.Node {
	name, ok := exprStepFuncs[n.Type()]
	if !ok {
		name = "#step"
	}
	call := &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: name},
		Arguments: []ast.Node{&ast.IdentifierNode{Value: exprBudgetVar}, n},
	}
	call.SetLocation(n.Location())
	return call
}

// exprVMMemoryBudget is expr-lang's own bound (conf.DefaultMemoryBudget):
// the entries of the lists, maps and ranges one evaluation builds.
const exprVMMemoryBudget = 1_000_000
