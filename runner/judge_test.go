package runner

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// judgeSim starts a simulator whose model answers judge prompts: a verdict
// of 1 for answers naming Paris, a fenced verdict of 0.2 wrapped in prose for
// answers naming Lyon, and prose without a verdict for anything else; and
// "Paris" to any other prompt.
func judgeSim(t *testing.T) *runwaretest.Server {
	t.Helper()
	s := runwaretest.NewServer(runwaretest.Options{
		APIKeys: []string{"sim-key-0123456789abcdef"},
		Scenarios: []runwaretest.Scenario{
			{Name: "good", Match: runwaretest.Match{Regex: `(?s) ANSWER\n\s*Paris`}, Answer: `{"score": 1, "reason": "ok"}`},
			{Name: "bad", Match: runwaretest.Match{Regex: `(?s) ANSWER\n\s*Lyon`}, Answer: "```json\n{\"score\": 0.2, \"reason\": \"wrong city\"}\n```"},
			{Name: "confused", Match: runwaretest.Match{Regex: ` ANSWER\n`}, Answer: "I cannot decide."},
			{Name: "model", Match: runwaretest.Match{Regex: `question`}, Answer: "Paris"},
		},
	})
	t.Cleanup(s.Close)
	return s
}

func simClient(s *runwaretest.Server, key string) *runware.Client {
	return runware.NewClient(key, runware.WithEndpoint(s.URL()), runware.WithHTTPClient(s.Client()))
}

func openCache(t *testing.T, dir string) *Cache {
	t.Helper()
	c, err := OpenCache(dir, "sim")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The judge end to end: the verdict is parsed from the model's reply (plain
// or fenced in prose), tokens and cost are reported, settings reach the API,
// and a reply without a verdict is asked again, then an error.
func TestJudgeOverSimulator(t *testing.T) {
	s := judgeSim(t)
	j := NewJudge(simClient(s, "sim-key-0123456789abcdef"), nil, eval.DefaultPricing, 0)
	ctx := context.Background()
	req := eval.JudgeRequest{Model: runware.KimiK26AIR, Rubric: "Names the capital of France", Prompt: "Capital of France?", Text: "Paris",
		Settings: map[string]any{"thinkingLevel": "low", "temperature": 0.0}}

	v, err := j.Judge(ctx, req)
	if err != nil {
		t.Fatalf("Judge: %v", err)
	}
	if v.Score != 1 || v.Reason != "ok" || v.Cached || v.Cost <= 0 || v.PromptTokens <= 0 || v.CompletionTokens <= 0 {
		t.Errorf("verdict %+v: want score 1, reason ok, not cached, with cost and tokens", v)
	}
	if st := s.Stats(); st.Tasks != 1 || st.ThinkingLevels["low"] != 1 || st.Delivery["sync"] != 1 {
		t.Errorf("stats %+v: want one sync task at thinkingLevel low", st)
	}

	req.Text = "Lyon"
	if v, err := j.Judge(ctx, req); err != nil || v.Score != 0.2 || v.Reason != "wrong city" {
		t.Errorf("fenced verdict = %+v, %v; want 0.2 wrong city", v, err)
	}

	req.Text = "Marseille"
	if _, err := j.Judge(ctx, req); !errors.Is(err, eval.ErrJudgeReply) {
		t.Errorf("reply without verdict: err = %v", err)
	}
	if st := s.Stats(); st.Tasks != 2+judgeReplyAttempts {
		t.Errorf("tasks = %d, want %d (a reply without a verdict is asked %d times)", st.Tasks, 2+judgeReplyAttempts, judgeReplyAttempts)
	}

	// Unknown settings are refused before anything is sent.
	req.Settings = map[string]any{"temprature": 1}
	if _, err := j.Judge(ctx, req); err == nil || !strings.Contains(err.Error(), `unknown field "temprature"`) {
		t.Errorf("unknown setting: err = %v", err)
	}
	if st := s.Stats(); st.Tasks != 2+judgeReplyAttempts {
		t.Errorf("tasks = %d: the refused request must not be sent", st.Tasks)
	}
}

// Re-scoring never pays twice: a verdict is served from the response cache
// by content, across judge instances (a later `report --rescore`), with no
// API call; any change of content asks again.
func TestJudgeCache(t *testing.T) {
	s := judgeSim(t)
	dir := filepath.Join(t.TempDir(), "judge")
	ctx := context.Background()
	req := eval.JudgeRequest{Model: runware.KimiK26AIR, Rubric: "Names the capital", Text: "Paris"}
	judge := func() *Judge {
		return NewJudge(simClient(s, "sim-key-0123456789abcdef"), openCache(t, dir), eval.DefaultPricing, 0)
	}
	first, err := judge().Judge(ctx, req)
	if err != nil || first.Cached {
		t.Fatalf("first verdict %+v, %v: want a fresh verdict", first, err)
	}
	again, err := judge().Judge(ctx, req)
	if err != nil || !again.Cached || again.Score != first.Score || again.Cost != first.Cost || again.PromptTokens != first.PromptTokens {
		t.Errorf("second verdict %+v, %v: want the first one (%+v) from the cache", again, err, first)
	}
	if n := s.Stats().Requests; n != 1 {
		t.Errorf("requests = %d, want 1: the cached verdict must not call the API", n)
	}
	files := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".json") {
			files++
		}
		return nil
	})
	if files != 1 {
		t.Errorf("cache holds %d entries, want 1", files)
	}
	for _, r := range []eval.JudgeRequest{
		{Model: runware.KimiK26AIR, Rubric: "Names the capital!", Text: "Paris"},
		{Model: runware.KimiK26AIR, Rubric: "Names the capital", Text: "Paris", Settings: map[string]any{"temperature": 0.5}},
		{Model: runware.KimiK26AIR, Rubric: "Names the capital", Text: "Paris."},
	} {
		if v, err := judge().Judge(ctx, r); err != nil || v.Cached {
			t.Errorf("request %+v: verdict %+v, %v; want a fresh verdict", r, v, err)
		}
	}
	if n := s.Stats().Requests; n != 4 {
		t.Errorf("requests = %d, want 4", n)
	}
}

