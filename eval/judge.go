package eval

import (
	"context"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v4"
)

// Judge scores a sample's text against a rubric with a model (LLM as a
// judge). eval calls no API itself: callers put a Judge in the context with
// WithJudge, and judge checks take it from there.
type Judge interface {
	// Judge asks req.Model to score req.Text against req.Rubric.
	Judge(ctx context.Context, req JudgeRequest) (JudgeVerdict, error)
}

// JudgeRequest is what a judge check asks of a Judge.
type JudgeRequest struct {
	// Model is the judge model, e.g. "moonshotai:kimi@k2.6".
	Model string
	// Rubric says what a good answer is.
	Rubric string
	// Settings are textInference settings for the judge's request
	// (temperature, maxTokens, thinkingLevel...), as JSON values.
	Settings map[string]any
	// Prompt is the prompt the judged answer replied to ("" when unknown).
	Prompt string
	// Text is the judged answer.
	Text string
	// Vars are the case's template variables.
	Vars map[string]any
}

// JudgeVerdict is a judge's answer.
type JudgeVerdict struct {
	// Score is in [0, 1]; the check passes when it reaches its threshold.
	Score  float64
	Reason string
	// Cost (USD) and tokens are what producing the verdict cost. When Cached
	// is true the verdict came from the cache and nothing was spent now.
	Cost             float64
	PromptTokens     int
	CompletionTokens int
	Cached           bool
}

type judgeKey struct{}

// WithJudge returns a context whose judge checks use j.
func WithJudge(ctx context.Context, j Judge) context.Context {
	return context.WithValue(ctx, judgeKey{}, j)
}

// JudgeFrom returns the context's Judge, or nil when there is none.
func JudgeFrom(ctx context.Context) Judge {
	j, _ := ctx.Value(judgeKey{}).(Judge)
	return j
}

// Defaults of the judge check.
const (
	// DefaultJudgeModel is the judge model when a check names none.
	DefaultJudgeModel = "moonshotai:kimi@k2.6"
	// DefaultJudgeThreshold is the passing score when a check gives none.
	DefaultJudgeThreshold = 0.7
)

// judgeSettings are the settings keys a judge check may set, with the YAML
// kind each takes. systemPrompt is absent: the judge writes its own.
var judgeSettings = map[string]string{
	"temperature": "number", "topP": "number", "topK": "int", "minP": "number",
	"frequencyPenalty": "number", "presencePenalty": "number", "repetitionPenalty": "number",
	"maxTokens": "int", "stopSequences": "list", "thinkingLevel": "level", "promptCacheKey": "string",
}

// judgeCheck asks the context's Judge to score the text against a rubric.
type judgeCheck struct {
	rubric    string
	model     string
	threshold float64
	settings  map[string]any
}

// compileJudge reads `judge: "rubric"` or
// `judge: {rubric, model, threshold, settings}`.
func compileJudge(c *compiler, key, val *yaml.Node) Check {
	val = deref(val)
	chk := judgeCheck{model: DefaultJudgeModel, threshold: DefaultJudgeThreshold}
	if val.Kind == yaml.ScalarNode {
		var ok bool
		if chk.rubric, ok = c.nonEmptyText(val, "judge rubric"); !ok {
			return nil
		}
		return chk
	}
	f, ok := c.fields(val, key.Value, "rubric", "model", "threshold", "settings")
	if !ok {
		return nil
	}
	if f["rubric"] == nil {
		c.errorf(val, "judge needs a rubric saying what a good answer is")
		return nil
	}
	if chk.rubric, ok = c.nonEmptyText(f["rubric"], "judge rubric"); !ok {
		return nil
	}
	if n := f["model"]; n != nil {
		if chk.model, ok = c.nonEmptyText(n, "judge model"); !ok {
			return nil
		}
	}
	if n := f["threshold"]; n != nil {
		if chk.threshold, ok = c.number(n, "judge threshold"); !ok {
			return nil
		}
		if chk.threshold < 0 || chk.threshold > 1 {
			c.errorf(n, "judge threshold must be between 0 and 1, got %v", chk.threshold)
			return nil
		}
	}
	if n := f["settings"]; n != nil {
		if chk.settings = c.judgeSettingsArg(n); chk.settings == nil {
			return nil
		}
	}
	return chk
}

// judgeSettingsArg validates the judge's settings mapping and converts it
// into JSON values.
func (c *compiler) judgeSettingsArg(n *yaml.Node) map[string]any {
	allowed := chkSortedKeys(judgeSettings)
	f, ok := c.fields(n, "judge settings", allowed...)
	if !ok {
		return nil
	}
	out := make(map[string]any, len(f))
	for _, k := range chkSortedKeys(f) {
		v := f[k]
		what := "judge settings " + k
		switch judgeSettings[k] {
		case "number":
			x, good := c.number(v, what)
			ok = ok && good
			out[k] = x
		case "int":
			x, good := c.count(v, what)
			ok = ok && good
			out[k] = x
		case "list":
			x, good := c.textList(v, what)
			ok = ok && good
			out[k] = x
		case "level":
			x, good := c.text(v, what)
			switch x {
			case "none", "low", "medium", "high", "xhigh":
			default:
				if good {
					c.errorf(v, "%s must be one of none, low, medium, high, xhigh, got %q", what, x)
				}
				good = false
			}
			ok = ok && good
			out[k] = x
		default:
			x, good := c.text(v, what)
			ok = ok && good
			out[k] = x
		}
	}
	if !ok {
		return nil
	}
	return out
}

func (j judgeCheck) Name() string {
	r := []rune(j.rubric)
	if len(r) > 40 {
		return fmt.Sprintf("judge %q", string(r[:40])+"...")
	}
	return fmt.Sprintf("judge %q", j.rubric)
}

// score formats a judge score or threshold.
func score(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func (j judgeCheck) Eval(ctx context.Context, s Sample) Outcome {
	o := Outcome{Check: j.Name()}
	jd := JudgeFrom(ctx)
	if jd == nil {
		o.Reason = "no judge is available: judge checks need model access (run with RUNWARE_API_KEY or --sim)"
		o.Unjudged = true
		return o
	}
	v, err := jd.Judge(ctx, JudgeRequest{Model: j.model, Rubric: j.rubric, Settings: j.settings, Prompt: s.Prompt, Text: s.Text, Vars: s.Vars})
	if err != nil {
		o.Reason = fmt.Sprintf("judge %s failed: %v", j.model, err)
		o.Unjudged = true
		return o
	}
	o.JudgeCached = v.Cached
	if !v.Cached {
		o.JudgeCost = v.Cost
		o.JudgeTokens = v.PromptTokens + v.CompletionTokens
	}
	switch {
	case v.Score < 0 || v.Score > 1:
		o.Reason = fmt.Sprintf("judge returned score %v, outside 0..1", v.Score)
	case v.Score >= j.threshold-1e-9:
		o.Pass = true
		o.Reason = fmt.Sprintf("judge scored %s (threshold %s): %s", score(v.Score), score(j.threshold), v.Reason)
	default:
		o.Reason = fmt.Sprintf("judge scored %s, below the threshold %s: %s", score(v.Score), score(j.threshold), v.Reason)
	}
	return o
}
