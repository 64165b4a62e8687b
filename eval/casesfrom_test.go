package eval

import (
	"context"
	"testing"
)

// TestCasesFromRows checks that JSONL and CSV rows become cases: ids from
// the id template (or file-row), row fields as vars, checks rendered per
// row, and a field that is a template alone keeping the field's type.
func TestCasesFromRows(t *testing.T) {
	p := writeSuite(t, `name: n
model: m
casesFrom:
  - file: data/a.jsonl
    id: "j-{{.k}}"
    tags: [json]
    prompt: "Q {{.q}}"
    checks: [{contains: "{{.ans}}"}, {jsonPath: {path: $.n, equals: "{{.n}}"}}]
  - file: data/b.csv
    prompt: "Q {{.q}}"
    checks: [{contains: "{{.ans}}"}]
`, "data/a.jsonl", "{\"k\": \"x\", \"q\": \"one\", \"ans\": \"1\", \"n\": 7}\n\n{\"k\": \"y\", \"q\": \"two\", \"ans\": \"2\", \"n\": 8}\n",
		"data/b.csv", "q,ans\nthree,3\n")
	s := mustLoad(t, p)
	var ids []string
	for _, c := range s.Cases {
		ids = append(ids, c.ID)
	}
	if len(ids) != 3 || ids[0] != "j-x" || ids[1] != "j-y" || ids[2] != "b-1" {
		t.Fatalf("ids %v", ids)
	}
	if s.Cases[1].Line != 3 || s.Cases[1].Vars["q"] != "two" {
		t.Errorf("row 2: line %d vars %v", s.Cases[1].Line, s.Cases[1].Vars)
	}
	ctx := context.Background()
	// Row x wants "1" and $.n == 7 (a number, not "7").
	v := Score(ctx, Sample{Text: `{"n": 7, "a": "1"}`}, s.Cases[0].Checks, PassRule{Threshold: 1})
	if !v.Pass {
		t.Errorf("row x should pass: %+v", v.Outcomes)
	}
	v = Score(ctx, Sample{Text: `{"n": 8, "a": "1"}`}, s.Cases[0].Checks, PassRule{Threshold: 1})
	if v.Pass {
		t.Error("row x must check its own n")
	}
}
