package eval

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// This file holds the helpers that read check arguments from YAML nodes and
// report wrong types and unknown keys at the offending node.

// text reads a scalar as text. Numbers are taken as written (`equals: 42`
// checks for the text "42"); null and collections are problems.
func (c *compiler) text(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		c.errorf(n, "%s takes a string, got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// nonEmptyText is text that must not be empty.
func (c *compiler) nonEmptyText(n *yaml.Node, what string) (string, bool) {
	s, ok := c.text(n, what)
	if ok && s == "" {
		c.errorf(deref(n), "%s takes a non-empty string", what)
		return "", false
	}
	return s, ok
}

// textList reads a string or a non-empty list of strings.
func (c *compiler) textList(n *yaml.Node, what string) ([]string, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		s, ok := c.nonEmptyText(n, what)
		return []string{s}, ok
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, "%s takes a string or a list of strings, got %s", what, kindName(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		c.errorf(n, "%s takes a non-empty list", what)
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for _, e := range n.Content {
		s, good := c.nonEmptyText(e, what+" list entry")
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// number reads an int or float scalar.
func (c *compiler) number(n *yaml.Node, what string) (float64, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	c.errorf(n, "%s takes a number, got %s", what, kindName(n))
	return 0, false
}

// count reads a non-negative whole number.
func (c *compiler) count(n *yaml.Node, what string) (int, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err == nil && v >= 0 && v <= math.MaxInt32 {
			return int(v), true
		}
		c.errorf(n, "%s takes a whole number from 0 to %d, got %s", what, math.MaxInt32, n.Value)
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		c.errorf(n, "%s takes a whole number, got %s", what, n.Value)
		return 0, false
	}
	c.errorf(n, "%s takes a whole number, got %s", what, kindName(n))
	return 0, false
}

// boolean reads true or false.
func (c *compiler) boolean(n *yaml.Node, what string) (bool, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	c.errorf(n, "%s takes true or false, got %s", what, kindName(n))
	return false, false
}

// duration reads a positive Go duration such as 10s or 500ms.
func (c *compiler) duration(n *yaml.Node, what string) (time.Duration, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		c.errorf(n, "%s takes a duration such as 10s or 500ms, got %s", what, kindName(n))
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		c.errorf(n, "%s takes a duration such as 10s or 500ms, got %q", what, n.Value)
		return 0, false
	}
	if d <= 0 {
		c.errorf(n, "%s must be greater than 0, got %s", what, n.Value)
		return 0, false
	}
	return d, true
}

// fields reads a mapping of options, reporting keys outside allowed (with a
// "did you mean") and duplicated keys. Values are returned by key, resolved.
func (c *compiler) fields(n *yaml.Node, what string, allowed ...string) (map[string]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		c.errorf(n, "%s takes a mapping with keys %s, got %s", what, strings.Join(allowed, ", "), kindName(n))
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		known := false
		for _, a := range allowed {
			known = known || a == k.Value
		}
		switch {
		case !known:
			c.errorf(k, "unknown %s option %q%s", what, k.Value, chkSuggest(k.Value, allowed))
			ok = false
		case out[k.Value] != nil:
			c.errorf(k, "%s option %q is given twice", what, k.Value)
			ok = false
		default:
			out[k.Value] = v
		}
	}
	return out, ok
}

// bounds reads {min, max} of whole numbers, at least one of them, min <= max.
// A bound that is absent is -1.
func (c *compiler) bounds(n *yaml.Node, what string) (lo, hi int, ok bool) {
	f, ok := c.fields(n, what, "min", "max")
	if !ok {
		return 0, 0, false
	}
	lo, hi = -1, -1
	if v := f["min"]; v != nil {
		if lo, ok = c.count(v, what+" min"); !ok {
			return 0, 0, false
		}
	}
	if v := f["max"]; v != nil {
		if hi, ok = c.count(v, what+" max"); !ok {
			return 0, 0, false
		}
	}
	switch {
	case lo < 0 && hi < 0:
		c.errorf(deref(n), "%s needs min, max or both", what)
		return 0, 0, false
	case lo >= 0 && hi >= 0 && lo > hi:
		c.errorf(f["min"], "%s min (%d) is greater than max (%d)", what, lo, hi)
		return 0, 0, false
	}
	return lo, hi, true
}

// chkSuggest returns ` (did you mean "x"?)` for the closest known word
// within a small edit distance (1 for words of up to four letters, else 2),
// or "" when none is close.
func chkSuggest(got string, known []string) string {
	limit := 2
	if len([]rune(got)) <= 4 {
		limit = 1
	}
	best, bestD := "", limit+1
	lg := strings.ToLower(got)
	for _, k := range known {
		if d := chkDistance(lg, strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// chkDistance is the optimal string alignment distance between a and b (in
// runes): insertions, deletions, substitutions and transpositions of
// adjacent letters each cost 1, so "contians" is 1 away from "contains".
func chkDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// chkQuoteList formats strings as ["a", "b"] for names and reasons.
func chkQuoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// chkSortedKeys returns a map's keys in order, for stable messages.
func chkSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
