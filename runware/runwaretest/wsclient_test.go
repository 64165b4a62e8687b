package runwaretest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// wsKey is long enough for runware.NewWS.
const wsKey = "ws-test-key-0123456789abcdef"

func newWS(t *testing.T, s *runwaretest.Server, opts ...runware.Option) *runware.WSClient {
	t.Helper()
	opts = append([]runware.Option{runware.WithRequestTimeout(30 * time.Second)}, opts...) // a broken client fails, not hangs
	c, err := runware.NewWS(wsKey, s.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wsTask(prompt, delivery string) runware.Task {
	seed := int64(7)
	return runware.Task{Model: runware.KimiK26AIR, DeliveryMethod: delivery, Seed: &seed, IncludeUsage: true, IncludeCost: true,
		Messages: []runware.Message{{Role: "user", Content: prompt}}, Settings: &runware.Settings{ThinkingLevel: "low"}}
}

func doOne(t *testing.T, c interface {
	Do(context.Context, []runware.Task) ([]*runware.Response, error)
}, task runware.Task) *runware.Response {
	t.Helper()
	resps, err := c.Do(context.Background(), []runware.Task{task})
	if err != nil {
		t.Fatal(err)
	}
	return resps[0]
}

// Over the WebSocket the client gets exactly what the HTTP client gets, for
// sync and stream, with the timings a TTFT/E2E measurement needs, all on one
// connection.
func TestWSClientMatchesHTTP(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{ResultExtras: true})
	defer s.Close()
	hc := runware.NewClient(wsKey, runware.WithEndpoint(s.URL()))
	wc := newWS(t, s)
	for _, d := range []string{runware.DeliverySync, runware.DeliveryStream} {
		want := doOne(t, hc, wsTask("Describe the sea", d))
		got := doOne(t, wc, wsTask("Describe the sea", d))
		if want.Err != nil || got.Err != nil {
			t.Fatalf("%s: http err %v, ws err %v", d, want.Err, got.Err)
		}
		if len(got.Results) != 1 {
			t.Fatalf("%s: %d results", d, len(got.Results))
		}
		w, g := want.Results[0], got.Results[0]
		if g.Text == "" || g.Text != w.Text || g.ReasoningContent != w.ReasoningContent || g.FinishReason != w.FinishReason ||
			g.Usage == nil || *g.Usage != *w.Usage || g.Cost == nil || *g.Cost != *w.Cost {
			t.Fatalf("%s: ws result %+v, http %+v", d, g, w)
		}
		tm := got.Timings
		if tm.Dispatched.IsZero() || tm.FirstByte.Before(tm.Dispatched) || tm.Done.Before(tm.FirstByte) {
			t.Fatalf("%s: timings %+v", d, tm)
		}
		if d == runware.DeliveryStream && (tm.FirstText.IsZero() || tm.FirstReasoning.IsZero() || tm.LastDelta.IsZero()) {
			t.Fatalf("stream timings %+v", tm)
		}
	}
	ws := s.Stats().WebSocket
	if ws.Connections != 1 || ws.Frames != 2 {
		t.Fatalf("websocket stats %+v, want 1 connection carrying 2 task frames", ws)
	}
}

// Many concurrent Do calls share one connection and each gets its own
// answer (routed by taskUUID, the simulator answers in any order).
func TestWSClientConcurrent(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{TimeScale: 0.01})
	defer s.Close()
	c := newWS(t, s)
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prompt := "question " + strings.Repeat("x", i)
			r := doOne(t, c, wsTask(prompt, runware.DeliverySync))
			if r.Err != nil || len(r.Results) != 1 || !strings.Contains(r.Results[0].Text, prompt) {
				errs <- prompt
			}
		}()
	}
	wg.Wait()
	close(errs)
	for p := range errs {
		t.Errorf("wrong answer for %q", p)
	}
	if ws := s.Stats().WebSocket; ws.Connections != 1 || ws.Frames != 20 {
		t.Fatalf("websocket stats %+v, want 20 frames on 1 connection", ws)
	}
}

