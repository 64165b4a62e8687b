package runner

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/promptgrid/promptgrid/journal"
)

// Merge joins the journals of several run directories (shards of one suite)
// into the locked run directory out as one run with id runID: run.json first
// (stop reason running), then every record copied in order with its run id
// rewritten, then run.json again, summing the shards. The runs must share a
// suite hash, and a shard's line of another run or suite than its run.json
// says is refused (journal.OwnedBy). The merged stop reason is "completed"
// only when every shard completed; otherwise it is the first other reason,
// with the shard named. The cell order and pass rules (Scoring), commit and
// branch are the first shard's.
func Merge(dirs []string, out *journal.RunDir, runID string) (*journal.Meta, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("merge: no run directories")
	}
	metas := make([]*journal.Meta, len(dirs))
	for i, d := range dirs {
		m, err := journal.ReadMeta(d)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if i > 0 && m.SuiteHash != metas[0].SuiteHash {
			return nil, fmt.Errorf("merge: %s ran suite %s (hash %s) but %s ran hash %s; shards must come from the same suite",
				d, m.Suite, m.SuiteHash, dirs[0], metas[0].SuiteHash)
		}
		metas[i] = m
	}
	for _, name := range []string{journal.JournalFile, journal.MetaFile} {
		if _, err := os.Stat(filepath.Join(out.Path, name)); err == nil {
			return nil, fmt.Errorf("merge: %s already holds a %s; merge into a new directory", out.Path, name)
		}
	}
	first := metas[0]
	merged := &journal.Meta{RunID: runID, Suite: first.Suite, SuitePath: first.SuitePath, SuiteHash: first.SuiteHash,
		Version: first.Version, Endpoint: first.Endpoint, Simulated: first.Simulated, Started: first.Started,
		StopReason: journal.StopRunning, Merged: dirs, Flags: map[string]string{},
		Scoring: first.Scoring, Commit: first.Commit, Branch: first.Branch}
	for k, v := range first.Flags {
		if k != "shard" && k != "out" {
			merged.Flags[k] = v
		}
	}
	if err := out.WriteMeta(merged); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	w, err := out.Journal()
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	merged.StopReason = journal.StopCompleted
	for i, d := range dirs {
		m := metas[i]
		if m.Started.Before(merged.Started) {
			merged.Started = m.Started
		}
		if m.Ended.After(merged.Ended) {
			merged.Ended = m.Ended
		}
		merged.Trials += m.Trials
		if m.StopReason != journal.StopCompleted && merged.StopReason == journal.StopCompleted {
			merged.StopReason = m.StopReason
			merged.StopDetail = fmt.Sprintf("%s: %s %s", d, m.StopReason, m.StopDetail)
		}
		_, err := journal.Read(filepath.Join(d, journal.JournalFile), func(r *journal.Record) error {
			r.RunID = runID
			merged.Samples++
			return w.Append(r)
		}, journal.OwnedBy(m))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("merge: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if err := out.WriteMeta(merged); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return merged, nil
}
