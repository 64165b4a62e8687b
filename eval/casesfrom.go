package eval

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// MaxDataFileBytes bounds a casesFrom data file. Data files are streamed
// row by row, never held whole, so the bound is far above
// MaxInputFileBytes; one row (a JSONL line, a CSV record) is at most
// MaxInputFileBytes.
const MaxDataFileBytes = 1 << 30

// dataFileLimit is MaxDataFileBytes; tests lower it.
var dataFileLimit int64 = MaxDataFileBytes

// maxRows is how many rows the data files of a suite may have together:
// MaxTrials, since every case is at least one trial. Tests lower it.
var maxRows = MaxTrials

// errTooManyRows stops reading a data file past maxRows.
func errTooManyRows() error {
	return fmt.Errorf("more than %d rows: a suite expands to at most %d trials; split the file", maxRows, MaxTrials)
}

// rowsSoFar is how many rows the data files read so far have.
func (l *loader) rowsSoFar() int {
	n := 0
	for _, rs := range l.rowSets {
		n += rs.scanned
	}
	return n
}

// casesFrom entries name a data file whose rows become cases through a case
// template: the entry's other keys are a case whose strings are templates
// over the row's fields (and the template's vars). The id defaults to
// "<file name>-<row>".
//
//	casesFrom:
//	  file: data/capitals.csv      # .csv (header row) or .jsonl (one object per line)
//	  id: "capital-{{.country}}"
//	  prompt: "What is the capital of {{.country}}?"
//	  checks: [{contains: "{{.capital}}"}]
//
// The loader streams the file: each row is built into a case and validated
// as it is read, and what is kept of it is its offset in the file (with
// LoadOptions.CompactCases) or the case (without). A compact case is built
// again from its row when it is asked for (Suite.AllCases, ExpandSeq).
func (l *loader) loadCasesFrom(n *yaml.Node, s *Suite, ids map[string]*yaml.Node) {
	var entries []*yaml.Node
	switch n.Kind {
	case yaml.MappingNode:
		entries = []*yaml.Node{n}
	case yaml.SequenceNode:
		entries, _ = l.list(n, "casesFrom")
	default:
		l.errf(n, "casesFrom must be a mapping with a file and a case template (or a list of them); got %s", kindName(n))
		return
	}
	for _, e := range entries {
		if e.Kind != yaml.MappingNode {
			l.errf(e, "a casesFrom entry must be a mapping with a file and a case template; got %s", kindName(e))
			continue
		}
		fileNode := lookup(e, "file")
		if fileNode == nil {
			l.errf(e, "casesFrom needs a file (a .jsonl or .csv data file)")
			l.fields(e, "casesFrom", append([]string{"file", "format"}, caseKeys...))
			continue
		}
		name, ok := l.str(fileNode, "casesFrom.file")
		if !ok {
			continue
		}
		format := strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
		if fn := lookup(e, "format"); fn != nil {
			if f, ok := l.str(fn, "casesFrom.format"); ok {
				format = f
			}
		}
		if format != "jsonl" && format != "csv" {
			at := fileNode
			if fn := lookup(e, "format"); fn != nil {
				at = fn
			}
			l.errf(at, "casesFrom format must be jsonl or csv (from the file extension or format:); got %q", format)
			continue
		}
		path := filepath.Join(filepath.Dir(l.file(e)), name)
		rs := &rowSet{l: l, s: s, entry: e, path: path, jsonl: format == "jsonl",
			base: strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)), hasID: lookup(e, "id") != nil}
		if err := l.scanRowSet(rs, ids); err != nil {
			l.errf(fileNode, "cannot read casesFrom file %s: %v", path, unwrapPathErr(err))
			continue
		}
		if rs.scanned == 0 {
			l.errf(fileNode, "casesFrom file %s has no rows", path)
			continue
		}
		if l.opts.CompactCases {
			s.rowSets = append(s.rowSets, rs)
		}
	}
}

// rowSet is the rows of one casesFrom entry: for each valid row, where it
// is in the data file, its line and its row number.
type rowSet struct {
	l       *loader // the suite's loader, read-only once Load returns
	s       *Suite
	entry   *yaml.Node // the case template
	path    string
	jsonl   bool
	header  []string // CSV field names
	base    string   // file name without extension, for default ids
	hasID   bool
	offsets []int64
	lines   []int32
	rows    []int32
	scanned int // rows read, valid or not
	// keep, when non-nil, lists the indices Filter kept.
	keep []int32
	// size and mtime are the file's when loaded: a file that changed
	// since is refused when its cases are built again.
	size  int64
	mtime time.Time
}

