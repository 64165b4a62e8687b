package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/theory/jsonpath"
	"go.yaml.in/yaml/v4"
)

// Structured checks read the text as JSON: the whole text (trimmed), or with
// `fenced: true` the first ```json fenced code block (else the first fenced
// block of any language, else the whole text).

// fenceRE matches a fenced code block: its info string and its body.
var fenceRE = regexp.MustCompile("(?s)```[ \\t]*([A-Za-z0-9_+-]*)[^\\n]*\\n(.*?)```")

// jsonText picks the JSON document out of a text.
func jsonText(text string, fenced bool) string {
	if fenced {
		blocks := fenceRE.FindAllStringSubmatch(text, -1)
		for _, b := range blocks {
			if strings.EqualFold(b[1], "json") {
				return strings.TrimSpace(b[2])
			}
		}
		if len(blocks) > 0 {
			return strings.TrimSpace(blocks[0][2])
		}
	}
	return strings.TrimSpace(text)
}

// parseJSON decodes one JSON document (numbers as json.Number), rejecting
// trailing data, with an error message a person can act on.
func parseJSON(doc string) (any, error) {
	if doc == "" {
		return nil, errors.New("the text is empty")
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, errors.New("unexpected end of JSON input")
	}
	return v, err
}

// jsonWhat names where JSON was looked for, for reasons.
func jsonWhat(fenced bool) string {
	if fenced {
		return "valid JSON (in a fenced code block or as the whole text)"
	}
	return "valid JSON"
}

// jsonCheck passes when the text is valid JSON.
type jsonCheck struct{ fenced bool }

func compileJSON(c *compiler, key, val *yaml.Node) Check {
	val = deref(val)
	if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!bool" {
		b, _ := c.boolean(val, "json")
		if !b {
			c.errorf(val, "json: false checks nothing; remove the check or use not: {json: true}")
			return nil
		}
		return jsonCheck{}
	}
	if val.Kind != yaml.MappingNode {
		c.errorf(val, "json takes true or a mapping {fenced: true}, got %s", kindName(val))
		return nil
	}
	f, ok := c.fields(val, key.Value, "fenced")
	if !ok {
		return nil
	}
	var chk jsonCheck
	if n := f["fenced"]; n != nil {
		if chk.fenced, ok = c.boolean(n, "json fenced"); !ok {
			return nil
		}
	}
	return chk
}

func (j jsonCheck) Name() string {
	if j.fenced {
		return "json (fenced)"
	}
	return "json"
}

func (j jsonCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: j.Name()}
	doc := jsonText(s.Text, j.fenced)
	if _, err := parseJSON(doc); err != nil {
		o.Reason = fmt.Sprintf("expected %s: %v; got %s", jsonWhat(j.fenced), err, excerpt(doc))
		return o
	}
	o.Pass = true
	return o
}

// jsonPathCheck evaluates a JSONPath (RFC 9535 syntax, via theory/jsonpath; validated when the suite loads) over the JSON text.
type jsonPathCheck struct {
	path   string
	expr   *jsonpath.Path
	fenced bool
	// Exactly one of the following applies.
	equals  any // normalised JSON value; set when hasEq
	hasEq   bool
	matches *regexp.Regexp
	exists  bool
}

