package eval

import "fmt"

// checkOpenAI reports, at load, the cases that would reach the
// OpenAI-compatible transport with something it cannot carry: images or
// videos (chat completions take text messages here) and the built-in tools
// search and codeInterpreter (it takes function tools only). Without this
// check such a case loads and every one of its trials fails at run time.
// A case is checked against every transport its trials can take: the
// suite's, its own request's, the variants' and a grid axis on transport.
func (l *loader) checkOpenAI(s *Suite) {
	for _, c := range s.Cases {
		if !openAIReaches(s, c) {
			continue
		}
		where := "the suite's transport"
		if t, ok := c.Request["transport"].(string); ok && t == "openai" {
			where = "its request's transport"
		}
		if len(c.Images)+len(c.Videos) > 0 {
			l.add(Problem{File: c.File, Line: c.Line, Col: 1, Msg: fmt.Sprintf(
				"case %q has images or videos, and %s can be openai, whose chat messages carry text only: use transport native or websocket for media", c.ID, where)})
		}
		tools := s.Request["tools"]
		if t, ok := c.Request["tools"]; ok {
			tools = t
		}
		if kind := builtinTool(tools); kind != "" {
			l.add(Problem{File: c.File, Line: c.Line, Col: 1, Msg: fmt.Sprintf(
				"case %q offers the built-in tool %s, and %s can be openai, which takes function tools only: use transport native or websocket for built-in tools", c.ID, kind, where)})
		}
	}
}

// openAIReaches reports whether some trial of case c uses the openai
// transport.
func openAIReaches(s *Suite, c *Case) bool {
	base := s.Transport
	if t, ok := c.Request["transport"].(string); ok {
		base = t
	}
	if base == "openai" {
		return true
	}
	for _, v := range s.Variants {
		if t, ok := v.Request["transport"].(string); ok && t == "openai" {
			return true
		}
	}
	for _, ax := range s.Grid {
		if ax.Path != "transport" {
			continue
		}
		for _, v := range ax.Values {
			if v == "openai" {
				return true
			}
		}
	}
	return false
}

// builtinTool is the type of the first built-in tool (search or
// codeInterpreter) in a request's tools, "" when there is none.
func builtinTool(tools any) string {
	list, _ := tools.([]any)
	for _, t := range list {
		m, _ := t.(map[string]any)
		if k, _ := m["type"].(string); k == "search" || k == "codeInterpreter" {
			return k
		}
	}
	return ""
}
