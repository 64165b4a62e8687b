package eval

import (
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v4"
)

// Multi-turn tool messages in a case's (or variant's) messages (issue 14).
// The YAML mirrors Runware's native shape (docs/protocol.md):
//
//	- role: assistant
//	  tools: [{id: c1, name: get_weather, input: {city: Tokyo}}]
//	- role: tool
//	  id: c1
//	  content: "22°C"
//
// The messages reach the task unchanged: the assistant message as
// {role, tools: [{id, name, input}]} (content only when given), the tool
// message as {role: "tool", id, content}.

// MessageTool is one tool call an assistant message made: its id, the
// function's name and the arguments object (never nil once loaded).
type MessageTool struct {
	ID    string         `json:"id"`
	Name  string         `json:"name"`
	Input map[string]any `json:"input"`
}

var messageToolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var messageRoles = []string{"user", "assistant", "tool"}

// loadConversation reads a conversation: roles user, assistant (with
// content, tool calls, or both) and tool (answering a call of the latest
// assistant message by id), ending with a user or tool message.
func (l *loader) loadConversation(n *yaml.Node) []Message {
	items, ok := l.list(n, "messages")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		l.errf(n, "messages must not be empty")
		return nil
	}
	turns := &caseToolTurns{l: l, where: map[string]*yaml.Node{}, seen: map[string]bool{}}
	out := make([]Message, 0, len(items))
	for i, it := range items {
		fields, ok := l.fields(it, "a message", []string{"role", "content", "tools", "id"})
		if !ok {
			continue
		}
		var m Message
		nodes := map[string]*yaml.Node{}
		for _, f := range fields {
			nodes[f.key.Value] = f.val
		}
		if rn := nodes["role"]; rn != nil {
			if r, ok := l.str(rn, "role"); ok {
				switch r {
				case "user", "assistant", "tool":
				case "system":
					l.errf(rn, "role system is not a message role here: use systemPrompt (it is sent as settings.systemPrompt)")
				default:
					l.errf(rn, "role must be user, assistant or tool; got %q%s", r, suggest(r, messageRoles))
				}
				m.Role = r
			}
		} else {
			l.errf(it, "a message needs a role (user, assistant or tool)")
		}
		if tn := nodes["tools"]; tn != nil {
			if m.Role != "assistant" {
				l.errf(keyNode(it, "tools"), "tools is only for assistant messages (the tool calls the model made); this message has role %q", m.Role)
			} else {
				m.Tools = l.loadMessageTools(tn)
				if m.Tools == nil {
					m.Tools = []MessageTool{} // reported; keeps content optional
				}
			}
		}
		if idn := nodes["id"]; idn != nil {
			if m.Role != "tool" {
				l.errf(keyNode(it, "id"), "id is only for tool messages (the id of the tool call they answer); this message has role %q", m.Role)
			} else if id, ok := l.text(idn, "id"); ok {
				if id == "" {
					l.errf(idn, "id must not be empty")
				}
				m.ID = id
			}
		} else if m.Role == "tool" {
			l.errf(it, "a tool message needs the id of the tool call it answers")
		}
		if cn := nodes["content"]; cn != nil {
			m.Content = l.promptTemplate(cn, "content")
		} else if m.Tools == nil {
			l.errf(it, "a message needs content")
		}
		turns.step(it, m)
		if i == len(items)-1 && m.Role == "assistant" {
			l.errf(nodes["role"], "the last message must have role user or tool: the model answers it")
		}
		out = append(out, m)
	}
	turns.end()
	return out
}

