package eval

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileCorpus loads every file of testdata/hostile: each must fail
// with the problem its first line names (`# want: ...`), never crash or
// hang. Peak memory and time of the worst are in docs/security.md.
func TestHostileCorpus(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "hostile", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no hostile corpus: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			first, _ := bufio.NewReader(f).ReadString('\n')
			f.Close()
			want, ok := strings.CutPrefix(strings.TrimSpace(first), "# want: ")
			if !ok {
				t.Fatalf("%s: first line must be `# want: <message>`", p)
			}
			if got := loadErr(t, p, LoadOptions{}); !strings.Contains(got, want) {
				t.Errorf("missing %q in:\n%.2000s", want, got)
			}
		})
	}
}
