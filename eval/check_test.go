package eval

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v4"
)

// checkRow is one row of a check table test: a check written as in a suite,
// a sample, and the exact outcome expected.
type checkRow struct {
	name   string // what the row protects
	check  string // YAML of one checks: entry
	sample Sample
	pass   bool
	reason string // exact failure reason ("" when passing)
}

// parseNode parses YAML text into its top node.
func parseNode(t testing.TB, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml %q: %v", src, err)
	}
	if len(doc.Content) == 0 {
		t.Fatalf("yaml %q: empty document", src)
	}
	return doc.Content[0]
}

// compile compiles a check from YAML, failing the test on problems.
func compile(t *testing.T, src string) Check {
	t.Helper()
	chk, probs := CompileCheck(parseNode(t, src), "suite.yaml")
	if len(probs) > 0 {
		t.Fatalf("CompileCheck(%q): %v", src, probs)
	}
	return chk
}

// runRows evaluates every row and compares pass and reason exactly.
func runRows(t *testing.T, ctx context.Context, rows []checkRow) {
	t.Helper()
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			o := compile(t, r.check).Eval(ctx, r.sample)
			if o.Pass != r.pass {
				t.Errorf("%s: pass = %v, want %v (reason %q)", r.check, o.Pass, r.pass, o.Reason)
			}
			if !r.pass && o.Reason != r.reason {
				t.Errorf("%s: reason\n got: %s\nwant: %s", r.check, o.Reason, r.reason)
			}
		})
	}
}

func ptrDur(d time.Duration) *time.Duration { return &d }
func ptrF(f float64) *float64               { return &f }

// TestCompileCheckProblems protects the suite author's experience: every
// argument problem is reported at the exact line and column of the
// offending node, with an actionable message.
func TestCompileCheckProblems(t *testing.T) {
	rows := []struct {
		name string
		src  string
		want []string // "line:col: message"
	}{
		// A misspelt type gets a suggestion, at the key.
		{"unknown type", "contians: Paris", []string{`1:1: unknown check type "contians" (did you mean "contains"?)`}},
		// A regex that does not compile is reported at the pattern.
		{"bad regex", "regex: 'a(b'", []string{"1:8: regex does not compile: error parsing regexp: missing closing ): `a(b`"}},
		// The same in the mapping form, at the pattern value on its line.
		{"bad regex mapping", "regex:\n  pattern: '[z-a]'\n  flags: i", []string{"2:12: regex does not compile: error parsing regexp: invalid character class range: `z-a`"}},
		// Only RE2 flags are accepted.
		{"bad flag", "regex: {pattern: a, flags: ix}", []string{`1:28: unknown regex flag 'x' (RE2 flags are i, m, s and U)`}},
		// Unknown option keys are named with a suggestion.
		{"unknown option", "length: {min: 1, mxa: 3}", []string{`1:18: unknown length option "mxa" (did you mean "max"?)`}},
		// Wrong types say what was expected and what was given.
		{"wrong type", "maxLatency: 10", []string{"1:13: maxLatency takes a duration such as 10s or 500ms, got an integer"}},
		// A bad duration string.
		{"bad duration", "maxTTFT: soon", []string{`1:10: maxTTFT takes a duration such as 10s or 500ms, got "soon"`}},
		// min greater than max, at min.
		{"min > max", "wordCount: {min: 5, max: 2}", []string{"1:18: wordCount min (5) is greater than max (2)"}},
		// An invalid inline JSON Schema is reported at the offending keyword's value.
		{"bad schema", "jsonSchema:\n  type: object\n  properties:\n    age: {type: integr}", []string{
			`4:17: jsonSchema is not a valid JSON Schema: at /properties/age/type: value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'`}},
		// A missing schema file is reported at the path.
		{"missing schema file", "jsonSchema: nope.json", []string{"1:13: jsonSchema: cannot read schema file "}},
		// A bad JSONPath is reported at the path.
		{"bad jsonpath", "jsonPath: {path: '$.a[', exists: true}", []string{`1:18: jsonPath path "$.a[" is not an RFC 9535 JSONPath query: `}},
		// An expr syntax error points into the expression.
		{"bad expr", "expr: 'len(text) >'", []string{"1:18: expr does not compile: unexpected token EOF"}},
		// An expr naming an unknown variable points at the name.
		{"unknown expr variable", "expr: texts == 'a'", []string{"1:7: expr does not compile: unknown name texts"}},
		// An expr that does not return a boolean.
		{"non-bool expr", "expr: len(text)", []string{"1:7: expr does not compile: expected bool, but got int"}},
		// Two types in one entry.
		{"two types", "contains: a\nregex: b", []string{"2:1: a check has one type; this one has both contains and regex (write them as two checks)"}},
		// weight must be positive.
		{"zero weight", "contains: a\nweight: 0", []string{"2:9: weight must be greater than 0, got 0"}},
		// Nested weights are rejected, not ignored.
		{"nested weight", "anyOf:\n  - contains: a\n    weight: 2", []string{"3:5: weight applies to top-level checks only; put it on the enclosing not, anyOf or allOf"}},
		// Problems inside combinators keep their own positions.
		{"nested problem", "allOf:\n  - contains: a\n  - regx: b", []string{`3:5: unknown check type "regx" (did you mean "regex"?)`}},
		// A check that is not a mapping.
		{"scalar entry", "contains", []string{"1:1: a check is a mapping with one key naming its type, e.g. `contains: Paris`"}},
		// jsonPath takes one expectation.
		{"two expectations", "jsonPath: {path: $.a, equals: 1, exists: true}", []string{"1:11: jsonPath takes one of equals, matches or exists"}},
		// Judge thresholds are scores in [0, 1].
		{"judge threshold", "judge: {rubric: r, threshold: 7}", []string{"1:31: judge threshold must be between 0 and 1, got 7"}},
		// Judge settings are checked like request settings.
		{"judge settings", "judge: {rubric: r, settings: {temprature: 0}}", []string{`1:31: unknown judge settings option "temprature" (did you mean "temperature"?)`}},
		// json: false is not a check.
		{"json false", "json: false", []string{"1:7: json: false checks nothing; remove the check or use not: {json: true}"}},
		// toolCall needs a name.
		{"toolCall without name", "toolCall: {arguments: {a: 1}}", []string{"1:11: toolCall needs the tool's name, e.g. name: get_weather"}},
		// Token limits are whole numbers.
		{"fractional tokens", "maxThinkingTokens: 1.5", []string{"1:20: maxThinkingTokens takes a whole number, got 1.5"}},
		// contains with an empty list.
		{"empty list", "contains: []", []string{"1:11: contains takes a non-empty list"}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			chk, probs := CompileCheck(parseNode(t, r.src), "suite.yaml")
			if chk != nil {
				t.Errorf("CompileCheck returned a check despite problems")
			}
			var got []string
			for _, p := range probs {
				if p.File != "suite.yaml" {
					t.Errorf("problem file = %q", p.File)
				}
				got = append(got, strings.TrimPrefix(p.String(), "suite.yaml:"))
			}
			if len(got) != len(r.want) {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(r.want, "\n"))
			}
			for i := range got {
				// Rows ending in a space compare by prefix (the rest is a library's message).
				if strings.HasSuffix(r.want[i], " ") {
					if !strings.HasPrefix(got[i], r.want[i]) {
						t.Errorf("problem %d = %q, want prefix %q", i, got[i], r.want[i])
					}
					continue
				}
				if got[i] != r.want[i] {
					t.Errorf("problem %d\n got: %s\nwant: %s", i, got[i], r.want[i])
				}
			}
		})
	}
}

