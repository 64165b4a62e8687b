package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// caseKeys are the keys of a case (and of a casesFrom case template, which
// adds its own).
var caseKeys = []string{"id", "description", "tags", "prompt", "messages", "systemPrompt", "vars", "request", "checks", "pass", "images", "videos", "agent"}

// rowCtx is the casesFrom row a case is built from.
type rowCtx struct {
	file   string
	row    int // 1-based data row
	line   int // line in the data file
	fields map[string]any
}

// rowErr reports a problem caused by a row's data at the row's line.
func (l *loader) rowErr(r *rowCtx, format string, args ...any) {
	l.add(Problem{File: r.file, Line: r.line, Col: 1, Msg: fmt.Sprintf("row %d: ", r.row) + fmt.Sprintf(format, args...)})
}

// renderAt renders a template written at node n. A template that does not
// parse is the node's problem; a missing variable is the row's problem when
// the case comes from a data row, else the node's.
func (l *loader) renderAt(n *yaml.Node, name, src string, vars map[string]any, row *rowCtx, ctx string) (string, bool) {
	if !hasAction(src) {
		return src, true
	}
	if _, err := parseTemplate(name, src); err != nil {
		l.errf(n, "%v", err)
		return "", false
	}
	out, err := render(name, src, vars)
	if err != nil {
		if row != nil {
			l.rowErr(row, "%s%v (template at %s:%d:%d)", ctx, err, l.file(n), n.Line, n.Column)
		} else {
			l.errf(n, "%s%v", ctx, err)
		}
		return "", false
	}
	return out, true
}

// promptTemplate reads a prompt template and checks that it parses.
func (l *loader) promptTemplate(n *yaml.Node, what string) string {
	v, ok := l.str(n, what)
	if !ok {
		return ""
	}
	if v == "" {
		l.errf(n, "%s must not be empty", what)
	}
	if hasAction(v) {
		if _, err := parseTemplate(what, v); err != nil {
			l.errf(n, "%v", err)
		}
	}
	return v
}

// loadMessages reads a conversation (messages_tools.go): roles user,
// assistant and tool, non-empty content, ending with a user or tool message.
func (l *loader) loadMessages(n *yaml.Node) []Message { return l.loadConversation(n) }