// count is how many cases the set yields.
func (rs *rowSet) count() int {
	if rs.keep != nil {
		return len(rs.keep)
	}
	return len(rs.offsets)
}

// idEntry is the hash of a casesFrom case id and where it is: a row of a
// set. Ids are checked for duplicates once every data file is read, by
// sorting these (16 bytes per row, where a map of the ids took ten times
// that).
type idEntry struct {
	hash     uint64
	set, idx int32
}

// checkRowIDs reports every casesFrom case whose id an earlier one has, at
// the later row. Equal hashes are confirmed by building both cases again.
func (l *loader) checkRowIDs() {
	e := l.rowIDs
	slices.SortFunc(e, func(a, b idEntry) int {
		return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.set, b.set), cmp.Compare(a.idx, b.idx))
	})
	for i := 0; i < len(e); {
		j := i + 1
		for j < len(e) && e[j].hash == e[i].hash {
			j++
		}
		if j-i > 1 {
			l.reportDuplicates(e[i:j])
		}
		i = j
	}
	l.rowIDs = nil
}

// reportDuplicates reports the rows of run (equal id hashes, in file
// order) whose id an earlier row of the run has.
func (l *loader) reportDuplicates(run []idEntry) {
	firsts := map[string]idEntry{}
	for _, e := range run {
		rs := l.rowSets[e.set]
		c, err := rs.caseAt(nil, int(e.idx))
		if err != nil {
			continue
		}
		first, dup := firsts[c.ID]
		if !dup {
			firsts[c.ID] = e
			continue
		}
		frs := l.rowSets[first.set]
		l.add(Problem{File: rs.path, Line: int(rs.lines[e.idx]), Col: 1,
			Msg: fmt.Sprintf("row %d: duplicate case id %q (first defined at %s:%d)", rs.rows[e.idx], c.ID, frs.path, frs.lines[first.idx])})
	}
}

// scanRowSet streams the data file of rs, hashing it for Suite.Hash,
// building and validating the case of every row. An error is about the
// file as a whole (unreadable, not text, too big); problems in rows are
// recorded at their line.
func (l *loader) scanRowSet(rs *rowSet, ids map[string]*yaml.Node) error {
	fh, fi, err := l.files.open(rs.path, dataFileLimit)
	if err != nil {
		return err
	}
	defer fh.Close()
	rs.size, rs.mtime = fi.Size(), fi.ModTime()
	l.rowSets = append(l.rowSets, rs)
	setIdx := int32(len(l.rowSets) - 1)
	h := sha256.New()
	tr := &textReader{r: io.TeeReader(io.LimitReader(fh, dataFileLimit+1), h)}
	before := l.perFile[rs.path]
	idsBefore, casesBefore := len(l.rowIDs), len(rs.s.Cases)
	if rs.jsonl {
		err = l.scanJSONL(rs, setIdx, tr, ids)
	} else {
		err = l.scanCSV(rs, setIdx, tr, ids)
	}
	if err == nil && tr.n > dataFileLimit {
		err = fmt.Errorf("the file is more than %d bytes: split it", dataFileLimit)
	}
	if err != nil {
		// Nothing of a file that is refused as a whole is quoted: drop the
		// problems its rows had.
		l.dropFileProblems(rs.path, before)
		l.rowIDs, rs.s.Cases = l.rowIDs[:idsBefore], rs.s.Cases[:casesBefore]
		rs.offsets, rs.lines, rs.rows = nil, nil, nil
		return err
	}
	if !l.files.streamed[rs.path] {
		l.files.streamed[rs.path] = true
		var sum [sha256.Size]byte
		h.Sum(sum[:0])
		l.files.addHash(rs.path, sum)
	}
	return nil
}

// dropFileProblems forgets the problems recorded for file since it had
// before of them.
func (l *loader) dropFileProblems(file string, before int) {
	out := l.probs[:0]
	for _, p := range l.probs {
		if p.File != file {
			out = append(out, p)
		}
	}
	l.probs = out
	if l.perFile != nil {
		l.nprobs -= l.perFile[file] - before
		l.perFile[file] = before
	}
}

// textReader passes bytes through, failing with errNotText at a NUL byte
// or invalid UTF-8, and counts them.
type textReader struct {
	r    io.Reader
	n    int64
	tail []byte // an incomplete rune at the end of the last read
}

