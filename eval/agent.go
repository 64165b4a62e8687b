package eval

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/promptgrid/promptgrid/journal"
)

// Agent loops (issue 14). A case (or the suite, for every case) may declare
// scripted tools and a step limit:
//
//	agent:
//	  maxSteps: 4
//	  tools:
//	    get_weather:
//	      - arguments: {city: Tokyo}
//	        result: {tempC: 22}
//	      - error: unknown city
//
// The runner then loops: model → tool calls → these results → model, until
// the model answers without calling a tool or maxSteps requests were made.

// DefaultAgentSteps is maxSteps when an agent does not give it; MaxAgentSteps
// is the most it may be.
const (
	DefaultAgentSteps = 8
	MaxAgentSteps     = 64
)

// Agent is a case's scripted tools and step limit.
type Agent struct {
	// MaxSteps is the most model requests one sample makes.
	MaxSteps int
	// Tools holds each scripted tool's rules, tried in order.
	Tools map[string][]ToolRule
}

// ToolRule is one scripted answer of a tool: for calls whose arguments
// include Match's (or validate against its schema; neither = every call),
// the tool returns Result, or fails with it when Error is set.
type ToolRule struct {
	match  toolCallCheck
	Result string
	Error  bool
}

// Answer is the scripted result of one call: the first rule of its tool that
// matches its arguments. A call to a tool the script does not know, or that
// no rule matches, gets an error result (Rule -1) saying so, which the model
// sees as the tool's output.
func (a *Agent) Answer(call ToolCall) journal.ToolResult {
	res := journal.ToolResult{ID: call.ID, Name: call.Name, Rule: -1, Error: true}
	rules, ok := a.Tools[call.Name]
	if !ok {
		res.Content = fmt.Sprintf("error: no tool named %q (this agent's tools: %s)", shortText(call.Name), strings.Join(a.names(), ", "))
		return res
	}
	for i, r := range rules {
		if ok, _ := r.match.matches(call); ok {
			res.Content, res.Error, res.Rule = r.Result, r.Error, i
			return res
		}
	}
	args := strings.TrimSpace(string(call.Arguments))
	if args == "" {
		args = "{}"
	}
	res.Content = fmt.Sprintf("error: %s has no result for the arguments %s", call.Name, excerpt(args))
	return res
}

