package eval

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeJudge records requests and answers with a fixed verdict.
type fakeJudge struct {
	verdict JudgeVerdict
	err     error
	reqs    []JudgeRequest
}

func (f *fakeJudge) Judge(_ context.Context, req JudgeRequest) (JudgeVerdict, error) {
	f.reqs = append(f.reqs, req)
	return f.verdict, f.err
}

// TestJudgeCheck protects the judge check: the request it sends, the
// threshold, the reasons, the missing-judge failure, and that judge spend
// is reported apart from the sample (and not at all for cached verdicts).
func TestJudgeCheck(t *testing.T) {
	sample := Sample{Text: "Paris", Prompt: "Capital of France?", Vars: map[string]any{"country": "France"}}
	src := "judge: {rubric: Names the capital correctly, model: 'moonshotai:kimi@k2.6', threshold: 0.8, settings: {temperature: 0, maxTokens: 200}}"
	chk := compile(t, src)

	good := &fakeJudge{verdict: JudgeVerdict{Score: 0.9, Reason: "correct", Cost: 0.0012, PromptTokens: 300, CompletionTokens: 40}}
	o := chk.Eval(WithJudge(context.Background(), good), sample)
	want := Outcome{Check: `judge "Names the capital correctly"`, Pass: true, Reason: "judge scored 0.90 (threshold 0.80): correct", JudgeCost: 0.0012, JudgeTokens: 340}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("passing outcome (-want +got):\n%s", diff)
	}
	wantReq := JudgeRequest{Model: "moonshotai:kimi@k2.6", Rubric: "Names the capital correctly",
		Settings: map[string]any{"temperature": 0.0, "maxTokens": 200}, Prompt: "Capital of France?", Text: "Paris", Vars: sample.Vars}
	if diff := cmp.Diff([]JudgeRequest{wantReq}, good.reqs); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}

	rows := []struct {
		name   string
		judge  Judge
		pass   bool
		reason string
		cost   float64
	}{
		// Below the threshold fails with the judge's reason.
		{"below threshold", &fakeJudge{verdict: JudgeVerdict{Score: 0.5, Reason: "vague", Cost: 0.001}}, false,
			"judge scored 0.50, below the threshold 0.80: vague", 0.001},
		// Exactly the threshold passes.
		{"at threshold", &fakeJudge{verdict: JudgeVerdict{Score: 0.8, Reason: "ok"}}, true, "judge scored 0.80 (threshold 0.80): ok", 0},
		// A cached verdict costs nothing now.
		{"cached", &fakeJudge{verdict: JudgeVerdict{Score: 1, Reason: "ok", Cost: 0.5, Cached: true}}, true, "judge scored 1.00 (threshold 0.80): ok", 0},
		// A judge error fails the check with the error.
		{"error", &fakeJudge{err: errors.New("HTTP 401 invalid API key")}, false, "judge moonshotai:kimi@k2.6 failed: HTTP 401 invalid API key", 0},
		// A score outside 0..1 is not trusted.
		{"bad score", &fakeJudge{verdict: JudgeVerdict{Score: 7}}, false, "judge returned score 7, outside 0..1", 0},
		// Without a judge in the context the check fails and says why.
		{"no judge", nil, false, "no judge is available: judge checks need model access (run with RUNWARE_API_KEY or --sim)", 0},
	}
	for _, r := range rows {
		ctx := context.Background()
		if r.judge != nil {
			ctx = WithJudge(ctx, r.judge)
		}
		o := chk.Eval(ctx, sample)
		if o.Pass != r.pass || o.Reason != r.reason || o.JudgeCost != r.cost {
			t.Errorf("%s: got pass %v reason %q cost %v; want %v %q %v", r.name, o.Pass, o.Reason, o.JudgeCost, r.pass, r.reason, r.cost)
		}
	}

	// Score sums judge spend over the sample's checks.
	v := Score(WithJudge(context.Background(), good), sample, []Check{chk, compile(t, "anyOf: [{contains: x}, {judge: r}]")}, PassRule{})
	if v.JudgeCost != 0.0024 || v.JudgeTokens != 680 || !v.Pass {
		t.Errorf("verdict judge spend %v/%d pass %v; want 0.0024/680 pass", v.JudgeCost, v.JudgeTokens, v.Pass)
	}
}

// TestJudgeDefaults protects the short form and the defaults.
func TestJudgeDefaults(t *testing.T) {
	j := &fakeJudge{verdict: JudgeVerdict{Score: 0.7}}
	o := compile(t, "judge: Is polite").Eval(WithJudge(context.Background(), j), Sample{Text: "hi"})
	if !o.Pass || j.reqs[0].Model != DefaultJudgeModel || j.reqs[0].Rubric != "Is polite" {
		t.Errorf("short form: %+v with request %+v; want pass at the default threshold 0.7 with the default model", o, j.reqs[0])
	}
}
