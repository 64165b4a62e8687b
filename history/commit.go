package history

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"time"
)

// gitTimeout bounds each git command CommitInfo runs.
const gitTimeout = 2 * time.Second

// CommitInfo returns the source revision a run is made from, for run.json:
// the commit from GITHUB_SHA and the branch from GITHUB_REF_NAME when set
// (GitHub Actions), else what git says in the current directory (`git
// rev-parse HEAD`, `git rev-parse --abbrev-ref HEAD`, each bounded by a
// short timeout). Either is empty when unknown: git missing or failing, not
// a repository, or a detached HEAD (no branch).
func CommitInfo() (commit, branch string) {
	return commitInfo(os.Getenv, runGit)
}

// commitInfo is CommitInfo with the environment and git given.
func commitInfo(getenv func(string) string, git func(args ...string) (string, error)) (commit, branch string) {
	commit, branch = strings.TrimSpace(getenv("GITHUB_SHA")), strings.TrimSpace(getenv("GITHUB_REF_NAME"))
	if commit == "" {
		if out, err := git("rev-parse", "HEAD"); err == nil {
			commit = out
		}
	}
	if branch == "" {
		if out, err := git("rev-parse", "--abbrev-ref", "HEAD"); err == nil && out != "HEAD" {
			branch = out
		}
	}
	return commit, branch
}

// runGit runs git with args and returns its trimmed output.
func runGit(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stdin = nil
	cmd.Stderr = nil
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
