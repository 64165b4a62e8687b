package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
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

// Expand turns a suite into trials: every case × grid cell × variant ×
// seed replicate × repeat, in that nesting (case outermost, variant
// innermost, so the arms compared with each other run close in time).
func Expand(s *Suite) ([]Trial, error) {
	cells := Cells(s.Grid)
	variants := s.Variants
	if len(variants) == 0 {
		variants = []Variant{{}}
	}
	repeat := max(s.Repeat, 1)
	seeds := s.Seeds
	if len(seeds) == 0 {
		seeds = []int64{0}
	}
	var out []Trial
	for _, c := range s.Cases {
		for r, base := range seeds {
			seed := SampleSeed(base, c.ID, r)
			if s.FixedSeed != nil {
				seed = *s.FixedSeed
			}
			for rep := range repeat {
				for _, cell := range cells {
					for vi := range variants {
						t, err := buildTrial(s, c, cell, &variants[vi], r, rep, seed)
						if err != nil {
							return nil, err
						}
						out = append(out, t)
					}
				}
			}
		}
	}
	return out, nil
}

// buildTrial composes one request: the suite's defaults, then the case's
// overrides, then the variant's, then the cell's values.
func buildTrial(s *Suite, c *Case, cell Cell, v *Variant, replicate, rep int, seed int64) (Trial, error) {
	req := cloneMap(s.Request)
	if s.Model != "" {
		req["model"] = s.Model
	}
	mergeInto(req, c.Request)
	mergeInto(req, v.Request)
	for i, p := range cell.paths {
		setPath(req, p, cloneValue(cell.vals[i]))
	}
	transport := s.Transport
	if t, ok := req["transport"].(string); ok {
		transport = t
	}
	delete(req, "transport")
	if transport == "" {
		transport = "native"
	}
	msgs, sys, err := composeMessages(s, c, v)
	if err != nil {
		return Trial{}, fmt.Errorf("case %q: %w", c.ID, err)
	}
	wire := make([]any, len(msgs))
	for i, m := range msgs {
		wire[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	req["messages"] = wire
	if sys != "" {
		setPath(req, "settings.systemPrompt", sys)
	}
	req["seed"] = seed
	n := int64(1)
	if x, ok := req["numberResults"].(int64); ok {
		n = x
	}
	req["numberResults"] = n

	canon := canonicalJSON(req)
	rh := sha256.Sum256(canon)
	kh := sha256.New()
	kh.Write(canon)
	fmt.Fprintf(kh, "\x00%s\x00%s\x00%s", c.ID, cell.Label, v.Name)
	if rep > 0 {
		fmt.Fprintf(kh, "\x00repeat=%d", rep)
	}
	return Trial{
		Key:           hex.EncodeToString(kh.Sum(nil))[:32],
		CaseID:        c.ID,
		Tags:          c.Tags,
		Cell:          cell.Label,
		CellValues:    cell.Values,
		Variant:       v.Name,
		Replicate:     replicate,
		Repeat:        rep,
		Seed:          seed,
		NumberResults: int(n),
		Request:       req,
		RequestHash:   hex.EncodeToString(rh[:])[:32],
		Transport:     transport,
		Vars:          c.Vars,
		Case:          c,
	}, nil
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
		out[i] = Message{Role: m.Role, Content: text}
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

// canonicalJSON encodes v with sorted keys and no HTML escaping.
func canonicalJSON(v any) []byte {
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