// loadMessageTools reads an assistant message's tool calls.
func (l *loader) loadMessageTools(n *yaml.Node) []MessageTool {
	items, ok := l.list(n, "tools")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		l.errf(n, "tools must not be empty: list the calls, e.g. [{id: c1, name: get_weather, input: {city: Tokyo}}]")
		return nil
	}
	out := make([]MessageTool, 0, len(items))
	for _, it := range items {
		fields, ok := l.fields(it, "a tool call", []string{"id", "name", "input"})
		if !ok {
			continue
		}
		tc := MessageTool{Input: map[string]any{}}
		for _, f := range fields {
			switch f.key.Value {
			case "id":
				if id, ok := l.text(f.val, "id"); ok {
					if id == "" {
						l.errf(f.val, "id must not be empty")
					}
					tc.ID = id
				}
			case "name":
				if name, ok := l.str(f.val, "name"); ok {
					if !messageToolName.MatchString(name) {
						l.errf(f.val, "name must be 1 to 64 letters, digits, '-' or '_'; got %q", name)
					}
					tc.Name = name
				}
			case "input":
				if f.val.Kind != yaml.MappingNode {
					l.errf(f.val, "input must be a mapping of the call's arguments, e.g. {city: Tokyo}; got %s", kindName(f.val))
				} else {
					tc.Input, _ = value(f.val).(map[string]any)
				}
			}
		}
		if lookup(it, "id") == nil {
			l.errf(it, "a tool call needs an id")
		}
		if lookup(it, "name") == nil {
			l.errf(it, "a tool call needs a name")
		}
		out = append(out, tc)
	}
	return out
}

// caseToolTurns pairs tool messages with calls, as the simulator does:
// a tool message answers a not yet answered call of the latest assistant
// message, ids are unique, and every call is answered before the next user
// or assistant message and before the end.
type caseToolTurns struct {
	l       *loader
	pending []string
	where   map[string]*yaml.Node // call id → the call
	seen    map[string]bool
}

func (s *caseToolTurns) step(it *yaml.Node, m Message) {
	if m.Role == "tool" {
		if m.ID == "" {
			s.pending = nil // reported already
			return
		}
		for i, id := range s.pending {
			if id == m.ID {
				s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
				return
			}
		}
		s.l.errf(lookup(it, "id"), "tool message id %q answers no tool call of the preceding assistant message%s", m.ID, s.hint())
		return
	}
	s.unanswered("before the next " + m.Role + " message")
	items := lookup(it, "tools")
	for j, tc := range m.Tools {
		if tc.ID == "" {
			continue
		}
		at := it
		if items != nil && j < len(items.Content) {
			at = deref(items.Content[j])
		}
		if s.seen[tc.ID] {
			s.l.errf(at, "tool call id %q is used twice in this conversation", tc.ID)
		}
		s.seen[tc.ID] = true
		s.where[tc.ID] = at
		s.pending = append(s.pending, tc.ID)
	}
}

func (s *caseToolTurns) hint() string {
	if len(s.pending) == 0 {
		return " (none is waiting for a result)"
	}
	return fmt.Sprintf(" (waiting: %q)", s.pending)
}

func (s *caseToolTurns) unanswered(when string) {
	for _, id := range s.pending {
		s.l.errf(s.where[id], "tool call %q has no tool message answering it %s", id, when)
	}
	s.pending = nil
}

func (s *caseToolTurns) end() { s.unanswered("(add {role: tool, id: ..., content: ...})") }

// wireMessage is a message as the task carries it: {role, content} as
// before, content left out of an assistant message with tool calls and no
// text, tools as [{id, name, input}], id on a tool message.
func wireMessage(m Message) map[string]any {
	w := map[string]any{"role": m.Role, "content": m.Content}
	if len(m.Tools) > 0 {
		calls := make([]any, len(m.Tools))
		for i, tc := range m.Tools {
			in := tc.Input
			if in == nil {
				in = map[string]any{}
			}
			calls[i] = map[string]any{"id": tc.ID, "name": tc.Name, "input": cloneValue(in)}
		}
		w["tools"] = calls
		if m.Content == "" {
			delete(w, "content")
		}
	}
	if m.ID != "" {
		w["id"] = m.ID
	}
	return w
}
