package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenAITransportRefusesMediaAndBuiltinTools protects the load-time
// check: a case whose trials can reach the OpenAI-compatible transport with
// images or a built-in tool is a problem at the case's line (it would fail
// every trial at run time), whichever way openai is chosen, and the same
// case on the native transport loads.
func TestOpenAITransportRefusesMediaAndBuiltinTools(t *testing.T) {
	png, err := os.ReadFile(filepath.Join("..", "suites", "data", "red-square.png"))
	if err != nil {
		t.Fatal(err)
	}
	head := "name: x\nmodel: moonshotai:kimi@k2.6\n"
	media := "cases:\n  - id: pic\n    prompt: What colour?\n    images: [red.png]\n"
	search := "cases:\n  - id: web\n    prompt: News?\n    request: {tools: [{type: search}]}\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"suite transport, media", head + "transport: openai\n" + media, `suite.yaml:5:1: case "pic" has images or videos, and the suite's transport can be openai`},
		{"grid on transport, media", head + "grid: {transport: [native, openai]}\n" + media, `case "pic" has images or videos`},
		{"variant transport, built-in", head + "variants:\n  - name: chat\n    request: {transport: openai}\n" + search, `case "web" offers the built-in tool search`},
		{"suite tools, case transport", head + "request: {tools: [{type: codeInterpreter}]}\ncases:\n  - id: code\n    prompt: Sum 1..10\n    request: {transport: openai}\n",
			`case "code" offers the built-in tool codeInterpreter, and its request's transport can be openai`},
		{"native, media", head + media, ""},
		{"native, built-in", head + search, ""},
	} {
		p := writeSuite(t, tc.src, "red.png", string(png))
		_, err := Load(p)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v\nwant it to contain %q", tc.name, err, tc.want)
		}
	}
}