// TestScoreWeights protects the weighted score and the sample threshold:
// weights count per top-level check, a combinator counts once with its own
// weight, and a failed request fails everything.
func TestScoreWeights(t *testing.T) {
	checks := []Check{
		compile(t, "contains: Paris\nweight: 3"),
		compile(t, "contains: France"),
		compile(t, "anyOf: [{contains: x}, {contains: y}]"),
	}
	s := Sample{Text: "Paris"}
	rows := []struct {
		name      string
		sample    Sample
		threshold float64
		score     float64
		pass      bool
	}{
		// 3 of 5 weight passes: below the default threshold of 1.
		{"default threshold", s, 0, 0.6, false},
		// The same score passes a threshold of 0.6.
		{"threshold reached", s, 0.6, 0.6, true},
		// ...and fails one just above it.
		{"threshold missed", s, 0.61, 0.6, false},
		// Everything passing passes whatever the threshold.
		{"all pass", Sample{Text: "Paris, France, x"}, 1, 1, true},
		// A failed request scores 0 and never passes.
		{"failed request", Sample{Err: "HTTP 500"}, 0.1, 0, false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			v := Score(context.Background(), r.sample, checks, PassRule{Threshold: r.threshold})
			if v.Score != r.score || v.Pass != r.pass {
				t.Errorf("Score = %v pass %v, want %v pass %v", v.Score, v.Pass, r.score, r.pass)
			}
			if len(v.Outcomes) != 3 || v.Outcomes[0].Weight != 3 || v.Outcomes[1].Weight != 0 {
				t.Errorf("outcomes %+v: want weights 3, default, default", v.Outcomes)
			}
		})
	}
	v := Score(context.Background(), Sample{Err: "HTTP 500"}, checks, PassRule{})
	want := Outcome{Check: `contains "Paris"`, Reason: "request failed: HTTP 500", Weight: 3}
	if diff := cmp.Diff(want, v.Outcomes[0]); diff != "" {
		t.Errorf("failed request outcome (-want +got):\n%s", diff)
	}
	// A weighted combinator counts once with its own weight, whatever the
	// number of checks nested in it: 2 of 3 here.
	nested := []Check{
		compile(t, "allOf: [{contains: a}, {contains: b}, {contains: c}]\nweight: 2"),
		compile(t, "contains: z"),
	}
	if v := Score(context.Background(), Sample{Text: "abc"}, nested, PassRule{Threshold: 0.6}); v.Score != 2.0/3 || !v.Pass || v.Outcomes[0].Weight != 2 {
		t.Errorf("weighted combinator: %+v, want score 2/3 passing at 0.6 with weight 2", v)
	}
	// No checks: a successful sample passes with score 1.
	if v := Score(context.Background(), Sample{Text: "x"}, nil, PassRule{}); !v.Pass || v.Score != 1 {
		t.Errorf("no checks: %+v, want pass with score 1", v)
	}
}

// TestCheckTypesDocumented protects docs/checks.md from drifting: every
// check type has a section.
func TestCheckTypesDocumented(t *testing.T) {
	doc := readDoc(t)
	for _, k := range CheckTypes() {
		if !strings.Contains(doc, "### `"+k+"`") {
			t.Errorf("docs/checks.md has no section for %s", k)
		}
	}
}

// readDoc reads docs/checks.md from the module root.
func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "checks.md"))
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	return string(b)
}
