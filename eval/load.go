package eval

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"
)

// DefaultModel is the model of the starter suites: Kimi K2.6's AIR id.
const DefaultModel = "moonshotai:kimi@k2.6"

// topKeys are the keys of a suite file.
var topKeys = []string{
	"name", "description", "include", "model", "request", "transport", "systemPrompt",
	"grid", "variants", "seeds", "numberResults", "repeat", "cases", "casesFrom",
	"pass", "pricing", "limits", "sim", "agent",
}

// Load reads, validates and returns the suite at path. When the suite has
// problems the error is a *Problems listing every one of them with its
// file:line:col; other errors are I/O errors reading the suite itself.
//
// Load applies the default LoadOptions: every file the suite reads must be
// inside the suite file's directory tree.
func Load(path string) (*Suite, error) {
	return LoadWithOptions(path, LoadOptions{})
}

// LoadWithOptions is Load with options (see LoadOptions).
func LoadWithOptions(path string, opts LoadOptions) (*Suite, error) {
	s, whole, err := loadSuite(path, opts, true)
	if whole {
		s, _, err = loadSuite(path, opts, false)
	}
	return s, err
}

// loadSuite is LoadWithOptions. With chunked, a big suite file's cases are
// parsed a chunk at a time (load_chunks.go); whole is true when that was
// abandoned and the file must be loaded again without.
func loadSuite(path string, opts LoadOptions, chunked bool) (s *Suite, whole bool, err error) {
	files := newInputFiles(path, opts)
	l := &loader{path: path, fileOf: map[*yaml.Node]string{}, files: files, sources: files.sources, opts: opts,
		checkCache: map[*yaml.Node]cachedCheck{}, agentCache: map[*yaml.Node]cachedAgent{}, chunked: chunked}
	root, err := l.parseFile(path, nil)
	if err != nil {
		return nil, false, err
	}
	if l.chunks != nil && (l.chunks.failed || l.nprobs > 0) {
		return nil, true, nil
	}
	if root != nil {
		root = l.resolveIncludes(root, path, []string{path})
	}
	if root != nil {
		s = l.suite(root)
		if l.chunks != nil && l.chunks.failed {
			return nil, true, nil
		}
		if l.nprobs == 0 {
			l.checkOpenAI(s)
		}
		if l.nprobs == 0 {
			l.checkTrialCount(s, root)
		}
	}
	if l.nprobs > 0 {
		return nil, false, l.problems()
	}
	h := sha256.New()
	for _, x := range l.files.hashes {
		h.Write([]byte(x))
	}
	s.Hash = hex.EncodeToString(h.Sum(nil))[:16]
	return s, false, nil
}

// problems returns the collected problems in file order: the suite first,
// then other files in the order they were read, each by line and column.
func (l *loader) problems() *Problems {
	order := map[string]int{}
	i := 0
	for _, p := range l.probs {
		if _, ok := order[p.File]; !ok {
			order[p.File] = i
			i++
		}
	}
	if _, ok := order[l.path]; ok {
		order[l.path] = -1
	}
	list := append([]Problem(nil), l.probs...)
	sort.SliceStable(list, func(a, b int) bool {
		pa, pb := list[a], list[b]
		if pa.File != pb.File {
			return order[pa.File] < order[pb.File]
		}
		if pa.Line != pb.Line {
			return pa.Line < pb.Line
		}
		return pa.Col < pb.Col
	})
	list = dedupe(list)
	// One line per file that had more problems than were kept, after its
	// last kept one.
	out := make([]Problem, 0, len(list)+len(order))
	for i, p := range list {
		out = append(out, p)
		if i+1 < len(list) && list[i+1].File == p.File {
			continue
		}
		shown := 0
		for _, q := range list {
			if q.File == p.File {
				shown++
			}
		}
		if more := l.perFile[p.File] - shown; more > 0 {
			out = append(out, Problem{File: p.File, Msg: fmt.Sprintf("and %d more %s in this file (only the first %d are listed; fix these and validate again)", more, pluralWord(more, "problem"), MaxProblemsPerFile)})
		}
	}
	total := 0
	for _, n := range l.perFile {
		total += n
	}
	return &Problems{List: out, Total: total, Sources: l.sources, lines: l.dataLines(out)}
}

