package eval

import (
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// loadSeeds reads `seeds:`: {count, base} (bases base, base+1, ...) or an
// explicit list of bases.
func (l *loader) loadSeeds(n *yaml.Node) []int64 {
	switch n.Kind {
	case yaml.MappingNode:
		fields, _ := l.fields(n, "seeds", []string{"count", "base"})
		count, base := int64(1), int64(0)
		for _, f := range fields {
			switch f.key.Value {
			case "count":
				if v, ok := l.integer(f.val, "seeds.count"); ok {
					if v < 1 || v > 10000 {
						l.errf(f.val, "seeds.count must be between 1 and 10,000; got %d", v)
					} else {
						count = v
					}
				}
			case "base":
				if v, ok := l.integer(f.val, "seeds.base"); ok {
					if v < 0 {
						l.errf(f.val, "seeds.base must be between 0 and 2^63-1; got %d", v)
					} else {
						base = v
					}
				}
			}
		}
		out := make([]int64, count)
		for i := range out {
			if base > math.MaxInt64-int64(i) {
				out[i] = int64(i) // wrap rather than overflow
			} else {
				out[i] = base + int64(i)
			}
		}
		return out
	case yaml.SequenceNode:
		items, _ := l.list(n, "seeds")
		if len(items) == 0 {
			l.errf(n, "seeds must not be empty")
			return []int64{0}
		}
		var out []int64
		seen := map[int64]*yaml.Node{}
		for _, it := range items {
			v, ok := l.integer(it, "a seed")
			if !ok {
				continue
			}
			if v < 0 {
				l.errf(it, "a seed must be between 0 and 2^63-1; got %d", v)
				continue
			}
			if first, dup := seen[v]; dup {
				l.errf(it, "seed %d is listed twice (first at line %d)", v, first.Line)
				continue
			}
			seen[v] = it
			out = append(out, v)
		}
		if len(out) == 0 {
			return []int64{0}
		}
		return out
	}
	l.errf(n, "seeds must be {count: N, base: B} or a list of seeds; got %s", kindName(n))
	return []int64{0}
}

// loadPass reads a pass rule over base (the suite's rule, for a case):
//
//	pass: {threshold: 0.8, case: all | any | {atLeast: K} | {fraction: F}}
//
// `sample: {threshold: T}` is the long form of threshold.
func (l *loader) loadPass(n *yaml.Node, what string, base ...PassRule) (PassRule, bool) {
	r := PassRule{Threshold: 1, Case: "all"}
	if len(base) > 0 {
		r = base[0]
	}
	keys := []string{"threshold", "sample", "case"}
	if len(base) == 0 {
		// How errors count is the suite's choice, for every case.
		keys = append(keys, "errors")
	}
	fields, ok := l.fields(n, what, keys)
	if !ok {
		return r, false
	}
	threshold := func(v *yaml.Node, what string) {
		if t, ok := l.number(v, what); ok {
			if t < 0 || t > 1 {
				l.errf(v, "%s must be between 0 and 1; got %s", what, v.Value)
			} else {
				r.Threshold = t
			}
		}
	}
	for _, f := range fields {
		switch f.key.Value {
		case "threshold":
			threshold(f.val, what+".threshold")
		case "sample":
			sf, _ := l.fields(f.val, what+".sample", []string{"threshold"})
			for _, g := range sf {
				threshold(g.val, what+".sample.threshold")
			}
		case "case":
			l.loadCaseRule(f.val, what+".case", &r)
		case "errors":
			switch s, _ := l.str(f.val, what+".errors"); s {
			case "fail":
				r.ErrorsAsFailures = true
			case "skip":
				r.ErrorsAsFailures = false
			default:
				l.errf(f.val, "%s.errors must be skip (a sample without an answer is left out of pass rates, the default) or fail (it counts as failing); got %q", what, f.val.Value)
			}
		}
	}
	return r, true
}

func (l *loader) loadCaseRule(n *yaml.Node, what string, r *PassRule) {
	if n.Kind == yaml.ScalarNode {
		s, ok := l.str(n, what)
		if !ok {
			return
		}
		if s != "all" && s != "any" {
			l.errf(n, "%s must be all, any, {atLeast: K} or {fraction: F}; got %q%s", what, s, suggest(s, []string{"all", "any", "atLeast", "fraction"}))
			return
		}
		r.Case, r.K, r.Fraction = s, 0, 0
		return
	}
	fields, ok := l.fields(n, what, []string{"atLeast", "fraction"})
	if !ok {
		return
	}
	if len(fields) != 1 {
		l.errf(n, "%s takes exactly one of atLeast or fraction", what)
		return
	}
	f := fields[0]
	switch f.key.Value {
	case "atLeast":
		if k, ok := l.integer(f.val, what+".atLeast"); ok {
			if k < 1 {
				l.errf(f.val, "%s.atLeast must be at least 1; got %d", what, k)
				return
			}
			r.Case, r.K, r.Fraction = "atLeast", int(k), 0
		}
	case "fraction":
		if x, ok := l.number(f.val, what+".fraction"); ok {
			if x <= 0 || x > 1 {
				l.errf(f.val, "%s.fraction must be greater than 0 and at most 1; got %s", what, f.val.Value)
				return
			}
			r.Case, r.K, r.Fraction = "fraction", 0, x
		}
	}
}

// loadPricing reads USD per 1M tokens.
func (l *loader) loadPricing(n *yaml.Node) *Pricing {
	fields, ok := l.fields(n, "pricing", []string{"input", "output", "thinking"})
	if !ok {
		return nil
	}
	p := &Pricing{}
	for _, f := range fields {
		v, ok := l.number(f.val, "pricing."+f.key.Value)
		if !ok {
			continue
		}
		if v < 0 {
			l.errf(f.val, "pricing.%s must not be negative; got %s", f.key.Value, f.val.Value)
			continue
		}
		switch f.key.Value {
		case "input":
			p.Input = v
		case "output":
			p.Output = v
		case "thinking":
			p.Thinking = v
		}
	}
	if lookup(n, "output") == nil {
		l.errf(n, "pricing needs at least input and output (USD per 1M tokens)")
	}
	return p
}

// loadLimits reads pacing and budget limits.
func (l *loader) loadLimits(n *yaml.Node) Limits {
	var lim Limits
	fields, _ := l.fields(n, "limits", []string{"rate", "concurrency", "maxCost", "timeout", "tokensPerMinute"})
	for _, f := range fields {
		what := "limits." + f.key.Value
		switch f.key.Value {
		case "rate":
			if v, ok := l.number(f.val, what); ok {
				if v <= 0 {
					l.errf(f.val, "%s is requests per second and must be greater than 0; got %s", what, f.val.Value)
				} else {
					lim.Rate = v
				}
			}
		case "concurrency":
			if v, ok := l.integer(f.val, what); ok {
				if v < 1 || v > 10000 {
					l.errf(f.val, "%s must be between 1 and 10,000; got %d", what, v)
				} else {
					lim.Concurrency = int(v)
				}
			}
		case "maxCost":
			if v, ok := l.number(f.val, what); ok {
				if v <= 0 {
					l.errf(f.val, "%s is USD and must be greater than 0; got %s", what, f.val.Value)
				} else {
					lim.MaxCost = v
				}
			}
		case "timeout":
			lim.Timeout = l.duration(f.val, what)
		case "tokensPerMinute":
			if v, ok := l.integer(f.val, what); ok {
				if v < 1 {
					l.errf(f.val, "%s must be at least 1; got %d", what, v)
				} else {
					lim.TokensPerMinute = int(v)
				}
			}
		}
	}
	return lim
}

// duration reads a Go duration ("90s", "2m") or a number of seconds.
func (l *loader) duration(n *yaml.Node, what string) time.Duration {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		v, ok := l.number(n, what)
		if ok && v > 0 {
			return time.Duration(v * float64(time.Second))
		}
		l.errf(n, "%s must be greater than 0", what)
		return 0
	}
	s, ok := l.str(n, what)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		l.errf(n, "%s must be a duration like 30s or 2m; got %q", what, s)
		return 0
	}
	if d <= 0 {
		l.errf(n, "%s must be greater than 0; got %s", what, s)
		return 0
	}
	return d
}

