package eval

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// loadErr loads path with opts and returns the rendered problems, failing
// when the suite loads.
func loadErr(t *testing.T, path string, opts LoadOptions) string {
	t.Helper()
	_, err := LoadWithOptions(path, opts)
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want *Problems, got %v", err)
	}
	return ps.Error()
}

const limitsHead = "name: x\nmodel: moonshotai:kimi@k2.6\n"

// TestLoadLimits covers each loader limit: the problem is reported at the
// offending line and column with what to do.
func TestLoadLimits(t *testing.T) {
	bomb := "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	grid := "grid:\n"
	for _, ax := range []string{"settings.temperature", "settings.topP", "settings.maxTokens", "settings.seed", "settings.frequencyPenalty", "settings.presencePenalty"} {
		_ = ax
	}
	grid += "  settings.temperature: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\n  settings.topP: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\n  settings.maxTokens: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
	for _, tc := range []struct{ name, src, want string }{
		{"alias bomb in vars", limitsHead + "cases:\n  - id: a\n    prompt: hi\n    vars:\n" + indent(bomb, 6), "an alias bomb?"},
		{"alias bomb in checks", limitsHead + "x: " + "\ncases:\n  - id: a\n    prompt: hi\n    checks:\n      - jsonSchema:\n" + indent(bomb, 10), "an alias bomb?"},
		{"alias containing itself", limitsHead + "cases: &c\n  - id: a\n    prompt: hi\n    vars: {x: *c}\n", "6:15: alias *c refers to the value that contains it"},
		{"nesting depth", limitsHead + "cases:\n  - id: a\n    prompt: hi\n    vars: {x: " + deep + "}\n", "nesting deeper than 64 levels"},
		{"second document", limitsHead + "cases: [{id: a, prompt: hi}]\n---\nname: y\n", "a second YAML document"},
		{"misindented key noticed where it is", limitsHead + "cases:\n  - id: a\n    prompt: hi\n   checks: []\n", "x.yaml:6:4: YAML syntax error"},
		{"trial count past the maximum", limitsHead + "seeds: {count: 10000}\n" + grid + "cases: [{id: a, prompt: hi}]\n", "expands to more than 1000000 trials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "x.yaml")
			if err := os.WriteFile(p, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := loadErr(t, p, LoadOptions{}); !strings.Contains(got, tc.want) {
				t.Errorf("missing %q in:\n%s", tc.want, got)
			}
		})
	}
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad) + "\n"
}

// TestTrialCountOverflow checks that a product past 2^63 is refused, not
// wrapped.
func TestTrialCountOverflow(t *testing.T) {
	s := &Suite{Cases: []*Case{{ID: "a"}}}
	vals := make([]any, 1<<16)
	for range 5 {
		s.Grid = append(s.Grid, GridAxis{Values: vals})
	}
	if n, ok := trialCount(s); ok {
		t.Fatalf("trialCount = %d, want overflow", n)
	}
}

// TestLoadInputFiles covers the rules for every file a suite reads.
func TestLoadInputFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	suite := func(t *testing.T, from string) string {
		p := filepath.Join(dir, "s.yaml")
		src := limitsHead + "casesFrom: {file: " + from + ", format: jsonl, prompt: hi}\n"
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("PROMPTGRID_TEST_SECRET", "s3cr3t-value-never-printed")
	for _, tc := range []struct {
		name, from string
		opts       LoadOptions
		want       string
	}{
		{"device", "../../../../../../dev/zero", LoadOptions{AllowOutside: true}, "not a regular file (a character device)"},
		{"FIFO does not hang", "fifo.jsonl", LoadOptions{}, "not a regular file (a FIFO)"},
		{"outside the suite dir", "../../../../etc/passwd", LoadOptions{}, "--allow-outside-suite-dir"},
		{"environ outside", "../../../../proc/self/environ", LoadOptions{}, "outside the suite's directory"},
		{"environ allowed is still not text", "../../../../../../proc/self/environ", LoadOptions{AllowOutside: true}, "not a text file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := loadErr(t, suite(t, tc.from), tc.opts)
			if !strings.Contains(got, tc.want) {
				t.Errorf("missing %q in:\n%s", tc.want, got)
			}
			if strings.Contains(got, "s3cr3t") || strings.Contains(got, "root:") {
				t.Errorf("error quotes the file:\n%s", got)
			}
		})
	}
}

// TestInputFileTooBig checks the size limit.
func TestInputFileTooBig(t *testing.T) {
	big := "# " + strings.Repeat("x", MaxInputFileBytes) + "\n"
	p := writeSuite(t, limitsHead+"include: big.yaml\ncases: [{id: a, prompt: hi}]\n", "big.yaml", big)
	if got := loadErr(t, p, LoadOptions{}); !strings.Contains(got, "more than the limit of 8388608") {
		t.Errorf("include: got:\n%s", got)
	}
	// casesFrom data files are streamed, under their own limit.
	defer func(n int64) { dataFileLimit = n }(dataFileLimit)
	dataFileLimit = 1000
	p = writeSuite(t, limitsHead+"casesFrom: {file: big.jsonl, prompt: hi}\n", "big.jsonl", strings.Repeat("{}\n", 334))
	if got := loadErr(t, p, LoadOptions{}); !strings.Contains(got, "1002 bytes, more than the limit of 1000") {
		t.Errorf("casesFrom: got:\n%s", got)
	}
}

