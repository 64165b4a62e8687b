package runware

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// asyncTask returns an async task with numberResults n.
func asyncTaskN(id string, n int) Task {
	t := textTask(id)
	t.DeliveryMethod = DeliveryAsync
	t.NumberResults = n
	return t
}

// pollScript answers the submission with ack and the k-th getResponse
// request with polls[k] (the last one repeats). It records the taskUUIDs of
// every poll.
type pollScript struct {
	mu      sync.Mutex
	ack     func(tasks []map[string]any) (int, string)
	polls   []func(ids []string) (int, string)
	n       int
	polled  [][]string
	submits int
}

func (p *pollScript) handle(w http.ResponseWriter, tasks []map[string]any, _ []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(tasks) > 0 && str(tasks[0], "taskType") != TaskGetResponse {
		p.submits++
		status, body := p.ack(tasks)
		writeJSON(w, status, body)
		return
	}
	var ids []string
	for _, t := range tasks {
		if str(t, "taskType") != TaskGetResponse || len(t) != 2 {
			writeJSON(w, 400, `{"errors":[{"code":"invalidGetResponse","message":"poll task must be exactly taskType+taskUUID"}]}`)
			return
		}
		ids = append(ids, str(t, "taskUUID"))
	}
	p.polled = append(p.polled, ids)
	step := p.polls[min(p.n, len(p.polls)-1)]
	p.n++
	status, body := step(ids)
	writeJSON(w, status, body)
}

// placeholders is the documented ACK: one placeholder per task.
func placeholders(tasks []map[string]any) (int, string) {
	var items []string
	for _, t := range tasks {
		items = append(items, fmt.Sprintf(`{"taskType":"textInference","taskUUID":%q}`, str(t, "taskUUID")))
	}
	return 200, `{"data":[` + strings.Join(items, ",") + `]}`
}

// data joins items into a data envelope.
func data(items ...string) (int, string) { return 200, `{"data":[` + strings.Join(items, ",") + `]}` }

// Two async tasks are submitted in one request, polled together with
// getResponse, and each closes once numberResults items are terminal; the
// cumulative state of the latest poll decides and a finished task is no
// longer polled. An item with status error fails its result and the task.
func TestAsyncPollsUntilTerminal(t *testing.T) {
	p := &pollScript{ack: placeholders, polls: []func([]string) (int, string){
		// Poll 1: both still running.
		func([]string) (int, string) {
			return data(`{"taskUUID":"A","status":"processing","progress":30}`, `{"taskUUID":"B","status":"processing"}`, `{"taskUUID":"B","status":"pending"}`)
		},
		// Poll 2: A done; B has one of its two results.
		func([]string) (int, string) {
			return data(`{"taskType":"textInference","taskUUID":"A","status":"success","text":"Paris","finishReason":"stop","cost":0.5}`,
				`{"taskUUID":"B","status":"success","text":"one","finishReason":"stop"}`, `{"taskUUID":"B","status":"processing"}`)
		},
		// Poll 3: B's second result failed (embedded error object).
		func([]string) (int, string) {
			return data(`{"taskUUID":"B","status":"success","text":"one","finishReason":"stop"}`,
				`{"taskUUID":"B","status":"error","error":{"code":"timeoutProvider","message":"The provider timed out."}}`)
		},
	}}
	c, rec := serve(t, p.handle, WithPollInterval(time.Millisecond))
	resps, err := c.Do(context.Background(), []Task{asyncTaskN("A", 1), asyncTaskN("B", 2)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"A", "B"}, {"A", "B"}, {"B"}}, p.polled); diff != "" {
		t.Errorf("polled taskUUIDs (-want +got):\n%s", diff)
	}
	var sub []Task
	if err := json.Unmarshal(rec.all()[0].body, &sub); err != nil || len(sub) != 2 || sub[0].DeliveryMethod != DeliveryAsync {
		t.Errorf("submission = %s (%v), want both async tasks in one array", rec.all()[0].body, err)
	}
	a := resps[0]
	if a.Err != nil || len(a.Results) != 1 || a.Results[0].Text != "Paris" || a.Results[0].Cost == nil {
		t.Errorf("A = %+v, want its success", a)
	}
	b := resps[1]
	if len(b.Results) != 2 || b.Results[0].Text != "one" || b.Results[1].Err == nil || b.Results[1].Err.Code != "timeoutProvider" {
		t.Fatalf("B results = %+v, want one success and one failed item", b.Results)
	}
	if b.Err == nil || b.Err.Class != ClassTimeout {
		t.Errorf("B err = %+v, want the failed item's error", b.Err)
	}
	if a.Timings.Dispatched.IsZero() || a.Timings.Done.Before(a.Timings.Dispatched) || b.Timings.Done.Before(a.Timings.Done) {
		t.Errorf("timings: A %+v B %+v", a.Timings, b.Timings)
	}
}

