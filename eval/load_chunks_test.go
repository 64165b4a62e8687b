package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// loadSummary loads path with chunked parsing allowed or not and describes
// the result: the problems, or what the suite and each case hold.
func loadSummary(t *testing.T, path string, chunked bool) (string, bool) {
	t.Helper()
	s, whole, err := loadSuite(path, LoadOptions{}, chunked)
	if whole {
		return "", true
	}
	if err != nil {
		var ps *Problems
		if errors.As(err, &ps) {
			return "problems:\n" + ps.Error(), false
		}
		return "error: " + err.Error(), false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %v %v %v %d\n", s.Name, s.Model, s.Hash, s.Request, s.Seeds, s.Pass, s.NumCases())
	for _, c := range s.Cases {
		fmt.Fprintf(&b, "%s %s:%d %q %q %v %q %v %v %v %+v %d", c.ID, c.File, c.Line, c.Prompt, c.Description, c.Tags, c.SystemPrompt, c.Vars, c.Request, c.Pass, c.Messages, len(c.Checks))
		for _, k := range c.Checks {
			fmt.Fprintf(&b, " %T", k)
		}
		b.WriteByte('\n')
	}
	return b.String(), false
}

// sameChunked checks that loading path a chunk at a time gives what
// loading it whole does, and reports whether the chunked load was kept
// (not abandoned for the whole file).
func sameChunked(t *testing.T, path string) bool {
	t.Helper()
	want, _ := loadSummary(t, path, false)
	got, whole := loadSummary(t, path, true)
	if whole {
		return false
	}
	if src, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	} else if _, cc := splitCases(src); cc == nil {
		whole = true // not cut: loaded whole the first time
	}
	if got != want {
		t.Errorf("%s: chunked load differs from the whole one\nchunked:\n%.3000s\nwhole:\n%.3000s", path, got, want)
	}
	return !whole
}

func smallChunks(t *testing.T, per int) {
	t.Helper()
	b, p := chunkedSuiteBytes, casesPerChunk
	chunkedSuiteBytes, casesPerChunk = 0, per
	t.Cleanup(func() { chunkedSuiteBytes, casesPerChunk = b, p })
}

// TestChunkedLoadShippedSuites loads every suite of the repository a
// chunk at a time and whole: the cases and problems are the same.
func TestChunkedLoadShippedSuites(t *testing.T) {
	var paths []string
	for _, g := range []string{"../suites/*.yaml", "testdata/suites/*.yaml", "testdata/hostile/*.yaml"} {
		m, _ := filepath.Glob(g)
		paths = append(paths, m...)
	}
	for _, per := range []int{1, 2, 1000} {
		smallChunks(t, per)
		kept := 0
		for _, p := range paths {
			if sameChunked(t, p) {
				kept++
			}
		}
		if kept < 5 {
			t.Errorf("%d cases a chunk: only %d of %d suites were loaded a chunk at a time", per, kept, len(paths))
		}
	}
}

// TestChunkedLoadShapes covers the shapes of a cases list the cut must
// handle or give up on; either way the result is the whole file's.
func TestChunkedLoadShapes(t *testing.T) {
	smallChunks(t, 2)
	for _, tc := range []struct {
		name, src string
		chunked   bool // the chunked load is kept
	}{
		{"plain", limitsHead + "cases:\n  - id: a\n    prompt: hi\n  - id: b\n    prompt: ho\n    checks: [{contains: x}, {regex: '^[A-Z]'}]\n  - id: c\n    prompt: hu\n", true},
		{"indentless list, comments, key after", limitsHead + "cases:   # the cases\n# first\n- id: a\n  prompt: hi\n\n  # inside\n- id: b\n  prompt: |\n    - not an item\n    x: y\n# after\n- id: c\n  prompt: \"two\n    lines\"\nrepeat: 2\n", true},
		{"block scalar with a dash line", limitsHead + "cases:\n  - id: a\n    prompt: |\n      line\n      - dash\n  - id: b\n    prompt: hi\n", true},
		{"problems in chunks", limitsHead + "cases:\n  - id: a\n    prompt: hi\n    promt: x\n  - id: a\n    prompt: hi\n  - id: c\n    prompt: hi\n    prompt: again\n  - id: d\n    checks: [{contians: x}]\n", true},
		{"duplicate id across chunks", limitsHead + "cases:\n  - id: a\n    prompt: hi\n  - id: b\n    prompt: hi\n  - id: c\n    prompt: hi\n  - id: a\n    prompt: hi\n", true},
		{"syntax error in a chunk", limitsHead + "cases:\n  - id: a\n    prompt: hi\n  - id: b\n    prompt: [hi\n  - id: c\n    prompt: hi\n", false},
		{"alias into the list", limitsHead + "request: &r {settings: {maxTokens: 5}}\ncases:\n  - id: a\n    prompt: hi\n    request: *r\n", false},
		{"anchor in the list", limitsHead + "cases:\n  - &x {id: a, prompt: hi}\n  - id: b\n    prompt: hi\n    vars: {v: *x}\n", false},
		{"quoted string across an item line", limitsHead + "cases:\n  - id: a\n    prompt: \"hi\n  - id: b\"\n  - id: c\n    prompt: hi\n", false},
		{"flow list", limitsHead + "cases:\n  [{id: a, prompt: hi}]\n", false},
		{"two cases keys", limitsHead + "cases:\n  - id: a\n    prompt: hi\ncases:\n  - id: b\n    prompt: hi\n", false},
		{"CRLF", strings.ReplaceAll(limitsHead+"cases:\n  - id: a\n    prompt: hi\n", "\n", "\r\n"), false},
		{"second document", limitsHead + "cases:\n  - id: a\n    prompt: hi\n---\nname: y\n", false},
		{"tab indentation", limitsHead + "cases:\n  - id: a\n\tprompt: hi\n", false},
		{"unknown key beside the list", limitsHead + "nmae: x\ncases:\n  - id: a\n    prompt: hi\n", true},
		{"duplicate key beside the list", limitsHead + "name: y\ncases:\n  - id: a\n    prompt: hi\n", false},
		{"flow mapping at the top", "{name: x, model: m,\ncases:\n  - id: a\n    prompt: hi\n}\n", false},
		{"misindented item", limitsHead + "cases:\n  - id: a\n    prompt: hi\n - id: b\n   prompt: hi\n", false},
		{"deep nesting", limitsHead + "cases:\n  - id: a\n    prompt: hi\n    vars: {x: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeSuite(t, tc.src)
			if kept := sameChunked(t, p); kept != tc.chunked {
				t.Errorf("chunked load kept: %v, want %v", kept, tc.chunked)
			}
		})
	}
}

