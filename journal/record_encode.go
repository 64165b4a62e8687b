package journal

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/promptgrid/promptgrid/internal/jsonenc"
)

// appendRecord appends r's JSON line (without the newline) to b: the bytes
// json.Marshal writes, without its reflection (one line is written per
// sample, and the reflective encoder was the journal's largest cost). The
// fields every sample has are written here; the rare nested ones (maps of
// values, tool calls, agent steps) go through json.Marshal one field at a
// time, which writes what it would have written inside the whole record.
// Whatever json.Marshal refuses (a NaN, a time past year 9999, invalid raw
// JSON) is left to json.Marshal of the whole record, for its error.
func appendRecord(b []byte, r *Record) ([]byte, error) {
	if !encodable(r) {
		line, err := json.Marshal(r)
		return append(b, line...), err
	}
	start := len(b)
	b = append(b, `{"v":`...)
	b = appendInt(b, int64(r.V))
	b = appendKeyString(b, `,"runId":`, r.RunID)
	b = appendKeyString(b, `,"suite":`, r.Suite)
	b = appendKeyString(b, `,"suiteHash":`, r.SuiteHash)
	b = appendKeyString(b, `,"caseId":`, r.CaseID)
	if len(r.Tags) > 0 {
		b = append(b, `,"tags":`...)
		b = appendStrings(b, r.Tags)
	}
	b = appendKeyString(b, `,"cell":`, r.Cell)
	var err error
	if len(r.CellValues) > 0 {
		if b, err = appendMarshal(b, `,"cellValues":`, r.CellValues); err != nil {
			return b[:start], err
		}
	}
	if r.Variant != "" {
		b = appendKeyString(b, `,"variant":`, r.Variant)
	}
	b = append(b, `,"seed":`...)
	b = appendInt(b, r.Seed)
	b = append(b, `,"replicate":`...)
	b = appendInt(b, int64(r.Replicate))
	b = append(b, `,"resultIndex":`...)
	b = appendInt(b, int64(r.ResultIndex))
	b = append(b, `,"numberResults":`...)
	b = appendInt(b, int64(r.Results))
	b = appendKeyString(b, `,"trialKey":`, r.TrialKey)
	if r.TaskUUID != "" {
		b = appendKeyString(b, `,"taskUUID":`, r.TaskUUID)
	}
	b = appendKeyString(b, `,"requestHash":`, r.RequestHash)
	if r.Model != "" {
		b = appendKeyString(b, `,"model":`, r.Model)
	}
	b = appendKeyString(b, `,"deliveryMethod":`, r.Delivery)
	if r.Transport != "" {
		b = appendKeyString(b, `,"transport":`, r.Transport)
	}
	if len(r.Vars) > 0 {
		if b, err = appendMarshal(b, `,"vars":`, r.Vars); err != nil {
			return b[:start], err
		}
	}
	if len(r.Media) > 0 {
		b = append(b, `,"media":`...)
		b = appendStrings(b, r.Media)
	}
	if r.Prompt != "" {
		b = appendKeyString(b, `,"prompt":`, r.Prompt)
	}
	b = append(b, `,"timings":`...)
	b = appendTimings(b, &r.Timings)
	b = appendKeyString(b, `,"text":`, r.Text)
	if r.Reasoning != "" {
		b = appendKeyString(b, `,"reasoning":`, r.Reasoning)
	}
	if r.FinishReason != "" {
		b = appendKeyString(b, `,"finishReason":`, r.FinishReason)
	}
	if len(r.ToolCalls) > 0 {
		if b, err = appendMarshal(b, `,"toolCalls":`, r.ToolCalls); err != nil {
			return b[:start], err
		}
	}
	if u := r.Usage; u != nil {
		b = append(b, `,"usage":{"prompt":`...)
		b = appendInt(b, int64(u.Prompt))
		b = append(b, `,"completion":`...)
		b = appendInt(b, int64(u.Completion))
		b = append(b, `,"total":`...)
		b = appendInt(b, int64(u.Total))
		b = append(b, `,"thinking":`...)
		b = appendInt(b, int64(u.Thinking))
		b = append(b, '}')
	}
	if r.Cost != nil {
		b = append(b, `,"cost":`...)
		b = jsonenc.AppendFloat(b, *r.Cost)
	}
	b = appendFlag(b, `,"usageShared":true`, r.UsageShared)
	b = appendFlag(b, `,"costEstimated":true`, r.CostEstimated)
	if e := r.Error; e != nil {
		b = appendKeyString(b, `,"error":{"class":`, e.Class)
		if e.Code != "" {
			b = appendKeyString(b, `,"code":`, e.Code)
		}
		b = appendKeyString(b, `,"message":`, e.Message)
		if e.Parameter != "" {
			b = appendKeyString(b, `,"parameter":`, e.Parameter)
		}
		if e.HTTPStatus != 0 {
			b = append(b, `,"httpStatus":`...)
			b = appendInt(b, int64(e.HTTPStatus))
		}
		b = append(b, '}')
	}
	b = append(b, `,"attempts":`...)
	b = appendInt(b, int64(r.Attempts))
	b = appendFlag(b, `,"retried":true`, r.Retried)
	b = appendFlag(b, `,"cached":true`, r.Cached)
	b = appendFlag(b, `,"resent":true`, r.Resent)
	if len(r.Steps) > 0 {
		if b, err = appendMarshal(b, `,"steps":`, r.Steps); err != nil {
			return b[:start], err
		}
	}
	b = appendFlag(b, `,"stepLimit":true`, r.StepLimit)
	if len(r.Checks) > 0 {
		b = append(b, `,"checks":[`...)
		for i := range r.Checks {
			c := &r.Checks[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = appendKeyString(b, `{"check":`, c.Check)
			if c.Pass {
				b = append(b, `,"pass":true`...)
			} else {
				b = append(b, `,"pass":false`...)
			}
			if c.Reason != "" {
				b = appendKeyString(b, `,"reason":`, c.Reason)
			}
			if c.Weight != 0 {
				b = append(b, `,"weight":`...)
				b = jsonenc.AppendFloat(b, c.Weight)
			}
			if c.JudgeCost != 0 {
				b = append(b, `,"judgeCost":`...)
				b = jsonenc.AppendFloat(b, c.JudgeCost)
			}
			if c.JudgeTokens != 0 {
				b = append(b, `,"judgeTokens":`...)
				b = appendInt(b, int64(c.JudgeTokens))
			}
			b = appendFlag(b, `,"judgeCached":true`, c.JudgeCached)
			b = appendFlag(b, `,"unjudged":true`, c.Unjudged)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if r.Pass {
		b = append(b, `,"pass":true`...)
	} else {
		b = append(b, `,"pass":false`...)
	}
	b = append(b, `,"score":`...)
	b = jsonenc.AppendFloat(b, r.Score)
	return append(b, '}'), nil
}

// encodable reports whether appendRecord's hand-written part can write r:
// every float it writes is finite and the scheduled time has a year
// json.Marshal accepts.
func encodable(r *Record) bool {
	t := &r.Timings
	if y := t.Scheduled.Year(); y < 0 || y > 9999 {
		return false
	}
	for _, p := range t.offsets() {
		if p != nil && !jsonenc.Finite(*p) {
			return false
		}
	}
	if r.Cost != nil && !jsonenc.Finite(*r.Cost) || !jsonenc.Finite(r.Score) {
		return false
	}
	for i := range r.Checks {
		if !jsonenc.Finite(r.Checks[i].Weight) || !jsonenc.Finite(r.Checks[i].JudgeCost) {
			return false
		}
	}
	return true
}

// offsets are the timing fields in their JSON order.
func (t *Timings) offsets() [14]*float64 {
	return [14]*float64{t.AttemptScheduled, t.Admitted, t.Dispatched, t.FirstByte, t.FirstReasoning,
		t.FirstText, t.LastDelta, t.Done, t.TTFT, t.TTFO, t.E2E, t.Queue, t.ToSuccess, t.Late}
}

// offsetKeys are the JSON names of Timings.offsets, each after a comma.
var offsetKeys = [14]string{`,"attemptScheduledMs":`, `,"admittedMs":`, `,"dispatchedMs":`, `,"firstByteMs":`,
	`,"firstReasoningMs":`, `,"firstTextMs":`, `,"lastDeltaMs":`, `,"doneMs":`, `,"ttftMs":`, `,"ttfoMs":`,
	`,"e2eMs":`, `,"queueMs":`, `,"toSuccessMs":`, `,"lateMs":`}

func appendTimings(b []byte, t *Timings) []byte {
	b = append(b, `{"scheduled":"`...)
	b = t.Scheduled.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	for i, p := range t.offsets() {
		if p != nil {
			b = append(b, offsetKeys[i]...)
			b = jsonenc.AppendFloat(b, *p)
		}
	}
	return append(b, '}')
}

// appendMarshal appends key and json.Marshal of v; a map of the values YAML
// and JSON decode into (what cells and rows hold) is written by hand.
func appendMarshal(b []byte, key string, v any) ([]byte, error) {
	if m, ok := v.(map[string]any); ok {
		if out, ok := jsonenc.AppendValue(append(b, key...), m); ok {
			return out, nil
		}
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	b = append(b, key...)
	return append(b, enc...), nil
}

func appendFlag(b []byte, member string, on bool) []byte {
	if on {
		b = append(b, member...)
	}
	return b
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

func appendKeyString(b []byte, key, s string) []byte {
	b = append(b, key...)
	return jsonenc.AppendString(b, s, true)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s, true)
	}
	return append(b, ']')
}
