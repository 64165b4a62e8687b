package runwaretest

import (
	"math"
	"net/http"
	"testing"
)

func dry(t *testing.T, s *Server, tasks ...any) resp {
	t.Helper()
	return postHeader(t, s.URL(), map[string]string{DryRunHeader: "1"}, tasks)
}

// A dry run validates the request and answers, per valid task, the most it
// can cost (prompt at the input price plus maxTokens — the model's 49,152
// output limit when unset — at the output price, times numberResults),
// without generating anything: no task, result or token is counted, and the
// task's UUID stays free.
func TestDryRunPricesWithoutExecuting(t *testing.T) {
	const prompt = "0123456789abcdef" // 4 tokens
	tests := []struct {
		name string
		task map[string]any
		want float64
	}{
		// maxTokens bounds the completion.
		{"maxTokens", task(prompt, withSetting("maxTokens", 100)), (4*0.90 + 100*4.20) / 1e6},
		// Without maxTokens the model's output limit does.
		{"no maxTokens", task(prompt), (4*0.90 + 49152*4.20) / 1e6},
		// numberResults multiplies it; includeCost is not needed.
		{"three results", task(prompt, withSetting("maxTokens", 10), with("numberResults", 3), with("includeCost", false)), 3 * (4*0.90 + 10*4.20) / 1e6},
		// Async delivery is priced the same and nothing is queued.
		{"async", task(prompt, withSetting("maxTokens", 10), with("deliveryMethod", "async")), (4*0.90 + 10*4.20) / 1e6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, Options{})
			r := dry(t, s, tc.task)
			e := r.envelope(t)
			if r.status != http.StatusOK || len(e.Data) != 1 || len(e.Errors) != 0 {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			d := e.Data[0]
			cost, _ := d["cost"].(float64)
			if d["taskUUID"] != tc.task["taskUUID"] || d["taskType"] != "textInference" || d["dryRun"] != true || math.Abs(cost-tc.want) > 1e-12 {
				t.Fatalf("item %v; want cost %g", d, tc.want)
			}
			st := s.Stats()
			if st.DryRuns != 1 || st.Tasks != 0 || st.Results != 0 || st.CompletionTokens != 0 || st.Cost != 0 || len(st.Delivery) != 0 {
				t.Fatalf("stats %+v; want one dry run and nothing generated", st)
			}
			// Nothing was registered: the same UUID can run for real.
			if r := post(t, s.URL(), testKey, []any{tc.task}); r.status != http.StatusOK {
				t.Fatalf("real run after dry run: %d %s", r.status, r.body)
			}
		})
	}
}

// The dry-run price bounds the real cost whatever the thinking level and
// seed, when maxTokens is set.
func TestDryRunCostBoundsRealCost(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, level := range thinkingLevels {
		for seed := range 5 {
			tk := task("Explain tides briefly", withSetting("thinkingLevel", level), withSetting("maxTokens", 400),
				with("seed", seed), with("includeCost", true))
			bound := dry(t, s, tk).envelope(t).Data[0]["cost"].(float64)
			actual := syncResults(t, s, tk)[0]["cost"].(float64)
			if actual > bound {
				t.Fatalf("level %s seed %d: real cost %g above the dry-run bound %g", level, seed, actual, bound)
			}
		}
	}
}

// A dry run reports validation errors like a real request; valid tasks are
// still priced, getResponse cannot be dry-run, and a header other than 1 or
// true is a real run.
func TestDryRunValidation(t *testing.T) {
	s := newTestServer(t, Options{})
	bad := task("q", withSetting("temperature", 9))
	if r := dry(t, s, bad); r.status != http.StatusBadRequest || r.envelope(t).Errors[0].Code != "invalidTemperature" {
		t.Fatalf("invalid task: %d %s", r.status, r.body)
	}
	r := dry(t, s, task("q"), bad, map[string]any{"taskType": "getResponse", "taskUUID": newUUID()})
	if e := r.envelope(t); r.status != http.StatusOK || len(e.Data) != 1 || len(e.Errors) != 2 || e.Errors[1].Code != "unsupportedTaskType" {
		t.Fatalf("mixed dry run: %d %s", r.status, r.body)
	}
	if r := postHeader(t, s.URL(), map[string]string{DryRunHeader: "0"}, []any{task("q")}); r.envelope(t).Data[0]["text"] == nil {
		t.Fatalf("header 0 did not run the task: %s", r.body)
	}
	if r := postHeader(t, s.URL(), map[string]string{DryRunHeader: "true"}, []any{task("q")}); r.envelope(t).Data[0]["dryRun"] != true {
		t.Fatalf("header true was not a dry run: %s", r.body)
	}
	if st := s.Stats(); st.DryRuns != 2 || st.Tasks != 1 {
		t.Fatalf("dry runs %d tasks %d; want 2 and 1", st.DryRuns, st.Tasks)
	}
}
