package reports

import (
	"encoding/binary"
	"math"

	"github.com/promptgrid/promptgrid/journal"
)

// sampleLog is what a cell keeps of each of its samples, in the order they
// were added, packed in fixed-size chunks of bytes: a flags byte, the case
// number (as the difference from the previous row's in its chunk: rows of
// a fresh run come in about case order), the error class and tag list,
// retries and the key within the case (seed, replicate, result index),
// tokens, cost and, for a request with one result, its timings. Integers
// are varints; timings and costs are varints of nanoseconds (of 1e-12 for
// costs) when that gives the value back exactly, as it does for what the
// runner writes (journal.Ms of a duration), else their 8 bytes. Everything
// per case (pass counts, the listed cases' distributions and costs) and the
// cell's distributions are derived from it when the aggregator closes, so a
// case costs its samples' 15 to 40 bytes and no pointer, however many cases
// a run has.
type sampleLog struct {
	chunks [][]byte
	// prev is the case number of the last row of the last chunk.
	prev int32
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

// Row flags (one byte).
const (
	rowPass = 1 << iota
	rowErrored
	rowUsage
	rowCost
	rowCostEstimated
	rowInline
	rowTags
	// rowExtras: retries, replicate and result index follow (else all 0).
	rowExtras
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

// Scales of the fixed-point values of a sampleLog: timings are in ms,
// written by the runner from nanosecond durations; costs are in USD.
const (
	msScale   = 1e6
	costScale = 1e12
)

// appendNum appends v as the varint of v·scale (with a low bit of 1) when
// dividing that integer by scale gives v back bit for bit, else as a 0 byte
// and v's 8 bytes.
func appendNum(b []byte, v, scale float64) []byte {
	if x := v * scale; math.Abs(x) < 1<<53 {
		n := int64(math.Round(x))
		if float64(n)/scale == v && (n != 0 || !math.Signbit(v)) {
			z := uint64(n<<1) ^ uint64(n>>63)
			return binary.AppendUvarint(b, z<<1|1)
		}
	}
	b = append(b, 0)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// readNum reads a value appendNum wrote at the start of b.
func readNum(b []byte, scale float64) (float64, []byte) {
	u, k := binary.Uvarint(b)
	b = b[k:]
	if u&1 == 0 {
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:]
	}
	z := u >> 1
	n := int64(z>>1) ^ -int64(z&1)
	return float64(n) / scale, b
}

// encode appends row to b; prev is the case number of the row before it
// in its chunk (0 for the first).
func (row *sampleRow) encode(b []byte, prev int32) []byte {
	flags := byte(0)
	set := func(on bool, f byte) {
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
	set(row.retries != 0 || row.rep != 0 || row.ri != 0, rowExtras)
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(row.cs)-int64(prev))
	if flags&rowExtras != 0 {
		b = binary.AppendUvarint(b, uint64(row.retries))
		b = binary.AppendVarint(b, int64(row.rep))
		b = binary.AppendVarint(b, int64(row.ri))
	}
	if row.errored {
		b = binary.AppendUvarint(b, uint64(row.errClass))
	}
	if row.tags >= 0 {
		b = binary.AppendUvarint(b, uint64(row.tags))
	}
	b = binary.AppendVarint(b, row.seed)
	if row.usage {
		b = binary.AppendVarint(b, row.prompt)
		b = binary.AppendVarint(b, row.thinking)
		b = binary.AppendVarint(b, row.visible)
	}
	if row.hasCost {
		b = appendNum(b, row.cost, costScale)
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
				b = appendNum(b, v, msScale)
			}
		}
	}
	return b
}

// decode reads the row at the start of b, whose previous row in its chunk
// has case number prev (0 for the first), and returns the rest.
func (row *sampleRow) decode(b []byte, prev int32) []byte {
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
	flags := b[0]
	b = b[1:]
	row.pass, row.errored, row.usage = flags&rowPass != 0, flags&rowErrored != 0, flags&rowUsage != 0
	row.hasCost, row.costEstimated, row.inline = flags&rowCost != 0, flags&rowCostEstimated != 0, flags&rowInline != 0
	row.cs = int32(int64(prev) + sv())
	row.retries, row.rep, row.ri = 0, 0, 0
	if flags&rowExtras != 0 {
		row.retries = int(uv())
		row.rep, row.ri = int(sv()), int(sv())
	}
	row.errClass, row.tags = -1, -1
	if row.errored {
		row.errClass = int32(uv())
	}
	if flags&rowTags != 0 {
		row.tags = int32(uv())
	}
	row.seed = sv()
	row.prompt, row.thinking, row.visible = 0, 0, 0
	if row.usage {
		row.prompt, row.thinking, row.visible = sv(), sv(), sv()
	}
	row.cost = 0
	if row.hasCost {
		row.cost, b = readNum(b, costScale)
	}
	if row.inline {
		mask := b[0]
		b = b[1:]
		q := newRequestTimes()
		q.answered = mask&tAnswered != 0
		for i, p := range [...]*float64{&q.ttft, &q.ttfo, &q.e2e, &q.queue, &q.toSuccess, &q.e2eBound, &q.toSuccessBound} {
			if mask&(tTTFT<<i) != 0 {
				*p, b = readNum(b, msScale)
			}
		}
		row.times = q
	}
	return b
}

// add appends row, encoded in the scratch buffer buf.
func (l *sampleLog) add(row *sampleRow, buf *[]byte) {
	if n := len(l.chunks); n > 0 {
		last := &l.chunks[n-1]
		enc := row.encode((*buf)[:0], l.prev)
		*buf = enc
		if len(*last)+len(enc) <= cap(*last) {
			*last = append(*last, enc...)
			l.prev = row.cs
			return
		}
	}
	enc := row.encode((*buf)[:0], 0)
	*buf = enc
	c := make([]byte, 0, max(logChunk, len(enc)))
	l.chunks = append(l.chunks, append(c, enc...))
	l.prev = row.cs
}

// each calls fn with every row in the order they were added; row is
// reused between calls.
func (l *sampleLog) each(fn func(row *sampleRow)) {
	var row sampleRow
	for _, c := range l.chunks {
		prev := int32(0)
		for len(c) > 0 {
			c = row.decode(c, prev)
			prev = row.cs
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
