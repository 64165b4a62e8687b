package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
)

// toolCallCheck passes when the sample made a call to the named tool whose
// arguments include the given ones (a subset match: every given key present
// with an equal value, recursively; lists compare element by element) or
// validate against a JSON Schema.
type toolCallCheck struct {
	name     string
	args     map[string]any // subset; nil when not given
	schema   *jsonschema.Schema
	argsText string // for the name and reasons
}

func compileToolCall(c *compiler, key, val *yaml.Node) Check {
	val = deref(val)
	if val.Kind == yaml.ScalarNode {
		name, ok := c.nonEmptyText(val, key.Value)
		if !ok || !c.toolName(val, name) {
			return nil
		}
		return toolCallCheck{name: name}
	}
	f, ok := c.fields(val, key.Value, "name", "arguments", "argumentsSchema")
	if !ok {
		return nil
	}
	if f["name"] == nil {
		c.errorf(val, "toolCall needs the tool's name, e.g. name: get_weather")
		return nil
	}
	chk := toolCallCheck{}
	if chk.name, ok = c.nonEmptyText(f["name"], "toolCall name"); !ok || !c.toolName(f["name"], chk.name) {
		return nil
	}
	if f["arguments"] != nil && f["argumentsSchema"] != nil {
		c.errorf(f["argumentsSchema"], "toolCall takes arguments or argumentsSchema, not both")
		return nil
	}
	if n := f["arguments"]; n != nil {
		if n.Kind != yaml.MappingNode {
			c.errorf(n, "toolCall arguments takes a mapping of expected arguments, got %s", kindName(n))
			return nil
		}
		v, err := yamlToJSON(n)
		if err != nil {
			c.errorf(n, "toolCall arguments: %v", err)
			return nil
		}
		chk.args = normJSON(v).(map[string]any)
		chk.argsText = jsonString(chk.args)
	}
	if n := f["argumentsSchema"]; n != nil {
		if chk.schema = c.schema(n, "toolCall argumentsSchema"); chk.schema == nil {
			return nil
		}
	}
	return chk
}

// toolName reports a name no tool can have (tools are named 1 to 64 of
// A-Z a-z 0-9 _ -, as request.tools requires), which no call would match.
func (c *compiler) toolName(n *yaml.Node, name string) bool {
	if toolNameRE.MatchString(name) {
		return true
	}
	c.errorf(n, "toolCall name %q is not a tool name (1 to 64 characters of A-Z, a-z, 0-9, _ and -): no call can match it", shortText(name))
	return false
}

func (t toolCallCheck) Name() string {
	switch {
	case t.args != nil:
		return fmt.Sprintf("toolCall %q with %s", t.name, t.argsText)
	case t.schema != nil:
		return fmt.Sprintf("toolCall %q with arguments matching a schema", t.name)
	}
	return fmt.Sprintf("toolCall %q", t.name)
}

// decodeArguments decodes a tool call's arguments: a JSON object, or (as the
// OpenAI-compatible endpoint sends them) a string holding a JSON object.
func decodeArguments(raw json.RawMessage) (any, error) {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return map[string]any{}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.TrimSpace(s) == "" {
			return map[string]any{}, nil
		}
		raw = json.RawMessage(s)
	}
	return jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
}

// matches reports whether tc is a call to t's tool with arguments that
// match; mismatch says why the arguments did not ("" when the tool differs).
func (t toolCallCheck) matches(tc ToolCall) (ok bool, mismatch string) {
	if tc.Name != t.name {
		return false, ""
	}
	args, err := decodeArguments(tc.Arguments)
	if err != nil {
		return false, fmt.Sprintf("arguments are not valid JSON (%v): %s", err, excerpt(string(tc.Arguments)))
	}
	switch {
	case t.args != nil:
		if subsetOf(t.args, normJSON(args)) {
			return true, ""
		}
		return false, "got " + jsonExcerpt(normJSON(args))
	case t.schema != nil:
		if err := t.schema.Validate(args); err != nil {
			return false, describeFailures(err)
		}
	}
	return true, ""
}

func (t toolCallCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: t.Name()}
	if len(s.ToolCalls) == 0 {
		o.Reason = fmt.Sprintf("expected a call to tool %q; the response made no tool calls", t.name)
		return o
	}
	var names []string
	var mismatch []string
	for _, tc := range s.ToolCalls {
		names = append(names, tc.Name)
		ok, why := t.matches(tc)
		if ok {
			o.Pass = true
			return o
		}
		if why != "" {
			mismatch = append(mismatch, why)
		}
	}
	switch {
	case len(mismatch) == 0:
		o.Reason = fmt.Sprintf("expected a call to tool %q; got calls to %s", t.name, chkQuoteList(names))
	case t.args != nil:
		o.Reason = fmt.Sprintf("expected a call to tool %q with arguments including %s; %s", t.name, t.argsText, strings.Join(mismatch, "; "))
	default:
		o.Reason = fmt.Sprintf("expected a call to tool %q with arguments matching the schema; %s", t.name, strings.Join(mismatch, "; "))
	}
	return o
}

// subsetOf reports whether want is contained in got: objects by key
// (recursively), lists element by element with equal length, other values
// by equality. Both sides are normalised JSON values (see normJSON).
func subsetOf(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !subsetOf(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subsetOf(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}