// names are the agent's tool names, sorted.
func (a *Agent) names() []string {
	out := make([]string, 0, len(a.Tools))
	for n := range a.Tools {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// cachedAgent is a compiled agent and its problems (an agent node without
// templates compiles alike for every row of a casesFrom template).
type cachedAgent struct {
	a     *Agent
	probs []Problem
}

// loadAgent compiles an agent mapping for a case. String values (results,
// errors, expected arguments) are templates over the case's vars, rendered
// first, as in checks.
func (l *loader) loadAgent(n *yaml.Node, vars map[string]any, row *rowCtx) *Agent {
	node, changed, ok := l.renderNode(n, vars, row)
	if !ok {
		return nil
	}
	if ca, hit := l.agentCache[n]; hit && !changed {
		for _, p := range ca.probs {
			l.add(p)
		}
		return ca.a
	}
	c := &compiler{file: l.file(n), files: l.files}
	a := compileAgent(c, node)
	if len(c.probs) > 0 {
		a = nil
	}
	if !changed && !l.frozen {
		l.agentCache[n] = cachedAgent{a, c.probs}
	}
	for _, p := range c.probs {
		if changed && row != nil {
			p.Msg = fmt.Sprintf("%s (casesFrom %s row %d)", p.Msg, row.file, row.row)
		}
		l.add(p)
	}
	return a
}

// compileAgent reads {maxSteps, tools}.
func compileAgent(c *compiler, n *yaml.Node) *Agent {
	f, ok := c.fields(n, "agent", "maxSteps", "tools")
	if !ok {
		return nil
	}
	a := &Agent{MaxSteps: DefaultAgentSteps, Tools: map[string][]ToolRule{}}
	if v := f["maxSteps"]; v != nil {
		if k, ok := c.count(v, "agent maxSteps"); ok {
			if k < 1 || k > MaxAgentSteps {
				c.errorf(v, "agent maxSteps must be between 1 and %d; got %d", MaxAgentSteps, k)
			}
			a.MaxSteps = k
		}
	}
	tn := f["tools"]
	if tn == nil {
		c.errorf(n, "agent needs tools: a mapping of tool names to their scripted results, e.g. tools: {get_weather: [{result: \"22°C\"}]}")
		return a
	}
	if tn.Kind != yaml.MappingNode || len(tn.Content) == 0 {
		c.errorf(tn, "agent tools takes a non-empty mapping of tool names to lists of rules, got %s", kindName(tn))
		return a
	}
	for i := 0; i+1 < len(tn.Content); i += 2 {
		k, v := deref(tn.Content[i]), deref(tn.Content[i+1])
		name := k.Value
		if !toolNameRE.MatchString(name) {
			c.errorf(k, "agent tool name %q is not a tool name (1 to 64 characters of A-Z, a-z, 0-9, _ and -)", shortText(name))
			continue
		}
		if _, dup := a.Tools[name]; dup {
			c.errorf(k, "agent tool %q is given twice", name)
			continue
		}
		a.Tools[name] = compileToolRules(c, name, v)
	}
	return a
}

// compileToolRules reads one tool's rules: a list of {arguments |
// argumentsSchema, result | error}; a rule without arguments or a schema
// answers every call, so it must come last.
func compileToolRules(c *compiler, name string, n *yaml.Node) []ToolRule {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		got := kindName(n)
		if n.Kind == yaml.SequenceNode {
			got = "an empty list"
		}
		c.errorf(n, "agent tool %s takes a non-empty list of rules, e.g. [{arguments: {city: Tokyo}, result: \"22°C\"}, {error: unknown city}], got %s", name, got)
		return nil
	}
	var out []ToolRule
	var catchAll *yaml.Node
	for _, e := range n.Content {
		e = deref(e)
		f, ok := c.fields(e, "agent tool rule", "arguments", "argumentsSchema", "result", "error")
		if !ok {
			continue
		}
		if catchAll != nil {
			c.errorf(e, "this rule of tool %s is never used: the rule at line %d has no arguments and answers every call (put it last)", name, catchAll.Line)
			continue
		}
		r := ToolRule{match: toolCallCheck{name: name}}
		switch {
		case f["arguments"] != nil && f["argumentsSchema"] != nil:
			c.errorf(f["argumentsSchema"], "a rule takes arguments or argumentsSchema, not both")
			continue
		case f["arguments"] != nil:
			a := f["arguments"]
			if a.Kind != yaml.MappingNode {
				c.errorf(a, "rule arguments takes a mapping of expected arguments, got %s", kindName(a))
				continue
			}
			v, err := yamlToJSON(a)
			if err != nil {
				c.errorf(a, "rule arguments: %v", err)
				continue
			}
			r.match.args = normJSON(v).(map[string]any)
			r.match.argsText = jsonString(r.match.args)
		case f["argumentsSchema"] != nil:
			if r.match.schema = c.schema(f["argumentsSchema"], "rule argumentsSchema"); r.match.schema == nil {
				continue
			}
		default:
			catchAll = e
		}
		switch res, er := f["result"], f["error"]; {
		case res != nil && er != nil:
			c.errorf(er, "a rule answers with result or error, not both")
			continue
		case res != nil:
			text, ok := resultText(c, res)
			if !ok {
				continue
			}
			r.Result = text
		case er != nil:
			text, ok := c.nonEmptyText(er, "rule error")
			if !ok {
				continue
			}
			r.Result, r.Error = text, true
		default:
			c.errorf(e, "a rule needs result (what the tool returns) or error (how it fails)")
			continue
		}
		out = append(out, r)
	}
	return out
}

// resultText is a rule's result as the tool message's content: a string as
// written, any other value as compact JSON.
func resultText(c *compiler, n *yaml.Node) (string, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return n.Value, true
	}
	v, err := yamlToJSON(n)
	if err != nil {
		c.errorf(n, "rule result: %v", err)
		return "", false
	}
	b, err := json.Marshal(normJSON(v))
	if err != nil {
		c.errorf(n, "rule result: %v", err)
		return "", false
	}
	return string(b), true
}

// checkAgentResults reports an agent case that would sample more than one
// result per task: a loop is one conversation, so numberResults must be 1.
func (l *loader) checkAgentResults(c *Case, s *Suite, at *yaml.Node) {
	bad := func(v any) bool {
		n, ok := v.(int64)
		return ok && n > 1
	}
	where := ""
	switch {
	case bad(c.Request["numberResults"]):
		where = "the case's request"
	case c.Request["numberResults"] == nil && bad(s.Request["numberResults"]):
		where = "the suite"
	}
	if i := axisIndex(s.Grid, "numberResults"); i >= 0 {
		for _, v := range s.Grid[i].Values {
			if bad(v) {
				where = "the grid"
			}
		}
	}
	for _, v := range s.Variants {
		if bad(v.Request["numberResults"]) {
			where = "variant " + v.Name
		}
	}
	if where != "" {
		l.errf(at, "case %q: an agent loop is one conversation per trial, so numberResults must be 1 (%s sets more); use seeds for more samples", c.ID, where)
	}
}
