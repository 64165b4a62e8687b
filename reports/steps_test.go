package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/journal"
)

// agentRecords is a run of two cells: in "agent" a case whose samples ran
// 3 steps (get_weather, book_flight, then the answer), 2 steps, 1 step (a
// direct answer) and one that stopped at the step limit after 4 tool-call
// steps, plus one failed request; in "plain" a case without agent.
func agentRecords() []*journal.Record {
	step := func(tools ...string) journal.Step {
		st := journal.Step{Attempts: 1}
		for _, n := range tools {
			st.ToolCalls = append(st.ToolCalls, journal.ToolCall{ID: n, Name: n, Arguments: json.RawMessage(`{}`)})
		}
		return st
	}
	rec := func(cell string, seed int64, pass bool, steps ...journal.Step) *journal.Record {
		r := &journal.Record{V: journal.Version, RunID: "run-agent", Suite: "agent", CaseID: "trip", Cell: cell,
			Seed: seed, Results: 1, TrialKey: cell + string(rune('a'+seed)), Attempts: 1, Text: "booked", Pass: pass, Steps: steps}
		for _, st := range steps {
			r.ToolCalls = append(r.ToolCalls, st.ToolCalls...)
		}
		r.Checks = []eval.Outcome{{Check: "tool book_flight", Pass: pass}}
		if !pass {
			r.Checks[0].Reason = "book_flight not called"
		}
		return r
	}
	limit := rec("x=agent", 4, false, step("get_weather"), step("get_weather"), step("get_weather"), step("get_weather"))
	limit.StepLimit, limit.Text = true, ""
	failed := rec("x=agent", 5, false, step("get_weather"), journal.Step{Error: &journal.Error{Class: "server", Message: "boom"}})
	failed.Error = &journal.Error{Class: "server", Message: "boom"}
	return []*journal.Record{
		rec("x=agent", 1, true, step("get_weather"), step("book_flight"), step()),
		rec("x=agent", 2, false, step("get_weather", "get_time"), step()),
		rec("x=agent", 3, false, step()),
		limit,
		failed,
		{V: journal.Version, RunID: "run-agent", Suite: "agent", CaseID: "plain", Cell: "x=plain", Seed: 1, Results: 1,
			TrialKey: "p", Attempts: 1, Text: "hi", Pass: true},
	}
}

// A cell with agent samples reports their steps per answered sample (mean
// and max) and the loops cut at the step limit; a cell without has none,
// and the total pools every cell.
func TestAgentSteps(t *testing.T) {
	s, err := Aggregate(writeJournal(t, agentRecords()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Answered: 3, 2, 1 and 4 steps; the failed request is left out of
	// mean and max but a loop at its limit is counted.
	want := &Steps{Samples: 4, Mean: 2.5, Max: 4, StepLimit: 1}
	if diff := cmp.Diff(want, s.Cells[0].Steps, numEqual); diff != "" {
		t.Errorf("agent cell steps (-want +got):\n%s", diff)
	}
	if s.Cells[1].Steps != nil {
		t.Errorf("plain cell steps %+v, want none", s.Cells[1].Steps)
	}
	if diff := cmp.Diff(want, s.Total.Steps, numEqual); diff != "" {
		t.Errorf("total steps (-want +got):\n%s", diff)
	}
	var got []string
	for _, f := range s.Cells[0].PerCase[0].Failures {
		got = append(got, f.Trajectory)
	}
	wantTraj := []string{"get_weather + get_time → answer", "answer", "get_weather → get_weather → get_weather → get_weather → step limit"}
	if diff := cmp.Diff(wantTraj, got); diff != "" {
		t.Errorf("trajectories of the failures (-want +got):\n%s", diff)
	}
	passing := agentRecords()[0]
	if tr := trajectory(passing); tr != "get_weather → book_flight → answer" {
		t.Errorf("trajectory %q", tr)
	}
}

// Every format shows the steps of a run with agent cases, and the
// trajectory of a failing agent sample.
func TestAgentStepsRendered(t *testing.T) {
	s, err := Aggregate(writeJournal(t, agentRecords()), Options{MaxFailures: 4})
	if err != nil {
		t.Fatal(err)
	}
	render := func(r Renderer) string {
		var b bytes.Buffer
		if err := r(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	traj := "get_weather + get_time → answer"
	for name, tc := range map[string]struct {
		out  string
		want []string
	}{
		"table":    {render(Table(s, true)), []string{"Steps mean / max", "2.5 / 4, 1 at limit", "| –"}},
		"markdown": {render(Markdown(s)), []string{"Steps mean / max", "2.5 / 4, 1 at limit", "| Trajectory |", MarkdownCell(traj)}},
		"junit":    {render(JUnit(s)), []string{`<property name="steps" value="2.5 / 4, 1 at limit">`, "trajectory: " + traj}},
		"html":     {render(HTML(s)), []string{"Steps mean / max", `<p class="trajectory">trajectory: get_weather &#43; get_time → answer`}},
		"json":     {render(JSON(s)), []string{`"steps": {`, `"stepLimit": 1`, `"trajectory": "` + traj}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.out, w) {
				t.Errorf("%s does not contain %q:\n%s", name, w, tc.out)
			}
		}
	}
	rows, err := csv.NewReader(strings.NewReader(render(CellsCSV(s)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head, agent, plain := rows[0], rows[1], rows[2]
	n := len(head)
	if diff := cmp.Diff([]string{"steps_samples", "steps_mean", "steps_max", "step_limit"}, head[n-4:]); diff != "" {
		t.Errorf("cells.csv last columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"4", "2.5", "4", "1"}, agent[n-4:]); diff != "" {
		t.Errorf("agent row (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "", "", ""}, plain[n-4:]); diff != "" {
		t.Errorf("plain row (-want +got):\n%s", diff)
	}
}

// A run without agent cases shows no steps anywhere (its reports are
// those of before steps existed: the goldens pin that too).
func TestNoStepsWithoutAgent(t *testing.T) {
	s := fixtureSummary(t)
	var b bytes.Buffer
	for _, r := range []Renderer{JSON(s), CellsCSV(s), Table(s, true), Markdown(s), JUnit(s), HTML(s)} {
		if err := r(&b); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []string{"steps", "Steps", "trajectory", "Trajectory", "step_limit"} {
		if strings.Contains(b.String(), w) {
			t.Errorf("a run without agent cases mentions %q", w)
		}
	}
}
