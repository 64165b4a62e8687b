package eval

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/suites")

// TestValidateGolden loads every broken suite under testdata/suites and
// compares the rendered problems (file:line:col: message, source line and
// caret) with its .golden file. Run `go test ./eval -run Golden -update`
// after an intended change of wording.
func TestValidateGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "suites", "broken-*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no broken suites: %v", err)
	}
	distinct := map[string]bool{}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			_, err := Load(p)
			var ps *Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want *Problems, got %v", err)
			}
			for _, pr := range ps.List {
				if pr.Line == 0 || pr.Col == 0 {
					t.Errorf("problem without line and column: %s", pr)
				}
				distinct[messageShape(pr.Msg)] = true
			}
			got := ps.Error() + "\n"
			golden := strings.TrimSuffix(p, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("problems differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
	if len(distinct) < 25 {
		t.Errorf("the broken suites cover %d distinct problems; want at least 25", len(distinct))
	}
}

var quoted = regexp.MustCompile(`"[^"]*"|\d+(\.\d+)?`)

// messageShape reduces a message to its kind, so that the same problem on
// two values counts once.
func messageShape(msg string) string { return quoted.ReplaceAllString(msg, "_") }
