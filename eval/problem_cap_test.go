package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProblemsCapped protects the bound on reported problems: a suite
// with 10,000 invalid tool names lists the first MaxProblemsPerFile by
// position, then one line counting the rest, and Total counts them all.
// Problems found out of position order (duplicate keys are found before
// the tools) still leave the earliest ones listed.
func TestProblemsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: x\nmodel: moonshotai:kimi@k2.6\nrequest:\n  tools:\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "  - {type: function, name: 'bad %d', schema: {}}\n", i)
	}
	b.WriteString("cases:\n  - id: a\n    prompt: hi\n    checks:\n")
	for i := range 300 {
		fmt.Fprintf(&b, "      - toolCall: 'bad %d'\n", i)
	}
	b.WriteString("name: again\n") // a duplicate key, found first, at the end
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v", err)
	}
	if len(ps.List) != MaxProblemsPerFile+1 {
		t.Fatalf("%d problems listed, want %d", len(ps.List), MaxProblemsPerFile+1)
	}
	for i, p := range ps.List[:MaxProblemsPerFile] {
		if p.Line != 5+i || !strings.Contains(p.Msg, fmt.Sprintf(`tool name "bad %d"`, i)) {
			t.Errorf("problem %d = %v, want the tool at line %d", i, p, 5+i)
		}
	}
	want := 10000 + 300 + 1
	last := ps.List[MaxProblemsPerFile]
	if wantMsg := fmt.Sprintf("and %d more problems in this file", want-MaxProblemsPerFile); !strings.Contains(last.Msg, wantMsg) || last.Line != 0 {
		t.Errorf("last = %v, want %q", last, wantMsg)
	}
	if ps.Total != want {
		t.Errorf("Total = %d, want %d", ps.Total, want)
	}
}

// TestToolCallName checks that a toolCall naming what no tool can be
// called is a problem at the name.
func TestToolCallName(t *testing.T) {
	for _, src := range []string{"toolCall: 'bad name!'", "toolCall: {name: 'a.b'}", "toolCall: " + strings.Repeat("x", 65), "toolCall: " + strings.Repeat("y", 5000)} {
		_, probs := CompileCheck(parseNode(t, src), "s.yaml")
		if len(probs) != 1 || !strings.Contains(probs[0].Msg, "is not a tool name") || len(probs[0].Msg) > 300 {
			t.Errorf("%.80s: %v", src, probs)
		}
	}
	if _, probs := CompileCheck(parseNode(t, "toolCall: get_weather-2"), "s.yaml"); len(probs) > 0 {
		t.Errorf("valid name: %v", probs)
	}
}
