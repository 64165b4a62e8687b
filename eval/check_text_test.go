package eval

import (
	"context"
	"strings"
	"testing"
)

// TestTextChecks protects each text check's verdict and its exact failure
// reason, with a passing and a failing example per type and form.
func TestTextChecks(t *testing.T) {
	long := strings.Repeat("word ", 30) // 150 characters
	rows := []checkRow{
		// equals ignores the trailing newline models add.
		{name: "equals pass", check: "equals: Paris", sample: Sample{Text: "Paris\n"}, pass: true},
		// equals shows what came instead.
		{name: "equals fail", check: "equals: Paris", sample: Sample{Text: "Lyon"},
			reason: `expected to equal "Paris"; got "Lyon"`},
		// A number in YAML is compared as the text it is written as.
		{name: "equals number", check: "equals: 42", sample: Sample{Text: "42"}, pass: true},

		// contains: one string.
		{name: "contains pass", check: "contains: Paris", sample: Sample{Text: "It is Paris."}, pass: true},
		{name: "contains fail", check: "contains: Paris", sample: Sample{Text: "Lyon is a city"},
			reason: `expected to contain "Paris"; got "Lyon is a city"`},
		// Long texts are cut at 80 characters in reasons.
		{name: "contains fail long", check: "contains: Paris", sample: Sample{Text: long},
			reason: `expected to contain "Paris"; got "` + long[:80] + `..."`},
		// A plain list means all of them, and the reason names what is missing.
		{name: "contains list pass", check: "contains: [Paris, France]", sample: Sample{Text: "Paris, France"}, pass: true},
		{name: "contains list fail", check: "contains: [Paris, France, Europe]", sample: Sample{Text: "Paris"},
			reason: `expected to contain all of ["Paris", "France", "Europe"]; missing "France", "Europe"; got "Paris"`},
		// all: is the same as a plain list.
		{name: "contains all fail", check: "contains: {all: [a, b]}", sample: Sample{Text: "a"},
			reason: `expected to contain all of ["a", "b"]; missing "b"; got "a"`},
		// any: one of them is enough.
		{name: "contains any pass", check: "contains: {any: [Paris, Lyon]}", sample: Sample{Text: "Lyon"}, pass: true},
		{name: "contains any fail", check: "contains: {any: [Paris, Lyon]}", sample: Sample{Text: "Nice"},
			reason: `expected to contain any of ["Paris", "Lyon"]; got "Nice"`},

		// icontains ignores case, including non-ASCII letters.
		{name: "icontains pass", check: "icontains: PARIS", sample: Sample{Text: "paris"}, pass: true},
		{name: "icontains unicode", check: "icontains: ÉTÉ", sample: Sample{Text: "un été chaud"}, pass: true},
		{name: "icontains fail", check: "icontains: paris", sample: Sample{Text: "Lyon"},
			reason: `expected to contain "paris" (ignoring case); got "Lyon"`},
		{name: "icontains list fail", check: "icontains: [a, B]", sample: Sample{Text: "A"},
			reason: `expected to contain all of ["a", "B"] (ignoring case); missing "B"; got "A"`},

		// notContains: the reason shows where the unwanted text is.
		{name: "notContains pass", check: "notContains: sorry", sample: Sample{Text: "Paris"}, pass: true},
		{name: "notContains fail", check: "notContains: sorry", sample: Sample{Text: "I am sorry, Paris"},
			reason: `expected not to contain "sorry"; found it in "I am sorry, Paris"`},
		// Around a match deep in a long text, 30 characters either side are shown.
		{name: "notContains fail long", check: "notContains: XX", sample: Sample{Text: long + "XX" + long},
			reason: `expected not to contain "XX"; found it in "...` + long[120:] + `XX` + long[:30] + `..."`},
		// A plain list means none of them may appear.
		{name: "notContains list pass", check: "notContains: [a, b]", sample: Sample{Text: "xyz"}, pass: true},
		{name: "notContains list fail", check: "notContains: [a, b]", sample: Sample{Text: "cb"},
			reason: `expected not to contain any of ["a", "b"]; found "b" in "cb"`},
		// all: fails only when every one of them appears.
		{name: "notContains all pass", check: "notContains: {all: [a, b]}", sample: Sample{Text: "a"}, pass: true},
		{name: "notContains all fail", check: "notContains: {all: [a, b]}", sample: Sample{Text: "ab"},
			reason: `expected not to contain all of ["a", "b"]; found all of them in "ab"`},

		// startsWith ignores leading white space.
		{name: "startsWith pass", check: "startsWith: Paris", sample: Sample{Text: "\n Paris is"}, pass: true},
		{name: "startsWith fail", check: "startsWith: Paris", sample: Sample{Text: "The answer: Paris"},
			reason: `expected to start with "Paris"; got "The answer: Paris"`},
		// endsWith ignores trailing white space and shows the end of the text.
		{name: "endsWith pass", check: "endsWith: '.'", sample: Sample{Text: "Paris.\n"}, pass: true},
		{name: "endsWith fail", check: "endsWith: '.'", sample: Sample{Text: long + "end"},
			reason: `expected to end with "."; got "...` + (long + "end")[73:] + `"`},

		// regex: RE2, anywhere in the text.
		{name: "regex pass", check: `regex: '^\d+$'`, sample: Sample{Text: "42"}, pass: true},
		{name: "regex fail", check: `regex: '^\d+$'`, sample: Sample{Text: "forty-two"},
			reason: `expected to match /^\d+$/; got "forty-two"`},
		// Flags: i ignores case, s lets . match newlines.
		{name: "regex flags pass", check: `regex: {pattern: "paris.lyon", flags: is}`, sample: Sample{Text: "PARIS\nLYON"}, pass: true},
		{name: "regex flags fail", check: `regex: {pattern: "paris.lyon", flags: i}`, sample: Sample{Text: "PARIS\nLYON"},
			reason: `expected to match /paris.lyon/i; got "PARIS\nLYON"`},
		// notRegex names the match and where it is.
		{name: "notRegex pass", check: `notRegex: '\bI think\b'`, sample: Sample{Text: "Paris"}, pass: true},
		{name: "notRegex fail", check: `notRegex: '\d+'`, sample: Sample{Text: "about 42 cities"},
			reason: `expected not to match /\d+/; matched "42" in "about 42 cities"`},

		// length counts characters (runes), not bytes.
		{name: "length pass", check: "length: {max: 4}", sample: Sample{Text: "été!"}, pass: true},
		{name: "length fail max", check: "length: {max: 3}", sample: Sample{Text: "été!"},
			reason: "expected at most 3 characters; got 4"},
		{name: "length fail min", check: "length: {min: 10}", sample: Sample{Text: "short"},
			reason: "expected at least 10 characters; got 5"},
		{name: "length fail range", check: "length: {min: 1, max: 3}", sample: Sample{Text: ""},
			reason: "expected 1 to 3 characters; got 0"},

		// wordCount counts runs of non-space characters.
		{name: "wordCount pass", check: "wordCount: {min: 2, max: 3}", sample: Sample{Text: " Paris,\tFrance\n"}, pass: true},
		{name: "wordCount fail", check: "wordCount: {max: 1}", sample: Sample{Text: "Paris, France"},
			reason: "expected at most 1 word; got 2"},
	}
	runRows(t, context.Background(), rows)
}

// TestTextCheckNames protects the names reports show for checks.
func TestTextCheckNames(t *testing.T) {
	rows := []struct{ src, name string }{
		{"contains: Paris", `contains "Paris"`},
		{"contains: [a, b]", `contains all of ["a", "b"]`},
		{"notContains: [a, b]", `notContains any of ["a", "b"]`},
		{"regex: {pattern: a+, flags: i}", "regex /a+/i"},
		{"length: {min: 1, max: 5}", "length 1 to 5 characters"},
		{"equals: x", `equals "x"`},
	}
	for _, r := range rows {
		if got := compile(t, r.src).Name(); got != r.name {
			t.Errorf("Name of %s = %q, want %q", r.src, got, r.name)
		}
	}
}
