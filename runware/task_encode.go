package runware

import (
	"encoding/json"
	"strconv"

	"github.com/promptgrid/promptgrid/internal/jsonenc"
)

// encodeTasks returns the request body of a native request: the bytes
// json.Marshal writes for tasks, without its reflection (one body is encoded
// per request, and json.Marshal was 6% of a whole run's CPU). What
// json.Marshal refuses (a NaN or infinite setting, invalid raw JSON in a
// tool's schema or a replayed call's input) is left to json.Marshal of the
// whole payload, so that the error is its own.
func encodeTasks(tasks []Task) ([]byte, error) {
	if b, ok := appendTasks(make([]byte, 0, tasksSizeHint(tasks)), tasks); ok {
		return b, nil
	}
	return json.Marshal(tasks)
}

// tasksSizeHint is a little more than the encoded size of an ordinary task
// array (its names and members, its texts unescaped), so that the body is
// usually written into one allocation.
func tasksSizeHint(tasks []Task) int {
	n := 2
	for i := range tasks {
		t := &tasks[i]
		n += 256 + len(t.TaskUUID) + len(t.Model) + len(t.WebhookURL)
		for j := range t.Messages {
			n += 32 + len(t.Messages[j].Content)
		}
		if t.Settings != nil {
			n += len(t.Settings.SystemPrompt)
		}
	}
	return n
}