// loadSim keeps the simulator scenarios as free-form mappings, and where
// each entry and its keys are (Suite.SimPos); the caller converts them into
// runwaretest scenarios and reports a bad one at its position.
func (l *loader) loadSim(n *yaml.Node, s *Suite) []map[string]any {
	items, ok := l.list(n, "sim")
	if !ok {
		return nil
	}
	var out []map[string]any
	for _, it := range items {
		if it.Kind != yaml.MappingNode {
			l.errf(it, "each sim entry must be a mapping (a simulator scenario: match, answer, pCorrect, ...); got %s", kindName(it))
			continue
		}
		out = append(out, value(it).(map[string]any))
		l.simImage(it, out[len(out)-1])
		pos := SimPos{Pos: l.pos(it), Keys: map[string]Pos{}, KeyNames: map[string]Pos{}}
		l.keyPositions(it, "", &pos)
		s.SimPos = append(s.SimPos, pos)
	}
	return out
}

// pos is where node n is.
func (l *loader) pos(n *yaml.Node) Pos {
	return Pos{File: l.file(n), Line: n.Line, Col: n.Column}
}

// keyPositions records the position of every key of the mapping n and of
// its value, nested mappings' keys included, under dotted paths.
func (l *loader) keyPositions(n *yaml.Node, prefix string, into *SimPos) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || v == nil {
			continue
		}
		path := prefix + k.Value
		into.Keys[path], into.KeyNames[path] = l.pos(v), l.pos(k)
		l.keyPositions(v, path+".", into)
	}
}

