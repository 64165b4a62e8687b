package eval

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// loader walks the YAML node tree of a suite, collecting every problem
// instead of stopping at the first.
type loader struct {
	path    string                // the suite file, as the user named it
	fileOf  map[*yaml.Node]string // nodes that come from an included file
	files   *inputFiles           // every file the suite reads, bounded and hashed
	sources map[string][]byte     // files.sources
	// probs keeps at most MaxProblemsPerFile problems per file, the
	// earliest by position; nprobs counts every problem found and
	// perFile the problems of each file (see add).
	probs   []Problem
	nprobs  int
	perFile map[string]int
	opts    LoadOptions
	// rowSets are the casesFrom entries read so far, and rowIDs the
	// hashes of their case ids (for duplicates).
	rowSets []*rowSet
	rowIDs  []idEntry
	// checkCache holds the compiled checks of template check nodes that
	// hold no template; frozen loaders (forks) only read it.
	checkCache map[*yaml.Node]cachedCheck
	frozen     bool
	// agentCache is checkCache for agent nodes (agent.go); suiteAgent is
	// the suite's agent mapping, the default of every case.
	agentCache map[*yaml.Node]cachedAgent
	suiteAgent *yaml.Node
	// variantNodes holds, per variant (in Suite.Variants order), the nodes
	// of its template fields, so that a case's vars can be checked against
	// them and problems point at the variant.
	variantNodes []map[string]*yaml.Node
	// chunked lets the suite file's cases be parsed in chunks, and chunks
	// is its cases list when they are (load_chunks.go).
	chunked bool
	chunks  *caseChunks
}

// file names the file a node comes from.
func (l *loader) file(n *yaml.Node) string {
	if f, ok := l.fileOf[n]; ok {
		return f
	}
	return l.path
}

// errf records a problem at a node's position.
func (l *loader) errf(n *yaml.Node, format string, args ...any) {
	p := Problem{File: l.path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.File, p.Line, p.Col = l.file(n), n.Line, n.Column
	}
	l.add(p)
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// kindName names a node's type the way a user thinks of it.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a string"
	}
	return "a document"
}

// field is one key/value pair of a mapping.
type field struct {
	key, val *yaml.Node
}

// fields returns the pairs of a mapping whose keys are known; it reports a
// non-mapping node and unknown keys (with a suggestion). Duplicate keys are
// reported once per file by checkDuplicates.
func (l *loader) fields(n *yaml.Node, what string, known []string) ([]field, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		l.errf(n, "%s must be a mapping; got %s", what, kindName(n))
		return nil, false
	}
	out := make([]field, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if !contains(known, k.Value) {
			l.errf(k, "unknown key %q in %s%s", k.Value, what, suggest(k.Value, known))
			continue
		}
		out = append(out, field{k, v})
	}
	return out, true
}

// checkDuplicates reports every key that appears twice in one mapping,
// anywhere in the tree.
func (l *loader) checkDuplicates(n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, ok := seen[k.Value]; ok {
				l.errf(k, "duplicate key %q (first defined at line %d)", k.Value, first.Line)
			} else {
				seen[k.Value] = k
			}
		}
	}
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, c := range n.Content {
		l.checkDuplicates(c)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns ` (did you mean "x"?)` for the closest known word, or ""
// when nothing is close.
func suggest(got string, known []string) string {
	best, bestD := "", math.MaxInt
	for _, k := range known {
		d := editDistance(strings.ToLower(got), strings.ToLower(k))
		if d < bestD {
			best, bestD = k, d
		}
	}
	limit := max(2, len(got)/3)
	if best == "" || bestD > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// isNull reports whether a node is an explicit null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// str reads a string scalar. Numbers and booleans are rejected so that a
// value like `no` or `1.0` is not silently taken as text.
func (l *loader) str(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		l.errf(n, "%s must be a string; got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// text reads a scalar as text, accepting numbers and booleans as written
// (for ids, tags and template variables where `42` means "42").
func (l *loader) text(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		l.errf(n, "%s must be a string; got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// integer reads an integer scalar.
func (l *loader) integer(n *yaml.Node, what string) (int64, bool) {
	n = deref(n)
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		l.errf(n, "%s must be an integer; got %s", what, kindName(n))
		return 0, false
	}
	return v, true
}

// number reads an integer or float scalar.
func (l *loader) number(n *yaml.Node, what string) (float64, bool) {
	n = deref(n)
	var v float64
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(&v) != nil {
		l.errf(n, "%s must be a number; got %s", what, kindName(n))
		return 0, false
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		l.errf(n, "%s must be a finite number; got %s", what, n.Value)
		return 0, false
	}
	return v, true
}

// boolean reads a boolean scalar.
func (l *loader) boolean(n *yaml.Node, what string) (bool, bool) {
	n = deref(n)
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		l.errf(n, "%s must be true or false; got %s", what, kindName(n))
		return false, false
	}
	return v, true
}

// list returns the items of a sequence node.
func (l *loader) list(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		l.errf(n, "%s must be a list; got %s", what, kindName(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, true
}

// stringList reads a list of strings.
func (l *loader) stringList(n *yaml.Node, what string) ([]string, bool) {
	items, ok := l.list(n, what)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := l.text(it, what+" entries")
		if ok {
			out = append(out, s)
		}
	}
	return out, len(out) == len(items)
}

// value converts a node to a JSON-shaped Go value: map[string]any, []any,
// string, int64, float64, bool or nil.
func value(n *yaml.Node) any {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = value(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = value(c)
		}
		return s
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			return value(n.Content[0])
		}
		return nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return i
		}
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	}
	return n.Value
}

// sortedKeys lists a map's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