// appendTasks appends tasks as json.Marshal writes them. ok is false when
// json.Marshal would refuse them; b is then to be discarded.
func appendTasks(b []byte, tasks []Task) (_ []byte, ok bool) {
	if tasks == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i := range tasks {
		if i > 0 {
			b = append(b, ',')
		}
		if b, ok = appendTask(b, &tasks[i]); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendTask appends one task's object: its members in the struct's order,
// the omitempty ones only when set.
func appendTask(b []byte, t *Task) (_ []byte, ok bool) {
	b = appendMember(b, `{"taskType":`, t.TaskType)
	b = appendMember(b, `,"taskUUID":`, t.TaskUUID)
	b = appendMember(b, `,"model":`, t.Model)
	b = append(b, `,"messages":`...)
	if b, ok = appendMessages(b, t.Messages); !ok {
		return b, false
	}
	if t.Settings != nil {
		if b, ok = appendSettings(append(b, `,"settings":`...), t.Settings); !ok {
			return b, false
		}
	}
	if len(t.Tools) > 0 {
		if b, ok = appendTools(append(b, `,"tools":`...), t.Tools); !ok {
			return b, false
		}
	}
	if c := t.ToolChoice; c != nil {
		b = appendMember(b, `,"toolChoice":{"type":`, c.Type)
		b = append(appendOptional(b, `,"name":`, c.Name), '}')
	}
	if in := t.Inputs; in != nil {
		b = append(b, `,"inputs":`...)
		start := len(b)
		b = appendStringsMember(append(b, '{'), `,"images":`, in.Images)
		b = closeObject(appendStringsMember(b, `,"videos":`, in.Videos), start)
	}
	b = appendOptional(b, `,"outputFormat":`, t.OutputFormat)
	b = appendOptional(b, `,"webhookURL":`, t.WebhookURL)
	b = appendOptional(b, `,"deliveryMethod":`, t.DeliveryMethod)
	if t.IncludeCost {
		b = append(b, `,"includeCost":true`...)
	}
	if t.IncludeUsage {
		b = append(b, `,"includeUsage":true`...)
	}
	if t.NumberResults != 0 {
		b = strconv.AppendInt(append(b, `,"numberResults":`...), int64(t.NumberResults), 10)
	}
	if t.Seed != nil {
		b = strconv.AppendInt(append(b, `,"seed":`...), *t.Seed, 10)
	}
	return append(b, '}'), true
}

// appendMessages appends the messages array; a nil slice is null, as the
// member has no omitempty.
func appendMessages(b []byte, ms []Message) (_ []byte, ok bool) {
	if ms == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		if b, ok = appendMessage(b, &ms[i]); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendMessage appends what Message.MarshalJSON returns: content is left
// out only on a message that carries tool calls and no text, and the tools
// follow the content.
func appendMessage(b []byte, m *Message) (_ []byte, ok bool) {
	b = appendMember(b, `{"role":`, m.Role)
	if len(m.Tools) == 0 || m.Content != "" {
		b = appendMember(b, `,"content":`, m.Content)
	}
	if len(m.Tools) > 0 {
		b = append(b, `,"tools":[`...)
		for i := range m.Tools {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendMessageTool(b, &m.Tools[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	return append(appendOptional(b, `,"id":`, m.ID), '}'), true
}

// appendMessageTool appends one replayed call; a missing input is sent as
// {} (Message.MarshalJSON).
func appendMessageTool(b []byte, tl *MessageTool) (_ []byte, ok bool) {
	b = appendMember(b, `{"id":`, tl.ID)
	b = appendMember(b, `,"name":`, tl.Name)
	b = append(b, `,"input":`...)
	if len(tl.Input) == 0 {
		b = append(b, "{}"...)
	} else if b, ok = appendRaw(b, tl.Input); !ok {
		return b, false
	}
	return append(b, '}'), true
}

// appendTools appends the tool definitions offered to the model.
func appendTools(b []byte, tools []Tool) (_ []byte, ok bool) {
	b = append(b, '[')
	for i := range tools {
		tl := &tools[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMember(b, `{"type":`, tl.Type)
		b = appendOptional(b, `,"name":`, tl.Name)
		b = appendOptional(b, `,"description":`, tl.Description)
		if len(tl.Schema) > 0 {
			if b, ok = appendRaw(append(b, `,"schema":`...), tl.Schema); !ok {
				return b, false
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), true
}

// appendSettings appends the settings object. A settings value with no
// member set is {}, as json.Marshal writes a non-nil pointer to it; ok is
// false when a float is one json.Marshal refuses (NaN, infinities).
func appendSettings(b []byte, s *Settings) (_ []byte, ok bool) {
	for _, f := range [...]*float64{s.Temperature, s.TopP, s.MinP, s.FrequencyPenalty, s.PresencePenalty, s.RepetitionPenalty} {
		if f != nil && !jsonenc.Finite(*f) {
			return b, false
		}
	}
	start := len(b)
	b = append(b, '{')
	b = appendOptional(b, `,"systemPrompt":`, s.SystemPrompt)
	b = appendFloatMember(b, `,"temperature":`, s.Temperature)
	b = appendFloatMember(b, `,"topP":`, s.TopP)
	b = appendIntMember(b, `,"topK":`, s.TopK)
	b = appendFloatMember(b, `,"minP":`, s.MinP)
	b = appendFloatMember(b, `,"frequencyPenalty":`, s.FrequencyPenalty)
	b = appendFloatMember(b, `,"presencePenalty":`, s.PresencePenalty)
	b = appendFloatMember(b, `,"repetitionPenalty":`, s.RepetitionPenalty)
	b = appendIntMember(b, `,"maxTokens":`, s.MaxTokens)
	b = appendStringsMember(b, `,"stopSequences":`, s.StopSequences)
	b = appendOptional(b, `,"thinkingLevel":`, s.ThinkingLevel)
	b = appendOptional(b, `,"promptCacheKey":`, s.PromptCacheKey)
	return closeObject(b, start), true
}

// closeObject ends the object opened with '{' at b[start] whose members
// are all optional and were each written after a comma: the first one's
// comma goes.
func closeObject(b []byte, start int) []byte {
	if len(b) > start+1 {
		b = append(b[:start+1], b[start+2:]...)
	}
	return append(b, '}')
}

// appendFloatMember appends key and *f unless f is nil; *f is finite.
func appendFloatMember(b []byte, key string, f *float64) []byte {
	if f == nil {
		return b
	}
	return jsonenc.AppendFloat(append(b, key...), *f)
}

// appendIntMember appends key and *n unless n is nil.
func appendIntMember(b []byte, key string, n *int) []byte {
	if n == nil {
		return b
	}
	return strconv.AppendInt(append(b, key...), int64(*n), 10)
}

// appendStringsMember appends key and the array ss unless ss is empty
// (every string array of a task is omitempty).
func appendStringsMember(b []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(b, key...)
	for i, s := range ss {
		if i == 0 {
			b = append(b, '[')
		} else {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s, true)
	}
	return append(b, ']')
}

// appendMember appends key (with its punctuation) and s quoted, HTML
// escaped as json.Marshal escapes it.
func appendMember(b []byte, key, s string) []byte {
	return jsonenc.AppendString(append(b, key...), s, true)
}

// appendOptional is appendMember of an omitempty string: nothing when s is
// empty.
func appendOptional(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendMember(b, key, s)
}

// appendRaw appends raw JSON as json.Marshal writes a json.RawMessage
// member: validated, compacted and HTML escaped. json.Marshal of the value
// itself does exactly that; raw values (tool schemas, replayed inputs) are
// rare in requests, so they keep its cost.
func appendRaw(b []byte, raw json.RawMessage) (_ []byte, ok bool) {
	enc, err := json.Marshal(raw)
	if err != nil {
		return b, false
	}
	return append(b, enc...), true
}
