package runwaretest_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// sdkScript does one textInference through Runware's official JS SDK and
// prints the results as JSON on the last line of stdout.
const sdkScript = `
import { RunwareServer } from "@runware/sdk-js";
const [url, apiKey] = process.argv.slice(2);
const timer = setTimeout(() => { console.error("timed out"); process.exit(3); }, 60000);
const runware = new RunwareServer({ apiKey, url, shouldReconnect: false });
try {
  const res = await runware.textInference({
    model: "moonshotai:kimi@k2.6",
    messages: [{ role: "user", content: "What is the capital of France?" }],
    settings: { thinkingLevel: "low" },
    includeUsage: true,
  });
  console.log(JSON.stringify(res));
  clearTimeout(timer);
  process.exit(0);
} catch (err) {
  console.error("error:", JSON.stringify(err), String(err));
  process.exit(2);
}
`

// The simulator's WebSocket endpoint works with @runware/sdk-js 1.3.2, the
// official npm client: it dials with ?sdk=js&version=1.3.2, authenticates,
// sends one textInference task and gets the scenario's answer. Skipped when
// node or npm is missing or the package cannot be installed.
func TestSDKJSAgainstSimulator(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: runs npm install")
	}
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not on PATH: install nodejs and npm to run the sdk-js test", bin)
		}
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"sdkjs-test","private":true,"type":"module"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	install := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
		"--fetch-retries=1", "--fetch-timeout=60000", "@runware/sdk-js@1.3.2")
	install.Dir = dir
	install.Env = append(os.Environ(), "npm_config_update_notifier=false")
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install @runware/sdk-js@1.3.2 failed (no registry access?): %v\n%s", err, out)
	}
	script := filepath.Join(dir, "run.mjs")
	if err := os.WriteFile(script, []byte(sdkScript), 0o644); err != nil {
		t.Fatal(err)
	}

	const answer = "Paris is the capital of France."
	s := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{wsKey}, AlwaysUsage: true,
		Scenarios: []runwaretest.Scenario{{Match: runwaretest.Match{Contains: "capital of France"}, Answer: answer}}})
	defer s.Close()
	run := exec.CommandContext(ctx, "node", script, s.WebSocketURL(), wsKey)
	run.Dir = dir
	out, err := run.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var results []struct {
		TaskType string `json:"taskType"`
		TaskUUID string `json:"taskUUID"`
		Text     string `json:"text"`
		Usage    *struct {
			TotalTokens int `json:"totalTokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &results); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if len(results) != 1 || results[0].Text != answer || results[0].TaskType != runware.TaskTextInference ||
		results[0].Usage == nil || results[0].Usage.TotalTokens == 0 {
		t.Fatalf("results %+v, want one result with text %q and usage", results, answer)
	}
	st := s.Stats()
	if st.WebSocket.Connections < 1 || st.WebSocket.Frames != 1 || st.Tasks != 1 {
		t.Fatalf("stats: websocket %+v, tasks %d", st.WebSocket, st.Tasks)
	}
}
