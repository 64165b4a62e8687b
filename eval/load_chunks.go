package eval

import (
	"bytes"
	"io"
	"runtime"
	"sync"

	"go.yaml.in/yaml/v4"
)

// A big suite file's inline cases are parsed a chunk at a time. The YAML
// parser builds a whole file's node tree at once, about 160 bytes a node
// (100,000 short cases are 1.3 million nodes, 210 MB), so the loader cuts
// the block list under a top-level `cases:` key out of the text at its
// item lines, parses the rest of the file (the skeleton, the list's lines
// left blank so that every line keeps its number), and parses the list
// casesPerChunk items at a time while compiling them, each chunk's tree
// dropped once its cases are built.
//
// The cut is checked, never trusted: the skeleton must hold `cases:` with
// no value where the cut was, and each chunk must parse alone, as a block
// list of exactly the items the cut found, without anchors, aliases or
// nesting past MaxYAMLDepth. Anything else (a file with an alias, a tag
// directive, CRLF line ends, a problem in the skeleton, a chunk that does
// not parse) makes Load parse the whole file again the usual way, so that
// its problems and its cases are those of the whole file.

// chunkedSuiteBytes is the suite file size from which its cases are
// parsed in chunks; tests lower it. From about 1,500 short cases on, the
// chunks parsed in parallel load the file faster (10,000 cases: 0.09 s of
// wall time, was 0.14 s) as well as in less memory.
var chunkedSuiteBytes = 128 << 10

// casesPerChunk is how many cases one chunk holds; tests lower it.
var casesPerChunk = 1000

// caseChunks is the cases list cut out of a suite file.
type caseChunks struct {
	src     []byte
	keyLine int        // the line of `cases:`
	indent  int        // the items' indentation
	starts  []int      // byte offset of each item's first line
	lines   []int      // and its line number
	end     int        // byte offset just past the list
	seq     *yaml.Node // the list in the skeleton's tree; its items are in the chunks
	failed  bool       // a check failed: parse the whole file
}

// splitCases cuts the block list of a top-level `cases:` key out of src,
// returning the skeleton and the list, or nil when src has no such list or
// is a file the cut does not handle.
func splitCases(src []byte) ([]byte, *caseChunks) {
	if bytes.HasPrefix(src, []byte("\xEF\xBB\xBF")) || bytes.IndexByte(src, '\r') >= 0 {
		return nil, nil
	}
	cc := &caseChunks{src: src, end: -1}
	const (
		beforeKey = iota
		beforeItem
		inList
		after
	)
	state := beforeKey
	line := 1
	for off := 0; off < len(src); line++ {
		next := len(src)
		if i := bytes.IndexByte(src[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		ln := bytes.TrimSuffix(src[off:next], []byte("\n"))
		k := 0
		for k < len(ln) && ln[k] == ' ' {
			k++
		}
		blank := k == len(ln) || ln[k] == '#' || len(bytes.Trim(ln, " \t")) == 0
		switch state {
		case beforeKey:
			if isCasesKey(ln) {
				cc.keyLine, state = line, beforeItem
			}
		case beforeItem:
			if blank {
				break
			}
			if !isItemLine(ln, k) {
				return nil, nil
			}
			cc.indent, state = k, inList
			cc.starts, cc.lines = append(cc.starts, off), append(cc.lines, line)
		case inList:
			if blank {
				break
			}
			if ln[k] == '\t' || k == 0 && (bytes.HasPrefix(ln, []byte("---")) || bytes.HasPrefix(ln, []byte("...")) || ln[0] == '%') {
				return nil, nil
			}
			if k > cc.indent {
				break
			}
			if k == cc.indent && isItemLine(ln, k) {
				cc.starts, cc.lines = append(cc.starts, off), append(cc.lines, line)
				break
			}
			cc.end, state = off, after
		case after:
			if isCasesKey(ln) {
				return nil, nil
			}
		}
		off = next
	}
	switch state {
	case beforeKey, beforeItem:
		return nil, nil
	case inList:
		cc.end = len(src)
	}
	first := cc.starts[0]
	sk := make([]byte, 0, first+bytes.Count(src[first:cc.end], []byte("\n"))+len(src)-cc.end)
	sk = append(sk, src[:first]...)
	for range bytes.Count(src[first:cc.end], []byte("\n")) {
		sk = append(sk, '\n')
	}
	sk = append(sk, src[cc.end:]...)
	return sk, cc
}

// isCasesKey reports whether ln is `cases:` at the start of the line with
// nothing after it but a comment.
func isCasesKey(ln []byte) bool {
	rest, ok := bytes.CutPrefix(ln, []byte("cases:"))
	if !ok {
		return false
	}
	if len(rest) > 0 && rest[0] != ' ' {
		return false
	}
	rest = bytes.TrimLeft(rest, " ")
	return len(rest) == 0 || rest[0] == '#'
}

// isItemLine reports whether ln, indented by k spaces, starts a block
// list item ("- " or a lone "-").
func isItemLine(ln []byte, k int) bool {
	return k < len(ln) && ln[k] == '-' && (k+1 == len(ln) || ln[k+1] == ' ')
}

// attach puts the list into the skeleton's tree in place of the empty
// value of `cases:`, reporting whether the skeleton is the one the cut
// expects: a block mapping at the top with that key, at its line, with no
// value.
func (cc *caseChunks) attach(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode || root.Style&yaml.FlowStyle != 0 || root.Column != 1 {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "cases" {
			continue
		}
		if k.Kind != yaml.ScalarNode || k.Line != cc.keyLine || k.Column != 1 || v.Kind != yaml.ScalarNode || v.Tag != "!!null" || v.Value != "" || v.Anchor != "" {
			return false
		}
		cc.seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: cc.lines[0], Column: cc.indent + 1}
		root.Content[i+1] = cc.seq
		return true
	}
	return false
}

// chunkCases loads the cases of the list chunk by chunk, dropping each
// chunk's tree once its cases are built; a chunk that fails its checks
// sets failed and ends the walk. Chunks are parsed ahead, in parallel
// (parseAhead), while the cases of the one before are built.
func (l *loader) chunkCases(s *Suite, ids map[string]*yaml.Node) {
	cc := l.chunks
	next, stop := cc.parseAhead(chunkWorkers())
	defer stop()
	for {
		seq, ok := next()
		if !ok {
			return
		}
		if seq == nil {
			cc.failed = true
			return
		}
		l.checkDuplicates(seq)
		for i, it := range seq.Content {
			if c := l.loadCase(it, s, nil); c != nil {
				l.addCase(s, c, it, ids)
			}
			seq.Content[i] = nil
		}
	}
}

// chunkWorkers is how many chunks are parsed at once: the YAML parse is
// most of a big suite's load, and the chunks parse alone.
func chunkWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }

