package eval

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v4"
)

// Metadata checks look at what the API reported about a sample: finish
// reason, timings, cost and token usage. A sample without the measurement
// fails, with a reason saying why it was not measured.

// finishReasonCheck passes when the finish reason is one of a set.
type finishReasonCheck struct{ want []string }

func compileFinishReason(c *compiler, key, val *yaml.Node) Check {
	want, ok := c.textList(val, key.Value)
	if !ok {
		return nil
	}
	return finishReasonCheck{want: want}
}

func (f finishReasonCheck) Name() string {
	if len(f.want) == 1 {
		return fmt.Sprintf("finishReason %q", f.want[0])
	}
	return "finishReason in " + chkQuoteList(f.want)
}

func (f finishReasonCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: f.Name(), Pass: slices.Contains(f.want, s.FinishReason)}
	switch {
	case o.Pass:
	case s.FinishReason == "":
		o.Reason = fmt.Sprintf("expected finishReason in %s; the API reported none", chkQuoteList(f.want))
	default:
		o.Reason = fmt.Sprintf("expected finishReason in %s; got %q", chkQuoteList(f.want), s.FinishReason)
	}
	return o
}

// durationCheck implements maxLatency, maxTTFT and maxTTFO.
type durationCheck struct {
	key     string
	what    string // "latency", "TTFT", "TTFO"
	max     time.Duration
	get     func(Sample) *time.Duration
	missing string // why a sample may lack the measurement
}

func compileMaxLatency(c *compiler, key, val *yaml.Node) Check {
	return c.durationArg(key, val, durationCheck{what: "latency",
		get:     func(s Sample) *time.Duration { return s.Latency },
		missing: "latency was not measured"})
}

func compileMaxTTFT(c *compiler, key, val *yaml.Node) Check {
	return c.durationArg(key, val, durationCheck{what: "TTFT",
		get:     func(s Sample) *time.Duration { return s.TTFT },
		missing: "TTFT was not measured: it needs deliveryMethod: stream"})
}

func compileMaxTTFO(c *compiler, key, val *yaml.Node) Check {
	return c.durationArg(key, val, durationCheck{what: "TTFO",
		get:     func(s Sample) *time.Duration { return s.TTFO },
		missing: "TTFO was not measured: it needs deliveryMethod: stream and a response with visible text"})
}

func (c *compiler) durationArg(key, val *yaml.Node, chk durationCheck) Check {
	d, ok := c.duration(val, key.Value)
	if !ok {
		return nil
	}
	chk.key, chk.max = key.Value, d
	return chk
}

func (d durationCheck) Name() string { return d.key + " " + d.max.String() }

func (d durationCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: d.Name()}
	got := d.get(s)
	switch {
	case got == nil:
		o.Reason = d.missing
	case *got > d.max:
		o.Reason = fmt.Sprintf("expected %s at most %s; got %s", d.what, d.max, got.Round(time.Millisecond))
	default:
		o.Pass = true
	}
	return o
}

// maxCostCheck passes when the sample's cost (USD) is at most a limit.
type maxCostCheck struct{ max float64 }

func compileMaxCost(c *compiler, key, val *yaml.Node) Check {
	v, ok := c.number(val, key.Value)
	if !ok {
		return nil
	}
	if v <= 0 {
		c.errorf(deref(val), "%s must be greater than 0, got %v", key.Value, v)
		return nil
	}
	return maxCostCheck{max: v}
}

func usd(v float64) string { return "$" + strconv.FormatFloat(v, 'f', -1, 64) }

func (m maxCostCheck) Name() string { return "maxCost " + usd(m.max) }

func (m maxCostCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: m.Name()}
	switch {
	case s.Cost == nil:
		o.Reason = "cost was not reported: set includeCost: true or give the suite a pricing table"
	case *s.Cost > m.max:
		o.Reason = fmt.Sprintf("expected cost at most %s; got %s", usd(m.max), usd(*s.Cost))
	default:
		o.Pass = true
	}
	return o
}

// tokenCheck implements maxThinkingTokens, minThinkingTokens and
// maxOutputTokens (visible tokens: completion minus thinking).
type tokenCheck struct {
	key   string
	what  string
	limit int
	min   bool
	get   func(Usage) int
}

func compileMaxThinkingTokens(c *compiler, key, val *yaml.Node) Check {
	return c.tokenArg(key, val, tokenCheck{what: "thinking tokens", get: func(u Usage) int { return u.Thinking }})
}

func compileMinThinkingTokens(c *compiler, key, val *yaml.Node) Check {
	return c.tokenArg(key, val, tokenCheck{what: "thinking tokens", min: true, get: func(u Usage) int { return u.Thinking }})
}

func compileMaxOutputTokens(c *compiler, key, val *yaml.Node) Check {
	return c.tokenArg(key, val, tokenCheck{what: "visible output tokens", get: func(u Usage) int { return max(0, u.Completion-u.Thinking) }})
}

func (c *compiler) tokenArg(key, val *yaml.Node, chk tokenCheck) Check {
	n, ok := c.count(val, key.Value)
	if !ok {
		return nil
	}
	chk.key, chk.limit = key.Value, n
	return chk
}

func (t tokenCheck) Name() string { return t.key + " " + strconv.Itoa(t.limit) }

func (t tokenCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: t.Name()}
	if s.Usage == nil {
		o.Reason = "token usage was not reported: set includeUsage: true"
		return o
	}
	got := t.get(*s.Usage)
	if t.min {
		o.Pass = got >= t.limit
		if !o.Pass {
			o.Reason = fmt.Sprintf("expected at least %d %s; got %d", t.limit, t.what, got)
		}
		return o
	}
	o.Pass = got <= t.limit
	if !o.Pass {
		o.Reason = fmt.Sprintf("expected at most %d %s; got %d", t.limit, t.what, got)
	}
	return o
}
