package runwaretest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/promptgrid/promptgrid/runware"
)

// apiError is one entry of the native errors[] envelope.
type apiError struct {
	Code          string `json:"code"`
	Message       string `json:"message"`
	Parameter     string `json:"parameter,omitempty"`
	Type          string `json:"type,omitempty"`
	TaskType      string `json:"taskType,omitempty"`
	TaskUUID      string `json:"taskUUID,omitempty"`
	Documentation string `json:"documentation,omitempty"`
	AllowedValues []any  `json:"allowedValues,omitempty"`
	status        int    // HTTP status this error implies
}

// textTask is a validated textInference task.
type textTask struct {
	UUID          string
	Model         string
	Messages      []runware.Message
	SystemPrompt  string
	MaxTokens     int // 0: no limit
	Stop          []string
	Thinking      string
	Tools         []runware.Tool
	ToolChoice    *runware.ToolChoice
	Delivery      string
	Webhook       string // webhookURL; a loopback http(s) URL or ""
	IncludeCost   bool
	IncludeUsage  bool
	NumberResults int
	Seed          uint64
	SeedGiven     bool
	sampling      string     // canonical text of the sampling settings, for hashing
	images        []mediaKey // inputs.images, for match.image
	videos        []mediaKey
}

var (
	uuidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	toolNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

	knownModels = []string{runware.KimiK26AIR, runware.KimiK26Slug}

	taskKeys = []string{"taskType", "taskUUID", "model", "messages", "settings", "tools", "toolChoice",
		"inputs", "outputFormat", "webhookURL", "deliveryMethod", "includeCost", "includeUsage",
		"numberResults", "seed"}
	settingsKeys = []string{"systemPrompt", "temperature", "topP", "topK", "minP", "frequencyPenalty",
		"presencePenalty", "repetitionPenalty", "maxTokens", "stopSequences", "thinkingLevel", "promptCacheKey"}
)

const docBase = "https://runware.ai/docs/models/moonshotai-kimi-k2-6#request-"

// validator collects every problem of one task.
type validator struct {
	uuid string
	errs []apiError
}

