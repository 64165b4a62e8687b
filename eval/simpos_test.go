package eval

import (
	"path/filepath"
	"testing"
)

// TestSimPositions: the loader records where each sim entry and each of its
// keys (nested ones by dotted path) are, so that a bad scenario can be
// reported as file:line:col; At falls back to the nearest enclosing key,
// then to the entry.
func TestSimPositions(t *testing.T) {
	path := writeSuite(t, `name: s
model: m
cases: [{id: a, prompt: hi}]
sim:
  - name: first
    match: {contains: hi}
    pCorrect:
      none: 1
  - {answer: yes, pCorrect: 1}
`)
	s := mustLoad(t, path)
	if len(s.SimPos) != 2 || len(s.Sim) != 2 {
		t.Fatalf("%d positions for %d entries, want 2 and 2", len(s.SimPos), len(s.Sim))
	}
	for _, tc := range []struct {
		entry     int
		path      string
		line, col int
	}{
		{0, "", 5, 5},                // the entry itself: its first key
		{0, "match.contains", 6, 23}, // a nested key's value
		{0, "pCorrect", 8, 7},        // a block mapping starts at its first key
		{0, "pCorrect.none", 8, 13},  // a nested scalar
		{0, "match.regex", 6, 12},    // absent: the enclosing key's value
		{1, "pCorrect", 9, 29},       // flow style
		{1, "ttft", 9, 5},            // absent at the top: the entry
	} {
		got := s.SimPos[tc.entry].At(tc.path)
		if got.File != path || got.Line != tc.line || got.Col != tc.col {
			t.Errorf("entry %d %q at %s:%d:%d, want %s:%d:%d", tc.entry, tc.path, filepath.Base(got.File), got.Line, got.Col, filepath.Base(path), tc.line, tc.col)
		}
	}
	// The key itself, for a message about the key.
	if got := s.SimPos[1].KeyNames["pCorrect"]; got.Line != 9 || got.Col != 19 {
		t.Errorf("key pCorrect of entry 2 at %d:%d, want 9:19", got.Line, got.Col)
	}
}