// loadVariants reads the named, non-cartesian alternatives.
func (l *loader) loadVariants(n *yaml.Node, s *Suite) []Variant {
	items, ok := l.list(n, "variants")
	if !ok {
		return nil
	}
	var out []Variant
	names := map[string]*yaml.Node{}
	for _, it := range items {
		fields, ok := l.fields(it, "a variant", []string{"name", "description", "request", "prompt", "messages", "systemPrompt"})
		if !ok {
			continue
		}
		var v Variant
		vn := map[string]*yaml.Node{}
		for _, f := range fields {
			vn[f.key.Value] = f.val
			switch f.key.Value {
			case "name":
				if name, ok := l.text(f.val, "variant name"); ok {
					if first, dup := names[name]; dup {
						l.errf(f.val, "duplicate variant name %q (first at line %d)", name, first.Line)
					}
					names[name] = f.val
					v.Name = name
				}
			case "description":
				v.Description, _ = l.str(f.val, "description")
			case "request":
				v.Request = l.loadOverrides(f.val, "variant request", s)
			case "prompt":
				v.Prompt = l.promptTemplate(f.val, "prompt")
			case "systemPrompt":
				v.SystemPrompt = l.systemPromptTemplate(f.val)
			case "messages":
				v.Messages = l.loadMessages(f.val)
			}
		}
		if v.Name == "" && lookup(it, "name") == nil {
			l.errf(it, "a variant needs a name")
		}
		if v.Prompt != "" && v.Messages != nil {
			l.errf(it, "a variant sets prompt or messages, not both")
		}
		out = append(out, v)
		l.variantNodes = append(l.variantNodes, vn)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// loadOverrides validates a variant's or case's request overrides and
// rejects overrides of a grid axis (the cell label would then lie about
// the request).
func (l *loader) loadOverrides(n *yaml.Node, what string, s *Suite) map[string]any {
	l.validateRequest(n, what)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for path, key := range leafPaths(n, "") {
		for _, ax := range s.Grid {
			if path == ax.Path || strings.HasPrefix(path, ax.Path+".") {
				l.errf(key, "%s overrides %s, which is a grid axis; the cell label would not describe the request", what, path)
			}
		}
		if path == "seed" {
			l.errf(key, "%s cannot set seed: seeds are derived per replicate (see seeds)", what)
		}
	}
	m, _ := value(n).(map[string]any)
	return m
}

// leafPaths maps the dotted path of every non-mapping value under n to its
// key node.
func leafPaths(n *yaml.Node, prefix string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	n = deref(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		p := prefix + k.Value
		if v.Kind == yaml.MappingNode && (p == "settings" || p == "inputs") {
			for q, kk := range leafPaths(v, p+".") {
				out[q] = kk
			}
			continue
		}
		out[p] = k
	}
	return out
}
