package eval

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
)

// Prompts, message contents, system prompts and check strings are Go
// text/template templates over the case's vars. A variable the case does not
// define is an error, never an empty string.

// hasAction reports whether s contains template actions; strings without
// them are used verbatim (so a regex like `a{2}` is never parsed).
func hasAction(s string) bool { return strings.Contains(s, "{{") }

// parseTemplate parses src; the error message is cleaned of text/template's
// own prefix so that it reads well after a file:line:col.
func parseTemplate(name, src string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("template error in %s: %s", name, cleanTemplateErr(err, name))
	}
	return t, nil
}

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
