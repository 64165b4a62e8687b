package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
)

// Prompts, message contents, system prompts and check strings are Go
// text/template templates over the case's vars. A variable the case does not
// define is an error, never an empty string.

// hasAction reports whether s contains template actions; strings without
// them are used verbatim (so a regex like `a{2}` is never parsed).
func hasAction(s string) bool { return strings.Contains(s, "{{") }

// parseTemplate parses src; the error message is cleaned of text/template's
// own prefix so that it reads well after a file:line:col.
//
// Parsed templates are cached by name and source: a casesFrom template is
// rendered once per row, and parsing it again each time was most of the
// cost of loading a large data file. A *template.Template is safe to
// execute concurrently. Templates come from suite files, so the cache
// holds at most maxTemplateCache of them (past that, parse every time).
func parseTemplate(name, src string) (*template.Template, error) {
	key := templateKey{name, src}
	templateCache.Lock()
	t, ok := templateCache.m[key]
	templateCache.Unlock()
	if ok {
		return t, nil
	}
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("template error in %s: %s", name, cleanTemplateErr(err, name))
	}
	templateCache.Lock()
	if len(templateCache.m) < maxTemplateCache {
		templateCache.m[key] = t
	}
	templateCache.Unlock()
	return t, nil
}

type templateKey struct{ name, src string }

const maxTemplateCache = 10_000

var templateCache = struct {
	sync.Mutex
	m map[templateKey]*template.Template
}{m: map[templateKey]*template.Template{}}

var missingKeyRE = regexp.MustCompile(`map has no entry for key "([^"]*)"`)

// render executes src with vars. The error names the missing variable and
// lists the ones that exist.
func render(name, src string, vars map[string]any) (string, error) {
	if !hasAction(src) {
		return src, nil
	}
	t, err := parseTemplate(name, src)
	if err != nil {
		return "", err
	}
	if out, ok := renderSimple(t, vars); ok {
		return out, nil
	}
	var b strings.Builder
	if vars == nil {
		vars = map[string]any{}
	}
	if err := t.Execute(&b, vars); err != nil {
		if m := missingKeyRE.FindStringSubmatch(err.Error()); m != nil {
			have := "none"
			if len(vars) > 0 {
				have = strings.Join(sortedKeys(vars), ", ")
			}
			close := ""
			if hint := suggest(m[1], sortedKeys(vars)); hint != "" {
				close = "; close match: " + strings.TrimSuffix(strings.TrimPrefix(hint, " (did you mean "), "?)")
			}
			return "", fmt.Errorf("missing variable %q in %s (vars: %s%s)", m[1], name, have, close)
		}
		return "", fmt.Errorf("template error in %s: %s", name, cleanTemplateErr(err, name))
	}
	return b.String(), nil
}

// simpleTemplates caches, per parsed template, its pieces when it is only
// text and {{.name}} actions (nil when it is not).
var simpleTemplates sync.Map // *template.Template -> []simplePiece

type simplePiece struct {
	text  string
	field string // "" for text
}

// renderSimple renders a template made only of text and {{.name}} actions
// by substitution, when every variable it names is a string (or a
// json.Number, printed as written): text/template's output for those, at a
// fraction of its cost per casesFrom row. It reports false for any other
// template or value, which then goes through text/template.
func renderSimple(t *template.Template, vars map[string]any) (string, bool) {
	v, ok := simpleTemplates.Load(t)
	if !ok {
		v = simplePieces(t)
		simpleTemplates.Store(t, v)
	}
	pieces := v.([]simplePiece)
	if pieces == nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range pieces {
		if p.field == "" {
			b.WriteString(p.text)
			continue
		}
		switch x := vars[p.field].(type) {
		case string:
			b.WriteString(x)
		case json.Number:
			b.WriteString(string(x))
		default:
			return "", false
		}
	}
	return b.String(), true
}

// simplePieces splits a template into text and {{.name}} pieces, or
// returns nil when it holds anything else.
func simplePieces(t *template.Template) []simplePiece {
	if t.Tree == nil || t.Tree.Root == nil || len(t.Templates()) > 1 {
		return nil
	}
	pieces := []simplePiece{}
	for _, n := range t.Tree.Root.Nodes {
		switch x := n.(type) {
		case *parse.TextNode:
			pieces = append(pieces, simplePiece{text: string(x.Text)})
		case *parse.ActionNode:
			p := x.Pipe
			if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
				return nil
			}
			f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
			if !ok || len(f.Ident) != 1 {
				return nil
			}
			pieces = append(pieces, simplePiece{field: f.Ident[0]})
		default:
			return nil
		}
	}
	return pieces
}

// cleanTemplateErr strips "template: name:1:2: " style prefixes.
func cleanTemplateErr(err error, name string) string {
	msg := err.Error()
	var ee template.ExecError
	if errors.As(err, &ee) && ee.Err != nil {
		msg = ee.Err.Error()
	}
	msg = strings.TrimPrefix(msg, "template: ")
	if rest, ok := strings.CutPrefix(msg, name+":"); ok {
		// drop "line:" or "line:col:" and an optional executing clause
		parts := strings.SplitN(rest, ": ", 2)
		if len(parts) == 2 {
			msg = parts[1]
		}
		if i := strings.Index(msg, ">: "); strings.HasPrefix(msg, "executing ") && i >= 0 {
			msg = msg[i+3:]
		}
	}
	return msg
}
