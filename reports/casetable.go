package reports

import (
	"bytes"
	"hash/maphash"
	"slices"
)

// caseTable numbers the case ids of a run: each id gets the next case
// number the first time it is seen, and every per-case state of the
// aggregator is indexed by that number. The ids are kept once, back to
// back in one byte array, and found again through an open-addressing
// table of case numbers, so that a case costs about 25 bytes and no
// pointer (a map[string]int32 costs about three times that, and the
// garbage collector scans every key).
type caseTable struct {
	seed  maphash.Seed
	ids   []byte
	ends  []uint32 // ends[i] is where id i ends in ids (it starts at ends[i-1])
	slots []int32  // case number + 1, 0 for an empty slot
}

func newCaseTable() caseTable {
	return caseTable{seed: maphash.MakeSeed(), slots: make([]int32, 1024)}
}

// len is the number of cases.
func (t *caseTable) len() int { return len(t.ends) }

// bytes is the id of case i, in the table's storage (not to be kept).
func (t *caseTable) bytes(i int32) []byte {
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.ids[start:t.ends[i]]
}

// id is the id of case i.
func (t *caseTable) id(i int32) string { return string(t.bytes(i)) }

// intern returns the number of the case id, numbering it if it is new.
func (t *caseTable) intern(id string) int32 {
	mask := uint64(len(t.slots) - 1)
	for h := maphash.String(t.seed, id) & mask; ; h = (h + 1) & mask {
		s := t.slots[h]
		if s == 0 {
			i := int32(len(t.ends))
			t.ids = append(t.ids, id...)
			t.ends = append(t.ends, uint32(len(t.ids)))
			t.slots[h] = i + 1
			if 2*len(t.ends) > len(t.slots) {
				t.grow()
			}
			return i
		}
		if string(t.bytes(s-1)) == id {
			return s - 1
		}
	}
}

// dropIndex frees the slots: the table can no longer intern, only give ids
// and their order.
func (t *caseTable) dropIndex() { t.slots = nil }

// grow doubles the slots, keeping them at most half full.
func (t *caseTable) grow() {
	slots := make([]int32, 2*len(t.slots))
	mask := uint64(len(slots) - 1)
	for i := range t.ends {
		h := maphash.Bytes(t.seed, t.bytes(int32(i))) & mask
		for slots[h] != 0 {
			h = (h + 1) & mask
		}
		slots[h] = int32(i) + 1
	}
	t.slots = slots
}

// order returns every case number sorted by id (as sort.Strings sorts the
// ids: bytewise).
func (t *caseTable) order() []int32 {
	out := make([]int32, t.len())
	for i := range out {
		out[i] = int32(i)
	}
	slices.SortFunc(out, func(a, b int32) int { return bytes.Compare(t.bytes(a), t.bytes(b)) })
	return out
}
