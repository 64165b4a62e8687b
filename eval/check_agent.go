package eval

import (
	"context"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Checks on an agent loop's trajectory: the sample's tool calls over every
// step, in order (Sample.ToolCalls), and its step count (Sample.Steps).

// MaxTrajectoryCalls is how many expected calls a trajectory check may list.
const MaxTrajectoryCalls = 256

// trajectoryCheck passes when the sample's calls contain the expected ones:
// in order (a subsequence) unless ordered is false, and nothing else when
// only is set.
type trajectoryCheck struct {
	calls   []toolCallCheck
	ordered bool
	only    bool
}

// compileTrajectory reads `trajectory: [call, ...]` (ordered, others
// allowed) or `trajectory: {calls: [...], ordered, only}`; a call is a tool
// name or {name, arguments | argumentsSchema}, as in toolCall.
func compileTrajectory(c *compiler, key, val *yaml.Node) Check {
	val = deref(val)
	chk := trajectoryCheck{ordered: true}
	list := val
	if val.Kind == yaml.MappingNode {
		f, ok := c.fields(val, key.Value, "calls", "ordered", "only")
		if !ok {
			return nil
		}
		if list = f["calls"]; list == nil {
			c.errorf(val, "trajectory needs calls: the tool calls expected, e.g. calls: [find_order, {name: order_status, arguments: {order: o-9}}]")
			return nil
		}
		if v := f["ordered"]; v != nil {
			if chk.ordered, ok = c.boolean(v, "trajectory ordered"); !ok {
				return nil
			}
		}
		if v := f["only"]; v != nil {
			if chk.only, ok = c.boolean(v, "trajectory only"); !ok {
				return nil
			}
		}
	}
	list = deref(list)
	if list.Kind != yaml.SequenceNode {
		c.errorf(list, "trajectory takes a list of expected tool calls (or {calls, ordered, only}), got %s", kindName(list))
		return nil
	}
	if len(list.Content) > MaxTrajectoryCalls {
		c.errorf(list, "trajectory lists %d calls; the most is %d", len(list.Content), MaxTrajectoryCalls)
		return nil
	}
	if len(list.Content) == 0 && !chk.only {
		c.errorf(list, "trajectory calls is empty: list the expected calls (an empty list with only: true expects no call at all)")
		return nil
	}
	callKey := &yaml.Node{Kind: yaml.ScalarNode, Value: "trajectory call"}
	for _, e := range list.Content {
		tc, ok := compileToolCall(c, callKey, e).(toolCallCheck)
		if !ok {
			return nil
		}
		chk.calls = append(chk.calls, tc)
	}
	return chk
}

func (t trajectoryCheck) Name() string {
	names := make([]string, len(t.calls))
	for i, c := range t.calls {
		switch {
		case c.args != nil:
			names[i] = c.name + " " + c.argsText
		case c.schema != nil:
			names[i] = c.name + " (schema)"
		default:
			names[i] = c.name
		}
	}
	var how []string
	if !t.ordered {
		how = append(how, "any order")
	}
	if t.only {
		how = append(how, "no other calls")
	}
	s := "trajectory [" + strings.Join(names, ", ") + "]"
	if len(how) > 0 {
		s += " (" + strings.Join(how, ", ") + ")"
	}
	return s
}

func (t trajectoryCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: t.Name()}
	got := callList(s.ToolCalls)
	if t.only && len(s.ToolCalls) != len(t.calls) {
		o.Reason = fmt.Sprintf("expected exactly %d tool calls; got %d: %s", len(t.calls), len(s.ToolCalls), got)
		return o
	}
	if t.ordered {
		pos := 0
		for i, want := range t.calls {
			found := false
			for ; pos < len(s.ToolCalls); pos++ {
				if ok, _ := want.matches(s.ToolCalls[pos]); ok {
					found = true
					pos++
					break
				}
			}
			if !found {
				o.Reason = fmt.Sprintf("expected call %d of %d, %s, after the ones before it; the calls were %s", i+1, len(t.calls), want.Name(), got)
				return o
			}
		}
		o.Pass = true
		return o
	}
	if i := unmatchedCall(t.calls, s.ToolCalls); i >= 0 {
		o.Reason = fmt.Sprintf("expected %s among the calls (each expected call matched by a different call); the calls were %s", t.calls[i].Name(), got)
		return o
	}
	o.Pass = true
	return o
}

// unmatchedCall finds a matching of expected calls to distinct actual calls
// (Kuhn's augmenting paths) and returns the first expected call left
// unmatched, or -1 when every one has its own call.
func unmatchedCall(want []toolCallCheck, got []ToolCall) int {
	fits := make([][]int, len(want))
	for i, w := range want {
		for k, g := range got {
			if ok, _ := w.matches(g); ok {
				fits[i] = append(fits[i], k)
			}
		}
	}
	owner := make([]int, len(got))
	for k := range owner {
		owner[k] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for _, k := range fits[i] {
			if seen[k] {
				continue
			}
			seen[k] = true
			if owner[k] < 0 || try(owner[k], seen) {
				owner[k] = i
				return true
			}
		}
		return false
	}
	for i := range want {
		if !try(i, make([]bool, len(got))) {
			return i
		}
	}
	return -1
}

// callList describes calls for a reason: name(arguments), at most 12.
func callList(calls []ToolCall) string {
	if len(calls) == 0 {
		return "none"
	}
	var parts []string
	for i, c := range calls {
		if i == 12 {
			parts = append(parts, fmt.Sprintf("... (%d more)", len(calls)-i))
			break
		}
		args := strings.TrimSpace(string(c.Arguments))
		if args == "" {
			args = "{}"
		}
		parts = append(parts, c.Name+"("+excerpt(args)+")")
	}
	return strings.Join(parts, ", ")
}

// stepsCheck bounds the number of model requests a sample made (1 for a
// case without agent).
type stepsCheck struct{ lo, hi int }

// compileSteps reads `steps: N` (exactly) or `steps: {min, max}`.
func compileSteps(c *compiler, key, val *yaml.Node) Check {
	val = deref(val)
	if val.Kind == yaml.ScalarNode {
		n, ok := c.count(val, key.Value)
		if !ok {
			return nil
		}
		if n < 1 {
			c.errorf(val, "steps is at least 1 (every sample makes a request)")
			return nil
		}
		return stepsCheck{n, n}
	}
	lo, hi, ok := c.bounds(val, key.Value)
	if !ok {
		return nil
	}
	return stepsCheck{lo, hi}
}

func (t stepsCheck) Name() string { return "steps " + t.phrase() }

// phrase says the bounds in words: "exactly 2", "2 to 4", "at most 3".
func (t stepsCheck) phrase() string {
	switch {
	case t.lo == t.hi:
		return fmt.Sprintf("exactly %d", t.lo)
	case t.lo < 0:
		return fmt.Sprintf("at most %d", t.hi)
	case t.hi < 0:
		return fmt.Sprintf("at least %d", t.lo)
	}
	return fmt.Sprintf("%d to %d", t.lo, t.hi)
}

func (t stepsCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: t.Name()}
	n := max(s.Steps, 1)
	o.Pass = (t.lo < 0 || n >= t.lo) && (t.hi < 0 || n <= t.hi)
	if !o.Pass {
		o.Reason = fmt.Sprintf("expected %s model requests; the sample made %d", t.phrase(), n)
		if s.StepLimit {
			o.Reason += " and stopped at the agent's maxSteps without a final answer"
		}
	}
	return o
}
