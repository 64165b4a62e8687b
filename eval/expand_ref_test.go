package eval

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"iter"
	"strings"
)

// The reference expansion: ExpandSeq as it was before trials were built in
// reused buffers (commit 6361e26), written the plain way (a fresh deep copy
// of every map, fmt into the hashes, encoding/json for the canonical
// request, a strings.Split path walk). The tests compare the fast path with
// it trial by trial, field by field; the keys and request hashes of earlier
// runs are the ones it gives.

// referenceExpandSeq is ExpandSeq by the reference expansion.
func referenceExpandSeq(s *Suite) iter.Seq2[Trial, error] {
	return func(yield func(Trial, error) bool) {
		cells := Cells(s.Grid)
		variants, seeds := s.Variants, s.Seeds
		if len(variants) == 0 {
			variants = []Variant{{}}
		}
		if len(seeds) == 0 {
			seeds = []int64{0}
		}
		arms := make([]referenceArm, len(variants))
		for c, err := range s.AllCases() {
			if err != nil {
				yield(Trial{}, err)
				return
			}
			for vi := range variants {
				a, err := newReferenceArm(s, c, &variants[vi])
				if err != nil {
					yield(Trial{}, err)
					return
				}
				arms[vi] = a
			}
			for r, base := range seeds {
				seed := referenceSampleSeed(base, c.ID, r)
				if s.FixedSeed != nil {
					seed = *s.FixedSeed
				}
				for rep := range max(s.Repeat, 1) {
					for _, cell := range cells {
						for vi := range arms {
							if !yield(referenceTrial(s, c, cell, &arms[vi], r, rep, seed), nil) {
								return
							}
						}
					}
				}
			}
		}
	}
}

// referenceSampleSeed is SampleSeed by fmt.
func referenceSampleSeed(base int64, caseID string, r int) int64 {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%d", base, caseID, r)
	sum := h.Sum(nil)
	return int64(binary.BigEndian.Uint64(sum[:8]) & 0xFFFFFFFF)
}

// referenceArm is the reference's arm: the composed request and messages.
type referenceArm struct {
	v       *Variant
	request map[string]any
	msgs    []Message
	sys     string
}

// newReferenceArm composes case c in variant v.
func newReferenceArm(s *Suite, c *Case, v *Variant) (referenceArm, error) {
	msgs, sys, err := composeMessages(s, c, v)
	if err != nil {
		return referenceArm{}, fmt.Errorf("case %q: %w", c.ID, err)
	}
	req := referenceClone(s.Request).(map[string]any)
	if s.Model != "" {
		req["model"] = s.Model
	}
	mergeInto(req, c.Request)
	mergeInto(req, v.Request)
	return referenceArm{v: v, request: req, msgs: msgs, sys: sys}, nil
}

// referenceTrial is the reference's trial.
func referenceTrial(s *Suite, c *Case, cell Cell, a *referenceArm, replicate, rep int, seed int64) Trial {
	req := referenceClone(a.request).(map[string]any)
	for i, p := range cell.paths {
		referenceSetPath(req, p, referenceClone(cell.vals[i]))
	}
	transport := s.Transport
	if t, ok := req["transport"].(string); ok {
		transport = t
	}
	delete(req, "transport")
	if transport == "" {
		transport = "native"
	}
	wire := make([]any, len(a.msgs))
	for i, m := range a.msgs {
		wire[i] = wireMessage(m)
	}
	req["messages"] = wire
	if a.sys != "" {
		referenceSetPath(req, "settings.systemPrompt", a.sys)
	}
	req["seed"] = seed
	n := int64(1)
	if v, ok := req["numberResults"].(int64); ok {
		n = v
	}
	req["numberResults"] = n
	referenceMedia(req, c, true)
	canon := encoderJSON(req)
	referenceMedia(req, c, false)
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

// referenceMedia is applyMedia by referenceSetPath.
func referenceMedia(req map[string]any, c *Case, ref bool) {
	for _, kind := range []struct {
		key string
		ms  []MediaInput
	}{{"images", c.Images}, {"videos", c.Videos}} {
		if len(kind.ms) == 0 {
			continue
		}
		out := make([]any, len(kind.ms))
		for i, m := range kind.ms {
			out[i] = m.Wire
			if ref {
				out[i] = m.Ref
			}
		}
		referenceSetPath(req, "inputs."+kind.key, out)
	}
}

// referenceSetPath is setPath by strings.Split.
func referenceSetPath(m map[string]any, path string, v any) {
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

// referenceClone deep-copies the maps and lists of a decoded JSON value.
func referenceClone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		// A nil map copies as an empty one (and encodes as {}).
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = referenceClone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = referenceClone(e)
		}
		return out
	}
	return v
}