// Failures on the way: a validation error in the ACK fails only its task, a
// transient poll failure is retried, a top-level code/message item error is
// read, and a non-transient poll error (taskNotFound) ends its task.
func TestAsyncFailures(t *testing.T) {
	p := &pollScript{
		ack: func([]map[string]any) (int, string) {
			return 200, `{"data":[{"taskUUID":"A"},{"taskUUID":"C"}],"errors":[{"code":"invalidMaxTokens","message":"too big","parameter":"settings.maxTokens","taskUUID":"B"}]}`
		},
		polls: []func([]string) (int, string){
			// Poll 1: the service is busy (transient): polled again.
			func([]string) (int, string) {
				return 503, `{"errors":[{"code":"serviceUnavailable","message":"busy"}]}`
			},
			// Poll 2: A failed with top-level code/message; C is unknown.
			func([]string) (int, string) {
				return 200, `{"data":[{"taskUUID":"A","status":"error","code":"providerError","message":"upstream"}],"errors":[{"code":"taskNotFound","message":"no such task","taskUUID":"C"}]}`
			},
		},
	}
	c, _ := serve(t, p.handle, WithPollInterval(time.Millisecond))
	resps, err := c.Do(context.Background(), []Task{asyncTaskN("A", 0), asyncTaskN("B", 0), asyncTaskN("C", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"A", "C"}, {"A", "C"}}, p.polled); diff != "" {
		t.Errorf("polled (-want +got):\n%s", diff)
	}
	if e := resps[0].Err; e == nil || e.Code != "providerError" || e.Class != ClassProvider || len(resps[0].Results) != 1 {
		t.Errorf("A: %+v %+v", e, resps[0].Results)
	}
	if e := resps[1].Err; e == nil || e.Code != "invalidMaxTokens" || e.Parameter != "settings.maxTokens" {
		t.Errorf("B: %+v", e)
	}
	if e := resps[2].Err; e == nil || e.Code != "taskNotFound" || e.Class != ClassNotFound {
		t.Errorf("C: %+v", e)
	}
}

// A task that never finishes fails with ClassTimeout at the poll deadline,
// keeping the items already finished.
func TestAsyncPollTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &pollScript{ack: placeholders, polls: []func([]string) (int, string){
			func([]string) (int, string) {
				return data(`{"taskUUID":"A","status":"success","text":"one","finishReason":"stop"}`, `{"taskUUID":"A","status":"processing"}`)
			},
		}}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var tasks []map[string]any
			_ = json.NewDecoder(r.Body).Decode(&tasks)
			p.handle(w, tasks, nil)
		})
		c := NewClient(testKey, WithHTTPClient(handlerTransport(h)), WithPollInterval(time.Second), WithPollTimeout(time.Minute))
		start := time.Now()
		resps, err := c.Do(context.Background(), []Task{asyncTaskN("A", 2)})
		if err != nil {
			t.Fatal(err)
		}
		r := resps[0]
		if r.Err == nil || r.Err.Class != ClassTimeout {
			t.Fatalf("err = %+v, want ClassTimeout", r.Err)
		}
		if len(r.Results) != 1 || r.Results[0].Text != "one" {
			t.Errorf("results = %+v, want the finished item kept", r.Results)
		}
		if elapsed := time.Since(start); elapsed != time.Minute {
			t.Errorf("gave up after %v of fake time, want the poll timeout of 1m", elapsed)
		}
		if n := len(p.polled); n != 59 && n != 60 {
			t.Errorf("%d polls in a minute at 1s intervals", n)
		}
	})
}