// A connection dropped in the middle of a stream is re-established with the
// session's connectionSessionUUID; the server replays the rest, and the
// partly answered task is not sent again (no double pay).
func TestWSClientReconnectResumesStream(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{})
	defer s.Close()
	want := doOne(t, runware.NewClient(wsKey, runware.WithEndpoint(s.URL())), wsTask("Tell a story", runware.DeliverySync))
	s.Handler().DropWebSocketsAfter(3)
	got := doOne(t, newWS(t, s), wsTask("Tell a story", runware.DeliveryStream))
	if got.Err != nil || len(got.Results) != 1 || got.Results[0].Text != want.Results[0].Text {
		t.Fatalf("got %+v / %v, want text %q", got.Results, got.Err, want.Results[0].Text)
	}
	st := s.Stats()
	if st.WebSocket.Dropped != 1 || st.WebSocket.Resumed != 1 || st.WebSocket.Replayed == 0 {
		t.Fatalf("websocket stats %+v, want one drop, one resume, replayed frames", st.WebSocket)
	}
	if st.WebSocket.Deduplicated != 0 || st.Delivery[runware.DeliveryStream] != 1 {
		t.Fatalf("the answered task was sent again: %+v, delivery %v", st.WebSocket, st.Delivery)
	}
}

// A task whose frame the server lost (the Reset fault drops the connection
// before the task is accepted) is sent again after re-authentication and
// answered once.
func TestWSClientResubmitsUnanswered(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{Faults: runwaretest.Faults{Reset: runwaretest.Fault{First: 1}}})
	defer s.Close()
	r := doOne(t, newWS(t, s), wsTask("hello", runware.DeliverySync))
	if r.Err != nil || len(r.Results) != 1 || r.Results[0].Text == "" {
		t.Fatalf("got %+v / %v", r.Results, r.Err)
	}
	st := s.Stats()
	if st.Faults[runwaretest.FaultReset] != 1 || st.Tasks != 1 || st.WebSocket.Connections != 2 || st.WebSocket.Frames != 2 {
		t.Fatalf("stats: faults %v, tasks %d, websocket %+v", st.Faults, st.Tasks, st.WebSocket)
	}
}

// A refused key fails the task with class auth, and the key is in no error.
func TestWSClientBadKey(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{APIKeys: []string{"another-key-0123456789abcdef"}})
	defer s.Close()
	r := doOne(t, newWS(t, s), wsTask("hello", runware.DeliverySync))
	if r.Err == nil || r.Err.Class != runware.ClassAuth || r.Err.Code != "invalidApiKey" {
		t.Fatalf("err %+v, want invalidApiKey of class auth", r.Err)
	}
	if !r.Timings.Dispatched.IsZero() {
		t.Fatalf("a task refused at authentication was dispatched: %+v", r.Timings)
	}
	if strings.Contains(r.Err.Error(), wsKey) {
		t.Fatalf("key leaked: %v", r.Err)
	}
}

// Validation errors (with a taskUUID) and injected status faults reach the
// task with the classes of HTTP.
func TestWSClientErrors(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{Faults: runwaretest.Faults{RateLimit: runwaretest.Fault{First: 1}}})
	defer s.Close()
	c := newWS(t, s)
	if r := doOne(t, c, wsTask("hi", runware.DeliverySync)); r.Err == nil || r.Err.Class != runware.ClassRateLimit {
		t.Fatalf("429 fault: err %+v", r.Err)
	}
	bad := wsTask("hi", runware.DeliverySync)
	bad.Model = "nope"
	if r := doOne(t, c, bad); r.Err == nil || r.Err.Class != runware.ClassNotFound && r.Err.Class != runware.ClassValidation ||
		r.Err.TaskUUID != r.TaskUUID {
		t.Fatalf("bad model: err %+v", r.Err)
	}
}

// The result cap applies to WebSocket answers, sync and stream.
func TestWSClientResultCap(t *testing.T) {
	long := strings.Repeat("word ", 400)
	s := runwaretest.NewServer(runwaretest.Options{Scenarios: []runwaretest.Scenario{{Answer: long}}})
	defer s.Close()
	c := newWS(t, s, runware.WithMaxResultBytes(1000))
	for _, d := range []string{runware.DeliverySync, runware.DeliveryStream} {
		r := doOne(t, c, wsTask("hi", d))
		if r.Err == nil || r.Err.Code != runware.CodeResultTooLarge {
			t.Fatalf("%s: err %+v, want resultTooLarge", d, r.Err)
		}
	}
}

