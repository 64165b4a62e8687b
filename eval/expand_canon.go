package eval

import (
	"iter"
	"slices"
	"strings"

	"github.com/promptgrid/promptgrid/internal/jsonenc"
)

// The canonical request of a trial (what its key and request hash hash)
// is mostly its arm's and its cell's: the suite's fields, the model and the
// messages are the same in every trial of a case and variant, and a cell's
// settings are the same for every case that has no request of its own.
// Those parts are encoded once (for an arm by its first trial, for a
// variant's shared request in a cell by the first trial there); each trial
// then copies them and encodes only what it sets itself (seed,
// numberResults, and the rest of ownKeys) and, in an arm with a request of
// its own, its cell's keys.

// canonField is one top-level key of a trial's request and its encoding
// `"key":value`, nil for a key whose value each trial encodes itself
// (ownKeys but messages, a cell's keys in an arm with a request of its
// own) or that jsonenc does not encode.
type canonField struct {
	key string
	enc []byte
}

// armCanon is an arm's part of its trials' canonical requests, made by its
// first trial (prepareCanon).
type armCanon struct {
	ready bool
	// cells, when the arm's request is a variant's shared one
	// (expansion.bases), are by cell index the fields of that request with
	// the cell's values set, made on first use (cellFields) and shared by
	// the variant's arms; else nil.
	cells [][]canonField
	// own are the fields a trial sets itself (ownKeys, setsKey), the
	// messages encoded. fields are, for an arm with a request of its own,
	// every top-level key of its trials but their cells', in order: the
	// request's (in request) and own. buf holds their encodings.
	own, fields, request []canonField
	buf                  []byte
}

// reuse takes the buffers of the previous case's armCanon of the variant.
func (ac *armCanon) reuse(prev *armCanon) {
	ac.own, ac.fields, ac.request, ac.buf = prev.own[:0], prev.fields[:0], prev.request[:0], prev.buf[:0]
}

// ownKeys are the top-level keys a trial may set itself, in key order
// (arm.setsKey says which it does).
var ownKeys = [...]string{"inputs", "messages", "numberResults", "seed", "settings"}

// setsKey reports whether the trials of the arm (of case c) set top-level
// key k of ownKeys themselves: inputs with media, settings under a system
// prompt, the others always.
func (a *arm) setsKey(c *Case, k string) bool {
	switch k {
	case "inputs":
		return len(c.Images)+len(c.Videos) > 0
	case "settings":
		return a.sys != ""
	}
	return true
}

// canonFieldsOf appends the fields of req but transport (which a trial's
// request does not keep), in key order, to fields and their encodings to
// buf.
func canonFieldsOf(fields []canonField, buf []byte, req map[string]any) ([]canonField, []byte) {
	start := len(fields)
	for k := range req {
		if k != "transport" {
			fields = append(fields, canonField{key: k})
		}
	}
	added := fields[start:]
	slices.SortFunc(added, func(p, q canonField) int { return strings.Compare(p.key, q.key) })
	for i := range added {
		added[i].enc, buf = appendField(buf, added[i].key, req[added[i].key])
	}
	return fields, buf
}

// appendField appends `"key":value` to buf and returns it as enc, or nil
// (and buf as it was) when jsonenc does not encode the value. enc stays
// valid as buf grows: an append does not touch the bytes before it.
func appendField(buf []byte, key string, v any) (enc, _ []byte) {
	start := len(buf)
	b := jsonenc.AppendString(buf, key, false)
	b = append(b, ':')
	b, ok := jsonenc.AppendCanonical(b, v)
	if !ok {
		return nil, b[:start]
	}
	return b[start:len(b):len(b)], b
}

// prepareCanon makes the arm's canonical fields for case c: the trial's own
// (of which only the messages are the same in every trial, and are encoded
// here) and, for an arm with a request of its own, the request's merged
// with them.
func (a *arm) prepareCanon(c *Case) {
	ac := &a.canon
	ac.ready = true
	own := ac.own[:0]
	for _, k := range ownKeys {
		if !a.setsKey(c, k) {
			continue
		}
		f := canonField{key: k}
		if k == "messages" {
			f.enc, ac.buf = appendField(ac.buf, k, a.wire)
		}
		own = append(own, f)
	}
	ac.own = own
	if ac.cells == nil {
		ac.request, ac.buf = canonFieldsOf(ac.request[:0], ac.buf, a.request)
		ac.fields = slices.AppendSeq(ac.fields[:0], mergeFields(ac.request, own))
	}
}

// cellFields are the fields of request req with the values of cell set, as
// a trial sets them.
func cellFields(req map[string]any, cell *Cell) []canonField {
	req = cloneMap(req)
	for i, p := range cell.paths {
		setPath(req, p, cloneValue(cell.vals[i]))
	}
	fields, _ := canonFieldsOf(make([]canonField, 0, len(req)), nil, req)
	return fields
}

// mergeFields yields the fields of two lists in key order; of a key in
// both, the second list's field.
func mergeFields(first, second []canonField) iter.Seq[canonField] {
	return func(yield func(canonField) bool) {
		for len(first) > 0 || len(second) > 0 {
			var f canonField
			switch {
			case len(second) == 0 || len(first) > 0 && first[0].key < second[0].key:
				f, first = first[0], first[1:]
			case len(first) > 0 && first[0].key == second[0].key:
				f, first, second = second[0], first[1:], second[1:]
			default:
				f, second = second[0], second[1:]
			}
			if !yield(f) {
				return
			}
		}
	}
}

// canonicalRequest is canonicalJSON(req) for a trial of arm a in cell ci,
// by appendArmCanonical when it can. The result is valid until the next
// call.
func (x *expansion) canonicalRequest(req map[string]any, a *arm, ci int) []byte {
	b, ok := x.appendArmCanonical(x.canon[:0], req, a, ci)
	x.canon = b[:0]
	if !ok {
		return x.canonicalJSON(req)
	}
	return b
}

// appendArmCanonical appends canonicalJSON(req) for a trial of arm a in
// cell ci: in key order, the fields of the arm's shared request in the
// cell and the trial's own, or the arm's fields and the cell's keys, each
// copied from its encoding or, for a field without one, encoded from req.
// ok is false when the keys do not add up to req's or a value is not one
// jsonenc encodes.
func (x *expansion) appendArmCanonical(b []byte, req map[string]any, a *arm, ci int) (_ []byte, ok bool) {
	first, second := a.canon.fields, x.cells[ci].tops
	if cells := a.canon.cells; cells != nil {
		if cells[ci] == nil {
			cells[ci] = cellFields(a.request, &x.cells[ci])
		}
		first, second = cells[ci], a.canon.own
	}
	b = append(b, '{')
	n := 0
	for f := range mergeFields(first, second) {
		if n++; n > 1 {
			b = append(b, ',')
		}
		if f.enc != nil {
			b = append(b, f.enc...)
			continue
		}
		b = jsonenc.AppendString(b, f.key, false)
		b = append(b, ':')
		if b, ok = jsonenc.AppendCanonical(b, req[f.key]); !ok {
			return b, false
		}
	}
	return append(b, '}'), n == len(req)
}
