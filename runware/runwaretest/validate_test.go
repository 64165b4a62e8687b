package runwaretest

import (
	"net/http"
	"strings"
	"testing"
)

func del(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }

func TestValidationErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	tools := []any{map[string]any{"type": "function", "name": "get_weather", "schema": map[string]any{"type": "object"}}}
	tests := []struct {
		name  string
		edit  func(map[string]any)
		code  string
		param string
	}{
		// taskUUID is required.
		{"missing taskUUID", del("taskUUID"), "missingTaskUUID", "taskUUID"},
		// taskUUID must be a UUID.
		{"bad taskUUID", with("taskUUID", "not-a-uuid"), "invalidTaskUUID", "taskUUID"},
		// model is required.
		{"missing model", del("model"), "missingModel", "model"},
		// models other than Kimi K2.6 are not served.
		{"unknown model", with("model", "openai:gpt@5"), "modelNotFound", "model"},
		// messages is required.
		{"missing messages", del("messages"), "missingMessages", "messages"},
		// messages must not be empty.
		{"empty messages", with("messages", []any{}), "invalidMessages", "messages"},
		// Kimi accepts only user and assistant roles.
		{"system role", with("messages", []any{map[string]any{"role": "system", "content": "x"}}), "invalidMessages", "messages[0].role"},
		// content must be non-empty.
		{"empty content", with("messages", []any{map[string]any{"role": "user", "content": ""}}), "invalidMessages", "messages[0].content"},
		// numberResults is 1 to 4.
		{"numberResults 5", with("numberResults", 5), "invalidNumberResults", "numberResults"},
		// numberResults must be an integer.
		{"numberResults fraction", with("numberResults", 1.5), "invalidNumberResults", "numberResults"},
		// numberResults > 1 cannot stream (simulator choice, as the SDKs refuse it).
		{"numberResults stream", func(m map[string]any) { m["numberResults"] = 2; m["deliveryMethod"] = "stream" }, "invalidNumberResults", "numberResults"},
		// temperature is 0 to 2.
		{"temperature", withSetting("temperature", 2.5), "invalidTemperature", "settings.temperature"},
		// temperature must be a number.
		{"temperature string", withSetting("temperature", "hot"), "invalidTemperature", "settings.temperature"},
		// topP is 0 to 1.
		{"topP", withSetting("topP", -0.1), "invalidTopP", "settings.topP"},
		// topK is an integer 0 to 999.
		{"topK", withSetting("topK", 1000), "invalidTopK", "settings.topK"},
		// minP is 0 to 1.
		{"minP", withSetting("minP", 1.5), "invalidMinP", "settings.minP"},
		// frequencyPenalty is -2 to 2.
		{"frequencyPenalty", withSetting("frequencyPenalty", -3), "invalidFrequencyPenalty", "settings.frequencyPenalty"},
		// presencePenalty is -2 to 2.
		{"presencePenalty", withSetting("presencePenalty", 2.01), "invalidPresencePenalty", "settings.presencePenalty"},
		// repetitionPenalty is 0.01 to 5.
		{"repetitionPenalty", withSetting("repetitionPenalty", 0), "invalidRepetitionPenalty", "settings.repetitionPenalty"},
		// maxTokens is 1 to 1,000,000.
		{"maxTokens 0", withSetting("maxTokens", 0), "invalidMaxTokens", "settings.maxTokens"},
		// maxTokens above the schema maximum.
		{"maxTokens huge", withSetting("maxTokens", 1_000_001), "invalidMaxTokens", "settings.maxTokens"},
		// stopSequences needs at least one item.
		{"stopSequences empty", withSetting("stopSequences", []any{}), "invalidStopSequences", "settings.stopSequences"},
		// thinkingLevel is an enum.
		{"thinkingLevel", withSetting("thinkingLevel", "max"), "invalidThinkingLevel", "settings.thinkingLevel"},
		// deliveryMethod is an enum.
		{"deliveryMethod", with("deliveryMethod", "websocket"), "invalidDeliveryMethod", "deliveryMethod"},
		// systemPrompt has at least one character.
		{"systemPrompt empty", withSetting("systemPrompt", ""), "invalidSystemPrompt", "settings.systemPrompt"},
		// systemPrompt has at most 50,000 characters.
		{"systemPrompt long", withSetting("systemPrompt", strings.Repeat("x", 50_001)), "invalidSystemPrompt", "settings.systemPrompt"},
		// Tool names are at most 64 characters of [A-Za-z0-9_-].
		{"tool name", with("tools", []any{map[string]any{"type": "function", "name": "bad name!"}}), "invalidToolName", "tools[0].name"},
		// Tool names longer than 64 characters are refused.
		{"tool name long", with("tools", []any{map[string]any{"type": "function", "name": strings.Repeat("a", 65)}}), "invalidToolName", "tools[0].name"},
		// toolChoice type "tool" needs a name.
		{"toolChoice no name", func(m map[string]any) { m["tools"] = tools; m["toolChoice"] = map[string]any{"type": "tool"} }, "missingToolChoiceName", "toolChoice.name"},
		// seed is 0 to 2^63-1.
		{"seed negative", with("seed", -1), "invalidSeed", "seed"},
		// seed beyond int64.
		{"seed overflow", with("seed", uint64(1)<<63), "invalidSeed", "seed"},
		// outputFormat allows only TEXT for Kimi K2.6.
		{"outputFormat", with("outputFormat", "PNG"), "invalidOutputFormat", "outputFormat"},
		// Unknown top-level keys are refused.
		{"unknown key", with("temperature", 1), "unsupportedParameter", "temperature"},
		// Unknown settings keys are refused.
		{"unknown setting", withSetting("cache", map[string]any{}), "unsupportedParameter", "settings.cache"},
		// includeCost must be a boolean.
		{"includeCost", with("includeCost", "yes"), "invalidIncludeCost", "includeCost"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := task("hi", tc.edit)
			r := post(t, s.URL(), testKey, []any{tk})
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
			}
			e := r.envelope(t)
			if len(e.Errors) != 1 {
				t.Fatalf("errors = %+v, want one", e.Errors)
			}
			got := e.Errors[0]
			if got.Code != tc.code || got.Parameter != tc.param || got.TaskType != "textInference" || got.Message == "" {
				t.Fatalf("error = %+v, want code %s parameter %s", got, tc.code, tc.param)
			}
			if uuid, _ := tk["taskUUID"].(string); uuidRe.MatchString(uuid) && got.TaskUUID != uuid {
				t.Fatalf("taskUUID = %q, want %q", got.TaskUUID, uuid)
			}
		})
	}
}

