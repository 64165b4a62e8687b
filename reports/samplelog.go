package reports

import (
	"encoding/binary"
	"math"

	"github.com/promptgrid/promptgrid/journal"
)

// sampleLog is what a cell keeps of each of its samples, in the order they
// were added, packed as varints and raw float64 bits in fixed-size chunks
// of bytes: the case number, pass and error, retries, tokens, cost, the
// key within the case (seed, replicate, result index) and, for a request
// with one result, its timings. Everything per case (pass counts, the
// listed cases' distributions and costs) and the cell's distributions are
// derived from it when the aggregator closes, so a case costs its samples'
// few dozen bytes and no pointer, however many cases a run has.
type sampleLog struct {
	chunks [][]byte
}

// logChunk is the size of a sampleLog chunk: big enough that the slack of
// the last one is nothing, small enough that a cell of a few samples does
// not hold much.
const logChunk = 32 << 10

// sampleRow is one decoded sample of a sampleLog.
type sampleRow struct {
	cs                     int32
	pass, errored, usage   bool
	hasCost, costEstimated bool
	// inline is true when times holds the sample's request (a request with
	// one result); the requests of several results are folded apart.
	inline  bool
	retries int
	// errClass and tags index the aggregator's tables; -1 when none.
	errClass, tags            int32
	seed                      int64
	rep, ri                   int
	prompt, thinking, visible int64
	cost                      float64
	times                     requestTimes
}

// Row flags.
const (
	rowPass = 1 << iota
	rowErrored
	rowUsage
	rowCost
	rowCostEstimated
	rowInline
	rowTags
)

// Bits of a request's timings mask: which values follow (the others are
// NaN), and whether it was answered.
const (
	tAnswered = 1 << iota
	tTTFT
	tTTFO
	tE2E
	tQueue
	tToSuccess
	tE2EBound
	tToSuccessBound
)

// encode appends row to b.
func (row *sampleRow) encode(b []byte) []byte {
	flags := uint64(0)
	set := func(on bool, f uint64) {
		if on {
			flags |= f
		}
	}
	set(row.pass, rowPass)
	set(row.errored, rowErrored)
	set(row.usage, rowUsage)
	set(row.hasCost, rowCost)
	set(row.costEstimated, rowCostEstimated)
	set(row.inline, rowInline)
	set(row.tags >= 0, rowTags)
	b = binary.AppendUvarint(b, uint64(row.cs))
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(row.retries))
	if row.errored {
		b = binary.AppendUvarint(b, uint64(row.errClass))
	}
	if row.tags >= 0 {
		b = binary.AppendUvarint(b, uint64(row.tags))
	}
	b = binary.AppendVarint(b, row.seed)
	b = binary.AppendVarint(b, int64(row.rep))
	b = binary.AppendVarint(b, int64(row.ri))
	if row.usage {
		b = binary.AppendVarint(b, row.prompt)
		b = binary.AppendVarint(b, row.thinking)
		b = binary.AppendVarint(b, row.visible)
	}
	if row.hasCost {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(row.cost))
	}
	if row.inline {
		q := &row.times
		vals := [...]float64{q.ttft, q.ttfo, q.e2e, q.queue, q.toSuccess, q.e2eBound, q.toSuccessBound}
		mask := byte(0)
		if q.answered {
			mask |= tAnswered
		}
		for i, v := range vals {
			if !math.IsNaN(v) {
				mask |= tTTFT << i
			}
		}
		b = append(b, mask)
		for i, v := range vals {
			if mask&(tTTFT<<i) != 0 {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			}
		}
	}
	return b
}

// decode reads the row at the start of b and returns the rest.
func (row *sampleRow) decode(b []byte) []byte {
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		b = b[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(b)
		b = b[n:]
		return v
	}
	f64 := func() float64 {
		v := math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
		return v
	}
	row.cs = int32(uv())
	flags := uv()
	row.pass, row.errored, row.usage = flags&rowPass != 0, flags&rowErrored != 0, flags&rowUsage != 0
	row.hasCost, row.costEstimated, row.inline = flags&rowCost != 0, flags&rowCostEstimated != 0, flags&rowInline != 0
	row.retries = int(uv())
	row.errClass, row.tags = -1, -1
	if row.errored {
		row.errClass = int32(uv())
	}
	if flags&rowTags != 0 {
		row.tags = int32(uv())
	}
	row.seed, row.rep, row.ri = sv(), int(sv()), int(sv())
	row.prompt, row.thinking, row.visible = 0, 0, 0
	if row.usage {
		row.prompt, row.thinking, row.visible = sv(), sv(), sv()
	}
	row.cost = 0
	if row.hasCost {
		row.cost = f64()
	}
	if row.inline {
		mask := b[0]
		b = b[1:]
		q := newRequestTimes()
		q.answered = mask&tAnswered != 0
		for i, p := range [...]*float64{&q.ttft, &q.ttfo, &q.e2e, &q.queue, &q.toSuccess, &q.e2eBound, &q.toSuccessBound} {
			if mask&(tTTFT<<i) != 0 {
				*p = f64()
			}
		}
		row.times = q
	}
	return b
}

// add appends one encoded row.
func (l *sampleLog) add(enc []byte) {
	if n := len(l.chunks); n == 0 || len(l.chunks[n-1])+len(enc) > cap(l.chunks[n-1]) {
		l.chunks = append(l.chunks, make([]byte, 0, max(logChunk, len(enc))))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, enc...)
}

// each calls fn with every row in the order they were added; row is
// reused between calls.
func (l *sampleLog) each(fn func(row *sampleRow)) {
	var row sampleRow
	for _, c := range l.chunks {
		for len(c) > 0 {
			c = row.decode(c)
			fn(&row)
		}
	}
}

// rowOf describes a record of case cs; errClass and tags are its error
// class and tag list numbered by the aggregator (-1: none), inline whether
// its request has one result.
func rowOf(r *journal.Record, cs, errClass, tags int32, inline bool) sampleRow {
	row := sampleRow{cs: cs, pass: r.Pass, errored: r.Error != nil, errClass: errClass, tags: tags,
		seed: r.Seed, rep: r.Replicate, ri: r.ResultIndex, inline: inline}
	if r.Attempts > 1 {
		row.retries = r.Attempts - 1
	}
	if u := r.Usage; u != nil {
		row.usage = true
		row.prompt, row.thinking, row.visible = int64(u.Prompt), int64(u.Thinking), int64(u.Visible())
	}
	if r.Cost != nil {
		row.hasCost, row.costEstimated, row.cost = true, r.CostEstimated, *r.Cost
	}
	if inline {
		row.times = newRequestTimes()
		row.times.add(r)
	}
	return row
}
