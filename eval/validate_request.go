package eval

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// fieldKind is the type of a textInference task field.
type fieldKind int

const (
	kindString fieldKind = iota
	kindInt
	kindFloat
	kindBool
	kindEnum
	kindStrings   // list of strings
	kindObject    // a mapping with the children listed in requestFields
	kindSchema    // a JSON Schema: a mapping (or, for jsonSchema, a string)
	kindTools     // the tools list
	kindMessages  // not allowed in request defaults: cases own the messages
	kindForbidden // set by promptgrid itself
)

// fieldSpec is the documented type, range and enum of one task field, from
// the Kimi K2.6 model page (and transport, promptgrid's own option).
type fieldSpec struct {
	kind     fieldKind
	min, max float64 // numeric range, or string length range for strings
	ranged   bool
	enum     []string
	why      string // for kindForbidden and kindMessages
}

func rangeOf(k fieldKind, lo, hi float64) fieldSpec {
	return fieldSpec{kind: k, min: lo, max: hi, ranged: true}
}

func enumOf(vals ...string) fieldSpec { return fieldSpec{kind: kindEnum, enum: vals} }

// requestFields maps dotted task-field paths to their specs.
var requestFields = map[string]fieldSpec{
	"taskType":       {kind: kindForbidden, why: "promptgrid always sends taskType textInference"},
	"taskUUID":       {kind: kindForbidden, why: "promptgrid generates a fresh taskUUID for every task"},
	"model":          {kind: kindString},
	"messages":       {kind: kindMessages, why: "messages belong to cases: use a case's prompt or messages"},
	"seed":           rangeOf(kindInt, 0, math.MaxInt64),
	"numberResults":  rangeOf(kindInt, 1, 4),
	"deliveryMethod": enumOf("sync", "async", "stream"),
	"includeCost":    {kind: kindBool},
	"includeUsage":   {kind: kindBool},
	"outputFormat":   enumOf("TEXT", "JSON"),
	"jsonSchema":     {kind: kindSchema},
	"webhookURL":     {kind: kindString},
	"transport":      enumOf("native", "openai", "websocket"),

	"inputs":        {kind: kindObject},
	"inputs.images": {kind: kindStrings},
	"inputs.videos": {kind: kindStrings},

	"settings":                   {kind: kindObject},
	"settings.systemPrompt":      rangeOf(kindString, 1, 50000),
	"settings.temperature":       rangeOf(kindFloat, 0, 2),
	"settings.topP":              rangeOf(kindFloat, 0, 1),
	"settings.topK":              rangeOf(kindInt, 0, 999),
	"settings.minP":              rangeOf(kindFloat, 0, 1),
	"settings.frequencyPenalty":  rangeOf(kindFloat, -2, 2),
	"settings.presencePenalty":   rangeOf(kindFloat, -2, 2),
	"settings.repetitionPenalty": rangeOf(kindFloat, 0.01, 5),
	"settings.maxTokens":         rangeOf(kindInt, 1, 1_000_000),
	"settings.stopSequences":     {kind: kindStrings, min: 1, ranged: true},
	"settings.thinkingLevel":     enumOf("none", "low", "medium", "high", "xhigh"),
	"settings.promptCacheKey":    {kind: kindString},

	"tools":           {kind: kindTools},
	"toolChoice":      {kind: kindObject},
	"toolChoice.type": enumOf("auto", "any", "tool", "none"),
	"toolChoice.name": {kind: kindString},
}