// Every problem of a task is reported, not only the first.
func TestValidationCollectsAll(t *testing.T) {
	s := newTestServer(t, Options{})
	r := post(t, s.URL(), testKey, []any{task("hi", withSetting("temperature", 9), withSetting("topP", 9), with("numberResults", 0))})
	e := r.envelope(t)
	var codes []string
	for _, x := range e.Errors {
		codes = append(codes, x.Code)
	}
	if len(codes) != 3 {
		t.Fatalf("codes = %v, want invalidTemperature, invalidTopP, invalidNumberResults", codes)
	}
}

// Valid boundary values pass validation.
func TestValidationBoundaries(t *testing.T) {
	s := newTestServer(t, Options{})
	tk := task("hi", withSetting("temperature", 0), withSetting("topP", 1), withSetting("topK", 999),
		withSetting("minP", 0), withSetting("frequencyPenalty", -2), withSetting("presencePenalty", 2),
		withSetting("repetitionPenalty", 0.01), withSetting("maxTokens", 1_000_000), withSetting("thinkingLevel", "xhigh"),
		withSetting("systemPrompt", "s"), withSetting("promptCacheKey", "k"), with("seed", int64(1)<<62),
		with("numberResults", 4), with("outputFormat", "TEXT"), with("includeCost", true),
		with("tools", []any{map[string]any{"type": "function", "name": "a_b-C9"}}), with("toolChoice", map[string]any{"type": "none"}))
	if r := post(t, s.URL(), testKey, []any{tk}); r.status != http.StatusOK {
		t.Fatalf("status = %d; body %s", r.status, r.body)
	}
}

func TestMalformedRequests(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name string
		body string
		code string
	}{
		// A JSON object instead of an array is refused.
		{"object body", `{"taskType":"textInference"}`, "invalidRequest"},
		// A body that is not JSON is refused.
		{"not json", `hello`, "invalidRequest"},
		// An empty array carries no task.
		{"empty array", `[]`, "invalidRequest"},
		// Array elements must be objects.
		{"non-object element", `[1]`, "invalidRequest"},
		// taskType is required.
		{"missing taskType", `[{"taskUUID":"00000000-0000-4000-8000-000000000001"}]`, "missingTaskType"},
		// Other task types are not simulated.
		{"image task", `[{"taskType":"imageInference","taskUUID":"00000000-0000-4000-8000-000000000001"}]`, "unsupportedTaskType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s.URL(), testKey, tc.body)
			e := r.envelope(t)
			if r.status != http.StatusBadRequest || len(e.Errors) != 1 || e.Errors[0].Code != tc.code {
				t.Fatalf("status %d body %s, want 400 %s", r.status, r.body, tc.code)
			}
		})
	}
}

// Two tasks with the same taskUUID in one request conflict.
func TestConflictTaskUUIDInRequest(t *testing.T) {
	s := newTestServer(t, Options{})
	a := task("one")
	b := task("two", with("taskUUID", a["taskUUID"]))
	r := post(t, s.URL(), testKey, []any{a, b})
	e := r.envelope(t)
	if r.status != http.StatusOK || len(e.Data) != 1 || len(e.Errors) != 1 || e.Errors[0].Code != "conflictTaskUUID" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
}
