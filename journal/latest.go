package journal

import (
	"hash/maphash"
	"os"
	"strconv"
)

// SampleKey identifies one sample of a run: its trial and result index.
// Several journal lines may carry the same key (a retried or resumed trial);
// the last one wins.
func SampleKey(r *Record) string {
	k := r.Key()
	return sampleKeyOf(&k)
}

func sampleKeyOf(r *Key) string {
	k := r.TrialKey
	if k == "" {
		// Journals written without trial keys (hand-made ones) still
		// identify a sample by what the trial key hashes.
		k = r.CaseID + "\x00" + r.Variant + "\x00" + r.Cell + "\x00" + strconv.FormatInt(r.Seed, 10) + "\x00" + strconv.Itoa(r.Replicate)
	}
	return k + "\x00" + strconv.Itoa(r.ResultIndex)
}

// ReadInfo says what ReadLatest passed over.
type ReadInfo struct {
	// Lines is the number of records in the file.
	Lines int
	// Superseded counts lines replaced by a later line for the same sample.
	Superseded int
	// Incomplete counts samples whose last line is not terminal
	// (interrupted); they are not passed to fn.
	Incomplete int
	// PartialTail is true when the file ended in a cut-off line.
	PartialTail bool
}

// ReadLatest streams the journal at path to fn, passing for each sample only
// its last line, in file order, and skipping samples whose last line is not
// terminal. It reads the file twice and holds no record between lines: the
// first pass (ReadKeys, which scans each line for its key without
// decoding the rest) puts a 128-bit hash of every sample key into a Bloom
// filter (about 10 bits per 512 bytes of journal) and remembers the last
// line only of the keys the filter has seen before (every key written more
// than once, and under 1% of the others); the second pass (Read)
// passes on every line whose key the first pass did not remember, and for
// the others only the last. Memory is a few bytes per sample, plus a map
// entry per resumed or retried one. A line that is not JSON, or whose
// top-level fields have the wrong types, fails the first pass; one whose
// nested values have the wrong types fails the second, after fn has seen
// the lines before it. When the journal's directory holds a run.json, a line
// of another run or suite fails the second pass too (OwnedBy).
func ReadLatest(path string, fn func(*Record) error) (ReadInfo, error) {
	return ReadLatestWith(path, fn, nil, nil)
}

// Blocks finds, in ReadLatest's first pass, the groups of lines (trials) that
// are not written in one run of consecutive lines: id names a record's
// group; scattered ends up holding every group whose lines are interrupted
// by another group's (and about 1% of the others). The lines passed on of a
// group not in scattered are consecutive among the lines passed on.
type Blocks struct {
	ID        func(*Key) ID128
	Seen      *Bloom
	Scattered *Bloom
}

// ReadLatestWith is ReadLatest, also filling b (when not nil) in the first pass,
// and passing every line that does not count (superseded or incomplete) to
// skipped, when not nil.
func ReadLatestWith(path string, fn func(*Record) error, b *Blocks, skipped func(*Record)) (ReadInfo, error) {
	var info ReadInfo
	ids := NewIDHasher()
	seen := NewBloom(path)
	var prev ID128
	if b != nil {
		b.Seen, b.Scattered = NewBloom(path), NewBloom(path)
	}
	type repeat struct{ last, lines int }
	repeated := map[ID128]*repeat{}
	line := 0
	if _, err := ReadKeys(path, func(k *Key) error {
		if b != nil {
			if g := b.ID(k); line == 0 || g != prev {
				if b.Seen.Add(g) {
					b.Scattered.Add(g)
				}
				prev = g
			}
		}
		id := ids.Sample(k)
		if seen.Add(id) {
			if p := repeated[id]; p != nil {
				p.last = line
			} else {
				repeated[id] = &repeat{last: line}
			}
		}
		line++
		return nil
	}); err != nil {
		return info, err
	}
	info.Lines = line
	seen = nil // only the first pass needs them
	if b != nil {
		b.Seen = nil
	}
	// Every line is decoded in the second pass, so that is where a line of
	// another run than the directory's run.json is refused.
	owner, err := MetaBeside(path)
	if err != nil {
		return info, err
	}
	line = 0
	st, err := Read(path, func(r *Record) error {
		i := line
		line++
		if len(repeated) > 0 {
			k := r.Key()
			if p := repeated[ids.Sample(&k)]; p != nil {
				p.lines++
				if p.last != i {
					if skipped != nil {
						skipped(r)
					}
					return nil
				}
			}
		}
		if !r.Terminal() {
			info.Incomplete++
			if skipped != nil {
				skipped(r)
			}
			return nil
		}
		return fn(r)
	}, OwnedBy(owner))
	for _, p := range repeated {
		info.Superseded += p.lines - 1
	}
	info.PartialTail = st.PartialTail
	return info, err
}

