package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/promptgrid/promptgrid/internal/jsonenc"
)

// Cell is one point of the settings grid.
type Cell struct {
	// Label is "path=value path=value" in grid order; "" without a grid.
	Label  string
	Values map[string]any
	// paths and vals keep the grid order for building requests.
	paths []string
	vals  []any
	// tops are the first keys of paths, sorted and without repeats or
	// transport (which a request does not keep): the top-level keys a
	// trial's cell sets, as fields that each trial encodes.
	tops []canonField
}

// Cells enumerates the cartesian product of the grid axes, the last axis
// varying fastest. A suite without a grid has one cell with an empty label.
func Cells(axes []GridAxis) []Cell {
	cells := []Cell{{Values: map[string]any{}}}
	for _, ax := range axes {
		next := make([]Cell, 0, len(cells)*len(ax.Values))
		for _, c := range cells {
			for _, v := range ax.Values {
				n := Cell{
					Values: make(map[string]any, len(c.Values)+1),
					paths:  append(append([]string(nil), c.paths...), ax.Path),
					vals:   append(append([]any(nil), c.vals...), v),
				}
				for k, x := range c.Values {
					n.Values[k] = x
				}
				n.Values[ax.Path] = v
				next = append(next, n)
			}
		}
		cells = next
	}
	for i := range cells {
		parts := make([]string, len(cells[i].paths))
		for j, p := range cells[i].paths {
			parts[j] = p + "=" + describeAxisValue(cells[i].vals[j])
		}
		cells[i].Label = strings.Join(parts, " ")
		cells[i].tops = pathTops(cells[i].paths)
	}
	return cells
}

// pathTops lists the first keys of dotted paths, sorted and without
// repeats or transport.
func pathTops(paths []string) []canonField {
	var tops []string
	for _, p := range paths {
		if top, _, _ := strings.Cut(p, "."); top != "transport" {
			tops = append(tops, top)
		}
	}
	slices.Sort(tops)
	fields := make([]canonField, 0, len(tops))
	for _, top := range slices.Compact(tops) {
		fields = append(fields, canonField{key: top})
	}
	return fields
}

// SampleSeed is the seed sent for replicate r of a case: a hash of the
// replicate's seed base, the case id and r, in the unsigned 32-bit range.
// It does not depend on the cell, the variant or the run, so every cell
// and variant of a case sees the same seeds (common random numbers).
func SampleSeed(base int64, caseID string, r int) int64 {
	// The hashed bytes are fmt's "%d\x00%s\x00%d", appended by hand: this
	// runs once per case and replicate of every walk.
	var arr [64]byte
	b := strconv.AppendInt(arr[:0], base, 10)
	b = append(b, 0)
	b = append(b, caseID...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(r), 10)
	sum := sha256.Sum256(b)
	return int64(binary.BigEndian.Uint64(sum[:8]) & 0xFFFFFFFF)
}

// ExpandSeq yields the trials of a suite: every case × grid cell × variant ×
// seed replicate × repeat, in that nesting (case outermost, variant
// innermost, so the arms compared with each other run close in time),
// building each one only when it is asked for, so that walking a suite takes
// memory for one trial whatever the suite's size. Every walk builds the
// trials afresh and yields the same ones. Each trial's Request is its own:
// no map or list in it is shared with another trial, the suite or another
// walk, so a consumer may change it. A case whose templates do not render
// yields its error before any of its trials, and the walk ends.
func ExpandSeq(s *Suite) iter.Seq2[Trial, error] {
	return func(yield func(Trial, error) bool) {
		x := newExpansion(s)
		if len(x.cells) == 0 {
			return
		}
		arms := make([]arm, len(x.variants))
		for c, err := range s.AllCases() {
			if err != nil {
				yield(Trial{}, err)
				return
			}
			for vi := range x.variants {
				a, err := x.arm(c, vi)
				if err != nil {
					yield(Trial{}, err)
					return
				}
				// The previous case's encoding buffers serve this one.
				a.canon.reuse(&arms[vi].canon)
				arms[vi] = a
			}
			for r, base := range x.seeds {
				d := draw{index: r, seed: SampleSeed(base, c.ID, r)}
				if s.FixedSeed != nil {
					d.seed = *s.FixedSeed
				}
				d.value = d.seed
				for rep := range x.repeat {
					for ci := range x.cells {
						// The arms' last trials take their messages.
						last := r == len(x.seeds)-1 && rep == x.repeat-1 && ci == len(x.cells)-1
						for vi := range arms {
							if !yield(x.trial(c, ci, &arms[vi], d, rep, last), nil) {
								return
							}
						}
					}
				}
			}
		}
	}
}

