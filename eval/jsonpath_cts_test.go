package eval

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/theory/jsonpath"
)

// ctsCase is one case of the RFC 9535 compliance test suite
// (testdata/jsonpath-cts, from
// github.com/jsonpath-standard/jsonpath-compliance-test-suite, commit in
// COMMIT, licence in LICENSE).
type ctsCase struct {
	Name     string  `json:"name"`
	Selector string  `json:"selector"`
	Document any     `json:"document"`
	Result   []any   `json:"result"`
	Results  [][]any `json:"results"`
	Invalid  bool    `json:"invalid_selector"`
}

// TestJSONPathCompliance runs the jsonPath check's engine over every case
// of the compliance suite: invalid selectors are refused when the suite
// loads, valid ones select exactly the expected nodes (in one of the
// allowed orders).
func TestJSONPathCompliance(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "jsonpath-cts", "cts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cts struct {
		Tests []ctsCase `json:"tests"`
	}
	if err := json.Unmarshal(b, &cts); err != nil {
		t.Fatal(err)
	}
	if len(cts.Tests) < 700 {
		t.Fatalf("only %d cases in cts.json", len(cts.Tests))
	}
	passed := 0
	for _, tc := range cts.Tests {
		p, err := jsonpath.Parse(tc.Selector)
		if tc.Invalid {
			if err == nil {
				t.Errorf("%s: invalid selector %q accepted", tc.Name, tc.Selector)
				continue
			}
			passed++
			continue
		}
		if err != nil {
			t.Errorf("%s: valid selector %q refused: %v", tc.Name, tc.Selector, err)
			continue
		}
		got := []any(p.Select(tc.Document))
		if got == nil {
			got = []any{}
		}
		wants := tc.Results
		if tc.Result != nil {
			wants = append(wants, tc.Result)
		}
		ok := false
		for _, w := range wants {
			ok = ok || reflect.DeepEqual(got, w)
		}
		if !ok {
			t.Errorf("%s: %q selected %v, want one of %v", tc.Name, tc.Selector, got, wants)
			continue
		}
		passed++
	}
	t.Logf("%d of %d compliance cases pass", passed, len(cts.Tests))
}
