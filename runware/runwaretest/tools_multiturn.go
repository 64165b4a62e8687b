package runwaretest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/promptgrid/promptgrid/runware"
)

// Native multi-turn tool messages (issue 14). The shape follows Runware's
// Python SDK README: an assistant message with
// "tools": [{"id","name","input"}] and a message {"role":"tool","id","content"}
// answering one call. The checks and their codes are the simulator's choice
// (docs/simulator.md): Runware documents neither.

var messageRoles = []any{"user", "assistant", "tool"}

// parseNativeMessage validates one element of messages (path p) and
// returns it as a runware.Message.
func parseNativeMessage(v *validator, p string, m map[string]json.RawMessage) runware.Message {
	role, okr := asString(m["role"])
	if !okr || !slices.Contains(messageRoles, any(role)) {
		e := v.add("invalidMessages", p+".role", "Invalid value for message role. Allowed roles are user, assistant and tool.")
		e.AllowedValues = messageRoles
	}
	for k := range m {
		ok := k == "role" || k == "content" || (k == "tools" && role == "assistant") || (k == "id" && role == "tool")
		if !ok {
			v.add("unsupportedParameter", p+"."+k, fmt.Sprintf("Unsupported message field %q.", k))
		}
	}
	msg := runware.Message{Role: role}
	hasTools := role == "assistant" && !isNull(m["tools"])
	if hasTools {
		msg.Tools = parseMessageTools(v, p+".tools", m["tools"])
	}
	content, okc := asString(m["content"])
	switch {
	case hasTools && isNull(m["content"]):
		// An assistant message with calls may carry no text.
	case hasTools && okc:
	case !okc || content == "":
		v.add("invalidMessages", p+".content", "Invalid value for message content. It must be a non-empty string.").Type = "string"
	}
	msg.Content = content
	if role == "tool" {
		if raw, ok := m["id"]; !ok || isNull(raw) {
			v.add("missingToolCallId", p+".id", "Missing id: a tool message must name the tool call it answers.")
		} else if id, ok := asString(raw); !ok || id == "" {
			v.add("invalidToolCallId", p+".id", "Invalid value for id. It must be the non-empty id of a tool call.").Type = "string"
		} else {
			msg.ID = id
		}
	}
	return msg
}

// parseMessageTools validates an assistant message's tools array.
func parseMessageTools(v *validator, p string, raw json.RawMessage) []runware.MessageTool {
	var items []map[string]json.RawMessage
	if json.Unmarshal(raw, &items) != nil || len(items) == 0 {
		v.add("invalidMessages", p, "Invalid value for message tools. It must be a non-empty array of {id, name, input} objects.").Type = "array"
		return nil
	}
	var out []runware.MessageTool
	for j, it := range items {
		q := fmt.Sprintf("%s[%d]", p, j)
		if it == nil {
			v.add("invalidMessages", q, "Each tool call must be an object with id, name and input.").Type = "object"
			continue
		}
		for k := range it {
			if k != "id" && k != "name" && k != "input" {
				v.add("unsupportedParameter", q+"."+k, fmt.Sprintf("Unsupported tool call field %q.", k))
			}
		}
		tc := runware.MessageTool{Input: json.RawMessage(`{}`)}
		id, ok := asString(it["id"])
		if !ok || id == "" {
			v.add("invalidToolCallId", q+".id", "Invalid value for tool call id. It must be a non-empty string.").Type = "string"
		}
		tc.ID = id
		name, ok := asString(it["name"])
		if !ok || !toolNameRe.MatchString(name) {
			v.add("invalidToolName", q+".name", "Invalid value for tool call name. It must be 1 to 64 characters of letters, digits, '-' and '_'.").Type = "string"
		}
		tc.Name = name
		if r, ok := it["input"]; ok && !isNull(r) {
			var obj map[string]any
			if json.Unmarshal(r, &obj) != nil {
				v.add("invalidMessages", q+".input", "Invalid value for tool call input. It must be a JSON object of arguments.").Type = "object"
			} else {
				tc.Input = compactJSON(r)
			}
		}
		out = append(out, tc)
	}
	return out
}

// toolTurns checks that tool messages answer calls: every tool message
// names a call of the latest assistant message not answered yet, call ids
// are unique in the conversation, and every call is answered before the
// next user or assistant message (and before the end).
type toolTurns struct {
	pending []string          // unanswered call ids of the latest assistant message
	where   map[string]string // call id → parameter path of the call
	seen    map[string]bool
	add     func(code, param, msg string)
	// idField and toolsField name the fields on the wire: "id" and "tools"
	// natively, "tool_call_id" and "tool_calls" on the chat endpoint.
	idField, toolsField string
}

func newToolTurns(idField, toolsField string, add func(code, param, msg string)) *toolTurns {
	return &toolTurns{where: map[string]string{}, seen: map[string]bool{}, add: add, idField: idField, toolsField: toolsField}
}