func (t *textReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	b := p[:n]
	if bytes.IndexByte(b, 0) >= 0 {
		return 0, errNotText
	}
	if len(t.tail) > 0 {
		b = append(t.tail, b...)
		t.tail = nil
	}
	// Keep back an incomplete rune at the end for the next read.
	cut := len(b)
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(b[:cut]) {
		return 0, errNotText
	}
	if cut < len(b) {
		t.tail = append([]byte(nil), b[cut:]...)
	}
	if err == io.EOF && len(t.tail) > 0 {
		return 0, errNotText
	}
	return n, err
}

// readLine reads one line (without its newline) from br, at most
// MaxInputFileBytes; a longer line is returned cut, with long set.
func readLine(br *bufio.Reader, buf []byte) (line []byte, size int, long bool, err error) {
	buf = buf[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		size += len(chunk)
		if len(buf)+len(chunk) <= MaxInputFileBytes {
			buf = append(buf, chunk...)
		} else {
			long = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil || (err == io.EOF && size > 0) {
			buf = bytes.TrimSuffix(buf, []byte("\n"))
			return bytes.TrimSuffix(buf, []byte("\r")), size, long, nil
		}
		return nil, size, long, err
	}
}

// scanJSONL reads one JSON object per non-empty line. A goroutine reads
// and decodes the lines a few batches ahead of the one building the cases
// (decoding is a third of the work per row); problems and cases are
// recorded in file order by the calling goroutine only.
func (l *loader) scanJSONL(rs *rowSet, setIdx int32, r io.Reader, ids map[string]*yaml.Node) error {
	batches := make(chan []jsonlItem, 4)
	result := make(chan jsonlResult, 1)
	go readJSONL(r, rs.path, maxRows-l.rowsSoFar(), batches, result)
	for batch := range batches {
		for i := range batch {
			it := &batch[i]
			rs.scanned = it.row
			if it.prob != nil {
				l.add(*it.prob)
				continue
			}
			l.rowCase(rs, setIdx, &rowCtx{file: rs.path, row: it.row, line: it.line, fields: it.fields}, it.off, ids)
		}
	}
	res := <-result
	rs.scanned = res.rows
	return res.err
}

// jsonlItem is one row of a JSONL file: its fields, or its problem.
type jsonlItem struct {
	off       int64
	line, row int
	fields    map[string]any
	prob      *Problem
}

type jsonlResult struct {
	rows int
	err  error
}

// readJSONL reads and decodes the rows of a JSONL file into batches,
// stopping past limit rows, then closes batches and sends the result.
func readJSONL(r io.Reader, path string, limit int, batches chan<- []jsonlItem, result chan<- jsonlResult) {
	res := jsonlResult{}
	defer func() {
		close(batches)
		result <- res
	}()
	const batchSize = 256
	batch := make([]jsonlItem, 0, batchSize)
	flush := func() {
		if len(batch) > 0 {
			batches <- batch
			batch = make([]jsonlItem, 0, batchSize)
		}
	}
	defer flush()
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	var buf []byte
	for lineNo := 1; ; lineNo++ {
		line, size, long, err := readLine(br, buf)
		if err == io.EOF {
			return
		}
		if err != nil {
			res.err = err
			return
		}
		buf = line[:0]
		start := off
		off += int64(size)
		if len(bytes.TrimSpace(line)) == 0 && !long {
			continue
		}
		res.rows++
		if res.rows > limit {
			res.err = errTooManyRows()
			return
		}
		it := jsonlItem{off: start, line: lineNo, row: res.rows}
		if long {
			it.prob = &Problem{File: path, Line: lineNo, Col: 1, Msg: fmt.Sprintf("row %d: the line is more than %d bytes: a row must be shorter", res.rows, MaxInputFileBytes)}
		} else if fields, p := jsonRow(line); p != nil {
			p.File, p.Line, p.Msg = path, lineNo, fmt.Sprintf("row %d: %s", res.rows, p.Msg)
			it.prob = p
		} else {
			it.fields = fields
		}
		batch = append(batch, it)
		if len(batch) == batchSize {
			flush()
		}
	}
}

// jsonRow decodes a row's line: one JSON object (numbers as json.Number).
// The problem, if any, has its column and message set.
func jsonRow(line []byte) (map[string]any, *Problem) {
	if obj, ok := flatJSONRow(line); ok {
		return obj, nil
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	if err == nil && d.More() {
		err = errors.New("more than one JSON value on the line")
	}
	if err != nil {
		col := 1
		var se *json.SyntaxError
		if errors.As(err, &se) {
			col = int(se.Offset)
		}
		return nil, &Problem{Col: max(col, 1), Msg: fmt.Sprintf("malformed JSON: %v", err)}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &Problem{Col: 1, Msg: "each line must be a JSON object of case fields"}
	}
	return obj, nil
}

// scanCSV reads a CSV file whose first line names the fields.
func (l *loader) scanCSV(rs *rowSet, setIdx int32, r io.Reader, ids map[string]*yaml.Node) error {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if errors.Is(err, errNotText) {
		return err
	}
	if err != nil {
		l.csvErr(rs.path, 0, err)
		rs.scanned = 1 // not "no rows": the header is the problem
		return nil
	}
	seen := map[string]bool{}
	for i, h := range header {
		_, col := cr.FieldPos(i)
		switch {
		case strings.TrimSpace(h) == "":
			l.add(Problem{File: rs.path, Line: 1, Col: col, Msg: fmt.Sprintf("CSV header: column %d has no name", i+1)})
		case seen[h]:
			l.add(Problem{File: rs.path, Line: 1, Col: col, Msg: fmt.Sprintf("CSV header: duplicate column %q", h)})
		}
		seen[h] = true
	}
	rs.header = append([]string(nil), header...)
	for row := 1; ; row++ {
		start := cr.InputOffset()
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, errNotText) {
			return err
		}
		rs.scanned++
		if l.rowsSoFar() > maxRows {
			return errTooManyRows()
		}
		if err != nil {
			l.csvErr(rs.path, row, err)
			if errors.Is(err, csv.ErrFieldCount) {
				continue
			}
			return nil
		}
		line, _ := cr.FieldPos(0)
		l.rowCase(rs, setIdx, &rowCtx{file: rs.path, row: row, line: line, fields: csvFields(rs.header, rec)}, start, ids)
	}
}

func csvFields(header, rec []string) map[string]any {
	fields := make(map[string]any, len(header))
	for i, h := range header {
		fields[h] = rec[i]
	}
	return fields
}

func (l *loader) csvErr(path string, row int, err error) {
	var pe *csv.ParseError
	p := Problem{File: path, Msg: fmt.Sprintf("malformed CSV: %v", err)}
	if errors.As(err, &pe) {
		p.Line, p.Col = pe.Line, pe.Column
		p.Msg = fmt.Sprintf("malformed CSV: %v", pe.Err)
		if errors.Is(err, csv.ErrFieldCount) {
			p.Line, p.Col = pe.StartLine, 1
			p.Msg = "wrong number of fields: every row needs one value per header column"
		}
	}
	if row > 0 {
		p.Msg = fmt.Sprintf("row %d: %s", row, p.Msg)
	}
	l.add(p)
}

// idSeed hashes case ids for the duplicate check of casesFrom rows, which
// keeps 8 bytes per id instead of the id.
var idSeed = maphash.MakeSeed()

// buildRowCase builds the case of a row: the template's case with the
// row's fields as vars, and the default id.
func (l *loader) buildRowCase(rs *rowSet, r *rowCtx) *Case {
	c := l.loadCase(rs.entry, rs.s, r, "file", "format")
	if c != nil && !rs.hasID {
		c.ID = fmt.Sprintf("%s-%d", rs.base, r.row)
	}
	return c
}

// rowCase builds and validates the case of a row read at offset off, and
// records it: its id (a duplicate is a problem at the row), its place in
// the file and, without CompactCases, the case itself.
func (l *loader) rowCase(rs *rowSet, setIdx int32, r *rowCtx, off int64, ids map[string]*yaml.Node) {
	c := l.buildRowCase(rs, r)
	if c == nil || c.ID == "" {
		return
	}
	if first, dup := ids[c.ID]; dup {
		where := ""
		if first != nil {
			where = fmt.Sprintf(" (first defined at %s:%d)", l.file(first), first.Line)
		}
		l.rowErr(r, "duplicate case id %q%s", c.ID, where)
		return
	}
	l.rowIDs = append(l.rowIDs, idEntry{hash: maphash.String(idSeed, c.ID), set: setIdx, idx: int32(len(rs.offsets))})
	rs.offsets = append(rs.offsets, off)
	rs.lines = append(rs.lines, int32(r.line))
	rs.rows = append(rs.rows, int32(r.row))
	if !l.opts.CompactCases {
		rs.s.Cases = append(rs.s.Cases, c)
	}
}

// rowReader reads rows of a set's data file by offset, in any order
// (forward reads are sequential).
type rowReader struct {
	rs  *rowSet
	f   *os.File
	br  *bufio.Reader
	pos int64
	buf []byte
}

// openRows opens the set's data file, refusing one that changed since the
// suite was loaded (its cases would not be the ones validated).
func (rs *rowSet) openRows() (*rowReader, error) {
	fh, fi, err := rs.l.files.open(rs.path, dataFileLimit)
	if err != nil {
		return nil, fmt.Errorf("casesFrom file %s: %v", rs.path, unwrapPathErr(err))
	}
	if fi.Size() != rs.size || !fi.ModTime().Equal(rs.mtime) {
		fh.Close()
		return nil, fmt.Errorf("casesFrom file %s changed since the suite was loaded: load the suite again", rs.path)
	}
	return &rowReader{rs: rs, f: fh, br: bufio.NewReaderSize(fh, 64<<10)}, nil
}

func (r *rowReader) Close() error { return r.f.Close() }

// fields reads the row at offset off.
func (r *rowReader) fields(off int64) (map[string]any, error) {
	rs := r.rs
	if !rs.jsonl {
		cr := csv.NewReader(io.NewSectionReader(r.f, off, rs.size-off))
		cr.FieldsPerRecord = -1
		rec, err := cr.Read()
		if err != nil || len(rec) != len(rs.header) {
			return nil, fmt.Errorf("casesFrom file %s changed since the suite was loaded (the row at byte %d does not read back): load the suite again", rs.path, off)
		}
		return csvFields(rs.header, rec), nil
	}
	if off < r.pos || off-r.pos > 1<<20 {
		if _, err := r.f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
		r.br.Reset(r.f)
		r.pos = off
	}
	if _, err := r.br.Discard(int(off - r.pos)); err != nil {
		return nil, fmt.Errorf("casesFrom file %s: %v", rs.path, err)
	}
	line, size, long, err := readLine(r.br, r.buf)
	r.pos = off + int64(size)
	if err != nil || long {
		return nil, fmt.Errorf("casesFrom file %s changed since the suite was loaded (the row at byte %d does not read back): load the suite again", rs.path, off)
	}
	r.buf = line[:0]
	fields, p := jsonRow(line)
	if p != nil {
		return nil, fmt.Errorf("casesFrom file %s changed since the suite was loaded (row at byte %d: %s): load the suite again", rs.path, off, p.Msg)
	}
	return fields, nil
}

// caseAt builds the case of the set's row i again, reading through r (a
// fresh reader when r is nil).
func (rs *rowSet) caseAt(r *rowReader, i int) (*Case, error) {
	if r == nil {
		var err error
		if r, err = rs.openRows(); err != nil {
			return nil, err
		}
		defer r.Close()
	}
	fields, err := r.fields(rs.offsets[i])
	if err != nil {
		return nil, err
	}
	lc := rs.l.fork()
	c := lc.buildRowCase(rs, &rowCtx{file: rs.path, row: int(rs.rows[i]), line: int(rs.lines[i]), fields: fields})
	if lc.nprobs > 0 || c == nil {
		msg := "the case does not build"
		if len(lc.probs) > 0 {
			msg = lc.probs[0].String()
		}
		return nil, fmt.Errorf("casesFrom file %s row %d: %s", rs.path, rs.rows[i], msg)
	}
	return c, nil
}

// first builds the set's first case (of those Filter kept).
func (rs *rowSet) first() (*Case, error) {
	i := 0
	if rs.keep != nil {
		i = int(rs.keep[0])
	}
	return rs.caseAt(nil, i)
}

// each yields the set's cases (those Filter kept) in file order.
func (rs *rowSet) each(yield func(*Case, error) bool) bool {
	n := rs.count()
	if n == 0 {
		return true
	}
	r, err := rs.openRows()
	if err != nil {
		return yield(nil, err)
	}
	defer r.Close()
	for k := range n {
		i := k
		if rs.keep != nil {
			i = int(rs.keep[k])
		}
		c, err := rs.caseAt(r, i)
		if !yield(c, err) || err != nil {
			return false
		}
	}
	return true
}

// fork returns a loader that builds cases like l, with its own problem
// list, sharing l's read-only state (the parsed tree, files, caches).
func (l *loader) fork() *loader {
	c := *l
	c.probs, c.nprobs, c.perFile = nil, 0, nil
	c.frozen = true
	return &c
}