// Count is the size of a suite's expansion.
type Count struct {
	// Trials is how many trials Expand returns; Samples is the sum of
	// their NumberResults.
	Trials, Samples int
}

// CountTrials returns the size of ExpandSeq(s) and the error ExpandSeq would
// return, without building the trials: it composes each case's request and
// messages once per variant, not once per trial.
func CountTrials(s *Suite) (Count, error) {
	var n Count
	x := newExpansion(s)
	if len(x.cells) == 0 {
		return n, nil
	}
	per := len(x.seeds) * x.repeat
	count := func(c *Case, times int) error {
		for vi := range x.variants {
			a, err := x.arm(c, vi)
			if err != nil {
				return err
			}
			for _, cell := range x.cells {
				n.Trials += per * times
				n.Samples += per * times * int(cellNumberResults(a.request, cell))
			}
		}
		return nil
	}
	for _, c := range s.Cases {
		if err := count(c, 1); err != nil {
			return Count{}, err
		}
	}
	// The cases of a casesFrom set share their template's request, so
	// they count alike: count the first, times the set's size. (Their
	// messages rendered when the suite loaded; ExpandSeq renders them
	// again and reports a failure then.)
	for _, rs := range s.rowSets {
		if rs.count() == 0 {
			continue
		}
		c, err := rs.first()
		if err != nil {
			return Count{}, err
		}
		if err := count(c, rs.count()); err != nil {
			return Count{}, err
		}
	}
	return n, nil
}

// expansion is what every trial of a suite shares, and the scratch space
// of one walk, whose trials are built one after another.
type expansion struct {
	s        *Suite
	cells    []Cell
	variants []Variant
	repeat   int
	seeds    []int64

	// canon holds a trial's canonical request and suffix the rest of what
	// its key hashes; hash hashes both and sums receives the two sums.
	// None of them outlives the trial's construction.
	canon, suffix []byte
	hash          hash.Hash
	sums          [2 * sha256.Size]byte
	// bases hold, by variant, the request of a case without a request of
	// its own (composeRequest), made on first use, and baseCells the
	// canonical fields of that request in each cell (armCanon.cells); arms
	// share them.
	bases     []map[string]any
	baseCells [][][]canonField
}

// newExpansion prepares the walk of suite s.
func newExpansion(s *Suite) *expansion {
	x := &expansion{s: s, cells: Cells(s.Grid), variants: s.Variants, repeat: max(s.Repeat, 1), seeds: s.Seeds, hash: sha256.New()}
	if len(x.variants) == 0 {
		x.variants = []Variant{{}}
	}
	if len(x.seeds) == 0 {
		x.seeds = []int64{0}
	}
	return x
}

// arm is a case in one variant: what its trials share before the cell, the
// seed and the repeat are applied.
type arm struct {
	v *Variant
	// request is the suite's defaults with the model, then the case's
	// overrides, then the variant's; each trial works on a deep copy. It
	// is read only: the arms of cases without a request of their own
	// share it (expansion.bases).
	request map[string]any
	// size is how many keys a trial's request holds before its cell adds
	// any: request's but transport and the trial's own (ownKeys) it lacks.
	// Sizing the copy exactly keeps a request of up to 8 keys in one
	// small map instead of a hashed table.
	size int
	// wire are the messages as the task carries them, a list of
	// wireMessage maps; each trial but the arm's last gets a deep copy
	// (whose strings are boxed once here), the last one wire itself.
	wire any
	sys  string
	// sysValue is sys boxed once for every trial of the arm.
	sysValue any
	// canon is the arm's part of its trials' canonical requests.
	canon armCanon
}

// draw is one seed replicate of a case: its index, its seed, and the seed
// boxed once for every trial of the replicate.
type draw struct {
	index int
	seed  int64
	value any
}

