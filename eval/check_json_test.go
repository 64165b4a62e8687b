package eval

import (
	"context"
	"strings"
	"testing"
)

// TestJSONChecks protects json, jsonSchema and jsonPath verdicts and their
// exact failure reasons.
func TestJSONChecks(t *testing.T) {
	fencedOK := "Here you go:\n```json\n{\"city\": \"Paris\"}\n```\nAnything else?"
	rows := []checkRow{
		// json: the whole text, trimmed, must be one JSON document.
		{name: "json pass", check: "json: true", sample: Sample{Text: " {\"a\": [1, 2]}\n"}, pass: true},
		{name: "json fail", check: "json: true", sample: Sample{Text: "Sure! {\"a\": 1}"},
			reason: `expected valid JSON: invalid character 'S' looking for beginning of value; got "Sure! {\"a\": 1}"`},
		// Trailing data after the document is not JSON.
		{name: "json trailing", check: "json: true", sample: Sample{Text: "{} {}"},
			reason: `expected valid JSON: invalid character after top-level value; got "{} {}"`},
		{name: "json truncated", check: "json: true", sample: Sample{Text: `{"a": 1`},
			reason: `expected valid JSON: unexpected end of JSON input; got "{\"a\": 1"`},
		{name: "json empty", check: "json: true", sample: Sample{Text: "  "},
			reason: `expected valid JSON: the text is empty; got ""`},
		// fenced: the ```json block is taken out of surrounding prose.
		{name: "json fenced pass", check: "json: {fenced: true}", sample: Sample{Text: fencedOK}, pass: true},
		// Without fenced, the same text is not JSON.
		{name: "json unfenced fail", check: "json: true", sample: Sample{Text: fencedOK},
			reason: `expected valid JSON: invalid character 'H' looking for beginning of value; got "Here you go:\n` + "```" + `json\n{\"city\": \"Paris\"}\n` + "```" + `\nAnything else?"`},
		// A fenced block of another language is used when there is no json block.
		{name: "json fenced any language", check: "json: {fenced: true}", sample: Sample{Text: "```\n[1]\n```"}, pass: true},
		{name: "json fenced fail", check: "json: {fenced: true}", sample: Sample{Text: "```json\n{oops}\n```"},
			reason: `expected valid JSON (in a fenced code block or as the whole text): invalid character 'o' looking for beginning of object key string; got "{oops}"`},

		// jsonSchema inline, written as YAML.
		{name: "schema inline pass", check: "jsonSchema: {type: object, required: [city], properties: {city: {type: string}}}",
			sample: Sample{Text: `{"city": "Paris"}`}, pass: true},
		{name: "schema inline fail", check: "jsonSchema: {type: object, required: [city], properties: {city: {type: string}}}",
			sample: Sample{Text: `{"city": 42}`},
			reason: `JSON does not match the schema: at /city: got number, want string; got "{\"city\": 42}"`},
		// Several failures are listed.
		{name: "schema file fail", check: "jsonSchema: testdata/checks/person.schema.json",
			sample: Sample{Text: `{"age": -1}`},
			reason: `JSON does not match the schema: at the top level: missing property 'name'; at /age: minimum: got -1, want 0; got "{\"age\": -1}"`},
		{name: "schema file pass", check: "jsonSchema: testdata/checks/person.schema.json", sample: Sample{Text: `{"name": "Ada", "age": 36}`}, pass: true},
		// A YAML schema file.
		{name: "schema yaml file pass", check: "jsonSchema: testdata/checks/person.schema.yaml", sample: Sample{Text: `{"name": "Ada"}`}, pass: true},
		// The options form takes the JSON from a fenced block.
		{name: "schema fenced pass", check: "jsonSchema: {schema: {required: [city]}, fenced: true}", sample: Sample{Text: fencedOK}, pass: true},
		{name: "schema not json", check: "jsonSchema: {type: object}", sample: Sample{Text: "Paris"},
			reason: `expected valid JSON: invalid character 'P' looking for beginning of value; got "Paris"`},

		// jsonPath equals: numbers compare by value whatever their spelling.
		{name: "path equals pass", check: "jsonPath: {path: $.n, equals: 2}", sample: Sample{Text: `{"n": 2.0}`}, pass: true},
		{name: "path equals object", check: "jsonPath: {path: $.a, equals: {b: [1, x]}}", sample: Sample{Text: `{"a": {"b": [1, "x"]}}`}, pass: true},
		{name: "path equals fail", check: "jsonPath: {path: $.city, equals: Paris}", sample: Sample{Text: `{"city": "Lyon"}`},
			reason: `expected $.city to equal "Paris"; got "Lyon"`},
		// Several matches: one equal match is enough; the reason lists them all.
		{name: "path equals any match", check: "jsonPath: {path: '$.cities[*]', equals: Paris}", sample: Sample{Text: `{"cities": ["Lyon", "Paris"]}`}, pass: true},
		{name: "path equals many fail", check: "jsonPath: {path: '$.cities[*]', equals: Paris}", sample: Sample{Text: `{"cities": ["Lyon", "Nice"]}`},
			reason: `expected $.cities[*] to equal "Paris"; got ["Lyon","Nice"]`},
		{name: "path matched nothing", check: "jsonPath: {path: $.city, equals: Paris}", sample: Sample{Text: `{"town": "Paris"}`},
			reason: `expected $.city to equal "Paris"; the path matched nothing in "{\"town\": \"Paris\"}"`},
		// matches: a regex over the matched string.
		{name: "path matches pass", check: "jsonPath: {path: $.id, matches: '^[a-f0-9-]{36}$'}", sample: Sample{Text: `{"id": "0b4c7a3e-9f5e-4b1a-8d0c-2e6f1a2b3c4d"}`}, pass: true},
		{name: "path matches fail", check: "jsonPath: {path: $.id, matches: '^\\d+$'}", sample: Sample{Text: `{"id": "x1"}`},
			reason: `expected $.id to match /^\d+$/; got "x1"`},
		// exists, with exists: true being the default.
		{name: "path exists pass", check: "jsonPath: {path: $.a.b}", sample: Sample{Text: `{"a": {"b": null}}`}, pass: true},
		{name: "path exists fail", check: "jsonPath: {path: $.a.b, exists: true}", sample: Sample{Text: `{"a": {}}`},
			reason: `expected $.a.b to exist; the path matched nothing in "{\"a\": {}}"`},
		{name: "path not exists fail", check: "jsonPath: {path: $.error, exists: false}", sample: Sample{Text: `{"error": "boom"}`},
			reason: `expected $.error not to exist; got "boom"`},
		// A filter expression.
		{name: "path filter", check: "jsonPath: {path: '$.items[?(@.price < 10)].name', equals: pen}", sample: Sample{Text: `{"items": [{"name": "pen", "price": 2}, {"name": "book", "price": 20}]}`}, pass: true},
	}
	runRows(t, context.Background(), rows)
}

// TestJSONSchemaFileRelativeToSuite protects path resolution: a schema file
// is found relative to the suite file's directory, not the working
// directory, and an invalid schema file is a problem at the path.
func TestJSONSchemaFileRelativeToSuite(t *testing.T) {
	n := parseNode(t, "jsonSchema: person.schema.json")
	chk, probs := CompileCheck(n, "testdata/checks/suite.yaml")
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if o := chk.Eval(context.Background(), Sample{Text: `{"name": "Ada", "age": 1}`}); !o.Pass {
		t.Errorf("valid document failed: %s", o.Reason)
	}
	_, probs = CompileCheck(parseNode(t, "jsonSchema: invalid.schema.json"), "testdata/checks/suite.yaml")
	if len(probs) != 1 || probs[0].Line != 1 || probs[0].Col != 13 ||
		!strings.HasPrefix(probs[0].Msg, "jsonSchema is not a valid JSON Schema: at /type: value must be one of") {
		t.Errorf("invalid schema file problems = %v", probs)
	}
}
