package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
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
	}
	return cells
}

// SampleSeed is the seed sent for replicate r of a case: a hash of the
// replicate's seed base, the case id and r, in the unsigned 32-bit range.
// It does not depend on the cell, the variant or the run, so every cell
// and variant of a case sees the same seeds (common random numbers).
func SampleSeed(base int64, caseID string, r int) int64 {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%d", base, caseID, r)
	sum := h.Sum(nil)
	return int64(binary.BigEndian.Uint64(sum[:8]) & 0xFFFFFFFF)
}

// ExpandSeq yields the trials of a suite: every case × grid cell × variant ×
// seed replicate × repeat, in that nesting (case outermost, variant
// innermost, so the arms compared with each other run close in time),
// building each one only when it is asked for, so that walking a suite takes
// memory for one trial whatever the suite's size. Every walk builds the
// trials afresh and yields the same ones. A case whose templates do not
// render yields its error before any of its trials, and the walk ends.
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
				a, err := x.arm(c, &x.variants[vi])
				if err != nil {
					yield(Trial{}, err)
					return
				}
				arms[vi] = a
			}
			for r, base := range x.seeds {
				seed := SampleSeed(base, c.ID, r)
				if s.FixedSeed != nil {
					seed = *s.FixedSeed
				}
				for rep := range x.repeat {
					for _, cell := range x.cells {
						for vi := range arms {
							if !yield(x.trial(c, cell, &arms[vi], r, rep, seed), nil) {
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
			a, err := x.arm(c, &x.variants[vi])
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

// expansion is what every trial of a suite shares.
type expansion struct {
	s        *Suite
	cells    []Cell
	variants []Variant
	repeat   int
	seeds    []int64
}

func newExpansion(s *Suite) *expansion {
	x := &expansion{s: s, cells: Cells(s.Grid), variants: s.Variants, repeat: max(s.Repeat, 1), seeds: s.Seeds}
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
	// overrides, then the variant's; each trial works on a deep copy.
	request map[string]any
	msgs    []Message
	sys     string
}

// arm composes the request defaults, messages and system prompt of case c
// in variant v.
func (x *expansion) arm(c *Case, v *Variant) (arm, error) {
	msgs, sys, err := composeMessages(x.s, c, v)
	if err != nil {
		return arm{}, fmt.Errorf("case %q: %w", c.ID, err)
	}
	req := cloneMap(x.s.Request)
	if x.s.Model != "" {
		req["model"] = x.s.Model
	}
	mergeInto(req, c.Request)
	mergeInto(req, v.Request)
	return arm{v: v, request: req, msgs: msgs, sys: sys}, nil
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
// variant overrides), then the cell's values, messages, seed and
// numberResults.
func (x *expansion) trial(c *Case, cell Cell, a *arm, replicate, rep int, seed int64) Trial {
	req := cloneMap(a.request)
	for i, p := range cell.paths {
		setPath(req, p, cloneValue(cell.vals[i]))
	}
	transport := x.s.Transport
	if t, ok := req["transport"].(string); ok {
		transport = t
	}
	delete(req, "transport")
	if transport == "" {
		transport = "native"
	}
	wire := make([]any, len(a.msgs))
	for i, m := range a.msgs {
		wire[i] = wireMessage(m) // messages_tools.go

	}
	req["messages"] = wire
	if a.sys != "" {
		setPath(req, "settings.systemPrompt", a.sys)
	}
	req["seed"] = seed
	n := int64(1)
	if v, ok := req["numberResults"].(int64); ok {
		n = v
	}
	req["numberResults"] = n

	// Media enter the hash as their content hash (Ref), not as base64;
	// the request sent carries the data URIs.
	applyMedia(req, c, true)
	canon := canonicalJSON(req)
	applyMedia(req, c, false)
	rh := sha256.Sum256(canon)
	kh := sha256.New()
	kh.Write(canon)
	fmt.Fprintf(kh, "\x00%s\x00%s\x00%s", c.ID, cell.Label, a.v.Name)
	if rep > 0 {
		fmt.Fprintf(kh, "\x00repeat=%d", rep)
	}
	return Trial{
		Key:           hex.EncodeToString(kh.Sum(nil))[:32],
		CaseID:        c.ID,
		Tags:          c.Tags,
		Cell:          cell.Label,
		CellValues:    cell.Values,
		Variant:       a.v.Name,
		Replicate:     replicate,
		Repeat:        rep,
		Seed:          seed,
		NumberResults: int(n),
		Request:       req,
		RequestHash:   hex.EncodeToString(rh[:])[:32],
		Transport:     transport,
		Vars:          c.Vars,
		Case:          c,
		Media:         mediaNotes(c),
	}
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
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
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

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

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
