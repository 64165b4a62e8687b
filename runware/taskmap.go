package runware

import (
	"math"
	"unicode/utf8"
)

// TaskFromRequest builds a Task from a request's native fields held as
// decoded values (a map of strings, bools, int64s, float64s, []any and nested
// maps, as a suite's request is), giving what json.Marshal of the map followed
// by json.Unmarshal into a Task gives, without that round trip per trial (the
// CPU profile of BENCHMARKS.md, issue 13). It reports false when the request
// holds anything it does not convert itself: a key outside the common fields
// (tools, toolChoice, inputs, a key spelt in another case, a field Task does
// not have), a null, a number that is not exact in its field, a string that
// is not valid UTF-8, or a value of another type. The caller then takes the
// round trip, which also reports the errors.
func TaskFromRequest(req map[string]any) (Task, bool) {
	var t Task
	for k, v := range req {
		ok := true
		switch k {
		case "taskType":
			t.TaskType, ok = exactString(v)
		case "taskUUID":
			t.TaskUUID, ok = exactString(v)
		case "model":
			t.Model, ok = exactString(v)
		case "outputFormat":
			t.OutputFormat, ok = exactString(v)
		case "webhookURL":
			t.WebhookURL, ok = exactString(v)
		case "deliveryMethod":
			t.DeliveryMethod, ok = exactString(v)
		case "includeCost":
			t.IncludeCost, ok = v.(bool)
		case "includeUsage":
			t.IncludeUsage, ok = v.(bool)
		case "numberResults":
			var n int64
			n, ok = exactInt(v)
			t.NumberResults = int(n)
		case "seed":
			var n int64
			n, ok = exactInt(v)
			t.Seed = &n
		case "messages":
			t.Messages, ok = exactMessages(v)
		case "settings":
			t.Settings, ok = exactSettings(v)
		default:
			ok = false
		}
		if !ok {
			return Task{}, false
		}
	}
	return t, true
}

// exactSettings converts a settings map (see TaskFromRequest).
func exactSettings(v any) (*Settings, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	s := &Settings{}
	for k, v := range m {
		ok := true
		switch k {
		case "systemPrompt":
			s.SystemPrompt, ok = exactString(v)
		case "thinkingLevel":
			s.ThinkingLevel, ok = exactString(v)
		case "promptCacheKey":
			s.PromptCacheKey, ok = exactString(v)
		case "temperature":
			s.Temperature, ok = exactFloat(v)
		case "topP":
			s.TopP, ok = exactFloat(v)
		case "minP":
			s.MinP, ok = exactFloat(v)
		case "frequencyPenalty":
			s.FrequencyPenalty, ok = exactFloat(v)
		case "presencePenalty":
			s.PresencePenalty, ok = exactFloat(v)
		case "repetitionPenalty":
			s.RepetitionPenalty, ok = exactFloat(v)
		case "topK":
			s.TopK, ok = exactIntPtr(v)
		case "maxTokens":
			s.MaxTokens, ok = exactIntPtr(v)
		case "stopSequences":
			s.StopSequences, ok = exactStrings(v)
		default:
			ok = false
		}
		if !ok {
			return nil, false
		}
	}
	return s, true
}

// exactMessages converts a messages list whose messages carry only a role
// and a content.
func exactMessages(v any) ([]Message, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]Message, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, false
		}
		for k, v := range m {
			ok := true
			switch k {
			case "role":
				out[i].Role, ok = exactString(v)
			case "content":
				out[i].Content, ok = exactString(v)
			default:
				ok = false
			}
			if !ok {
				return nil, false
			}
		}
	}
	return out, true
}

// exactStrings converts a list of strings; an empty list stays a non-nil
// empty slice, as json.Unmarshal leaves it.
func exactStrings(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(list))
	for i, item := range list {
		if out[i], ok = exactString(item); !ok {
			return nil, false
		}
	}
	return out, true
}

// exactString is a string that json.Marshal keeps as it is: valid UTF-8
// (invalid bytes would become U+FFFD).
func exactString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok && utf8.ValidString(s)
}

// maxExact is the largest magnitude up to which every integer is a float64,
// so that such a number has one spelling in JSON and one value on both sides.
const maxExact = 1 << 53

// exactInt is a whole number within ±2^53 (an int64, an int, or a float64
// without fraction), which json.Unmarshal puts into an int or an int64 as it
// is.
func exactInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, n >= -maxExact && n <= maxExact
	case int:
		return int64(n), n >= -maxExact && n <= maxExact
	case float64:
		if n != math.Trunc(n) || n < -maxExact || n > maxExact {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// exactIntPtr is exactInt for an *int field.
func exactIntPtr(v any) (*int, bool) {
	n, ok := exactInt(v)
	if !ok {
		return nil, false
	}
	i := int(n)
	return &i, true
}

// exactFloat is a finite float64 (json.Marshal's shortest spelling reads back
// as the same value) or a whole number within ±2^53, for a *float64 field.
func exactFloat(v any) (*float64, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, false
		}
		f = n
	default:
		i, ok := exactInt(v)
		if !ok {
			return nil, false
		}
		f = float64(i)
	}
	return &f, true
}
