package eval

import (
	"strings"
	"testing"
)

// A suite opts into counting samples without an answer as failures with
// pass: {errors: fail}; the default (and skip) leaves them out. The choice is
// the suite's: a case may not set it.
func TestPassErrorsOptIn(t *testing.T) {
	for _, tc := range []struct {
		pass string
		want bool
	}{{"", false}, {"pass: {errors: skip}\n", false}, {"pass: {errors: fail}\n", true}} {
		s := mustLoad(t, writeSuite(t, "name: p\nmodel: m\n"+tc.pass+"cases: [{id: a, prompt: hi}]\n"))
		if s.Pass.ErrorsAsFailures != tc.want {
			t.Errorf("%q: ErrorsAsFailures = %v, want %v", tc.pass, s.Pass.ErrorsAsFailures, tc.want)
		}
	}
	_, err := Load(writeSuite(t, "name: p\nmodel: m\npass: {errors: maybe}\ncases: [{id: a, prompt: hi}]\n"))
	if err == nil || !strings.Contains(err.Error(), "3:16") || !strings.Contains(err.Error(), "pass.errors must be skip") {
		t.Errorf("bad errors value: %v", err)
	}
	_, err = Load(writeSuite(t, "name: p\nmodel: m\ncases: [{id: a, prompt: hi, pass: {errors: fail}}]\n"))
	if err == nil || !strings.Contains(err.Error(), "errors") {
		t.Errorf("a case setting errors: %v", err)
	}
}
