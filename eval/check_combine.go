package eval

import (
	"context"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Combinators build one check out of others. A combinator counts once in
// the weighted score, with its own weight; its nested checks take no weight.
// anyOf stops at the first passing check and allOf at the first failing one,
// so that a costly check (a judge) placed last runs only when needed.

// notCheck passes when its check fails.
type notCheck struct{ inner Check }

func compileNot(c *compiler, _, val *yaml.Node) Check {
	inner := c.entry(val, false)
	if inner == nil {
		return nil
	}
	return notCheck{inner: inner}
}

func (n notCheck) Name() string { return "not(" + n.inner.Name() + ")" }

func (n notCheck) Eval(ctx context.Context, s Sample) Outcome {
	in := n.inner.Eval(ctx, s)
	o := Outcome{Check: n.Name(), Pass: !in.Pass, JudgeCost: in.JudgeCost, JudgeTokens: in.JudgeTokens, JudgeCached: in.JudgeCached}
	if !o.Pass {
		o.Reason = fmt.Sprintf("expected %s to fail; it passed", n.inner.Name())
	}
	return o
}

// listCheck implements anyOf and allOf.
type listCheck struct {
	any    bool
	checks []Check
}

func compileAnyOf(c *compiler, key, val *yaml.Node) Check { return c.listArg(key, val, true) }

func compileAllOf(c *compiler, key, val *yaml.Node) Check { return c.listArg(key, val, false) }

func (c *compiler) listArg(key, val *yaml.Node, isAny bool) Check {
	val = deref(val)
	if val.Kind != yaml.SequenceNode || len(val.Content) == 0 {
		c.errorf(val, "%s takes a non-empty list of checks, got %s", key.Value, kindName(val))
		return nil
	}
	l := listCheck{any: isAny}
	ok := true
	for _, e := range val.Content {
		chk := c.entry(e, false)
		ok = ok && chk != nil
		l.checks = append(l.checks, chk)
	}
	if !ok {
		return nil
	}
	return l
}

func (l listCheck) Name() string {
	names := make([]string, len(l.checks))
	for i, c := range l.checks {
		names[i] = c.Name()
	}
	op := "allOf"
	if l.any {
		op = "anyOf"
	}
	return op + "(" + strings.Join(names, ", ") + ")"
}

func (l listCheck) Eval(ctx context.Context, s Sample) Outcome {
	o := Outcome{Check: l.Name()}
	var failed []string
	for i, c := range l.checks {
		in := c.Eval(ctx, s)
		o.JudgeCost += in.JudgeCost
		o.JudgeTokens += in.JudgeTokens
		o.JudgeCached = o.JudgeCached || in.JudgeCached
		if l.any && in.Pass {
			o.Pass = true
			return o
		}
		if !l.any && !in.Pass {
			o.Reason = fmt.Sprintf("check %d of %d failed: (%s: %s)", i+1, len(l.checks), in.Check, in.Reason)
			return o
		}
		failed = append(failed, fmt.Sprintf("(%s: %s)", in.Check, in.Reason))
	}
	if l.any {
		o.Reason = fmt.Sprintf("none of %d checks passed: %s", len(l.checks), strings.Join(failed, " "))
		return o
	}
	o.Pass = true
	return o
}
