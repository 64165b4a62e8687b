package runwaretest_test

import (
	"context"
	"testing"
	"time"

	"github.com/promptgrid/promptgrid/runware"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// The project's own client and the simulator agree on the wire format for
// every delivery method: the client gets the same text, finish reason and
// usage from sync, stream and async.
func TestClientAgainstSimulator(t *testing.T) {
	s := runwaretest.NewServer(runwaretest.Options{})
	defer s.Close()
	c := runware.NewClient("k", runware.WithEndpoint(s.URL()), runware.WithPollInterval(time.Millisecond))
	seed := int64(11)
	mk := func(delivery string) runware.Task {
		return runware.Task{
			Model: runware.KimiK26AIR, DeliveryMethod: delivery, Seed: &seed, IncludeUsage: true, IncludeCost: true,
			Messages: []runware.Message{{Role: "user", Content: "Describe the sea"}},
			Settings: &runware.Settings{ThinkingLevel: "low"},
		}
	}
	var first *runware.Result
	for _, d := range []string{runware.DeliverySync, runware.DeliveryStream, runware.DeliveryAsync} {
		resps, err := c.Do(context.Background(), []runware.Task{mk(d)})
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		r := resps[0]
		if r.Err != nil || len(r.Results) != 1 {
			t.Fatalf("%s: err %v, %d results", d, r.Err, len(r.Results))
		}
		res := r.Results[0]
		if res.Usage == nil || res.Cost == nil || res.Usage.ThinkingTokens == 0 || res.Text == "" {
			t.Fatalf("%s: result %+v", d, res)
		}
		if first == nil {
			first = &res
			continue
		}
		if res.Text != first.Text || res.FinishReason != first.FinishReason || *res.Usage != *first.Usage {
			t.Fatalf("%s differs from sync: %+v vs %+v", d, res, *first)
		}
	}
}

// Injected faults reach the client as the right error classes.
func TestClientFaultClasses(t *testing.T) {
	tests := []struct {
		name   string
		faults runwaretest.Faults
		stream bool
		class  runware.Class
	}{
		// 429 is a rate-limit error.
		{"429", runwaretest.Faults{RateLimit: runwaretest.Fault{First: 1}}, false, runware.ClassRateLimit},
		// 402 is a credits error.
		{"402", runwaretest.Faults{InsufficientCredits: runwaretest.Fault{First: 1}}, false, runware.ClassCredits},
		// A truncated stream is a truncation.
		{"truncate", runwaretest.Faults{Truncate: runwaretest.Fault{First: 1}}, true, runware.ClassTruncated},
		// A mid-stream timeoutProvider event is a timeout.
		{"mid-stream", runwaretest.Faults{MidStreamError: runwaretest.Fault{First: 1}}, true, runware.ClassTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := runwaretest.NewServer(runwaretest.Options{Faults: tc.faults})
			defer s.Close()
			c := runware.NewClient("k", runware.WithEndpoint(s.URL()))
			task := runware.Task{Model: runware.KimiK26Slug, Messages: []runware.Message{{Role: "user", Content: "hi"}}}
			if tc.stream {
				task.DeliveryMethod = runware.DeliveryStream
			}
			resps, err := c.Do(context.Background(), []runware.Task{task})
			if err != nil {
				t.Fatal(err)
			}
			e := resps[0].Err
			if e == nil && len(resps[0].Results) > 0 {
				e = resps[0].Results[0].Err
			}
			if e == nil || e.Class != tc.class {
				t.Fatalf("error %+v, want class %s", e, tc.class)
			}
		})
	}
}
