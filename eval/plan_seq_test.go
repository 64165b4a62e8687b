package eval

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Planning from the trial stream gives the same plan as planning from the
// expanded list, for every shipped suite, so `plan` can stream large suites.
func TestMakePlanSeqMatchesMakePlan(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "suites", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped suites: %v", err)
	}
	for _, path := range paths {
		s, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		trials, err := Expand(s)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		opt := PlanOptions{Rate: 5, Concurrency: 4}
		seq, err := MakePlanSeq(s, ExpandSeq(s), opt)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if diff := cmp.Diff(MakePlan(s, trials, opt), seq, cmpopts.IgnoreUnexported(PlanRow{})); diff != "" {
			t.Errorf("%s: streamed plan differs (-list +stream):\n%s", path, diff)
		}
	}
}

// A failing trial stream ends planning with its error.
func TestMakePlanSeqStopsAtStreamError(t *testing.T) {
	boom := errors.New("template failed")
	_, err := MakePlanSeq(&Suite{Name: "s"}, func(yield func(Trial, error) bool) {
		if yield(Trial{Cell: "c", NumberResults: 1, Request: map[string]any{}}, nil) {
			yield(Trial{}, boom)
		}
	}, PlanOptions{Concurrency: 1})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the stream's error", err)
	}
}