// parseAhead parses the list's chunks in order with up to workers
// goroutines, at most workers+1 parsed chunks waiting: next returns each
// chunk's list (nil: it failed its checks) in order, false after the last;
// stop (call it once, when done with next) waits for the parses under way.
func (cc *caseChunks) parseAhead(workers int) (next func() (*yaml.Node, bool), stop func()) {
	n := (len(cc.starts) + casesPerChunk - 1) / casesPerChunk
	out := make([]chan *yaml.Node, n)
	for k := range out {
		out[k] = make(chan *yaml.Node, 1)
	}
	slots := make(chan struct{}, workers+1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := range n {
			select {
			case slots <- struct{}{}:
			case <-done:
				return
			}
			from := k * casesPerChunk
			to := min(from+casesPerChunk, len(cc.starts))
			wg.Go(func() { out[k] <- cc.parse(from, to) })
		}
	})
	k := 0
	next = func() (*yaml.Node, bool) {
		if k == n {
			return nil, false
		}
		seq := <-out[k]
		out[k] = nil
		k++
		<-slots
		return seq, true
	}
	stop = func() {
		close(done)
		wg.Wait()
	}
	return next, stop
}

// parse parses items from to to (exclusive) of the list, giving each node
// its line in the file; nil when the chunk fails a check.
func (cc *caseChunks) parse(from, to int) *yaml.Node {
	end := cc.end
	if to < len(cc.starts) {
		end = cc.starts[to]
	}
	dec := yaml.NewDecoder(bytes.NewReader(cc.src[cc.starts[from]:end]))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	var second yaml.Node
	if err := dec.Decode(&second); err != io.EOF {
		return nil
	}
	if len(doc.Content) != 1 {
		return nil
	}
	seq := doc.Content[0]
	if seq.Kind != yaml.SequenceNode || seq.Style != 0 || seq.Tag != "!!seq" || seq.Anchor != "" || seq.Column != cc.indent+1 || len(seq.Content) != to-from {
		return nil
	}
	shift := cc.lines[from] - 1
	for i, it := range seq.Content {
		if !plainNode(it, 3, shift) || it.Line != cc.lines[from+i] {
			return nil
		}
	}
	return seq
}

// plainNode moves n and its subtree down by shift lines, reporting whether
// it has no anchor, no alias and no node deeper than MaxYAMLDepth (depth
// is n's depth in the file).
func plainNode(n *yaml.Node, depth, shift int) bool {
	if depth > MaxYAMLDepth || n.Kind == yaml.AliasNode || n.Anchor != "" {
		return false
	}
	n.Line += shift
	for _, c := range n.Content {
		if !plainNode(c, depth+1, shift) {
			return false
		}
	}
	return true
}
