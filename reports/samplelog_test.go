package reports

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A row read back from a sample log is the row written, bit for bit:
// NaN and absent timings, negative and large integers, costs of every
// kind, rows split across chunks.
func TestSampleLogRoundTrip(t *testing.T) {
	nan := math.NaN()
	rows := []sampleRow{
		{cs: 0, pass: true, usage: true, prompt: 12, thinking: 0, visible: -3, hasCost: true, cost: 1e-5, inline: true, errClass: -1, tags: -1,
			seed: 2287335240, times: requestTimes{ttft: nan, ttfo: nan, e2e: 1.70052, queue: 1.149847, toSuccess: 2.850697, answered: true, e2eBound: nan, toSuccessBound: nan}},
		{cs: 1 << 30, errored: true, errClass: 7, tags: 3, retries: 2, seed: -1, rep: 4, ri: 19, inline: true,
			times: requestTimes{ttft: nan, ttfo: nan, e2e: nan, queue: 0, toSuccess: nan, e2eBound: 30000.5, toSuccessBound: nan}},
		{cs: 5, hasCost: true, costEstimated: true, cost: math.Inf(1), usage: true, prompt: math.MaxInt64, thinking: math.MinInt64, errClass: -1, tags: -1},
		{cs: 6, hasCost: true, cost: nan, errClass: -1, tags: -1, seed: math.MaxInt64},
	}
	var l sampleLog
	var want []sampleRow
	var buf []byte
	for i := range 3 * logChunk / 40 {
		r := rows[i%len(rows)]
		r.cs += int32(i)
		want = append(want, r)
		buf = r.encode(buf[:0])
		l.add(buf)
	}
	if len(l.chunks) < 2 {
		t.Fatalf("%d chunks; the test wants rows in several", len(l.chunks))
	}
	var got []sampleRow
	l.each(func(r *sampleRow) {
		if !r.inline {
			r.times = requestTimes{}
		}
		got = append(got, *r)
	})
	bits := cmp.Comparer(func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) })
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(sampleRow{}, requestTimes{}), bits); diff != "" {
		t.Errorf("rows (-written +read):\n%s", diff)
	}
}

// The case table numbers ids in the order they are first seen, finds
// them again past every growth of its slots, and orders them as
// sort.Strings does.
func TestCaseTable(t *testing.T) {
	ct := newCaseTable()
	var ids []string
	for i := range 5000 {
		ids = append(ids, fmt.Sprintf("case-%d", (i*7919)%5000))
	}
	ids = append(ids, "", "é", "a\x00b", "a")
	for i, id := range ids {
		if got := ct.intern(id); got != int32(i) {
			t.Fatalf("intern(%q) = %d, want %d", id, got, i)
		}
	}
	for i, id := range ids {
		if got := ct.intern(id); got != int32(i) || ct.id(got) != id {
			t.Fatalf("intern(%q) again = %d (%q), want %d", id, got, ct.id(got), i)
		}
	}
	if ct.len() != len(ids) {
		t.Fatalf("len %d, want %d", ct.len(), len(ids))
	}
	var got []string
	for _, i := range ct.order() {
		got = append(got, ct.id(i))
	}
	want := slices.Clone(ids)
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-sort.Strings +order):\n%s", diff)
	}
}