// inlineSuite is a suite of n inline cases, each with two checks.
func inlineSuite(n int) string {
	var b strings.Builder
	b.WriteString("name: inline\nmodel: moonshotai:kimi@k2.6\nrequest: {settings: {maxTokens: 64}}\nseeds: {count: 1, base: 1}\ncases:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: c-%d\n    prompt: \"What is the capital of Country%d?\"\n    checks: [{contains: City%d}, {regex: '^[A-Z]'}]\n", i, i, i)
	}
	return b.String()
}

// peakHeap runs f and returns the most heap its objects took at once,
// sampled every millisecond, with the collector run often (GOGC 20) so
// that garbage does not hide what stays reachable.
func peakHeap(f func()) float64 {
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	<-stopped
	return float64(peak-min(peak, base)) / (1 << 20)
}

// TestChunkedLoadHeap is issue 13: a suite of many inline cases loads in
// far less memory than its whole node tree (about 2 KB a case).
func TestChunkedLoadHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 20,000-case suite")
	}
	const n = 20_000
	p := writeSuite(t, inlineSuite(n))
	load := func(chunked bool) func() {
		return func() {
			s, whole, err := loadSuite(p, LoadOptions{}, chunked)
			if err != nil || whole || s.NumCases() != n {
				t.Fatalf("chunked %v: whole %v, err %v", chunked, whole, err)
			}
		}
	}
	whole, chunked := peakHeap(load(false)), peakHeap(load(true))
	t.Logf("peak heap loading %d cases: %.1f MB whole, %.1f MB a chunk at a time", n, whole, chunked)
	if chunked > whole/2 {
		t.Errorf("loading a chunk at a time peaked at %.1f MB, more than half of %.1f MB (whole)", chunked, whole)
	}
}

// FuzzChunkedLoad checks that loading a suite a chunk at a time gives
// what loading it whole does, whatever the file.
func FuzzChunkedLoad(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(limitsHead + "cases:\n- id: a\n  prompt: |\n    - x\n# c\n- id: b\n  prompt: hi\n  checks: [{contains: a}]\nrepeat: 2\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		b, per := chunkedSuiteBytes, casesPerChunk
		chunkedSuiteBytes, casesPerChunk = 0, 2
		defer func() { chunkedSuiteBytes, casesPerChunk = b, per }()
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		sameChunked(t, p)
	})
}

// parseAhead hands the chunks over in file order whatever order their
// parallel parses end in, and a walk stopped early (a chunk that failed
// its checks) leaves no parse running once stop returns.
func TestParseAheadInOrderAndStops(t *testing.T) {
	smallChunks(t, 3)
	var src strings.Builder
	src.WriteString("name: s\nmodel: m\ncases:\n")
	for i := range 40 {
		fmt.Fprintf(&src, "  - {id: c%d, prompt: p}\n", i)
	}
	_, cc := splitCases([]byte(src.String()))
	if cc == nil {
		t.Fatal("the list was not cut")
	}
	synctest.Test(t, func(t *testing.T) {
		next, stop := cc.parseAhead(4)
		id := 0
		for {
			seq, ok := next()
			if !ok {
				break
			}
			for _, it := range seq.Content {
				if got := it.Content[1].Value; got != fmt.Sprintf("c%d", id) {
					t.Fatalf("item %d is %s", id, got)
				}
				id++
			}
		}
		stop()
		if id != 40 {
			t.Fatalf("%d items, want 40", id)
		}
		next, stop = cc.parseAhead(4)
		next()
		stop() // synctest fails the test if a parse outlives it
	})
}
