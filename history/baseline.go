package history

import (
	"errors"
	"fmt"
	"time"

	"github.com/promptgrid/promptgrid/journal"
)

// DefaultBranch is the branch LatestBaseline looks on when given none.
const DefaultBranch = "main"

// ErrNoBaseline is returned (wrapped, with what was found) when no run
// qualifies as a baseline.
var ErrNoBaseline = errors.New("no baseline run")

// LatestBaseline returns the run directory, among dirs (run directories or
// folders of them, as Find walks), of the most recent run of suite made on
// branch (DefaultBranch when empty) that started before before: what
// `run --baseline latest:DIR` compares with. A run counts only when its
// run.json records that suite and branch, it has a journal, it is not a
// shard, some request got an answer and it did not stop as unavailable (an
// outage cut it short); a zero before sets no bound. Runs are ordered by their start
// time; ties go to the greater run id. When none qualifies the error wraps
// ErrNoBaseline and says what was found.
func LatestBaseline(dirs []string, suite string, branch string, before time.Time) (dir string, err error) {
	if branch == "" {
		branch = DefaultBranch
	}
	found, err := Find(dirs, 0)
	if err != nil {
		return "", err
	}
	var best *journal.Meta
	var ofSuite, noBranch, later int
	for _, d := range found {
		m, err := readRun(d)
		if err != nil || m.Suite != suite {
			continue
		}
		ofSuite++
		switch {
		case m.StopReason == journal.StopNoAnswer, m.StopReason == journal.StopUnavailable, m.Pilot != "":
			continue
		case m.Branch == "":
			noBranch++
			continue
		case m.Branch != branch:
			continue
		case !before.IsZero() && !m.Started.Before(before):
			later++
			continue
		}
		if best == nil || m.Started.After(best.Started) || (m.Started.Equal(best.Started) && m.RunID > best.RunID) {
			best, dir = m, d
		}
	}
	if best == nil {
		bound := ""
		if !before.IsZero() {
			bound = " before " + before.UTC().Format(time.RFC3339)
		}
		msg := fmt.Sprintf("%s of suite %q in %d run directories under %v, none on branch %q%s",
			count(ofSuite, "run"), suite, len(found), dirs, branch, bound)
		if later > 0 {
			msg += fmt.Sprintf(" (%s on it started later)", count(later, "run"))
		}
		if noBranch > 0 {
			msg += fmt.Sprintf(" (%s recorded no branch)", count(noBranch, "run"))
		}
		return "", fmt.Errorf("%w: %s", ErrNoBaseline, msg)
	}
	return dir, nil
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
