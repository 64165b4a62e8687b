package eval

import (
	"fmt"
	"math"
	"math/bits"

	"go.yaml.in/yaml/v4"
)

// Bounds on what a suite may ask of the loader. A suite comes from a pull
// request and is untrusted: each bound turns an input that would exhaust
// memory, time or the stack into a problem at file:line:col. docs/security.md
// lists them with the measurements behind them.
const (
	// MaxYAMLDepth is the deepest nesting of mappings and lists a YAML file
	// may have, counting through aliases.
	MaxYAMLDepth = 64
	// MaxYAMLAliases is how many aliases (*name) one YAML file may use.
	MaxYAMLAliases = 10_000
	// MaxYAMLExpandedNodes is how many nodes the aliases of a YAML file may
	// add when each is expanded in place (an alias to a list of 10 adds
	// 10). The file's own nodes are not counted: the parser has built them
	// already, and the file's size bounds them (MaxSuiteFileBytes).
	MaxYAMLExpandedNodes = 1_000_000
	// MaxYAMLExpansionRatio is how many times larger than the file's own
	// node count its alias expansion may be, once past
	// minRatioCheckedNodes expanded nodes (aliases for small shared
	// settings stay free).
	MaxYAMLExpansionRatio = 10
	// MaxTrials is how many trials (cases x grid cells x variants x seeds x
	// repeats) a suite may expand to; past it the suite is refused before
	// anything is allocated.
	MaxTrials = 1_000_000
)

// minRatioCheckedNodes is the expanded size below which the expansion
// ratio is not checked.
const minRatioCheckedNodes = 10_000

// nodeSize is the expanded size and height of a YAML subtree.
type nodeSize struct {
	nodes  int64 // nodes once aliases are expanded (saturating)
	height int   // deepest nesting below and including the node
}

// yamlBounds measures one parsed YAML file against the limits above. Only
// anchored nodes (the targets of aliases) are remembered: the walk reaches
// every other node once, so a file of a million plain nodes costs no map.
type yamlBounds struct {
	probs    []Problem
	file     string
	memo     map[*yaml.Node]nodeSize // anchored nodes measured
	active   map[*yaml.Node]bool     // anchored nodes being measured: an alias to one is a cycle
	aliases  int
	parsed   int64 // the file's own nodes (aliases not counted)
	added    int64 // nodes the aliases add, expanded (saturating)
	failed   bool
	worst    *yaml.Node // the alias with the largest expansion
	worstLen int64
}

// checkYAMLBounds reports a self-containing alias, nesting past
// MaxYAMLDepth, too many aliases, or an alias expansion past
// MaxYAMLExpandedNodes or MaxYAMLExpansionRatio. It returns false when the
// tree must not be walked further (its expansion is unbounded or too big).
func (l *loader) checkYAMLBounds(root *yaml.Node, file string) bool {
	probs := yamlBoundsProblems(root, file)
	for _, p := range probs {
		l.add(p)
	}
	return len(probs) == 0
}

// yamlBoundsProblems is checkYAMLBounds for any parsed YAML file (a suite,
// an include, a schema file); at most one problem is returned.
func yamlBoundsProblems(root *yaml.Node, file string) []Problem {
	b := &yamlBounds{file: file, memo: map[*yaml.Node]nodeSize{}, active: map[*yaml.Node]bool{}}
	sz := b.walk(root, 1)
	if b.failed {
		return b.probs
	}
	if b.aliases > MaxYAMLAliases {
		b.errf(b.worst, "this file uses %d aliases, more than the limit of %d: write the values out, or split the suite with include", b.aliases, MaxYAMLAliases)
		return b.probs
	}
	if b.added > MaxYAMLExpandedNodes {
		b.errf(b.worst, "aliases add more than %d nodes to this file once expanded (the limit is %d; this alias alone expands to %d): an alias bomb? write the values out instead of nesting aliases", MaxYAMLExpandedNodes, MaxYAMLExpandedNodes, b.worstLen)
		return b.probs
	}
	if sz.nodes > minRatioCheckedNodes && sz.nodes > MaxYAMLExpansionRatio*b.parsed {
		b.errf(b.worst, "aliases expand this file %d times (from %d to %d nodes; the limit is %d times): write the values out instead of nesting aliases", sz.nodes/max(b.parsed, 1), b.parsed, sz.nodes, MaxYAMLExpansionRatio)
	}
	return b.probs
}

