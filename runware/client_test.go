package runware

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Misuse is the only thing Do's error reports, and nothing is sent then.
func TestDoMisuse(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	stream := func(id string) Task { t := textTask(id); t.DeliveryMethod = DeliveryStream; return t }
	async := func(id string) Task { t := textTask(id); t.DeliveryMethod = DeliveryAsync; return t }
	tests := []struct {
		name  string
		ctx   context.Context
		tasks []Task
	}{
		// Nothing to send.
		{name: "no tasks", ctx: context.Background(), tasks: nil},
		// One request carries one delivery method.
		{name: "mixed delivery", ctx: context.Background(), tasks: []Task{textTask("a"), async("b")}},
		// A stream answers exactly one task.
		{name: "two stream tasks", ctx: context.Background(), tasks: []Task{stream("a"), stream("b")}},
		// Duplicate taskUUIDs could not be told apart in the answer.
		{name: "duplicate uuid", ctx: context.Background(), tasks: []Task{textTask("a"), textTask("a")}},
		// A delivery method the API does not know.
		{name: "unknown delivery", ctx: context.Background(), tasks: []Task{func() Task { t := textTask("a"); t.DeliveryMethod = "webhook"; return t }()}},
		// A context that ended before sending.
		{name: "cancelled ctx", ctx: cancelled, tasks: []Task{textTask("a")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) { writeJSON(w, 200, `{"data":[]}`) })
			resps, err := c.Do(tt.ctx, tt.tasks)
			if err == nil || resps != nil {
				t.Fatalf("Do = %v, %v; want a misuse error", resps, err)
			}
			if n := len(rec.all()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// "" and "sync" are the same delivery method, so they may share a request;
// missing taskUUID and taskType are filled in Do's copy.
func TestDoFillsDefaults(t *testing.T) {
	c, rec := serve(t, func(w http.ResponseWriter, tasks []map[string]any, _ []byte) {
		var items []string
		for _, tk := range tasks {
			items = append(items, fmt.Sprintf(`{"taskUUID":%q,"text":"x","finishReason":"stop"}`, str(tk, "taskUUID")))
		}
		writeJSON(w, 200, `{"data":[`+strings.Join(items, ",")+`]}`)
	})
	a := textTask("")
	a.TaskType = ""
	b := textTask("b")
	b.DeliveryMethod = DeliverySync
	resps, err := c.Do(context.Background(), []Task{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if resps[0].TaskUUID == "" || resps[0].Err != nil || resps[1].Err != nil {
		t.Fatalf("responses %+v %+v", resps[0], resps[1])
	}
	if body := string(rec.all()[0].body); !strings.Contains(body, resps[0].TaskUUID) || strings.Count(body, `"taskType":"textInference"`) != 2 {
		t.Errorf("body lacks the filled defaults: %s", body)
	}
}

// Transport failures are data in Response.Err: a refused connection is
// ClassNetwork, a context deadline ClassTimeout.
func TestDoTransportErrors(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := NewClient(testKey, WithEndpoint("http://"+addr+"/v1"))
		resps, err := c.Do(context.Background(), []Task{textTask("a")})
		if err != nil {
			t.Fatal(err)
		}
		if e := resps[0].Err; e == nil || e.Class != ClassNetwork || e.TaskUUID != "a" {
			t.Errorf("err = %+v, want ClassNetwork for task a", e)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// The server never answers; the deadline ends the request.
			hang := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			})
			c := NewClient(testKey, WithHTTPClient(&http.Client{Transport: hang}))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resps, err := c.Do(ctx, []Task{textTask("a")})
			if err != nil {
				t.Fatal(err)
			}
			if e := resps[0].Err; e == nil || e.Class != ClassTimeout {
				t.Errorf("err = %+v, want ClassTimeout", e)
			}
		})
	})
}

// The API key never appears in error text, even when the server echoes the
// Authorization header and the endpoint URL carries it.
func TestDoNeverLeaksKey(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, _ []map[string]any, _ []byte) {
		writeJSON(w, 401, `{"errors":[{"code":"invalidApiKey","message":"key `+testKey+` rejected","parameter":"apiKey"}]}`)
	})
	resps, err := c.Do(context.Background(), []Task{textTask("a")})
	if err != nil {
		t.Fatal(err)
	}
	if resps[0].Err == nil {
		t.Fatal("want the 401 error")
	}
	if text := allErrorText(resps); strings.Contains(text, testKey) || !strings.Contains(text, "[redacted]") {
		t.Errorf("error text = %q, want the key redacted", text)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c2 := NewClient(testKey, WithEndpoint("http://"+addr+"/v1?key="+testKey))
	resps, _ = c2.Do(context.Background(), []Task{textTask("a")})
	if text := allErrorText(resps); text == "" || strings.Contains(text, testKey) {
		t.Errorf("transport error text = %q, want the key redacted", text)
	}
}
