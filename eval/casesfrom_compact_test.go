package eval

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"text/template"
)

const compactSuite = `name: n
model: m
grid: {settings.temperature: [0, 1]}
seeds: {count: 2, base: 7}
variants: [{name: a}, {name: b, prompt: "B {{.q}}"}]
cases:
  - {id: inline, prompt: hi, tags: [own], vars: {q: own}, checks: [{contains: x}]}
casesFrom:
  - file: data/a.jsonl
    id: "j-{{.k}}"
    tags: [json]
    prompt: "Q {{.q}} {{.n}}"
    checks: [{contains: "{{.ans}}"}, {regex: '^\d'}, {jsonPath: {path: $.n, equals: "{{.n}}"}}]
  - file: data/b.csv
    systemPrompt: "S {{.q}}"
    prompt: "Q {{.q}}"
    checks: [{contains: "{{.ans}}"}]
`

var compactFiles = []string{
	"data/a.jsonl", "{\"k\": \"x\", \"q\": \"one\", \"ans\": \"1\", \"n\": 7}\r\n\n{\"k\": \"y\", \"q\": \"two\", \"ans\": \"2\", \"n\": 8.5}\n{\"k\": \"z\", \"q\": \"th\\u00e9\", \"ans\": \"3\", \"n\": 12345678901234567890}",
	"data/b.csv", "q,ans\nthree,3\n\"multi\nline\",4\nfive,5\n",
}

// trialsOf walks ExpandSeq, failing the test on an error.
func trialsOf(t *testing.T, s *Suite) []Trial {
	t.Helper()
	var out []Trial
	for tr, err := range ExpandSeq(s) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tr)
	}
	return out
}

