package eval

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/runware"
)

const toolSuite = `name: tools
model: moonshotai:kimi@k2.6
cases:
  - id: after-tool
    vars: {city: Tokyo}
    messages:
      - role: user
        content: Weather in {{.city}}?
      - role: assistant
        tools:
          - {id: c1, name: get_weather, input: {city: Tokyo, days: 2}}
      - role: tool
        id: c1
        content: "22°C in {{.city}}"
    checks:
      - contains: "22"
`

// A case's assistant-with-tools and tool messages reach the trial's request
// in the native shape, content templates rendered, and decode into
// runware.Task messages that encode to the same bytes (what the runner's
// JSON round trip does).
func TestCaseToolMessagesReachTask(t *testing.T) {
	trials := mustExpand(t, toolSuite)
	b, err := json.Marshal(trials[0].Request["messages"])
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"content":"Weather in Tokyo?","role":"user"},{"role":"assistant","tools":[{"id":"c1","input":{"city":"Tokyo","days":2},"name":"get_weather"}]},{"content":"22°C in Tokyo","id":"c1","role":"tool"}]`
	if string(b) != want {
		t.Fatalf("request messages\n got %s\nwant %s", b, want)
	}
	var msgs []runware.Message
	if err := json.Unmarshal(b, &msgs); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(msgs)
	if w := `[{"role":"user","content":"Weather in Tokyo?"},{"role":"assistant","tools":[{"id":"c1","name":"get_weather","input":{"city":"Tokyo","days":2}}]},{"role":"tool","content":"22°C in Tokyo","id":"c1"}]`; string(got) != w {
		t.Fatalf("task messages\n got %s\nwant %s", got, w)
	}
	// The calls are part of the trial key: another input, another trial.
	other := mustExpand(t, strings.Replace(toolSuite, "days: 2", "days: 3", 1))
	if other[0].Key == trials[0].Key || other[0].RequestHash == trials[0].RequestHash {
		t.Fatal("tool input not in the trial key")
	}
}

// A plain conversation's request messages are {role, content} only.
func TestPlainMessagesUnchanged(t *testing.T) {
	trials := mustExpand(t, `name: p
model: moonshotai:kimi@k2.6
cases:
  - id: a
    messages:
      - {role: user, content: hi}
      - {role: assistant, content: hello}
      - {role: user, content: bye}
`)
	b, _ := json.Marshal(trials[0].Request["messages"])
	if want := `[{"content":"hi","role":"user"},{"content":"hello","role":"assistant"},{"content":"bye","role":"user"}]`; string(b) != want {
		t.Fatalf("got %s", b)
	}
}

// Malformed tool turns are reported at file:line:col of the offending node.
func TestCaseToolMessageProblems(t *testing.T) {
	p := writeSuite(t, `name: bad
model: moonshotai:kimi@k2.6
cases:
  - id: a
    messages:
      - {role: tool, id: c0, content: orphan}
      - {role: user, content: q}
      - role: assistant
        tools:
          - {id: c1, name: "bad name", input: 3}
          - {id: c2, nam: f}
      - {role: tool, id: c9, content: r}
      - {role: user, content: again, id: x}
  - id: b
    messages:
      - {role: user, content: q, tools: []}
      - {role: assistant, tools: [{id: d1, name: f}]}
      - {role: tool, content: r}
  - id: c
    messages:
      - {role: user, content: q}
      - {role: assistant, tools: [{id: e1, name: f}]}
      - {role: tool, id: e1, content: r}
      - {role: assistant, tools: [{id: e1, name: f}]}
`)
	_, err := Load(p)
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want *Problems, got %v", err)
	}
	got := ps.Error()
	for _, want := range []string{
		p + `:6:26: tool message id "c0" answers no tool call of the preceding assistant message (none is waiting for a result)`,
		p + `:10:28: name must be 1 to 64 letters, digits, '-' or '_'; got "bad name"`,
		p + `:10:47: input must be a mapping of the call's arguments, e.g. {city: Tokyo}; got an integer`,
		p + `:11:22: unknown key "nam" in a tool call (did you mean "name"?)`,
		p + `:11:13: a tool call needs a name`,
		p + `:12:26: tool message id "c9" answers no tool call of the preceding assistant message (waiting: ["c1" "c2"])`,
		p + `:10:13: tool call "c1" has no tool message answering it before the next user message`,
		p + `:13:38: id is only for tool messages`,
		p + `:16:34: tools is only for assistant messages`,
		p + `:18:9: a tool message needs the id of the tool call it answers`,
		p + `:24:35: tool call id "e1" is used twice in this conversation`,
		p + `:24:35: tool call "e1" has no tool message answering it (add {role: tool, id: ..., content: ...})`,
		p + `:24:16: the last message must have role user or tool: the model answers it`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