// The idle timeout ends a stream that stops sending (the Truncate fault
// sends no end over a WebSocket), keeping the partial text; the request
// timeout ends a sync task that never gets an answer (the Hang fault).
func TestWSClientTimeouts(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{Faults: runwaretest.Faults{Truncate: runwaretest.Fault{First: 1}, TruncateAfter: 2}})
	defer s.Close()
	r := doOne(t, newWS(t, s, runware.WithIdleTimeout(50*time.Millisecond)), wsTask("hi", runware.DeliveryStream))
	if r.Err == nil || r.Err.Code != runware.CodeIdleTimeout || len(r.Results) != 1 || r.Results[0].Text+r.Results[0].ReasoningContent == "" {
		t.Fatalf("truncated stream: err %+v, results %+v", r.Err, r.Results)
	}

	h := runwaretest.NewServer(runwaretest.Options{Faults: runwaretest.Faults{Hang: runwaretest.Fault{First: 1}}})
	defer h.Close()
	r = doOne(t, newWS(t, h, runware.WithRequestTimeout(50*time.Millisecond)), wsTask("hi", runware.DeliverySync))
	if r.Err == nil || r.Err.Class != runware.ClassTimeout || r.Err.Code != runware.CodeTimeout {
		t.Fatalf("hang: err %+v", r.Err)
	}
}

// Async delivery over the WebSocket: the first frame is the
// acknowledgement, then getResponse frames poll until numberResults items
// are final; the answers are those of async over HTTP.
func TestWSClientAsyncPolls(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{TimeScale: 0.01})
	defer s.Close()
	poll := runware.WithPollInterval(5 * time.Millisecond)
	task := wsTask("Describe the sea", runware.DeliveryAsync)
	task.NumberResults = 2
	want := doOne(t, runware.NewClient(wsKey, runware.WithEndpoint(s.URL()), poll), task)
	got := doOne(t, newWS(t, s, poll), task)
	if want.Err != nil || got.Err != nil || len(got.Results) != 2 {
		t.Fatalf("http err %v, ws err %v, %d results", want.Err, got.Err, len(got.Results))
	}
	texts := map[string]bool{}
	for _, r := range want.Results {
		texts[r.Text] = true
	}
	for _, r := range got.Results {
		if !texts[r.Text] || r.Usage == nil || r.Cost == nil {
			t.Fatalf("ws result %+v, http texts %v", r, texts)
		}
	}
	st := s.Stats()
	if st.Tasks != 2 || st.Polls < 2 || st.WebSocket.Frames < 2 {
		t.Fatalf("stats: tasks %d polls %d websocket %+v; want the task once per client, polled over the socket", st.Tasks, st.Polls, st.WebSocket)
	}
	if tm := got.Timings; tm.Dispatched.IsZero() || tm.FirstByte.Before(tm.Dispatched) || tm.Done.Before(tm.FirstByte) {
		t.Fatalf("timings %+v", tm)
	}
}

// An acknowledged async task is never submitted again after the connection
// drops: the client polls for it on the new connection (no double pay).
func TestWSClientAsyncSurvivesDrop(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{TimeScale: 0.2})
	defer s.Close()
	c := newWS(t, s, runware.WithPollInterval(5*time.Millisecond))
	done := make(chan *runware.Response)
	go func() { done <- doOne(t, c, wsTask("Tell a long story", runware.DeliveryAsync)) }()
	for s.Stats().Polls == 0 {
		time.Sleep(time.Millisecond) // wait for the acknowledgement (polls start after it)
	}
	if s.Handler().DropWebSockets() == 0 {
		t.Fatal("no connection to drop")
	}
	r := <-done
	if r.Err != nil || len(r.Results) != 1 || r.Results[0].Text == "" {
		t.Fatalf("got %+v / %v", r.Results, r.Err)
	}
	if st := s.Stats(); st.Tasks != 1 || st.WebSocket.Connections != 2 {
		t.Fatalf("tasks %d, websocket %+v; want one submission over two connections", st.Tasks, st.WebSocket)
	}
}