// dataLines reads back the lines that problems in streamed data files
// point at (at most MaxProblemsPerFile per file), each cut to a window
// around its column, for the snippet under the problem.
func (l *loader) dataLines(list []Problem) map[string]map[int]string {
	want := map[string]map[int]int{}
	for _, p := range list {
		if _, ok := l.sources[p.File]; ok || p.Line <= 0 || !l.files.streamed[p.File] && !l.isDataFile(p.File) {
			continue
		}
		if want[p.File] == nil {
			want[p.File] = map[int]int{}
		}
		want[p.File][p.Line] = max(want[p.File][p.Line], p.Col)
	}
	out := map[string]map[int]string{}
	for file, lines := range want {
		fh, _, err := l.files.open(file, dataFileLimit)
		if err != nil {
			continue
		}
		br := bufio.NewReaderSize(&textReader{r: fh}, 64<<10)
		got := map[int]string{}
		for n := 1; len(got) < len(lines); n++ {
			line, _, _, err := readLine(br, nil)
			if err != nil {
				break
			}
			if col, ok := lines[n]; ok {
				// Enough past the column for snippet's window (columns
				// count from the line's start, so the start stays).
				end := min(len(line), col+4*maxSnippetRunes)
				got[n] = strings.ToValidUTF8(string(line[:end]), "?")
			}
		}
		fh.Close()
		out[file] = got
	}
	return out
}

// isDataFile reports whether file is a casesFrom data file of the suite.
func (l *loader) isDataFile(file string) bool {
	for _, rs := range l.rowSets {
		if rs.path == file {
			return true
		}
	}
	return false
}

// pluralWord is word, with an s unless n is 1.
func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// dedupe drops identical problems (a shared node reported through two
// paths, e.g. an alias).
func dedupe(list []Problem) []Problem {
	out := list[:0]
	seen := map[Problem]bool{}
	for _, p := range list {
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// readFile reads a file the suite depends on under the rules of
// inputFiles, remembering its bytes for carets and for the suite hash.
func (l *loader) readFile(path string) ([]byte, error) {
	return l.files.read(path)
}

// parseFile reads and parses a YAML file into its top-level mapping. An
// unreadable suite file is an I/O error; an unreadable included file is a
// problem at the include (from). YAML syntax errors are problems.
func (l *loader) parseFile(path string, from *yaml.Node) (*yaml.Node, error) {
	var src []byte
	var err error
	if from == nil {
		src, err = l.files.readMax(path, MaxSuiteFileBytes)
	} else {
		src, err = l.readFile(path)
	}
	if err != nil {
		var big *tooBigError
		if from == nil && errors.As(err, &big) {
			// A limit, not an I/O error: a problem like the others.
			size := "more than " + itoa(big.limit) + " bytes"
			if big.size > 0 {
				size = itoa(big.size) + " bytes, more than the limit of " + itoa(big.limit)
			}
			l.add(Problem{File: path, Line: 1, Col: 1, Msg: "the suite file is " + size + " (" + itoa(MaxSuiteFileBytes>>20) + " MiB): split it into several suites, or move its cases to a casesFrom data file (streamed, up to 1 GiB)"})
			return nil, nil
		}
		if from == nil {
			return nil, fmt.Errorf("reading suite: %w", err)
		}
		l.errf(from, "cannot read included file: %v", unwrapPathErr(err))
		return nil, nil
	}
	if from == nil && l.chunked && len(src) >= chunkedSuiteBytes {
		if sk, cc := splitCases(src); cc != nil {
			l.chunks, src = cc, sk
		}
	}
	doc, ok := l.parseYAML(path, src)
	if !ok {
		return nil, nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		l.add(Problem{File: path, Line: 1, Col: 1, Msg: "the file is empty: a suite needs at least a name, a model and cases"})
		return nil, nil
	}
	root := doc.Content[0]
	if !l.checkYAMLBounds(root, path) {
		return nil, nil
	}
	if from != nil {
		l.markFile(root, path)
	}
	l.checkDuplicates(root)
	if root.Kind != yaml.MappingNode {
		l.errf(root, "a suite file must be a mapping of keys (name, model, cases, ...); got %s", kindName(root))
		return nil, nil
	}
	if from == nil && l.chunks != nil && !l.chunks.attach(root) {
		l.chunks.failed = true
	}
	return root, nil
}

// parseYAML parses exactly one YAML document, reporting a syntax error or
// a second document (which would otherwise be silently ignored).
func (l *loader) parseYAML(path string, src []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		l.yamlErr(path, src, err)
		return nil, false
	}
	var second yaml.Node
	err := dec.Decode(&second)
	if err == io.EOF {
		return &doc, true
	}
	p := Problem{File: path, Msg: "a second YAML document (after ---): a suite file holds exactly one document; remove the --- line or move the rest to its own file"}
	var le *yaml.LoadError
	switch {
	case err == nil:
		p.Line, p.Col = second.Line, second.Column
	case errors.As(err, &le):
		p.Line, p.Col = le.Mark.Line, le.Mark.Column
	}
	l.add(p)
	return nil, false
}

// yamlErr records a YAML parse error.
func (l *loader) yamlErr(path string, src []byte, err error) {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		l.add(syntaxProblem(path, src, le))
	} else {
		l.add(Problem{File: path, Msg: "YAML syntax error: " + err.Error()})
	}
}