// TestCompactCasesSameTrials protects LoadOptions.CompactCases: a suite
// loaded compact yields the same cases (ids, vars, lines, checks) and the
// same trials (keys, requests, seeds), counts and hash as loaded with every
// case in Suite.Cases, JSONL (CRLF, blank lines, big numbers) and CSV
// (quoted newlines) alike, before and after the same Filter.
func TestCompactCasesSameTrials(t *testing.T) {
	p := writeSuite(t, compactSuite, compactFiles...)
	full := mustLoad(t, p)
	compact, err := LoadWithOptions(p, LoadOptions{CompactCases: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(compact.Cases) != 1 || compact.NumCases() != len(full.Cases) || len(full.Cases) != 7 {
		t.Fatalf("compact: %d own cases, %d in all; full: %d", len(compact.Cases), compact.NumCases(), len(full.Cases))
	}
	if full.Hash != compact.Hash {
		t.Errorf("hash %s != %s", full.Hash, compact.Hash)
	}
	compare := func(t *testing.T, full, compact *Suite) {
		t.Helper()
		var got []*Case
		for c, err := range compact.AllCases() {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		if len(got) != len(full.Cases) {
			t.Fatalf("%d cases, want %d", len(got), len(full.Cases))
		}
		for i, c := range got {
			w := full.Cases[i]
			if c.ID != w.ID || c.File != w.File || c.Line != w.Line || !reflect.DeepEqual(c.Vars, w.Vars) || !reflect.DeepEqual(c.Tags, w.Tags) ||
				c.Prompt != w.Prompt || c.SystemPrompt != w.SystemPrompt || len(c.Checks) != len(w.Checks) {
				t.Errorf("case %d: got %+v\nwant %+v", i, c, w)
				continue
			}
			for j := range c.Checks {
				if c.Checks[j].Name() != w.Checks[j].Name() {
					t.Errorf("case %s check %d: %s != %s", c.ID, j, c.Checks[j].Name(), w.Checks[j].Name())
				}
			}
		}
		ft, ct := trialsOf(t, full), trialsOf(t, compact)
		if len(ft) != len(ct) {
			t.Fatalf("%d trials, want %d", len(ct), len(ft))
		}
		for i := range ft {
			if ft[i].Key != ct[i].Key || ft[i].RequestHash != ct[i].RequestHash || ft[i].Seed != ct[i].Seed || !reflect.DeepEqual(ft[i].Request, ct[i].Request) {
				t.Errorf("trial %d: %+v\nwant %+v", i, ct[i], ft[i])
			}
		}
		fn, err1 := CountTrials(full)
		cn, err2 := CountTrials(compact)
		if err1 != nil || err2 != nil || fn != cn || fn.Trials != len(ft) {
			t.Errorf("counts %+v %v, want %+v %v (%d trials)", cn, err2, fn, err1, len(ft))
		}
	}
	compare(t, full, compact)
	if err := Filter(full, "j-y,b-2,own"); err != nil {
		t.Fatal(err)
	}
	if err := Filter(compact, "j-y,b-2,own"); err != nil {
		t.Fatal(err)
	}
	if compact.NumCases() != 3 {
		t.Fatalf("filtered: %d cases", compact.NumCases())
	}
	compare(t, full, compact)
	if err := Filter(compact, "nothing"); err == nil {
		t.Error("a filter that keeps nothing must fail")
	}
}

// TestCompactDataFileChanged checks that a compact suite whose data file
// changed after loading refuses to build its cases (they would not be the
// ones validated), as ExpandSeq's error.
func TestCompactDataFileChanged(t *testing.T) {
	p := writeSuite(t, compactSuite, compactFiles...)
	s, err := LoadWithOptions(p, LoadOptions{CompactCases: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "data/a.jsonl"), []byte(`{"k": "q", "q": "1", "ans": "1", "n": 1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var walkErr error
	for _, err := range ExpandSeq(s) {
		if err != nil {
			walkErr = err
		}
	}
	if walkErr == nil || !strings.Contains(walkErr.Error(), "changed since the suite was loaded") {
		t.Errorf("err = %v", walkErr)
	}
}

// TestCasesFromStreamProblems checks problems found while streaming a data
// file: at file:line with the row's line quoted; a duplicate id at the
// later row naming the first; and a file that turns out not to be text
// (a NUL byte after some bad rows) refused as a whole, quoting none of it.
func TestCasesFromStreamProblems(t *testing.T) {
	head := "name: n\nmodel: m\ncasesFrom: {file: d.jsonl, id: \"{{.id}}\", prompt: hi}\n"
	p := writeSuite(t, head, "d.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b\"}\n{bad json SECRET1}\n{\"id\": \"a\"}\n")
	got := loadErr(t, p, LoadOptions{CompactCases: true})
	for _, want := range []string{"d.jsonl:3:2: row 3: malformed JSON", "{bad json SECRET1}", "d.jsonl:4:1: row 4: duplicate case id \"a\" (first defined at " + filepath.Join(filepath.Dir(p), "d.jsonl") + ":1)"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	p = writeSuite(t, head, "d.jsonl", "{bad json SECRET2}\n"+strings.Repeat("{\"id\": \"x\"}\n", 10000)+"\x00\n")
	got = loadErr(t, p, LoadOptions{})
	if !strings.Contains(got, "not a text file") || strings.Contains(got, "SECRET2") || strings.Contains(got, "row ") {
		t.Errorf("got:\n%s", got)
	}
}

// TestHashCoversDataFile checks that the suite hash changes with the
// content of a casesFrom file that is streamed, compact or not.
func TestHashCoversDataFile(t *testing.T) {
	p := writeSuite(t, compactSuite, compactFiles...)
	for _, opts := range []LoadOptions{{}, {CompactCases: true}} {
		s1, err := LoadWithOptions(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		data := filepath.Join(filepath.Dir(p), "data/b.csv")
		b, _ := os.ReadFile(data)
		if err := os.WriteFile(data, append(b, "six,6\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		s2, err := LoadWithOptions(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		if s1.Hash == s2.Hash {
			t.Errorf("%+v: hash %s did not change with the data file", opts, s1.Hash)
		}
	}
}

// TestRenderSimpleMatchesTemplate checks that the substitution fast path
// gives text/template's output, and leaves everything else to it.
func TestRenderSimpleMatchesTemplate(t *testing.T) {
	vars := map[string]any{"s": "a<b>&\"", "n": json.Number("12345678901234567890"), "i": int64(3), "f": 2.5, "b": true, "z": nil, "m": map[string]any{"k": "v"}}
	for _, src := range []string{"{{.s}}", "x {{.s}} {{.n}} y", "{{- .s -}} {{ .n }}", "{{.i}} {{.f}} {{.b}} {{.z}}", "{{.m.k}}", "{{.s | printf \"%q\"}}", "{{if .b}}{{.s}}{{end}}", "{{.missing}}", "{{/* c */}}{{.s}}"} {
		tm, err := template.New("t").Option("missingkey=error").Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		wantErr := tm.Execute(&b, vars)
		got, err := render("t", src, vars)
		if (err != nil) != (wantErr != nil) || (err == nil && got != b.String()) {
			t.Errorf("%s: got %q, %v; want %q, %v", src, got, err, b.String(), wantErr)
		}
	}
	if _, ok := renderSimple(mustParse(t, "{{.s}}-{{.n}}"), vars); !ok {
		t.Error("a plain substitution did not take the fast path")
	}
}

func mustParse(t *testing.T, src string) *template.Template {
	t.Helper()
	tm, err := parseTemplate("t", src)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestCompactConcurrentWalks walks a compact suite from several goroutines
// at once (under -race): each walk reads the data file on its own and
// builds its own cases, sharing only read-only state.
func TestCompactConcurrentWalks(t *testing.T) {
	p := writeSuite(t, compactSuite, compactFiles...)
	s, err := LoadWithOptions(p, LoadOptions{CompactCases: true})
	if err != nil {
		t.Fatal(err)
	}
	want := len(trialsOf(t, s))
	done := make(chan int)
	for range 4 {
		go func() {
			n := 0
			for _, err := range ExpandSeq(s) {
				if err != nil {
					break
				}
				n++
			}
			done <- n
		}()
	}
	for range 4 {
		if n := <-done; n != want {
			t.Errorf("a walk yielded %d trials, want %d", n, want)
		}
	}
}