// loadCase reads one case; row is non-nil for a case built from a casesFrom
// data row, whose fields are then the case's vars (over the template's).
func (l *loader) loadCase(n *yaml.Node, s *Suite, row *rowCtx, extra ...string) *Case {
	known := caseKeys
	if len(extra) > 0 {
		known = append(append([]string(nil), caseKeys...), extra...)
	}
	fields, ok := l.fields(n, "a case", known)
	if !ok {
		return nil
	}
	c := &Case{File: l.file(n), Line: n.Line}
	if row != nil {
		c.File, c.Line = row.file, row.line
	}
	nodes := make(map[string]*yaml.Node, len(fields))
	for _, f := range fields {
		nodes[f.key.Value] = f.val
	}
	if v := nodes["vars"]; v != nil {
		if v.Kind != yaml.MappingNode {
			l.errf(v, "vars must be a mapping of names to values; got %s", kindName(v))
		} else {
			c.Vars, _ = value(v).(map[string]any)
		}
	}
	if row != nil {
		if c.Vars == nil {
			c.Vars = map[string]any{}
		}
		for k, v := range row.fields {
			c.Vars[k] = v
		}
	}
	for _, kind := range []string{"image", "video"} {
		var ms []MediaInput
		if v := nodes[kind+"s"]; v != nil {
			ms = l.loadMedia(v, kind, c.Vars, row)
		} else if row != nil {
			ms = l.rowMedia(row, kind)
		}
		if kind == "image" {
			c.Images = ms
		} else {
			c.Videos = ms
		}
	}
	if v := nodes["id"]; v != nil {
		if id, ok := l.text(v, "id"); ok {
			if row != nil {
				id, _ = l.renderAt(v, "id", id, c.Vars, row, "")
			}
			if id == "" && (row == nil || !hasAction(v.Value)) {
				l.errf(v, "id must not be empty")
			}
			c.ID = id
		}
	} else if row == nil {
		l.errf(n, "a case needs an id")
		return nil
	}
	if v := nodes["description"]; v != nil {
		c.Description, _ = l.str(v, "description")
	}
	if v := nodes["tags"]; v != nil {
		c.Tags, _ = l.stringList(v, "tags")
	}
	if v := nodes["prompt"]; v != nil {
		c.Prompt = l.promptTemplate(v, "prompt")
		if r, ok := l.renderAt(v, "prompt", c.Prompt, c.Vars, row, ""); ok && r == "" && c.Prompt != "" {
			l.errf(v, "prompt renders to an empty message")
		}
	}
	if v := nodes["messages"]; v != nil {
		c.Messages = l.loadMessages(v)
		if items, ok := l.list(v, "messages"); ok {
			for i, m := range c.Messages {
				if cn := lookup(items[i], "content"); cn != nil {
					if r, ok := l.renderAt(cn, "content", m.Content, c.Vars, row, ""); ok && r == "" && m.Content != "" {
						l.errf(cn, "content renders to an empty message")
					}
				}
			}
		}
	}
	switch {
	case nodes["prompt"] != nil && nodes["messages"] != nil:
		l.errf(nodes["messages"], "a case has prompt or messages, not both")
	case nodes["prompt"] == nil && nodes["messages"] == nil:
		l.errf(n, "case %q needs a prompt (or messages)", c.ID)
	}
	if v := nodes["systemPrompt"]; v != nil {
		c.SystemPrompt = l.systemPromptTemplate(v)
		l.checkSystemPrompt(v, c.SystemPrompt, c.Vars, row, "")
	} else if s.SystemPrompt != "" && hasAction(s.SystemPrompt) {
		if _, err := render("systemPrompt", s.SystemPrompt, c.Vars); err != nil {
			l.errf(lookupSys(n, c), "case %q: suite systemPrompt: %v", c.ID, err)
		}
	}
	if v := nodes["request"]; v != nil {
		c.Request = l.loadOverrides(v, "case request", s)
	}
	if v := nodes["pass"]; v != nil {
		if r, ok := l.loadPass(v, "pass", s.Pass); ok {
			c.Pass = &r
		}
	}
	if v := nodes["checks"]; v != nil {
		c.Checks = l.loadChecks(v, c.Vars, row)
	}
	agent := nodes["agent"]
	if agent == nil {
		agent = l.suiteAgent
	}
	if agent != nil {
		if c.Agent = l.loadAgent(agent, c.Vars, row); c.Agent != nil {
			at := agent
			if nodes["agent"] == nil {
				at = lookupSys(n, c)
			}
			l.checkAgentResults(c, s, at)
		}
	}
	l.checkVariantsFor(c, s, n, row)
	return c
}

// lookupSys points at the case's id for problems with suite-level
// templates rendered for that case.
func lookupSys(n *yaml.Node, c *Case) *yaml.Node {
	if id := lookup(n, "id"); id != nil {
		return id
	}
	return n
}

// checkSystemPrompt renders a system prompt template for a case and checks
// the model page's 50,000 character limit on the result.
func (l *loader) checkSystemPrompt(n *yaml.Node, src string, vars map[string]any, row *rowCtx, ctx string) {
	r, ok := l.renderAt(n, "systemPrompt", src, vars, row, ctx)
	if !ok {
		return
	}
	if k := utf8.RuneCountInString(r); k > 50000 {
		l.errf(n, "%ssystemPrompt is %d characters long once rendered; the maximum is 50,000", ctx, k)
	} else if r == "" && src != "" {
		l.errf(n, "%ssystemPrompt renders to an empty string", ctx)
	}
}

// checkVariantsFor renders every variant's templates with the case's vars,
// reporting failures at the variant's template.
func (l *loader) checkVariantsFor(c *Case, s *Suite, n *yaml.Node, row *rowCtx) {
	for i, v := range s.Variants {
		vn := l.variantNodes[i]
		ctx := fmt.Sprintf("case %q, variant %q: ", c.ID, v.Name)
		if v.Prompt != "" && vn["prompt"] != nil {
			l.renderAt(vn["prompt"], "prompt", v.Prompt, c.Vars, row, ctx)
		}
		if v.SystemPrompt != "" && vn["systemPrompt"] != nil {
			l.checkSystemPrompt(vn["systemPrompt"], v.SystemPrompt, c.Vars, row, ctx)
		}
		if items := vn["messages"]; items != nil && items.Kind == yaml.SequenceNode {
			for j, m := range v.Messages {
				if j < len(items.Content) {
					if cn := lookup(items.Content[j], "content"); cn != nil {
						l.renderAt(cn, "content", m.Content, c.Vars, row, ctx)
					}
				}
			}
		}
	}
}