// syntaxProblem places a YAML syntax error where the parser noticed it, and
// names the construct it concerns (an unclosed bracket or quote, a
// mapping) with where that started.
func syntaxProblem(path string, src []byte, le *yaml.LoadError) Problem {
	p := Problem{File: path, Line: le.Mark.Line, Col: le.Mark.Column, Msg: "YAML syntax error: " + le.Message}
	cm := le.ContextMark
	if le.ContextMsg != "" && cm.Line > 0 && (cm.Line < p.Line || (cm.Line == p.Line && cm.Column < p.Col)) {
		p.Msg += fmt.Sprintf(" %s that starts at line %d, column %d", le.ContextMsg, cm.Line, cm.Column)
	}
	if line, ok := sourceLine(src, p.Line); ok && p.Col >= 1 && p.Col <= len(line) && line[p.Col-1] == '\t' {
		p.Msg += " (YAML does not allow tabs for indentation)"
	}
	return p
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// markFile records that every node under n comes from file.
func (l *loader) markFile(n *yaml.Node, file string) {
	if n == nil {
		return
	}
	l.fileOf[n] = file
	for _, c := range n.Content {
		l.markFile(c, file)
	}
}

// resolveIncludes merges the files named by `include:` under root: included
// files give defaults, the including file overrides them key by key
// (mappings merge recursively, everything else is replaced). Paths are
// relative to the including file.
func (l *loader) resolveIncludes(root *yaml.Node, path string, stack []string) *yaml.Node {
	inc := lookup(root, "include")
	if inc == nil {
		return root
	}
	var names []*yaml.Node
	switch inc.Kind {
	case yaml.ScalarNode:
		names = []*yaml.Node{inc}
	case yaml.SequenceNode:
		names = inc.Content
	default:
		l.errf(inc, "include must be a file name or a list of file names; got %s", kindName(inc))
		return root
	}
	var base *yaml.Node
	for _, nn := range names {
		name, ok := l.str(nn, "include")
		if !ok {
			continue
		}
		p := filepath.Join(filepath.Dir(path), name)
		if contains(stack, p) {
			l.errf(nn, "include cycle: %s", strings.Join(append(stack, p), " -> "))
			continue
		}
		sub, err := l.parseFile(p, nn)
		if err != nil || sub == nil {
			continue
		}
		for _, k := range []string{"cases", "casesFrom"} {
			if c := keyNode(sub, k); c != nil {
				l.errf(c, "an included file gives shared defaults; %s belong in the suite itself", k)
			}
		}
		sub = l.resolveIncludes(sub, p, append(stack, p))
		base = l.mergeNodes(base, sub)
	}
	return l.mergeNodes(base, l.withoutKey(root, "include"))
}

// keyNode returns the key node (not the value) of key in a mapping.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

func (l *loader) withoutKey(n *yaml.Node, key string) *yaml.Node {
	out := *n
	out.Content = nil
	if f, ok := l.fileOf[n]; ok {
		l.fileOf[&out] = f
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			out.Content = append(out.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &out
}

// mergeNodes overlays over on base: mappings merge key by key, recursively;
// any other value in over replaces base's.
func (l *loader) mergeNodes(base, over *yaml.Node) *yaml.Node {
	if base == nil {
		return over
	}
	if over == nil {
		return base
	}
	b, o := deref(base), deref(over)
	if b.Kind != yaml.MappingNode || o.Kind != yaml.MappingNode {
		return over
	}
	out := *o
	out.Content = nil
	if f, ok := l.fileOf[o]; ok {
		l.fileOf[&out] = f
	}
	idx := map[string]int{}
	for i := 0; i+1 < len(b.Content); i += 2 {
		idx[b.Content[i].Value] = len(out.Content)
		out.Content = append(out.Content, b.Content[i], b.Content[i+1])
	}
	for i := 0; i+1 < len(o.Content); i += 2 {
		k := o.Content[i].Value
		if j, ok := idx[k]; ok {
			out.Content[j] = o.Content[i]
			out.Content[j+1] = l.mergeNodes(out.Content[j+1], o.Content[i+1])
			continue
		}
		idx[k] = len(out.Content)
		out.Content = append(out.Content, o.Content[i], o.Content[i+1])
	}
	return &out
}