func compileJSONPath(c *compiler, key, val *yaml.Node) Check {
	f, ok := c.fields(val, key.Value, "path", "equals", "matches", "exists", "fenced")
	if !ok {
		return nil
	}
	if f["path"] == nil {
		c.errorf(deref(val), "jsonPath needs a path, e.g. path: $.city")
		return nil
	}
	chk := jsonPathCheck{exists: true}
	if chk.path, ok = c.nonEmptyText(f["path"], "jsonPath path"); !ok {
		return nil
	}
	x, err := jsonpath.Parse(chk.path)
	if err != nil {
		c.errorf(f["path"], "jsonPath path %q is not an RFC 9535 JSONPath query: %v", chk.path, err)
		return nil
	}
	chk.expr = x
	given := 0
	for _, k := range []string{"equals", "matches", "exists"} {
		if f[k] != nil {
			given++
		}
	}
	if given > 1 {
		c.errorf(deref(val), "jsonPath takes one of equals, matches or exists")
		return nil
	}
	switch {
	case f["equals"] != nil:
		v, err := yamlToJSON(f["equals"])
		if err != nil {
			c.errorf(f["equals"], "jsonPath equals: %v", err)
			return nil
		}
		chk.equals, chk.hasEq = normJSON(v), true
	case f["matches"] != nil:
		pat, ok := c.nonEmptyText(f["matches"], "jsonPath matches")
		if !ok {
			return nil
		}
		if chk.matches, err = cachedRegexp(pat); err != nil {
			c.errorf(f["matches"], "jsonPath matches does not compile: %v", err)
			return nil
		}
	case f["exists"] != nil:
		if chk.exists, ok = c.boolean(f["exists"], "jsonPath exists"); !ok {
			return nil
		}
	}
	if n := f["fenced"]; n != nil {
		if chk.fenced, ok = c.boolean(n, "jsonPath fenced"); !ok {
			return nil
		}
	}
	return chk
}

func (j jsonPathCheck) Name() string {
	switch {
	case j.hasEq:
		return fmt.Sprintf("jsonPath %s equals %s", j.path, jsonString(j.equals))
	case j.matches != nil:
		return fmt.Sprintf("jsonPath %s matches /%s/", j.path, j.matches)
	case j.exists:
		return fmt.Sprintf("jsonPath %s exists", j.path)
	}
	return fmt.Sprintf("jsonPath %s does not exist", j.path)
}

func (j jsonPathCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: j.Name()}
	doc := jsonText(s.Text, j.fenced)
	v, err := parseJSON(doc)
	if err != nil {
		o.Reason = fmt.Sprintf("expected %s: %v; got %s", jsonWhat(j.fenced), err, excerpt(doc))
		return o
	}
	got := []any(j.expr.Select(normJSON(v)))
	var want string
	switch {
	case j.hasEq:
		want = "to equal " + jsonString(j.equals)
		for _, g := range got {
			o.Pass = o.Pass || reflect.DeepEqual(g, j.equals)
		}
	case j.matches != nil:
		want = fmt.Sprintf("to match /%s/", j.matches)
		for _, g := range got {
			str, isStr := g.(string)
			if !isStr {
				str = jsonString(g)
			}
			o.Pass = o.Pass || j.matches.MatchString(str)
		}
	case j.exists:
		want = "to exist"
		o.Pass = len(got) > 0
	default:
		want = "not to exist"
		o.Pass = len(got) == 0
	}
	switch {
	case o.Pass:
	case len(got) == 0:
		o.Reason = fmt.Sprintf("expected %s %s; the path matched nothing in %s", j.path, want, excerpt(doc))
	case len(got) == 1:
		o.Reason = fmt.Sprintf("expected %s %s; got %s", j.path, want, jsonExcerpt(got[0]))
	default:
		o.Reason = fmt.Sprintf("expected %s %s; got %s", j.path, want, jsonExcerpt(got))
	}
	return o
}

// normJSON converts json.Number to int64 (when integral) or float64, and
// int to int64, recursively, so that values from YAML and from a model's
// JSON compare equal when they mean the same number.
func normJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return float64(i)
		}
		f, _ := x.Float64()
		return f
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normJSON(e)
		}
		return out
	}
	return v
}

// jsonString renders a value as compact JSON for names and reasons.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// jsonExcerpt renders a value as JSON, cut at excerptMax characters.
func jsonExcerpt(v any) string {
	r := []rune(jsonString(v))
	if len(r) > excerptMax {
		return string(r[:excerptMax]) + "..."
	}
	return string(r)
}

// yamlToJSON converts a YAML node into JSON values (map[string]any, []any,
// string, float64/int, bool, nil), rejecting non-string keys.
func yamlToJSON(n *yaml.Node) (any, error) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping keys must be strings", k.Line)
			}
			v, err := yamlToJSON(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := yamlToJSON(e)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		if n.ShortTag() == "!!str" {
			return n.Value, nil
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}