// A failed judge call reports the API's error without the key.
func TestJudgeErrorHidesKey(t *testing.T) {
	s := judgeSim(t)
	const secret = "not-the-sim-key-0123456789"
	_, err := NewJudge(simClient(s, secret), nil, eval.DefaultPricing, 0).Judge(context.Background(),
		eval.JudgeRequest{Model: runware.KimiK26AIR, Rubric: "r", Text: "Paris"})
	if err == nil {
		t.Fatal("Judge with a wrong key succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the API key: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "judge request: ") {
		t.Errorf("error %q lacks context", err)
	}
}

// judgeTrials are trials whose one check is a judge check.
func judgeTrials(t *testing.T, n int) []eval.Trial {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(`{judge: "Names the capital of France"}`), &node); err != nil {
		t.Fatal(err)
	}
	chk, probs := eval.CompileCheck(node.Content[0], "test.yaml")
	if len(probs) > 0 {
		t.Fatalf("compile judge check: %v", probs)
	}
	trials := makeTrials(n, 1, nil)
	c := &eval.Case{ID: "case", Checks: []eval.Check{chk}}
	for i := range trials {
		trials[i].Case = c
	}
	return trials
}

// Inside a run, judge requests go through the run: they are counted as
// calls, recorded in the attempt log, their cost counts against --max-cost
// with the samples', and their answers land in the run's judge cache.
func TestRunJudgesThroughTheRunner(t *testing.T) {
	s := judgeSim(t)
	h := &harness{t: t, sim: s, dir: t.TempDir()}
	cfg := h.config()
	cfg.API = simClient(s, "sim-key-0123456789abcdef")
	cfg.JudgeCache = openCache(t, filepath.Join(h.dir, JudgeCacheDir))
	l := h.withAttempts(&cfg)
	res, recs := h.run(context.Background(), cfg, judgeTrials(t, 4))
	l.Close()
	// The 4 answers are the same, so one verdict is paid and 3 come from
	// the run's judge cache.
	paid, cached := 0, 0
	for _, r := range recs {
		if !r.Pass || len(r.Checks) != 1 {
			t.Errorf("sample %s: pass %v checks %+v; want a judge verdict that passes", r.TrialKey, r.Pass, r.Checks)
			continue
		}
		switch c := r.Checks[0]; {
		case c.JudgeCached:
			cached++
		case c.JudgeCost > 0:
			paid++
		}
	}
	if paid != 1 || cached != 3 {
		t.Errorf("%d verdicts paid, %d cached; want 1 and 3", paid, cached)
	}
	if calls := cfg.Progress.Calls.Load(); calls != 5 {
		t.Errorf("%d calls counted, want 5 (4 samples + 1 judge request)", calls)
	}
	led, err := journal.ReadLedger(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	if led.Attempts != 5 || len(led.Open) != 0 {
		t.Errorf("attempt log: %d sent, %d open; want 5 sent (the judge's included), none open", led.Attempts, len(led.Open))
	}
	if billed := s.Stats().Cost; res.Spent < billed-1e-9 {
		t.Errorf("spent %v counts less than the server billed (%v): judge calls left out", res.Spent, billed)
	}

	// A budget that fits the samples but not their judges: judge requests
	// are not sent past it.
	s2 := judgeSim(t)
	h2 := &harness{t: t, sim: s2, dir: t.TempDir()}
	cfg2 := h2.config()
	cfg2.API = simClient(s2, "sim-key-0123456789abcdef")
	trials := judgeTrials(t, 1)
	task, _ := buildTask(&trials[0])
	cfg2.MaxCost = upperBound(&task, cfg2.Pricing) * 1.01
	_, recs2 := h2.run(context.Background(), cfg2, trials)
	if len(recs2) != 1 || recs2[0].Pass || !strings.Contains(recs2[0].Checks[0].Reason, "--max-cost") {
		t.Errorf("judge past --max-cost: %+v", recs2)
	}
	if billed := s2.Stats().Cost; billed > cfg2.MaxCost {
		t.Errorf("server billed %v past --max-cost %v", billed, cfg2.MaxCost)
	}
}

// A judge that never gives a verdict makes the sample a judge error, after
// its retries: no verdict is neither a pass nor a wrong answer.
func TestUnjudgedSampleIsAJudgeError(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{
		APIKeys: []string{"sim-key-0123456789abcdef"},
		Scenarios: []runwaretest.Scenario{
			{Name: "confused judge", Match: runwaretest.Match{Regex: ` ANSWER\n`}, Answer: "I cannot decide."},
			{Name: "model", Match: runwaretest.Match{Regex: `question`}, Answer: "Marseille"},
		},
	})
	t.Cleanup(s.Close)
	h := &harness{t: t, sim: s, dir: t.TempDir()}
	cfg := h.config()
	cfg.API = simClient(s, "sim-key-0123456789abcdef")
	_, recs := h.run(context.Background(), cfg, judgeTrials(t, 2))
	for _, r := range recs {
		if r.Pass || r.Error == nil || r.Error.Class != journal.ClassJudge || len(r.Checks) != 1 || !r.Checks[0].Unjudged {
			t.Errorf("sample %s: pass %v error %+v checks %+v; want a judge error", r.TrialKey, r.Pass, r.Error, r.Checks)
		}
	}
	// Re-scored with a judge that answers, the error is gone.
	r := recs[0]
	eval.ApplyVerdict(r, eval.Verdict{Outcomes: []eval.Outcome{{Check: "judge", Pass: true}}, Pass: true, Score: 1})
	if r.Error != nil || !r.Pass {
		t.Errorf("after a verdict: error %+v pass %v", r.Error, r.Pass)
	}
	if s := eval.Rescorable(recs[1]); s.Err != "" {
		t.Errorf("a judge error is not the request's error: sample error %q", s.Err)
	}
}
