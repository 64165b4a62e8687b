package runware

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// taskByRoundTrip is what TaskFromRequest stands in for.
func taskByRoundTrip(req map[string]any) (Task, error) {
	var t Task
	b, err := json.Marshal(req)
	if err != nil {
		return t, err
	}
	err = json.Unmarshal(b, &t)
	return t, err
}

// checkTaskFromRequest fails when TaskFromRequest accepts a request and
// builds another task than the JSON round trip (or the round trip fails).
func checkTaskFromRequest(t *testing.T, req map[string]any) bool {
	t.Helper()
	got, ok := TaskFromRequest(req)
	if !ok {
		return false
	}
	want, err := taskByRoundTrip(req)
	if err != nil {
		t.Fatalf("%#v: accepted, but the round trip fails: %v", req, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%#v:\ngot  %#v\nwant %#v", req, got, want)
	}
	return true
}

func TestTaskFromRequest(t *testing.T) {
	msgs := []any{map[string]any{"role": "user", "content": "question 0"}}
	base := func() map[string]any {
		return map[string]any{"model": "moonshotai:kimi@k2.6", "messages": msgs, "deliveryMethod": "sync",
			"includeCost": true, "includeUsage": true, "numberResults": int64(1), "seed": int64(707632555),
			"settings": map[string]any{"maxTokens": int64(64), "temperature": 0.2}}
	}
	with := func(k string, v any) map[string]any { m := base(); m[k] = v; return m }
	withSetting := func(k string, v any) map[string]any {
		m := base()
		m["settings"] = map[string]any{k: v}
		return m
	}
	for _, c := range []struct {
		name string
		req  map[string]any
		fast bool // TaskFromRequest builds it itself
	}{
		{"a suite's request", base(), true},
		{"empty", map[string]any{}, true},
		{"empty settings and lists", map[string]any{"settings": map[string]any{}, "messages": []any{}}, true},
		{"every common field", map[string]any{"taskType": "textInference", "taskUUID": "u", "model": "m",
			"outputFormat": "json", "webhookURL": "https://x", "deliveryMethod": "async", "includeCost": false,
			"numberResults": 3.0, "seed": -5.0, "messages": []any{map[string]any{"role": "user"}, map[string]any{"content": "c"}},
			"settings": map[string]any{"systemPrompt": "s", "temperature": int64(1), "topP": 0.9, "topK": int64(40),
				"minP": 1e-320, "frequencyPenalty": -0.0, "presencePenalty": 2.5, "repetitionPenalty": 1.1,
				"maxTokens": 64.0, "stopSequences": []any{"a", "\u2028<&>"}, "thinkingLevel": "high", "promptCacheKey": "k"}}, true},
		{"empty stop sequences", withSetting("stopSequences", []any{}), true},
		{"an int", with("numberResults", 2), true},
		{"whole float at 2^53", with("seed", float64(1<<53)), true},
		{"seed past 2^53", with("seed", float64(1<<53+2)), false},
		{"int64 past 2^53", with("seed", int64(1<<53+1)), false},
		{"fractional count", with("numberResults", 1.5), false},
		{"NaN", withSetting("temperature", math.NaN()), false},
		{"infinity", withSetting("topP", math.Inf(1)), false},
		{"huge float", withSetting("temperature", 1e300), true},
		{"invalid UTF-8", with("model", "a\xffb"), false},
		{"null", with("model", nil), false},
		{"null setting", withSetting("maxTokens", nil), false},
		{"model in another case", with("Model", "x"), false},
		{"unknown key", with("providerSettings", map[string]any{}), false},
		{"tools", with("tools", []any{map[string]any{"type": "function", "name": "f"}}), false},
		{"a tool message", with("messages", []any{map[string]any{"role": "tool", "id": "c", "content": "r"}}), false},
		{"a message that is a string", with("messages", []any{"hi"}), false},
		{"wrong type", with("includeCost", "yes"), false},
		{"string count", with("numberResults", "2"), false},
		{"unknown setting", withSetting("top_p", 0.5), false},
		{"settings not an object", with("settings", []any{}), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := checkTaskFromRequest(t, c.req); got != c.fast {
				t.Errorf("built directly: %v, want %v", got, c.fast)
			}
		})
	}
}

// Random requests of the suite language's value types: every one accepted
// matches the round trip.
func TestTaskFromRequestRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := func() any {
		switch rng.IntN(9) {
		case 0:
			return rng.Int64N(1<<54) - 1<<53
		case 1:
			return float64(rng.IntN(200)) / 8
		case 2:
			return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		case 3:
			return rng.IntN(2) == 0
		case 4:
			return []string{"sync", "x\xfe", "", "é"}[rng.IntN(4)]
		case 5:
			return []any{"a", int64(1)}[:rng.IntN(3)]
		case 6:
			return map[string]any{"role": "user", "content": "c"}
		case 7:
			return nil
		}
		return []any{map[string]any{"role": "user", "content": "q"}}
	}
	keys := []string{"taskType", "model", "deliveryMethod", "includeCost", "includeUsage", "numberResults", "seed",
		"messages", "settings", "outputFormat", "webhookURL"}
	settings := []string{"systemPrompt", "temperature", "topP", "topK", "maxTokens", "stopSequences", "thinkingLevel"}
	fast := 0
	for range 20000 {
		req := map[string]any{}
		for range rng.IntN(5) {
			req[keys[rng.IntN(len(keys))]] = values()
		}
		if rng.IntN(2) == 0 {
			s := map[string]any{}
			for range rng.IntN(4) {
				s[settings[rng.IntN(len(settings))]] = values()
			}
			req["settings"] = s
		}
		if checkTaskFromRequest(t, req) {
			fast++
		}
	}
	if fast < 1000 {
		t.Errorf("only %d of 20000 random requests built directly", fast)
	}
}
