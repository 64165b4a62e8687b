package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promptgrid/promptgrid/journal"
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
		// Values that are not whole nanoseconds (or whole 1e-12 USD), or
		// whose fixed-point form would not give them back: kept raw.
		{cs: 7, hasCost: true, cost: 0.000271 * 3, errClass: -1, tags: -1, inline: true,
			times: requestTimes{ttft: 1.0 / 3, ttfo: math.Copysign(0, -1), e2e: 1e300, queue: -2.5, toSuccess: 5e-324, answered: true, e2eBound: nan, toSuccessBound: math.Inf(-1)}},
		{cs: 8, hasCost: true, cost: math.Copysign(0, -1), errClass: -1, tags: -1, inline: true, retries: 1,
			times: requestTimes{ttft: 0, ttfo: 9007199254.740991, e2e: 9007199254.740993, queue: 1e-6, toSuccess: 86400000.000001, e2eBound: 0.000271 * 3, toSuccessBound: nan}},
	}
	var l sampleLog
	var want []sampleRow
	var buf []byte
	for i := range 3 * logChunk / 20 {
		r := rows[i%len(rows)]
		r.cs += int32(i)
		if i%7 == 3 {
			r.cs = int32(i / 2)
		}
		want = append(want, r)
		l.add(&r, &buf)
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

// The timings the runner writes (journal.Ms of a duration, through the
// journal's JSON) and decimal costs take the compact fixed-point form, and
// every value reads back bit for bit.
func TestSampleLogFixedPoint(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	check := func(v, scale float64, wantFixed bool) {
		t.Helper()
		b := appendNum(nil, v, scale)
		if fixed := b[0]&1 == 1; fixed != wantFixed {
			t.Fatalf("appendNum(%v, %g): fixed %v, want %v", v, scale, fixed, wantFixed)
		}
		got, rest := readNum(b, scale)
		if math.Float64bits(got) != math.Float64bits(v) || len(rest) != 0 {
			t.Fatalf("readNum(appendNum(%v)) = %v (%d bytes left)", v, got, len(rest))
		}
	}
	for range 100000 {
		d := time.Duration(rnd.Int64N(int64(200 * time.Hour)))
		line, _ := json.Marshal(journal.Ms(d))
		var v float64
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		check(v, msScale, true)
		c, _ := strconv.ParseFloat(fmt.Sprintf("%.*f", rnd.IntN(12), rnd.Float64()), 64)
		check(c, costScale, true)
		check(rnd.Float64()*1000, msScale, false)
	}
}