// loadChecks compiles a case's checks. String values are templates over
// the case's vars (a casesFrom row's fields), rendered before compiling.
func (l *loader) loadChecks(n *yaml.Node, vars map[string]any, row *rowCtx) []Check {
	items, ok := l.list(n, "checks")
	if !ok {
		return nil
	}
	var out []Check
	for _, it := range items {
		node, changed, ok := l.renderNode(it, vars, row)
		if !ok {
			continue
		}
		var chk Check
		var probs []Problem
		if cc, hit := l.checkCache[it]; hit && !changed {
			chk, probs = cc.chk, cc.probs
		} else {
			chk, probs = compileCheck(node, l.file(it), l.files)
			// A check without a template compiles alike for every row of
			// a casesFrom template: compile it once. (Checks are
			// immutable once compiled, and shared by trials already.)
			if !changed && row != nil && !l.frozen {
				l.checkCache[it] = cachedCheck{chk, probs}
			}
		}
		for _, p := range probs {
			if changed && row != nil {
				p.Msg = fmt.Sprintf("%s (casesFrom %s row %d)", p.Msg, row.file, row.row)
			}
			l.add(p)
		}
		if chk != nil {
			out = append(out, chk)
		}
	}
	return out
}

// cachedCheck is a compiled check and its problems.
type cachedCheck struct {
	chk   Check
	probs []Problem
}

// renderNode returns a deep copy of n with every scalar value that holds a
// template rendered with vars (keys are left alone), and whether anything
// changed. Rendered plain scalars are re-resolved, so `{{.n}}` rendering to
// 42 is an integer.
func (l *loader) renderNode(n *yaml.Node, vars map[string]any, row *rowCtx) (*yaml.Node, bool, bool) {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if !hasAction(n.Value) {
			return n, false, true
		}
		r, ok := l.renderAt(n, "check", n.Value, vars, row, "")
		if !ok {
			return nil, false, false
		}
		cp := *n
		cp.Value = r
		if tag := soleVarTag(n.Value, vars); tag != "" {
			// "{{.age}}" alone takes the type of a number or boolean field,
			// so `equals: "{{.age}}"` compares with 36, not "36".
			cp.Tag, cp.Style = tag, 0
		} else if n.Style == 0 {
			var tmp yaml.Node
			if yaml.Unmarshal([]byte(r), &tmp) == nil && len(tmp.Content) == 1 && tmp.Content[0].Kind == yaml.ScalarNode {
				cp.Tag = tmp.Content[0].Tag
			} else {
				cp.Tag = "!!str"
			}
		}
		return &cp, true, true
	case yaml.MappingNode, yaml.SequenceNode:
		// The copy is made only once a child changes: most checks hold no
		// template, and a copy per check of every inline case is garbage.
		var content []*yaml.Node
		allOK := true
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 {
				continue
			}
			r, ch, ok := l.renderNode(c, vars, row)
			if !ok {
				allOK = false
				continue
			}
			if !ch {
				continue
			}
			if content == nil {
				content = make([]*yaml.Node, len(n.Content))
				for j, d := range n.Content {
					if n.Kind == yaml.MappingNode && j%2 == 0 {
						content[j] = d
					} else {
						content[j] = deref(d)
					}
				}
			}
			content[i] = r
		}
		if !allOK {
			return nil, false, false
		}
		if content == nil {
			return n, false, true
		}
		cp := *n
		cp.Content = content
		return &cp, true, true
	}
	return n, false, true
}

// soleVarNames caches soleVar by template source (sources come from the
// suite, so they are few; a casesFrom template asks once per row).
var soleVarNames sync.Map

// soleVar is the variable a template consists of alone, or "".
func soleVar(src string) string {
	if v, ok := soleVarNames.Load(src); ok {
		return v.(string)
	}
	name := ""
	if m := soleVarRE.FindStringSubmatch(strings.TrimSpace(src)); m != nil {
		name = m[1]
	}
	soleVarNames.Store(src, name)
	return name
}

var soleVarRE = regexp.MustCompile(`^\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}$`)

// soleVarTag returns the YAML tag of the variable that a template consists
// of alone, when that variable is a number or a boolean; "" otherwise.
func soleVarTag(src string, vars map[string]any) string {
	name := soleVar(src)
	if name == "" {
		return ""
	}
	switch v := vars[name].(type) {
	case bool:
		return "!!bool"
	case int64, int:
		return "!!int"
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return "!!int"
		}
		return "!!float"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "!!int"
		}
		return "!!float"
	}
	return ""
}