// childrenOf lists the known direct children of an object path ("" = top).
func childrenOf(prefix string) []string {
	var out []string
	for p := range requestFields {
		rest, ok := strings.CutPrefix(p, prefix)
		if prefix != "" && !ok {
			continue
		}
		if prefix == "" {
			rest = p
		}
		if rest != "" && !strings.Contains(rest, ".") {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

// requestPaths lists every known dotted path, for suggestions.
func requestPaths() []string {
	out := make([]string, 0, len(requestFields))
	for p := range requestFields {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// validateRequest checks a mapping of task fields (request defaults, a
// variant's or a case's overrides) against the model page. what names the
// mapping in messages, e.g. "request".
func (l *loader) validateRequest(n *yaml.Node, what string) {
	l.validateObject(n, "", what)
}

func (l *loader) validateObject(n *yaml.Node, prefix, what string) {
	n = deref(n)
	fields, ok := l.fields(n, what, childrenOf(prefix))
	if !ok {
		return
	}
	for _, f := range fields {
		l.validateField(prefix+f.key.Value, f.val, f.key)
	}
	if prefix == "toolChoice." {
		l.checkToolChoice(n)
	}
}

// validateField checks one value at a known dotted path; key is the node to
// point at for problems that concern the field as a whole.
func (l *loader) validateField(path string, v, key *yaml.Node) {
	v = deref(v)
	spec := requestFields[path]
	switch spec.kind {
	case kindForbidden, kindMessages:
		l.errf(key, "%s cannot be set here: %s", path, spec.why)
	case kindObject:
		l.validateObject(v, path+".", path)
	case kindString:
		s, ok := l.str(v, path)
		if ok && spec.ranged {
			n := utf8.RuneCountInString(s)
			if float64(n) < spec.min {
				l.errf(v, "%s must not be empty", path)
			} else if float64(n) > spec.max {
				l.errf(v, "%s is %d characters long; the maximum is %s", path, n, fmtNum(spec.max))
			}
		}
	case kindInt:
		if i, ok := l.integer(v, path); ok && spec.ranged && (float64(i) < spec.min || float64(i) > spec.max) {
			l.errf(v, "%s must be between %s and %s; got %d", path, fmtNum(spec.min), fmtNum(spec.max), i)
		}
	case kindFloat:
		if f, ok := l.number(v, path); ok && spec.ranged && (f < spec.min || f > spec.max) {
			l.errf(v, "%s must be between %s and %s; got %s", path, fmtNum(spec.min), fmtNum(spec.max), v.Value)
		}
	case kindBool:
		l.boolean(v, path)
	case kindEnum:
		if s, ok := l.str(v, path); ok && !contains(spec.enum, s) {
			l.errf(v, "%s must be one of %s; got %q%s", path, strings.Join(spec.enum, ", "), s, suggest(s, spec.enum))
		}
	case kindStrings:
		items, ok := l.list(v, path)
		if !ok {
			return
		}
		if spec.ranged && len(items) == 0 {
			l.errf(v, "%s must not be empty: give at least one entry or leave it out", path)
		}
		for _, it := range items {
			if s, ok := l.str(it, path+" entries"); ok && s == "" {
				l.errf(it, "%s entries must not be empty", path)
			}
		}
	case kindSchema:
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
			return
		}
		if v.Kind != yaml.MappingNode {
			l.errf(v, "%s must be a JSON Schema object; got %s", path, kindName(v))
		}
	case kindTools:
		l.validateTools(v)
	}
}

var toolNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// validateTools checks the tools list: types, function names and schemas.
func (l *loader) validateTools(n *yaml.Node) {
	items, ok := l.list(n, "tools")
	if !ok {
		return
	}
	names := map[string]*yaml.Node{}
	for _, it := range items {
		fields, ok := l.fields(it, "a tool", []string{"type", "name", "description", "schema"})
		if !ok {
			continue
		}
		var typ string
		var nameNode, schemaNode *yaml.Node
		for _, f := range fields {
			switch f.key.Value {
			case "type":
				if s, ok := l.str(f.val, "tools.type"); ok {
					if kinds := []string{"function", "search", "codeInterpreter"}; !contains(kinds, s) {
						l.errf(f.val, "tools.type must be one of function, search, codeInterpreter; got %q%s", s, suggest(s, kinds))
					}
					typ = s
				}
			case "name":
				if s, ok := l.str(f.val, "tools.name"); ok {
					nameNode = f.val
					if !toolNameRE.MatchString(s) {
						l.errf(f.val, "tool name %q must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -", shortText(s))
					} else if first, dup := names[s]; dup {
						l.errf(f.val, "duplicate tool name %q (first defined at line %d)", s, first.Line)
					} else {
						names[s] = f.val
					}
				}
			case "description":
				l.str(f.val, "tools.description")
			case "schema":
				schemaNode = f.val
				if f.val.Kind != yaml.MappingNode {
					l.errf(f.val, "tools.schema must be a JSON Schema object; got %s", kindName(f.val))
				}
			}
		}
		if typ == "" && !hasKey(it, "type") {
			l.errf(it, "a tool needs a type (function, search or codeInterpreter)")
		}
		if typ == "function" {
			if nameNode == nil {
				l.errf(it, "a function tool needs a name")
			}
			if schemaNode == nil {
				l.errf(it, "a function tool needs a schema (a JSON Schema object for its arguments)")
			}
		}
	}
}

// checkToolChoice enforces that toolChoice type "tool" names its tool.
func (l *loader) checkToolChoice(n *yaml.Node) {
	typ := lookup(n, "type")
	if typ == nil {
		l.errf(n, "toolChoice needs a type (auto, any, tool or none)")
		return
	}
	if typ.Value == "tool" && lookup(n, "name") == nil {
		l.errf(typ, "toolChoice type \"tool\" needs a name: the tool the model must call")
	}
}

// lookup returns the value of key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

func hasKey(n *yaml.Node, key string) bool { return lookup(n, key) != nil }

// fmtNum prints a range bound without a trailing ".0" and with thousands
// separators for large integers (1,000,000).
func fmtNum(f float64) string {
	if f >= math.MaxInt64 {
		return "2^63-1"
	}
	if f == math.Trunc(f) && math.Abs(f) >= 10000 {
		s := strconv.FormatUint(uint64(math.Abs(f)), 10)
		var b strings.Builder
		if f < 0 {
			b.WriteByte('-')
		}
		for i, r := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// gridPathOK reports whether path may be a grid axis, with a suggestion when
// it may not.
func gridPathOK(path string) (bool, string) {
	spec, ok := requestFields[path]
	if !ok {
		return false, suggest(path, requestPaths())
	}
	switch spec.kind {
	case kindForbidden, kindMessages:
		return false, ": " + spec.why
	}
	return true, ""
}

// describeAxisValue formats a grid value for a cell label.
func describeAxisValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case nil:
		return "null"
	}
	return fmt.Sprint(canonicalJSON(v))
}