func (b *yamlBounds) errf(n *yaml.Node, format string, args ...any) {
	p := Problem{File: b.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	b.probs = append(b.probs, p)
	b.failed = true
}

// walk returns n's expanded size, reporting the first cycle or the first
// node nested deeper than MaxYAMLDepth (depth is n's own depth).
func (b *yamlBounds) walk(n *yaml.Node, depth int) nodeSize {
	if n == nil || b.failed {
		return nodeSize{}
	}
	if depth > MaxYAMLDepth {
		b.errf(n, "nesting deeper than %d levels: flatten this value (the limit bounds the loader's stack and time)", MaxYAMLDepth)
		return nodeSize{}
	}
	if n.Kind == yaml.AliasNode {
		b.aliases++
		t := n.Alias
		if t == nil {
			return nodeSize{nodes: 1, height: 1}
		}
		if b.active[t] {
			b.errf(n, "alias *%s refers to the value that contains it, so it never ends: refer to a value defined outside it", n.Value)
			return nodeSize{}
		}
		sz, ok := b.memo[t]
		if !ok {
			// The anchor is being reached through an alias before (or
			// instead of) its definition: measure it here.
			// (An alias's target is anchored in a parsed file; remember
			// it even when not, so that no target is measured twice.)
			b.active[t] = true
			sz = b.measure(t, depth)
			delete(b.active, t)
			if b.failed {
				return nodeSize{}
			}
			b.memo[t] = sz
		} else if depth-1+sz.height > MaxYAMLDepth {
			b.errf(n, "alias *%s nests its value deeper than %d levels here: flatten it", n.Value, MaxYAMLDepth)
			return nodeSize{}
		}
		b.added = satAdd(b.added, sz.nodes)
		if sz.nodes > b.worstLen || b.worst == nil {
			b.worst, b.worstLen = n, sz.nodes
		}
		return sz
	}
	b.parsed++
	if n.Anchor != "" {
		if sz, ok := b.memo[n]; ok {
			return sz
		}
	}
	return b.measure(n, depth)
}

// measure sums n's children (n is not an alias). An anchored n is marked
// active while it is measured, so that an alias inside it to n itself is
// a cycle, and remembered after.
func (b *yamlBounds) measure(n *yaml.Node, depth int) nodeSize {
	if n.Anchor != "" {
		b.active[n] = true
		defer delete(b.active, n)
	}
	sz := nodeSize{nodes: 1, height: 1}
	for _, c := range n.Content {
		cs := b.walk(c, depth+1)
		if b.failed {
			return nodeSize{}
		}
		sz.nodes = satAdd(sz.nodes, cs.nodes)
		sz.height = max(sz.height, cs.height+1)
	}
	if n.Anchor != "" {
		b.memo[n] = sz
	}
	return sz
}

// satAdd adds two non-negative counts, saturating at MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// mulCount multiplies two non-negative counts, reporting overflow of int64.
func mulCount(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// trialCount is cases x cells x variants x seeds x repeats, computed with
// overflow checks; ok is false past MaxTrials (or int64). Each factor
// counts at least 1, as in Expand.
func trialCount(s *Suite) (n int64, ok bool) {
	factors := []int64{int64(s.NumCases()), int64(max(len(s.Variants), 1)), int64(max(len(s.Seeds), 1)), int64(max(s.Repeat, 1))}
	for _, ax := range s.Grid {
		factors = append(factors, int64(len(ax.Values)))
	}
	n = 1
	for _, f := range factors {
		if n, ok = mulCount(n, f); !ok || n > MaxTrials {
			return 0, false
		}
	}
	return n, true
}

// checkTrialCount reports a suite whose expansion passes MaxTrials, at the
// grid (the usual cause) or else at the top of the file.
func (l *loader) checkTrialCount(s *Suite, root *yaml.Node) {
	if _, ok := trialCount(s); ok {
		return
	}
	at := root
	if g := keyNode(root, "grid"); g != nil {
		at = g
	}
	cells := int64(1)
	over := false
	for _, ax := range s.Grid {
		var ok bool
		if cells, ok = mulCount(cells, int64(len(ax.Values))); !ok {
			over = true
			break
		}
	}
	size := fmt.Sprintf("%d grid cells", cells)
	if over {
		size = "more than 2^63 grid cells"
	}
	l.errf(at, "the suite expands to more than %d trials (%d cases x %s x %d variants x %d seeds x %d repeats): shrink the grid or split the suite", MaxTrials, s.NumCases(), size, max(len(s.Variants), 1), max(len(s.Seeds), 1), max(s.Repeat, 1))
}