// Bloom is a Bloom filter of id128s (double hashing over the id's two
// halves, 7 probes), sized from the journal's size.
type Bloom struct {
	bits []uint64
	m    uint64
}

// NewBloom sizes a filter for the journal at path at 10 bits per line,
// counting a line as 512 bytes (the runner's lines are 1 KB or more, so the
// false positive rate stays well below 1%; shorter lines raise it, which
// costs map entries, never correctness).
func NewBloom(path string) *Bloom {
	lines := int64(0)
	if st, err := os.Stat(path); err == nil {
		lines = st.Size() / 512
	}
	m := uint64(max(lines*10, 1<<12))
	return &Bloom{bits: make([]uint64, (m+63)/64), m: m}
}

// has reports whether id may be in the filter (always true if it is).
func (b *Bloom) Has(id ID128) bool {
	h, step := id[0], id[1]|1
	for range 7 {
		pos := h % b.m
		if b.bits[pos/64]&(uint64(1)<<(pos%64)) == 0 {
			return false
		}
		h += step
	}
	return true
}

// add puts id in the filter and reports whether it may have been there
// already (always true if it was).
func (b *Bloom) Add(id ID128) bool {
	h, step := id[0], id[1]|1
	seen := true
	for range 7 {
		pos := h % b.m
		w, bit := pos/64, uint64(1)<<(pos%64)
		if b.bits[w]&bit == 0 {
			seen = false
			b.bits[w] |= bit
		}
		h += step
	}
	return seen
}

// ID128 is a 128-bit hash of a byte string, a compact map key standing for
// the string: two 64-bit hashes with independent per-process seeds, so that
// a collision among even a billion keys has a chance below 1e-20.
type ID128 [2]uint64

var idSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// IDHasher computes id128s without allocating; it is not safe for
// concurrent use.
type IDHasher struct {
	h   *[2]maphash.Hash
	num []byte
}

func NewIDHasher() IDHasher {
	h := &[2]maphash.Hash{}
	h[0].SetSeed(idSeeds[0])
	h[1].SetSeed(idSeeds[1])
	return IDHasher{h: h, num: make([]byte, 0, 20)}
}

// sum hashes the concatenation of parts.
func (x *IDHasher) Sum(parts ...string) ID128 {
	var out ID128
	for i := range x.h {
		h := &x.h[i]
		h.Reset()
		for _, p := range parts {
			h.WriteString(p)
		}
		out[i] = h.Sum64()
	}
	return out
}

// sample is the ID128 of SampleKey of a record with key r.
func (x *IDHasher) Sample(r *Key) ID128 {
	if r.TrialKey == "" {
		return x.Sum(sampleKeyOf(r))
	}
	x.num = strconv.AppendInt(x.num[:0], int64(r.ResultIndex), 10)
	var out ID128
	for i := range x.h {
		h := &x.h[i]
		h.Reset()
		h.WriteString(r.TrialKey)
		h.WriteByte(0)
		h.Write(x.num)
		out[i] = h.Sum64()
	}
	return out
}
