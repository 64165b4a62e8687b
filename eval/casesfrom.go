package eval

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"
)

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
		src, err := l.readFile(path)
		if err != nil {
			l.errf(fileNode, "cannot read casesFrom file %s: %v", path, unwrapPathErr(err))
			continue
		}
		var rows []rowCtx
		if format == "jsonl" {
			rows = l.jsonlRows(path, src)
		} else {
			rows = l.csvRows(path, src)
		}
		if len(rows) == 0 {
			l.errf(fileNode, "casesFrom file %s has no rows", path)
			continue
		}
		base := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
		for i := range rows {
			r := &rows[i]
			c := l.loadCase(e, s, r, "file", "format")
			if c == nil {
				continue
			}
			if lookup(e, "id") == nil {
				c.ID = fmt.Sprintf("%s-%d", base, r.row)
			}
			if c.ID == "" {
				continue
			}
			if first, dup := ids[c.ID]; dup {
				where := ""
				if first != nil {
					where = fmt.Sprintf(" (first defined at %s:%d)", l.file(first), first.Line)
				}
				l.rowErr(r, "duplicate case id %q%s", c.ID, where)
				continue
			}
			ids[c.ID] = &yaml.Node{Line: r.line, Column: 1}
			l.fileOf[ids[c.ID]] = r.file
			s.Cases = append(s.Cases, c)
		}
	}
}

// jsonlRows parses one JSON object per non-empty line.
func (l *loader) jsonlRows(path string, src []byte) []rowCtx {
	var rows []rowCtx
	lines := bytes.Split(src, []byte("\n"))
	row := 0
	for i, line := range lines {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		row++
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
			l.probs = append(l.probs, Problem{File: path, Line: i + 1, Col: max(col, 1), Msg: fmt.Sprintf("row %d: malformed JSON: %v", row, err)})
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			l.probs = append(l.probs, Problem{File: path, Line: i + 1, Col: 1, Msg: fmt.Sprintf("row %d: each line must be a JSON object of case fields", row)})
			continue
		}
		rows = append(rows, rowCtx{file: path, row: row, line: i + 1, fields: obj})
	}
	return rows
}

// csvRows parses a CSV file whose first line names the fields.
func (l *loader) csvRows(path string, src []byte) []rowCtx {
	r := csv.NewReader(bytes.NewReader(src))
	header, err := r.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		l.csvErr(path, 0, err)
		return nil
	}
	seen := map[string]bool{}
	for i, h := range header {
		_, col := r.FieldPos(i)
		switch {
		case strings.TrimSpace(h) == "":
			l.probs = append(l.probs, Problem{File: path, Line: 1, Col: col, Msg: fmt.Sprintf("CSV header: column %d has no name", i+1)})
		case seen[h]:
			l.probs = append(l.probs, Problem{File: path, Line: 1, Col: col, Msg: fmt.Sprintf("CSV header: duplicate column %q", h)})
		}
		seen[h] = true
	}
	var rows []rowCtx
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			l.csvErr(path, row, err)
			if errors.Is(err, csv.ErrFieldCount) {
				continue
			}
			break
		}
		line, _ := r.FieldPos(0)
		fields := make(map[string]any, len(header))
		for i, h := range header {
			fields[h] = rec[i]
		}
		rows = append(rows, rowCtx{file: path, row: row, line: line, fields: fields})
	}
	return rows
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
	l.probs = append(l.probs, p)
}
