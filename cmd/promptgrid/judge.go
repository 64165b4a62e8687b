package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/runware"
)

// runwareJudge is the judge checks' model access: it asks a model through
// Runware's sync delivery to score an answer against a rubric, and caches
// every verdict on disk by the hash of the exact request content (model,
// settings, rubric, prompt, answer, vars), so that re-scoring a run does not
// pay for a verdict twice.
type runwareJudge struct {
	client   *runware.Client
	cacheDir string // "" disables the cache

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per cache key: identical requests in flight pay once
}

// newJudge returns the judge used by judge checks. Verdicts are cached as
// JSON files under cacheDir ("" = no cache).
func newJudge(client *runware.Client, cacheDir string) eval.Judge {
	return &runwareJudge{client: client, cacheDir: cacheDir, locks: map[string]*sync.Mutex{}}
}

// judgeTask builds the textInference task for a request (without taskUUID).
// The rubric, prompt, variables and answer go in as separate data blocks
// under boundary (eval.BuildJudgePrompt).
func judgeTask(req eval.JudgeRequest, boundary string) (runware.Task, error) {
	var settings runware.Settings
	if len(req.Settings) > 0 {
		b, err := json.Marshal(req.Settings)
		if err != nil {
			return runware.Task{}, fmt.Errorf("judge settings: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&settings); err != nil {
			return runware.Task{}, fmt.Errorf("judge settings: %w", err)
		}
	}
	system, user := eval.BuildJudgePrompt(req, boundary)
	settings.SystemPrompt = system
	return runware.Task{
		TaskType:       runware.TaskTextInference,
		Model:          req.Model,
		Messages:       []runware.Message{{Role: "user", Content: user}},
		Settings:       &settings,
		DeliveryMethod: runware.DeliverySync,
		IncludeCost:    true,
		IncludeUsage:   true,
		NumberResults:  1,
	}, nil
}

// cacheKey hashes the task's content; the taskUUID is not part of it.
func cacheKey(t runware.Task) (string, error) {
	t.TaskUUID = ""
	b, err := json.Marshal(struct {
		V    int          `json:"v"`
		Task runware.Task `json:"task"`
	}{1, t})
	if err != nil {
		return "", fmt.Errorf("judge cache key: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Judge implements eval.Judge.
func (j *runwareJudge) Judge(ctx context.Context, req eval.JudgeRequest) (eval.JudgeVerdict, error) {
	// The cache key is the request's content under a fixed boundary; the
	// task sent carries a fresh random one.
	keyed, err := judgeTask(req, "")
	if err != nil {
		return eval.JudgeVerdict{}, err
	}
	key, err := cacheKey(keyed)
	if err != nil {
		return eval.JudgeVerdict{}, err
	}
	lock := j.lock(key)
	lock.Lock()
	defer lock.Unlock()
	if v, ok := j.cached(key); ok {
		v.Cached = true
		return v, nil
	}
	task, err := judgeTask(req, eval.NewJudgeBoundary())
	if err != nil {
		return eval.JudgeVerdict{}, err
	}
	task.TaskUUID = runware.NewTaskUUID()
	resps, err := j.client.Do(ctx, []runware.Task{task})
	if err != nil {
		return eval.JudgeVerdict{}, fmt.Errorf("judge request: %w", err)
	}
	resp := resps[0]
	if resp.Err != nil {
		return eval.JudgeVerdict{}, fmt.Errorf("judge request: %w", resp.Err)
	}
	if len(resp.Results) == 0 {
		return eval.JudgeVerdict{}, errors.New("judge request: the response carried no result")
	}
	res := resp.Results[0]
	parsed, err := eval.ParseJudgeReply(res.Text)
	if err != nil {
		return eval.JudgeVerdict{}, err
	}
	v := eval.JudgeVerdict{Score: parsed.Score, Reason: parsed.Reason}
	if u := res.Usage; u != nil {
		v.PromptTokens, v.CompletionTokens = u.PromptTokens, u.CompletionTokens
	}
	switch {
	case res.Cost != nil:
		v.Cost = *res.Cost
	case res.Usage != nil:
		// The API sent no cost: estimate it from the published price.
		v.Cost = eval.DefaultPricing.Cost(res.Usage.PromptTokens, res.Usage.CompletionTokens, res.Usage.ThinkingTokens)
	}
	j.store(key, v)
	return v, nil
}

func (j *runwareJudge) lock(key string) *sync.Mutex {
	j.mu.Lock()
	defer j.mu.Unlock()
	l := j.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		j.locks[key] = l
	}
	return l
}

func (j *runwareJudge) path(key string) string { return filepath.Join(j.cacheDir, key+".json") }

// cached reads a verdict from the cache; a missing or unreadable entry is a
// miss (the verdict is then asked for again and rewritten).
func (j *runwareJudge) cached(key string) (eval.JudgeVerdict, bool) {
	if j.cacheDir == "" {
		return eval.JudgeVerdict{}, false
	}
	b, err := os.ReadFile(j.path(key))
	if err != nil {
		return eval.JudgeVerdict{}, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil {
		return eval.JudgeVerdict{}, false
	}
	return eval.JudgeVerdict{Score: e.Score, Reason: e.Reason, Cost: e.Cost, PromptTokens: e.PromptTokens, CompletionTokens: e.CompletionTokens}, true
}

// cacheEntry is one cached verdict on disk.
type cacheEntry struct {
	Score            float64 `json:"score"`
	Reason           string  `json:"reason"`
	Cost             float64 `json:"cost"`
	PromptTokens     int     `json:"promptTokens"`
	CompletionTokens int     `json:"completionTokens"`
}

// store writes a verdict atomically (temporary file, then rename) so that a
// crash never leaves a half-written entry. A failure to write only costs a
// repeated judge call later, so it does not fail the check.
func (j *runwareJudge) store(key string, v eval.JudgeVerdict) {
	if j.cacheDir == "" {
		return
	}
	if err := os.MkdirAll(j.cacheDir, 0o755); err != nil {
		return
	}
	b, err := json.Marshal(cacheEntry{Score: v.Score, Reason: v.Reason, Cost: v.Cost, PromptTokens: v.PromptTokens, CompletionTokens: v.CompletionTokens})
	if err != nil {
		return
	}
	f, err := os.CreateTemp(j.cacheDir, key+".*.tmp")
	if err != nil {
		return
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Rename(f.Name(), j.path(key)) != nil {
		os.Remove(f.Name())
	}
}
