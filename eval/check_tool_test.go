package eval

import (
	"context"
	"encoding/json"
	"testing"
)

// TestToolCallCheck protects toolCall: by name, with a subset of arguments,
// and with an arguments schema; arguments may arrive as an object or as a
// string holding one.
func TestToolCallCheck(t *testing.T) {
	call := func(name, args string) ToolCall {
		return ToolCall{ID: "call_1", Name: name, Arguments: json.RawMessage(args)}
	}
	weather := Sample{ToolCalls: []ToolCall{call("get_weather", `{"city": "Paris", "units": {"temp": "C"}, "days": 3}`)}}
	rows := []checkRow{
		// By name only.
		{name: "name pass", check: "toolCall: get_weather", sample: weather, pass: true},
		{name: "name fail", check: "toolCall: search", sample: weather,
			reason: `expected a call to tool "search"; got calls to ["get_weather"]`},
		{name: "no calls", check: "toolCall: search", sample: Sample{Text: "It is sunny."},
			reason: `expected a call to tool "search"; the response made no tool calls`},
		// Subset: nested objects match by key, numbers by value.
		{name: "subset pass", check: "toolCall: {name: get_weather, arguments: {city: Paris, units: {temp: C}, days: 3.0}}", sample: weather, pass: true},
		{name: "subset fail", check: "toolCall: {name: get_weather, arguments: {city: Lyon}}", sample: weather,
			reason: `expected a call to tool "get_weather" with arguments including {"city":"Lyon"}; got {"city":"Paris","days":3,"units":{"temp":"C"}}`},
		// Arguments sent as a JSON string (OpenAI style) are decoded.
		{name: "string arguments", check: "toolCall: {name: f, arguments: {q: x}}",
			sample: Sample{ToolCalls: []ToolCall{call("f", `"{\"q\": \"x\"}"`)}}, pass: true},
		// Any one of several calls may match.
		{name: "second call matches", check: "toolCall: {name: f, arguments: {q: y}}",
			sample: Sample{ToolCalls: []ToolCall{call("f", `{"q": "x"}`), call("f", `{"q": "y"}`)}}, pass: true},
		// Arguments that are not JSON are named as such.
		{name: "bad arguments", check: "toolCall: {name: f, arguments: {q: x}}",
			sample: Sample{ToolCalls: []ToolCall{call("f", `{q:`)}},
			reason: `expected a call to tool "f" with arguments including {"q":"x"}; arguments are not valid JSON (invalid character 'q' looking for beginning of object key string): "{q:"`},
		// Schema.
		{name: "schema pass", check: "toolCall: {name: get_weather, argumentsSchema: {required: [city], properties: {days: {type: integer, maximum: 7}}}}", sample: weather, pass: true},
		{name: "schema fail", check: "toolCall: {name: get_weather, argumentsSchema: {properties: {days: {maximum: 2}}}}", sample: weather,
			reason: `expected a call to tool "get_weather" with arguments matching the schema; at /days: maximum: got 3, want 2`},
	}
	runRows(t, context.Background(), rows)
}
