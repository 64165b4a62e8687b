package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// judgeSim starts a simulator whose model answers judge prompts: a verdict
// of 1 for answers naming Paris, a fenced verdict of 0.2 wrapped in prose for
// answers naming Lyon, and prose without a verdict for anything else.
func judgeSim(t *testing.T) *runwaretest.Server {
	t.Helper()
	s := runwaretest.NewServer(runwaretest.Options{
		APIKeys: []string{"sim-key"},
		Scenarios: []runwaretest.Scenario{
			{Name: "good", Match: runwaretest.Match{Regex: `(?s) ANSWER\n\s*Paris`}, Answer: `{"score": 1, "reason": "ok"}`},
			{Name: "bad", Match: runwaretest.Match{Regex: `(?s) ANSWER\n\s*Lyon`}, Answer: "```json\n{\"score\": 0.2, \"reason\": \"wrong city\"}\n```"},
			{Name: "confused", Match: runwaretest.Match{Regex: ` ANSWER\n`}, Answer: "I cannot decide."},
		},
	})
	t.Cleanup(s.Close)
	return s
}

func simClient(s *runwaretest.Server, key string) *runware.Client {
	return runware.NewClient(key, runware.WithEndpoint(s.URL()), runware.WithHTTPClient(s.Client()))
}

// TestJudgeOverSimulator protects the judge end to end: the verdict is
// parsed from the model's reply (plain or fenced in prose), tokens and cost
// are reported, settings reach the API, and a reply without a verdict is an
// error.
func TestJudgeOverSimulator(t *testing.T) {
	s := judgeSim(t)
	j := newJudge(simClient(s, "sim-key"), "")
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

	// Unknown settings are refused before anything is sent.
	req.Settings = map[string]any{"temprature": 1}
	if _, err := j.Judge(ctx, req); err == nil || !strings.Contains(err.Error(), `unknown field "temprature"`) {
		t.Errorf("unknown setting: err = %v", err)
	}
	if st := s.Stats(); st.Tasks != 3 {
		t.Errorf("tasks = %d, want 3 (the refused request is not sent)", st.Tasks)
	}
}

// TestJudgeCache protects re-scoring without paying twice: a verdict is
// served from the on-disk cache by content, across judge instances (a later
// `report --rescore` process), with no API call; any change of content asks
// again.
func TestJudgeCache(t *testing.T) {
	s := judgeSim(t)
	dir := filepath.Join(t.TempDir(), "judge")
	ctx := context.Background()
	req := eval.JudgeRequest{Model: runware.KimiK26AIR, Rubric: "Names the capital", Text: "Paris"}

	first, err := newJudge(simClient(s, "sim-key"), dir).Judge(ctx, req)
	if err != nil || first.Cached {
		t.Fatalf("first verdict %+v, %v: want a fresh verdict", first, err)
	}
	again, err := newJudge(simClient(s, "sim-key"), dir).Judge(ctx, req)
	if err != nil || !again.Cached || again.Score != first.Score || again.Cost != first.Cost || again.PromptTokens != first.PromptTokens {
		t.Errorf("second verdict %+v, %v: want the first one (%+v) from the cache", again, err, first)
	}
	if n := s.Stats().Requests; n != 1 {
		t.Errorf("requests = %d, want 1: the cached verdict must not call the API", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".json") {
		t.Errorf("cache dir holds %v, want one .json entry", entries)
	}

	// A different rubric, model setting or answer is a different verdict.
	for _, r := range []eval.JudgeRequest{
		{Model: runware.KimiK26AIR, Rubric: "Names the capital!", Text: "Paris"},
		{Model: runware.KimiK26AIR, Rubric: "Names the capital", Text: "Paris", Settings: map[string]any{"temperature": 0.5}},
		{Model: runware.KimiK26AIR, Rubric: "Names the capital", Text: "Paris."},
	} {
		if v, err := newJudge(simClient(s, "sim-key"), dir).Judge(ctx, r); err != nil || v.Cached {
			t.Errorf("request %+v: verdict %+v, %v; want a fresh verdict", r, v, err)
		}
	}
	if n := s.Stats().Requests; n != 4 {
		t.Errorf("requests = %d, want 4", n)
	}
}

// TestJudgeErrorHidesKey protects the API key: a failed judge call reports
// the API's error without the key.
func TestJudgeErrorHidesKey(t *testing.T) {
	s := judgeSim(t)
	const secret = "not-the-sim-key-0123456789"
	_, err := newJudge(simClient(s, secret), t.TempDir()).Judge(context.Background(),
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
