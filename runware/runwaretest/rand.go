package runwaretest

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
)

// hasher builds a stable 64-bit FNV-1a hash of a sequence of fields. Each
// field is length-prefixed so that ("ab","c") and ("a","bc") differ.
type hasher struct{ h uint64 }

func newHasher() *hasher { return &hasher{h: 14695981039346656037} }

func (h *hasher) str(s string) *hasher {
	f := fnv.New64a()
	var buf [8]byte
	putUint64(buf[:], h.h)
	f.Write(buf[:])
	putUint64(buf[:], uint64(len(s)))
	f.Write(buf[:])
	f.Write([]byte(s))
	h.h = f.Sum64()
	return h
}

func (h *hasher) u64(v uint64) *hasher { return h.str(strconv.FormatUint(v, 10)) }

func (h *hasher) sum() uint64 { return h.h }

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// splitmix64 scrambles v so that consecutive inputs give unrelated outputs.
func splitmix64(v uint64) uint64 {
	v += 0x9e3779b97f4a7c15
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9
	v = (v ^ (v >> 27)) * 0x94d049bb133111eb
	return v ^ (v >> 31)
}

// newRand returns a PCG generator that is a pure function of a content hash,
// a seed and a purpose label, so that independent draws (text, thinking
// tokens, latency, correctness) do not share a stream.
func newRand(content, seed uint64, purpose string) *rand.Rand {
	p := newHasher().str(purpose).sum()
	return rand.New(rand.NewPCG(splitmix64(content^p), splitmix64(seed+0x632be59bd9b4e019*p)))
}

// uniform is one U[0,1) draw keyed by (seed, n, purpose).
func uniform(seed, n uint64, purpose string) float64 {
	return newRand(splitmix64(seed), n, purpose).Float64()
}

// draw samples d clipped at zero.
func (d Dist) draw(r *rand.Rand) float64 {
	v := d.Mean
	if d.SD > 0 {
		v += d.SD * r.NormFloat64()
	}
	return math.Max(0, v)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
