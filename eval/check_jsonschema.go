package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaPrinter renders jsonschema error kinds in English.
var schemaPrinter = message.NewPrinter(language.English)

// jsonSchemaCheck validates the JSON text against a JSON Schema
// (santhosh-tekuri/jsonschema, latest draft unless $schema says otherwise).
type jsonSchemaCheck struct {
	label  string // "inline" or the schema file as written
	schema *jsonschema.Schema
	fenced bool
}

// compileJSONSchema reads `jsonSchema: {<inline schema>}`,
// `jsonSchema: path/to/schema.json` (relative to the suite file; .yaml and
// .yml files are read as YAML) or the options form
// `jsonSchema: {schema: <inline or path>, fenced: true}`.
func compileJSONSchema(c *compiler, key, val *yaml.Node) Check {
	val = deref(val)
	chk := jsonSchemaCheck{}
	sn := val
	if val.Kind == yaml.MappingNode && mappingHas(val, "schema") {
		f, ok := c.fields(val, key.Value, "schema", "fenced")
		if !ok {
			return nil
		}
		sn = f["schema"]
		if n := f["fenced"]; n != nil {
			if chk.fenced, ok = c.boolean(n, "jsonSchema fenced"); !ok {
				return nil
			}
		}
	}
	chk.label = "inline"
	if sn.Kind == yaml.ScalarNode {
		chk.label = sn.Value
	}
	if chk.schema = c.schema(sn, key.Value); chk.schema == nil {
		return nil
	}
	return chk
}

// mappingHas reports whether a mapping node has the key.
func mappingHas(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if deref(n.Content[i]).Value == key {
			return true
		}
	}
	return false
}

// schema compiles a JSON Schema given inline (a mapping) or as a file path
// relative to the suite file. An invalid inline schema is reported at the
// offending keyword's node.
func (c *compiler) schema(n *yaml.Node, what string) *jsonschema.Schema {
	n = deref(n)
	base, err := filepath.Abs(filepath.Dir(c.file))
	if err != nil {
		c.errorf(n, "%s: cannot resolve the suite's directory: %v", what, err)
		return nil
	}
	var doc any
	var loc string
	inline := false
	switch {
	case n.Kind == yaml.MappingNode:
		v, err := yamlToJSON(n)
		if err == nil {
			doc, err = reparseJSON(v)
		}
		if err != nil {
			c.errorf(n, "%s: %v", what, err)
			return nil
		}
		inline = true
		loc = filepath.Join(base, fmt.Sprintf("%s-inline-schema-%d-%d.json", filepath.Base(c.file), n.Line, n.Column))
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value != "":
		loc = n.Value
		if !filepath.IsAbs(loc) {
			loc = filepath.Join(base, loc)
		}
		if doc, err = c.readSchemaFile(loc); err != nil {
			c.errorf(n, "%s: %v", what, err)
			return nil
		}
	default:
		c.errorf(n, "%s takes a schema (a mapping) or the path of a schema file, got %s", what, kindName(n))
		return nil
	}
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(loc)}).String()
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource(u, doc); err != nil {
		c.errorf(n, "%s: %v", what, err)
		return nil
	}
	sch, err := comp.Compile(u)
	if err == nil {
		return sch
	}
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if errors.As(err, &sve) && errors.As(sve.Err, &ve) && strings.TrimSuffix(sve.URL, "#") == u {
		leaf := firstLeaf(ve)
		at := n
		if inline {
			at = nodeAtPointer(n, leaf.InstanceLocation)
		}
		c.errorf(at, "%s is not a valid JSON Schema: %s", what, describeLeaf(leaf))
		return nil
	}
	c.errorf(n, "%s does not compile: %v", what, err)
	return nil
}

// reparseJSON turns decoded YAML into the value shape jsonschema expects
// (numbers as json.Number).
func reparseJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
}

// readSchemaFile reads a JSON Schema from a .json file, or a .yaml/.yml file.
func (c *compiler) readSchemaFile(path string) (any, error) {
	b, err := c.files.read(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read schema file %s: %w", path, err)
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		var root yaml.Node
		if err := yaml.Unmarshal(b, &root); err != nil {
			return nil, fmt.Errorf("schema file %s: %w", path, err)
		}
		n := &root
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			n = n.Content[0]
		}
		if probs := yamlBoundsProblems(n, path); len(probs) > 0 {
			return nil, errors.New(probs[0].String())
		}
		v, err := yamlToJSON(n)
		if err != nil {
			return nil, fmt.Errorf("schema file %s: %w", path, err)
		}
		return reparseJSON(v)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("schema file %s is not valid JSON: %w", path, err)
	}
	return doc, nil
}

// firstLeaf follows the first cause down to an error without causes: the
// most specific reason.
func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	return e
}

// leaves collects every error without causes, in order.
func leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

// describeLeaf renders one error as `at /path: message`.
func describeLeaf(e *jsonschema.ValidationError) string {
	where := "at the top level"
	if len(e.InstanceLocation) > 0 {
		where = "at /" + strings.Join(e.InstanceLocation, "/")
	}
	return where + ": " + e.ErrorKind.LocalizedString(schemaPrinter)
}

// describeFailures renders up to three validation failures.
func describeFailures(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	ls := leaves(ve, nil)
	parts := make([]string, 0, 3)
	for i, l := range ls {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ls)-3))
			break
		}
		parts = append(parts, describeLeaf(l))
	}
	return strings.Join(parts, "; ")
}

// nodeAtPointer follows JSON-pointer tokens through a YAML node, returning
// the deepest node reached (the offending keyword's value).
func nodeAtPointer(n *yaml.Node, tokens []string) *yaml.Node {
	for _, tok := range tokens {
		n = deref(n)
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if deref(n.Content[i]).Value == tok {
					next = n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return deref(n)
}

func (j jsonSchemaCheck) Name() string {
	name := "jsonSchema " + j.label
	if j.fenced {
		name += " (fenced)"
	}
	return name
}

func (j jsonSchemaCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: j.Name()}
	doc := jsonText(s.Text, j.fenced)
	v, err := parseJSON(doc)
	if err != nil {
		o.Reason = fmt.Sprintf("expected %s: %v; got %s", jsonWhat(j.fenced), err, excerpt(doc))
		return o
	}
	if err := j.schema.Validate(v); err != nil {
		o.Reason = fmt.Sprintf("JSON does not match the schema: %s; got %s", describeFailures(err), excerpt(doc))
		return o
	}
	o.Pass = true
	return o
}