// arm composes the request defaults, messages and system prompt of case c
// in variant vi.
func (x *expansion) arm(c *Case, vi int) (arm, error) {
	v := &x.variants[vi]
	msgs, sys, err := composeMessages(x.s, c, v)
	if err != nil {
		return arm{}, fmt.Errorf("case %q: %w", c.ID, err)
	}
	var req map[string]any
	if len(c.Request) == 0 {
		if x.bases == nil {
			x.bases = make([]map[string]any, len(x.variants))
			x.baseCells = make([][][]canonField, len(x.variants))
		}
		if x.bases[vi] == nil {
			x.bases[vi] = x.composeRequest(nil, v.Request)
			x.baseCells[vi] = make([][]canonField, len(x.cells))
		}
		req = x.bases[vi]
	} else {
		req = x.composeRequest(c.Request, v.Request)
	}
	wire := make([]any, len(msgs))
	for i, m := range msgs {
		wire[i] = wireMessage(m) // messages_tools.go
	}
	a := arm{v: v, request: req, size: len(req), wire: wire, sys: sys, sysValue: sys}
	if len(c.Request) == 0 {
		a.canon.cells = x.baseCells[vi]
	}
	if _, ok := req["transport"]; ok {
		a.size--
	}
	for _, k := range ownKeys {
		if _, ok := req[k]; !ok && a.setsKey(c, k) {
			a.size++
		}
	}
	return a, nil
}

// composeRequest is the suite's request defaults with the model, then a
// case's overrides, then a variant's.
func (x *expansion) composeRequest(caseReq, variantReq map[string]any) map[string]any {
	req := cloneMap(x.s.Request)
	if x.s.Model != "" {
		req["model"] = x.s.Model
	}
	mergeInto(req, caseReq)
	mergeInto(req, variantReq)
	return req
}

// cellNumberResults is the numberResults of a trial of an arm in a cell, as
// trial computes it, without copying the whole request.
func cellNumberResults(armReq map[string]any, cell Cell) int64 {
	req := map[string]any{}
	if v, ok := armReq["numberResults"]; ok {
		req["numberResults"] = cloneValue(v)
	}
	for i, p := range cell.paths {
		if p == "numberResults" || strings.HasPrefix(p, "numberResults.") {
			setPath(req, p, cloneValue(cell.vals[i]))
		}
	}
	if n, ok := req["numberResults"].(int64); ok {
		return n
	}
	return 1
}

// trial composes one request: the arm's request (suite defaults, case and
// variant overrides), then the values of cell ci, messages, seed and
// numberResults. last marks the arm's last trial, which takes the arm's
// messages instead of a copy.
func (x *expansion) trial(c *Case, ci int, a *arm, d draw, rep int, last bool) Trial {
	cell := &x.cells[ci]
	req := cloneMapSize(a.request, a.size+a.newTopKeys(c, cell))
	for i, p := range cell.paths {
		setPath(req, p, cloneValue(cell.vals[i]))
	}
	transport := x.s.Transport
	if tv, ok := req["transport"]; ok {
		if t, ok := tv.(string); ok {
			transport = t
		}
		delete(req, "transport")
	}
	if transport == "" {
		transport = "native"
	}
	if last {
		req["messages"] = a.wire
	} else {
		req["messages"] = cloneValue(a.wire)
	}
	if a.sys != "" {
		setPath(req, "settings.systemPrompt", a.sysValue)
	}
	// Assigning to a key of a full small map (8 keys) grows it to a
	// hashed table even when the key is there (the runtime does not look
	// first), so a seed or numberResults the request holds already is left
	// in place.
	if cur, ok := req["seed"]; !ok || cur != d.value {
		req["seed"] = d.value
	}
	n := int64(1)
	if v, ok := req["numberResults"].(int64); ok {
		n = v
	} else {
		req["numberResults"] = n
	}

	// Media enter the hash as their content hash (Ref), not as base64;
	// the request sent carries the data URIs.
	applyMedia(req, c, true)
	if !a.canon.ready {
		a.prepareCanon(c)
	}
	canon := x.canonicalRequest(req, a, ci)
	applyMedia(req, c, false)
	key, requestHash := x.hashes(canon, c.ID, cell.Label, a.v.Name, rep)
	return Trial{
		Key:           key,
		CaseID:        c.ID,
		Tags:          c.Tags,
		Cell:          cell.Label,
		CellValues:    cell.Values,
		Variant:       a.v.Name,
		Replicate:     d.index,
		Repeat:        rep,
		Seed:          d.seed,
		NumberResults: int(n),
		Request:       req,
		RequestHash:   requestHash,
		Transport:     transport,
		Vars:          c.Vars,
		Case:          c,
		Media:         mediaNotes(c),
	}
}

// newTopKeys counts the top-level keys of a cell that the arm's request
// (of case c) lacks and its trials do not set themselves (those are in
// arm.size already), for sizing a trial's request.
func (a *arm) newTopKeys(c *Case, cell *Cell) int {
	n := 0
	for _, top := range cell.tops {
		if _, ok := a.request[top.key]; !ok && !(slices.Contains(ownKeys[:], top.key) && a.setsKey(c, top.key)) {
			n++
		}
	}
	return n
}