// step takes message m at path p.
func (s *toolTurns) step(p string, m runware.Message) {
	if m.Role == "tool" {
		if m.ID == "" {
			s.pending = nil // reported by the field check; which call it answers is unknown
			return
		}
		i := slices.Index(s.pending, m.ID)
		if i < 0 {
			s.add("invalidToolCallId", p+"."+s.idField, fmt.Sprintf("Tool message %s %q answers no unanswered tool call of the preceding assistant message.", s.idField, m.ID))
			return
		}
		s.pending = slices.Delete(s.pending, i, i+1)
		return
	}
	s.unanswered(p)
	for j, tc := range m.Tools {
		q := fmt.Sprintf("%s.%s[%d].id", p, s.toolsField, j)
		if tc.ID == "" {
			continue
		}
		if s.seen[tc.ID] {
			s.add("invalidToolCallId", q, fmt.Sprintf("Duplicate tool call id %q in the conversation.", tc.ID))
		}
		s.seen[tc.ID] = true
		s.where[tc.ID] = q
		s.pending = append(s.pending, tc.ID)
	}
}

// unanswered reports the pending calls; before is the path of the message
// that comes too early ("" at the end of the conversation).
func (s *toolTurns) unanswered(before string) {
	for _, id := range s.pending {
		at := "before " + before
		if before == "" {
			at = "at the end of messages"
		}
		s.add("missingToolResult", s.where[id], fmt.Sprintf("Tool call %q has no tool message answering it (%s).", id, at))
	}
	s.pending = nil
}

func (s *toolTurns) end() { s.unanswered("") }

// chatMessageFor converts one chat message with tool fields (role user,
// assistant or tool) into a runware.Message, or describes why not.
func chatMessageFor(i int, m chatMessage, text string) (runware.Message, *chatError) {
	bad := func(param, code, msg string) (runware.Message, *chatError) {
		return runware.Message{}, &chatError{Message: msg, Type: "invalid_request_error", Param: param, Code: code}
	}
	p := fmt.Sprintf("messages[%d]", i)
	msg := runware.Message{Role: m.Role, Content: text}
	if len(m.ToolCalls) > 0 && m.Role != "assistant" {
		return bad(p+".tool_calls", "invalidMessages", "Only assistant messages carry tool_calls.")
	}
	if m.ToolCallID != "" && m.Role != "tool" {
		return bad(p+".tool_call_id", "invalidMessages", "Only tool messages carry tool_call_id.")
	}
	for j, tc := range m.ToolCalls {
		q := fmt.Sprintf("%s.tool_calls[%d]", p, j)
		if tc.ID == "" {
			return bad(q+".id", "invalidToolCallId", "A tool call needs a non-empty id.")
		}
		if (tc.Type != "" && tc.Type != "function") || !toolNameRe.MatchString(tc.Function.Name) {
			return bad(q+".function.name", "invalidToolName", "A tool call must be a function call with a name of 1 to 64 characters of [A-Za-z0-9_-].")
		}
		input := json.RawMessage(`{}`)
		if a := strings.TrimSpace(tc.Function.Arguments); a != "" {
			if json.Valid([]byte(a)) {
				input = compactJSON(json.RawMessage(a))
			} else {
				input, _ = json.Marshal(tc.Function.Arguments)
			}
		}
		msg.Tools = append(msg.Tools, runware.MessageTool{ID: tc.ID, Name: tc.Function.Name, Input: input})
	}
	if m.Role == "tool" {
		if m.ToolCallID == "" {
			return bad(p+".tool_call_id", "missingToolCallId", "A tool message needs the tool_call_id of the call it answers.")
		}
		msg.ID = m.ToolCallID
	}
	return msg, nil
}

// lastToolResult is the content of the last message when it is a tool
// result: the model then answers in text.
func lastToolResult(msgs []runware.Message) (string, bool) {
	if n := len(msgs); n > 0 && msgs[n-1].Role == "tool" {
		return msgs[n-1].Content, true
	}
	return "", false
}

// scenarioAnswer is a scenario's right answer for task t: its afterTool
// text when the last message is a tool result and afterTool is set, else
// its answer; the caller fills in {result} (fillResults).
func scenarioAnswer(t *textTask, sc *compiledScenario) string {
	if _, ok := lastToolResult(t.Messages); ok && sc.AfterTool != "" {
		return sc.AfterTool
	}
	return sc.Answer
}

// hashToolFields adds a message's tool calls and id to a prompt hash; a
// message without them adds nothing, so plain conversations hash as before.
func hashToolFields(h *hasher, m runware.Message) {
	if m.ID != "" {
		h.str("id").str(m.ID)
	}
	for _, tc := range m.Tools {
		h.str("call").str(tc.ID).str(tc.Name).str(string(tc.Input))
	}
}

// toolTokens counts the prompt tokens of a message's tool calls.
func toolTokens(m runware.Message) int {
	n := 0
	for _, tc := range m.Tools {
		n += CountTokens(tc.Name + string(tc.Input))
	}
	return n
}

// writeToolEcho adds ` after the tool result "<content>"` (at most 80
// characters of it) to the generic answer's opening when the last message
// is a tool result, so that a suite can see the result reached the model.
func writeToolEcho(b *strings.Builder, t *textTask) {
	res, ok := lastToolResult(t.Messages)
	if !ok {
		return
	}
	r := []rune(strings.Join(strings.Fields(res), " "))
	if len(r) > 80 {
		r = append(r[:80], '…')
	}
	fmt.Fprintf(b, " after the tool result %q", string(r))
}
