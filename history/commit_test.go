package history

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

type fakeGit struct {
	out   map[string]string
	fail  bool
	calls []string
}

func (g *fakeGit) run(args ...string) (string, error) {
	k := strings.Join(args, " ")
	g.calls = append(g.calls, k)
	if g.fail {
		return "", errors.New("not a git repository")
	}
	return g.out[k], nil
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCommitInfo(t *testing.T) {
	gitOut := map[string]string{"rev-parse HEAD": "abcdef0123456789", "rev-parse --abbrev-ref HEAD": "work"}

	// GitHub Actions: the environment wins and git is not asked.
	g := &fakeGit{out: gitOut}
	c, b := commitInfo(env(map[string]string{"GITHUB_SHA": "feedface", "GITHUB_REF_NAME": "main"}), g.run)
	if c != "feedface" || b != "main" || len(g.calls) != 0 {
		t.Errorf("in Actions: %q %q, git calls %v; want feedface main, none", c, b, g.calls)
	}
	// Elsewhere, git.
	g = &fakeGit{out: gitOut}
	c, b = commitInfo(env(nil), g.run)
	if c != "abcdef0123456789" || b != "work" {
		t.Errorf("from git: %q %q, want abcdef0123456789 work", c, b)
	}
	if want := []string{"rev-parse HEAD", "rev-parse --abbrev-ref HEAD"}; !slices.Equal(g.calls, want) {
		t.Errorf("git calls %v, want %v", g.calls, want)
	}
	// Only the missing one is asked of git.
	g = &fakeGit{out: gitOut}
	c, b = commitInfo(env(map[string]string{"GITHUB_SHA": "feedface"}), g.run)
	if c != "feedface" || b != "work" || len(g.calls) != 1 {
		t.Errorf("SHA only: %q %q, calls %v", c, b, g.calls)
	}
	// A detached HEAD has no branch.
	g = &fakeGit{out: map[string]string{"rev-parse HEAD": "abc", "rev-parse --abbrev-ref HEAD": "HEAD"}}
	if c, b = commitInfo(env(nil), g.run); c != "abc" || b != "" {
		t.Errorf("detached: %q %q, want abc and no branch", c, b)
	}
	// git failing is ignored.
	g = &fakeGit{fail: true}
	if c, b = commitInfo(env(nil), g.run); c != "" || b != "" {
		t.Errorf("git failing: %q %q, want empty", c, b)
	}
}

// The real git, bounded: whatever it says, CommitInfo returns without an
// error and without blocking.
func TestCommitInfoRuns(t *testing.T) {
	t.Setenv("GITHUB_SHA", "")
	t.Setenv("GITHUB_REF_NAME", "")
	c, _ := CommitInfo()
	if strings.ContainsAny(c, " \n") {
		t.Errorf("commit %q is not trimmed", c)
	}
}