// canonicalJSON is canonicalJSON(req) in the walk's buffer: valid until
// the next call.
func (x *expansion) canonicalJSON(req map[string]any) []byte {
	out, ok := jsonenc.AppendCanonical(x.canon[:0], req)
	x.canon = out[:0]
	if ok {
		return out
	}
	return encoderJSON(req)
}

// hashes returns a trial's key and request hash, each the first 16 bytes
// of a SHA-256 in hex: the request hash of the canonical request, the key
// of the canonical request followed by "\x00<case id>\x00<cell>\x00<variant>"
// and, past the first repeat, "\x00repeat=<rep>". Sum leaves the hash's
// state as it is, so the canonical request is hashed once for both, and
// both strings share one allocation.
func (x *expansion) hashes(canon []byte, caseID, cell, variant string, rep int) (key, requestHash string) {
	h := x.hash
	h.Reset()
	h.Write(canon)
	h.Sum(x.sums[:0])
	b := append(x.suffix[:0], 0)
	b = append(b, caseID...)
	b = append(b, 0)
	b = append(b, cell...)
	b = append(b, 0)
	b = append(b, variant...)
	if rep > 0 {
		b = append(b, "\x00repeat="...)
		b = strconv.AppendInt(b, int64(rep), 10)
	}
	x.suffix = b
	h.Write(b)
	h.Sum(x.sums[:sha256.Size])
	const half = sha256.Size / 2
	var hx [4 * half]byte
	hex.Encode(hx[:2*half], x.sums[sha256.Size:sha256.Size+half])
	hex.Encode(hx[2*half:], x.sums[:half])
	s := string(hx[:])
	return s[:2*half], s[2*half:]
}

// composeMessages renders the conversation and system prompt of a case in
// a variant: the variant's messages or prompt replace the case's, and the
// first system prompt of variant, case and suite is used ("" = leave the
// request's settings.systemPrompt as is).
func composeMessages(s *Suite, c *Case, v *Variant) ([]Message, string, error) {
	var msgs []Message
	switch {
	case v != nil && v.Messages != nil:
		msgs = v.Messages
	case v != nil && v.Prompt != "":
		msgs = []Message{{Role: "user", Content: v.Prompt}}
	case c.Messages != nil:
		msgs = c.Messages
	default:
		msgs = []Message{{Role: "user", Content: c.Prompt}}
	}
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		text, err := render("content", m.Content, c.Vars)
		if err != nil {
			return nil, "", err
		}
		out[i] = Message{Role: m.Role, Content: text, Tools: m.Tools, ID: m.ID}
	}
	sys := s.SystemPrompt
	if c.SystemPrompt != "" {
		sys = c.SystemPrompt
	}
	if v != nil && v.SystemPrompt != "" {
		sys = v.SystemPrompt
	}
	sys, err := render("systemPrompt", sys, c.Vars)
	if err != nil {
		return nil, "", err
	}
	return out, sys, nil
}

// canonicalJSON encodes v with sorted keys and no HTML escaping: by
// jsonenc.AppendCanonical for the values a suite holds, else by a
// json.Encoder, which writes the same bytes.
func canonicalJSON(v any) []byte {
	if out, ok := jsonenc.AppendCanonical(make([]byte, 0, 512), v); ok {
		return out
	}
	return encoderJSON(v)
}

// encoderJSON is canonicalJSON by encoding/json.
func encoderJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Values come from YAML and are always encodable; keep the key
		// stable anyway.
		return []byte(fmt.Sprintf("%#v", v))
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// setPath sets a dotted path in a nested map, creating maps on the way.
// It walks the path with strings.Cut, not a strings.Split slice: every
// trial sets its cell's paths.
func setPath(m map[string]any, path string, v any) {
	for {
		p, rest, ok := strings.Cut(path, ".")
		if !ok {
			m[path] = v
			return
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m, path = next, rest
	}
}

// mergeInto deep-merges src into dst: nested maps merge, anything else is
// replaced by a copy.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = cloneValue(v)
	}
}

// cloneMap deep-copies m (cloneValue) with room for four more keys.
func cloneMap(m map[string]any) map[string]any { return cloneMapSize(m, len(m)+4) }

// cloneMapSize deep-copies m into a map made for size keys.
func cloneMapSize(m map[string]any, size int) map[string]any {
	out := make(map[string]any, size)
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

// cloneValue deep-copies the maps and lists of a decoded JSON value; any
// other value is immutable and returned as it is.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}