// TestCasesFromRowBound checks that a data file with more rows than a
// suite may have trials stops being read there, instead of building
// every case first.
func TestCasesFromRowBound(t *testing.T) {
	defer func(n int) { maxRows = n }(maxRows)
	maxRows = 10
	p := writeSuite(t, limitsHead+"casesFrom: {file: d.jsonl, prompt: hi}\n", "d.jsonl", strings.Repeat("{}\n", 11))
	if got := loadErr(t, p, LoadOptions{}); !strings.Contains(got, "more than 10 rows") {
		t.Errorf("got:\n%s", got)
	}
}

// TestHashCoversSchemaFile is issue 10 point 7: editing a schema file the
// suite reads changes Suite.Hash.
func TestHashCoversSchemaFile(t *testing.T) {
	src := limitsHead + "cases:\n  - id: a\n    prompt: hi\n    checks: [{jsonSchema: s.json}]\n"
	p := writeSuite(t, src, "s.json", `{"type": "object"}`)
	h1 := mustLoad(t, p).Hash
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "s.json"), []byte(`{"type": "array"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if h2 := mustLoad(t, p).Hash; h1 == h2 {
		t.Errorf("hash %s did not change when the schema file changed", h1)
	}
}

// TestSnippetIsShort checks that a problem quotes at most a short window
// of a long data line.
func TestSnippetIsShort(t *testing.T) {
	long := `{"a": 1, "b": "` + strings.Repeat("x", 5000) + `", oops}`
	p := writeSuite(t, limitsHead+"casesFrom: {file: d.jsonl, prompt: hi}\n", "d.jsonl", long+"\n")
	got := loadErr(t, p, LoadOptions{})
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "    ") && len(l) > maxSnippetRunes+20 {
			t.Errorf("line of %d bytes in the error: %.80s...", len(l), l)
		}
	}
}

// TestSuiteFileBound is issue 13: the suite file may be larger than the
// files it reads (MaxSuiteFileBytes, not MaxInputFileBytes), and past its
// own bound it is a problem at its first line.
func TestSuiteFileBound(t *testing.T) {
	pad := "# " + strings.Repeat("x", MaxInputFileBytes) + "\n"
	p := writeSuite(t, pad+limitsHead+"cases: [{id: a, prompt: hi}]\n")
	if s, err := Load(p); err != nil || s.NumCases() != 1 {
		t.Fatalf("a suite of %d bytes: %v", MaxInputFileBytes+len(pad), err)
	}
	pad = "# " + strings.Repeat("x", MaxSuiteFileBytes) + "\n"
	p = writeSuite(t, pad+limitsHead+"cases: [{id: a, prompt: hi}]\n")
	got := loadErr(t, p, LoadOptions{})
	if want := "suite.yaml:1:1: the suite file is " + itoa(int64(len(pad)+len(limitsHead)+29)) + " bytes, more than the limit of 33554432 (32 MiB)"; !strings.Contains(got, want) {
		t.Errorf("missing %q in:\n%.500s", want, got)
	}
}

// TestPlainNodesNotCounted is issue 13: a file's own nodes, however many,
// are not an alias expansion (its size bounds them).
func TestPlainNodesNotCounted(t *testing.T) {
	items := strings.Repeat("1,", MaxYAMLExpandedNodes+10) + "1"
	p := writeSuite(t, limitsHead+"cases:\n  - id: a\n    prompt: hi\n    vars: {x: ["+items+"]}\n")
	if _, err := Load(p); err != nil {
		t.Fatalf("%d plain nodes: %.500v", MaxYAMLExpandedNodes+10, err)
	}
}

// TestAliasExpansionBound checks that the nodes aliases add are bounded
// on their own, in a file big enough for the ratio not to catch them.
func TestAliasExpansionBound(t *testing.T) {
	list := "[" + strings.Repeat("1,", 999) + "1]"
	var b strings.Builder
	b.WriteString(limitsHead + "cases:\n  - id: a\n    prompt: hi\n    vars:\n      a: &a " + list + "\n      plain: [" + strings.Repeat("2,", 130_000) + "2]\n      b: [")
	for range 1100 {
		b.WriteString("*a,")
	}
	b.WriteString("*a]\n")
	p := writeSuite(t, b.String())
	if got := loadErr(t, p, LoadOptions{}); !strings.Contains(got, "aliases add more than 1000000 nodes to this file once expanded") {
		t.Errorf("got:\n%.500s", got)
	}
}