func (v *validator) add(code, param, msg string) *apiError {
	v.errs = append(v.errs, apiError{
		Code: code, Message: msg, Parameter: param, TaskType: runware.TaskTextInference,
		TaskUUID: v.uuid, status: 400,
	})
	return &v.errs[len(v.errs)-1]
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func asString(raw json.RawMessage) (string, bool) {
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

func asFloat(raw json.RawMessage) (float64, bool) {
	var f float64
	return f, json.Unmarshal(raw, &f) == nil
}

// asInt accepts JSON integers only (no fraction, no exponent, no strings).
func asInt(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	return n, err == nil
}

func asBool(raw json.RawMessage) (bool, bool) {
	var b bool
	return b, json.Unmarshal(raw, &b) == nil
}

// parseTextTask validates one textInference task object. It returns the task
// and the errors found; the task is usable only when there are none.
func parseTextTask(obj map[string]json.RawMessage) (*textTask, []apiError) {
	t := &textTask{Delivery: runware.DeliverySync, NumberResults: 1, Thinking: "none"}
	v := &validator{}

	// taskUUID first, so every later error carries it.
	if raw, ok := obj["taskUUID"]; !ok || isNull(raw) {
		v.add("missingTaskUUID", "taskUUID", "Missing taskUUID parameter. It must be a UUID v4 string.")
	} else if s, ok := asString(raw); !ok || !uuidRe.MatchString(s) {
		v.add("invalidTaskUUID", "taskUUID", "Invalid value for taskUUID parameter. It must be a UUID v4 string.").Type = "string"
	} else {
		t.UUID = s
		v.uuid = s
		for i := range v.errs {
			v.errs[i].TaskUUID = s
		}
	}

	for k := range obj {
		if !slices.Contains(taskKeys, k) {
			v.add("unsupportedParameter", k, fmt.Sprintf("Unsupported parameter %q for textInference.", k))
		}
	}

	if raw, ok := obj["model"]; !ok || isNull(raw) {
		v.add("missingModel", "model", "Missing model parameter.")
	} else if s, ok := asString(raw); !ok || s == "" {
		v.add("invalidModel", "model", "Invalid value for model parameter. It must be a non-empty string.").Type = "string"
	} else if !slices.Contains(knownModels, s) {
		v.add("modelNotFound", "model", fmt.Sprintf("Model %q not found.", s))
	} else {
		t.Model = s
	}

	parseMessages(v, obj["messages"], t)
	if raw, ok := obj["settings"]; ok && !isNull(raw) {
		parseSettings(v, raw, t)
	}
	parseTools(v, obj, t)

	if raw, ok := obj["inputs"]; ok && !isNull(raw) {
		var in struct {
			Images []string `json:"images"`
			Videos []string `json:"videos"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if dec.Decode(&in) != nil {
			v.add("invalidInputs", "inputs", "Invalid value for inputs parameter. It must be an object with images and videos arrays of strings.").Type = "object"
		} else {
			t.images = parseMedia(v, "image", "inputs.images", in.Images)
			t.videos = parseMedia(v, "video", "inputs.videos", in.Videos)
		}
	}
	if raw, ok := obj["outputFormat"]; ok && !isNull(raw) {
		if s, ok := asString(raw); !ok || s != "TEXT" {
			e := v.add("invalidOutputFormat", "outputFormat", "Invalid value for outputFormat parameter.")
			e.AllowedValues = []any{"TEXT"}
		}
	}
	if raw, ok := obj["webhookURL"]; ok && !isNull(raw) {
		s, ok := asString(raw)
		u, err := url.Parse(s)
		switch {
		case !ok || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.add("invalidWebhookURL", "webhookURL", "Invalid value for webhookURL parameter. It must be an http(s) URL.").Type = "string"
		case !loopbackHost(u.Hostname()):
			v.add("invalidWebhookURL", "webhookURL", "The simulator delivers webhooks to loopback hosts only (127.0.0.0/8, ::1, localhost).").Type = "string"
		default:
			t.Webhook = s
		}
	}
	if raw, ok := obj["deliveryMethod"]; ok && !isNull(raw) {
		s, ok := asString(raw)
		if ok && slices.Contains([]string{runware.DeliverySync, runware.DeliveryAsync, runware.DeliveryStream}, s) {
			t.Delivery = s
		} else {
			e := v.add("invalidDeliveryMethod", "deliveryMethod", "Invalid value for deliveryMethod parameter.")
			e.AllowedValues = []any{"sync", "async", "stream"}
		}
	}
	for _, f := range []struct {
		key, code string
		dst       *bool
	}{{"includeCost", "invalidIncludeCost", &t.IncludeCost}, {"includeUsage", "invalidIncludeUsage", &t.IncludeUsage}} {
		if raw, ok := obj[f.key]; ok && !isNull(raw) {
			if b, ok := asBool(raw); ok {
				*f.dst = b
			} else {
				v.add(f.code, f.key, fmt.Sprintf("Invalid value for %s parameter. It must be a boolean.", f.key)).Type = "boolean"
			}
		}
	}
	if raw, ok := obj["numberResults"]; ok && !isNull(raw) {
		if n, ok := asInt(raw); ok && n >= 1 && n <= 4 {
			t.NumberResults = int(n)
		} else {
			v.add("invalidNumberResults", "numberResults", "Invalid value for numberResults parameter. It must be an integer between 1 and 4.").Type = "integer"
		}
	}
	if t.Webhook != "" && t.Delivery == runware.DeliveryStream {
		v.add("invalidDeliveryMethod", "deliveryMethod", "deliveryMethod stream cannot be combined with webhookURL.")
	}
	if t.NumberResults > 1 && t.Delivery == runware.DeliveryStream {
		v.add("invalidNumberResults", "numberResults", "numberResults greater than 1 is not supported with deliveryMethod stream.")
	}
	if raw, ok := obj["seed"]; ok && !isNull(raw) {
		if n, ok := asInt(raw); ok && n >= 0 {
			t.Seed, t.SeedGiven = uint64(n), true
		} else {
			v.add("invalidSeed", "seed", "Invalid value for seed parameter. It must be an integer between 0 and 9223372036854775807.").Type = "integer"
		}
	}
	for i := range v.errs {
		if v.errs[i].Documentation == "" && v.errs[i].Code != "unsupportedParameter" && v.errs[i].Code != "modelNotFound" {
			v.errs[i].Documentation = docBase + docAnchor(v.errs[i].Parameter)
		}
	}
	return t, v.errs
}

// docAnchor turns "settings.topP" or "messages[0].role" into the model page
// anchor ("settings-topp", "messages-role").
func docAnchor(param string) string {
	var b []byte
	skip := false
	for _, r := range []byte(param) {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case skip:
		case r == '.':
			b = append(b, '-')
		case r >= 'A' && r <= 'Z':
			b = append(b, r+'a'-'A')
		default:
			b = append(b, r)
		}
	}
	return string(b)
}

func parseMessages(v *validator, raw json.RawMessage, t *textTask) {
	if isNull(raw) {
		v.add("missingMessages", "messages", "Missing messages parameter.")
		return
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(raw, &items) != nil || len(items) == 0 {
		v.add("invalidMessages", "messages", "Invalid value for messages parameter. It must be a non-empty array of {role, content} objects.").Type = "array"
		return
	}
	turns := newToolTurns("id", "tools", func(code, param, msg string) { v.add(code, param, msg) })
	for i, m := range items {
		p := fmt.Sprintf("messages[%d]", i)
		if m == nil {
			v.add("invalidMessages", p, "Each message must be an object with role and content.")
			continue
		}
		msg := parseNativeMessage(v, p, m) // tools_multiturn.go
		turns.step(p, msg)
		t.Messages = append(t.Messages, msg)
	}
	turns.end()
}

// floatSetting describes a bounded float setting.
type floatSetting struct {
	key, code string
	lo, hi    float64
}

var floatSettings = []floatSetting{
	{"temperature", "invalidTemperature", 0, 2},
	{"topP", "invalidTopP", 0, 1},
	{"minP", "invalidMinP", 0, 1},
	{"frequencyPenalty", "invalidFrequencyPenalty", -2, 2},
	{"presencePenalty", "invalidPresencePenalty", -2, 2},
	{"repetitionPenalty", "invalidRepetitionPenalty", 0.01, 5},
}

func parseSettings(v *validator, raw json.RawMessage, t *textTask) {
	var s map[string]json.RawMessage
	if json.Unmarshal(raw, &s) != nil || s == nil {
		v.add("invalidSettings", "settings", "Invalid value for settings parameter. It must be an object.").Type = "object"
		return
	}
	for k := range s {
		if !slices.Contains(settingsKeys, k) {
			v.add("unsupportedParameter", "settings."+k, fmt.Sprintf("Unsupported parameter %q in settings.", k))
		}
	}
	var sampling bytes.Buffer
	for _, fs := range floatSettings {
		r, ok := s[fs.key]
		if !ok || isNull(r) {
			continue
		}
		f, ok := asFloat(r)
		if !ok || f < fs.lo || f > fs.hi {
			v.add(fs.code, "settings."+fs.key, fmt.Sprintf("Invalid value for %s parameter. It must be a number between %g and %g.", fs.key, fs.lo, fs.hi)).Type = "float"
			continue
		}
		fmt.Fprintf(&sampling, "%s=%g;", fs.key, f)
	}
	if r, ok := s["topK"]; ok && !isNull(r) {
		if n, ok := asInt(r); ok && n >= 0 && n <= 999 {
			fmt.Fprintf(&sampling, "topK=%d;", n)
		} else {
			v.add("invalidTopK", "settings.topK", "Invalid value for topK parameter. It must be an integer between 0 and 999.").Type = "integer"
		}
	}
	t.sampling = sampling.String()
	if r, ok := s["maxTokens"]; ok && !isNull(r) {
		if n, ok := asInt(r); ok && n >= 1 && n <= 1_000_000 {
			t.MaxTokens = int(n)
		} else {
			v.add("invalidMaxTokens", "settings.maxTokens", "Invalid value for maxTokens parameter. It must be an integer between 1 and 1000000.").Type = "integer"
		}
	}
	if r, ok := s["stopSequences"]; ok && !isNull(r) {
		var seqs []string
		if json.Unmarshal(r, &seqs) != nil || len(seqs) == 0 || slices.Contains(seqs, "") {
			v.add("invalidStopSequences", "settings.stopSequences", "Invalid value for stopSequences parameter. It must be a non-empty array of non-empty strings.").Type = "array"
		} else {
			t.Stop = seqs
		}
	}
	if r, ok := s["thinkingLevel"]; ok && !isNull(r) {
		if lv, ok := asString(r); ok && slices.Contains(thinkingLevels, lv) {
			t.Thinking = lv
		} else {
			e := v.add("invalidThinkingLevel", "settings.thinkingLevel", "Invalid value for thinkingLevel parameter.")
			e.AllowedValues = []any{"none", "low", "medium", "high", "xhigh"}
		}
	}
	if r, ok := s["systemPrompt"]; ok && !isNull(r) {
		sp, ok := asString(r)
		if n := utf8.RuneCountInString(sp); !ok || n < 1 || n > 50_000 {
			v.add("invalidSystemPrompt", "settings.systemPrompt", "Invalid value for systemPrompt parameter. It must be a string of 1 to 50000 characters.").Type = "string"
		} else {
			t.SystemPrompt = sp
		}
	}
	if r, ok := s["promptCacheKey"]; ok && !isNull(r) {
		if _, ok := asString(r); !ok {
			v.add("invalidPromptCacheKey", "settings.promptCacheKey", "Invalid value for promptCacheKey parameter. It must be a string.").Type = "string"
		}
	}
}

func parseTools(v *validator, obj map[string]json.RawMessage, t *textTask) {
	if raw, ok := obj["tools"]; ok && !isNull(raw) {
		var tools []map[string]json.RawMessage
		if json.Unmarshal(raw, &tools) != nil {
			v.add("invalidTools", "tools", "Invalid value for tools parameter. It must be an array of tool objects.").Type = "array"
		}
		for i, tm := range tools {
			p := fmt.Sprintf("tools[%d]", i)
			typ, _ := asString(tm["type"])
			switch typ {
			case "function", "search", "codeInterpreter":
			default:
				e := v.add("invalidToolType", p+".type", "Invalid value for tool type.")
				e.AllowedValues = []any{"function", "search", "codeInterpreter"}
				continue
			}
			tool := runware.Tool{Type: typ}
			if r, ok := tm["name"]; ok && !isNull(r) {
				name, ok := asString(r)
				if !ok || !toolNameRe.MatchString(name) {
					v.add("invalidToolName", p+".name", "Invalid value for tool name. It must be 1 to 64 characters of letters, digits, '-' and '_'.").Type = "string"
				}
				tool.Name = name
			} else if typ == "function" {
				v.add("missingToolName", p+".name", "Missing tool name. Function tools require a name.")
			}
			if r, ok := tm["description"]; ok && !isNull(r) {
				d, ok := asString(r)
				if !ok {
					v.add("invalidToolDescription", p+".description", "Invalid value for tool description. It must be a string.").Type = "string"
				}
				tool.Description = d
			}
			if r, ok := tm["schema"]; ok && !isNull(r) {
				var m map[string]any
				if json.Unmarshal(r, &m) != nil {
					v.add("invalidToolSchema", p+".schema", "Invalid value for tool schema. It must be a JSON Schema object.").Type = "object"
				}
				tool.Schema = r
			}
			t.Tools = append(t.Tools, tool)
		}
	}
	raw, ok := obj["toolChoice"]
	if !ok || isNull(raw) {
		return
	}
	var tc map[string]json.RawMessage
	if json.Unmarshal(raw, &tc) != nil || tc == nil {
		v.add("invalidToolChoice", "toolChoice", "Invalid value for toolChoice parameter. It must be an object.").Type = "object"
		return
	}
	typ, ok := asString(tc["type"])
	if _, present := tc["type"]; !present {
		v.add("missingToolChoiceType", "toolChoice.type", "Missing toolChoice type.")
		return
	}
	if !ok || !slices.Contains([]string{"auto", "any", "tool", "none"}, typ) {
		e := v.add("invalidToolChoiceType", "toolChoice.type", "Invalid value for toolChoice type.")
		e.AllowedValues = []any{"auto", "any", "tool", "none"}
		return
	}
	choice := &runware.ToolChoice{Type: typ}
	name, _ := asString(tc["name"])
	if typ == "tool" {
		if name == "" {
			v.add("missingToolChoiceName", "toolChoice.name", "Missing toolChoice name. It is required when type is tool.")
		} else if !slices.ContainsFunc(t.Tools, func(tl runware.Tool) bool { return tl.Name == name }) {
			v.add("invalidToolChoiceName", "toolChoice.name", fmt.Sprintf("toolChoice names %q, which is not among the tools.", name))
		}
	}
	choice.Name = name
	t.ToolChoice = choice
}
