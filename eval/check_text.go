package eval

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// Text checks look at the sample's visible text (not its reasoning).

// equalsCheck compares the text, trimmed of surrounding white space, with
// the expected string: models routinely end answers with a newline.
type equalsCheck struct{ want string }

func compileEquals(c *compiler, _, val *yaml.Node) Check {
	want, ok := c.text(val, "equals")
	if !ok {
		return nil
	}
	return equalsCheck{want: want}
}

func (e equalsCheck) Name() string { return fmt.Sprintf("equals %q", e.want) }

func (e equalsCheck) Eval(_ context.Context, s Sample) Outcome {
	got := strings.TrimSpace(s.Text)
	o := Outcome{Check: e.Name(), Pass: got == e.want}
	if !o.Pass {
		o.Reason = fmt.Sprintf("expected to equal %q; got %s", e.want, excerpt(got))
	}
	return o
}

// containsCheck implements contains, icontains and notContains over one or
// several strings.
type containsCheck struct {
	key    string // the YAML key, for the name
	wants  []string
	any    bool // any of wants instead of all of them
	negate bool
	fold   bool             // ignore case
	res    []*regexp.Regexp // case-insensitive matchers when fold
}

func compileContains(c *compiler, key, val *yaml.Node) Check {
	return c.containsArg(key.Value, val, false, false)
}

func compileIContains(c *compiler, key, val *yaml.Node) Check {
	return c.containsArg(key.Value, val, false, true)
}

func compileNotContains(c *compiler, key, val *yaml.Node) Check {
	return c.containsArg(key.Value, val, true, false)
}

// containsArg reads `X: a`, `X: [a, b]` or `X: {any|all: [a, b]}`. A plain
// list means all of them for contains and icontains, and none of them (not
// any) for notContains.
func (c *compiler) containsArg(key string, val *yaml.Node, negate, fold bool) Check {
	chk := containsCheck{key: key, negate: negate, fold: fold, any: negate}
	val = deref(val)
	var ok bool
	if val.Kind == yaml.MappingNode {
		f, good := c.fields(val, key, "any", "all")
		if !good {
			return nil
		}
		switch {
		case f["any"] != nil && f["all"] != nil:
			c.errorf(val, "%s takes either any or all, not both", key)
			return nil
		case f["any"] != nil:
			chk.any = true
			chk.wants, ok = c.textList(f["any"], key+" any")
		case f["all"] != nil:
			chk.any = false
			chk.wants, ok = c.textList(f["all"], key+" all")
		default:
			c.errorf(val, "%s takes any or all with a list of strings", key)
			return nil
		}
	} else {
		chk.wants, ok = c.textList(val, key)
	}
	if !ok {
		return nil
	}
	if len(chk.wants) == 1 {
		chk.any = true
	}
	if fold {
		for _, w := range chk.wants {
			chk.res = append(chk.res, regexp.MustCompile("(?i)"+regexp.QuoteMeta(w)))
		}
	}
	return chk
}

func (k containsCheck) Name() string {
	if len(k.wants) == 1 {
		return fmt.Sprintf("%s %q", k.key, k.wants[0])
	}
	return fmt.Sprintf("%s %s of %s", k.key, k.quantifier(), chkQuoteList(k.wants))
}

func (k containsCheck) quantifier() string {
	if k.any {
		return "any"
	}
	return "all"
}

// what describes the expectation: `"a"`, `all of ["a", "b"]`, plus the case
// note.
func (k containsCheck) what() string {
	w := fmt.Sprintf("%q", k.wants[0])
	if len(k.wants) > 1 {
		w = k.quantifier() + " of " + chkQuoteList(k.wants)
	}
	if k.fold {
		w += " (ignoring case)"
	}
	return w
}

// find returns the byte span of want i in text, or -1.
func (k containsCheck) find(text string, i int) (int, int) {
	if k.fold {
		if loc := k.res[i].FindStringIndex(text); loc != nil {
			return loc[0], loc[1]
		}
		return -1, -1
	}
	j := strings.Index(text, k.wants[i])
	if j < 0 {
		return -1, -1
	}
	return j, j + len(k.wants[i])
}

func (k containsCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: k.Name()}
	var missing []string
	found, foundAt, foundEnd := -1, 0, 0
	for i, w := range k.wants {
		a, b := k.find(s.Text, i)
		if a < 0 {
			missing = append(missing, w)
		} else if found < 0 {
			found, foundAt, foundEnd = i, a, b
		}
	}
	switch {
	case !k.negate && !k.any:
		o.Pass = len(missing) == 0
		if !o.Pass {
			o.Reason = fmt.Sprintf("expected to contain %s; missing %s; got %s", k.what(), strings.Trim(chkQuoteList(missing), "[]"), excerpt(s.Text))
		}
	case !k.negate:
		o.Pass = found >= 0
		if !o.Pass {
			o.Reason = fmt.Sprintf("expected to contain %s; got %s", k.what(), excerpt(s.Text))
		}
	case k.any:
		o.Pass = found < 0
		if !o.Pass {
			if len(k.wants) == 1 {
				o.Reason = fmt.Sprintf("expected not to contain %s; found it in %s", k.what(), excerptAt(s.Text, foundAt, foundEnd))
			} else {
				o.Reason = fmt.Sprintf("expected not to contain %s; found %q in %s", k.what(), k.wants[found], excerptAt(s.Text, foundAt, foundEnd))
			}
		}
	default:
		o.Pass = len(missing) > 0
		if !o.Pass {
			o.Reason = fmt.Sprintf("expected not to contain %s; found all of them in %s", k.what(), excerpt(s.Text))
		}
	}
	return o
}

// affixCheck implements startsWith and endsWith. Leading (for startsWith)
// or trailing (for endsWith) white space of the text is ignored.
type affixCheck struct {
	want string
	end  bool
}

func compileStartsWith(c *compiler, key, val *yaml.Node) Check {
	want, ok := c.nonEmptyText(val, key.Value)
	if !ok {
		return nil
	}
	return affixCheck{want: want}
}

func compileEndsWith(c *compiler, key, val *yaml.Node) Check {
	want, ok := c.nonEmptyText(val, key.Value)
	if !ok {
		return nil
	}
	return affixCheck{want: want, end: true}
}

func (a affixCheck) Name() string {
	if a.end {
		return fmt.Sprintf("endsWith %q", a.want)
	}
	return fmt.Sprintf("startsWith %q", a.want)
}

func (a affixCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: a.Name()}
	if a.end {
		t := strings.TrimRightFunc(s.Text, unicode.IsSpace)
		o.Pass = strings.HasSuffix(t, a.want)
		if !o.Pass {
			o.Reason = fmt.Sprintf("expected to end with %q; got %s", a.want, excerptTail(t))
		}
		return o
	}
	t := strings.TrimLeftFunc(s.Text, unicode.IsSpace)
	o.Pass = strings.HasPrefix(t, a.want)
	if !o.Pass {
		o.Reason = fmt.Sprintf("expected to start with %q; got %s", a.want, excerpt(t))
	}
	return o
}

// regexCheck implements regex and notRegex (RE2 syntax).
type regexCheck struct {
	pattern, flags string
	re             *regexp.Regexp
	negate         bool
}

func compileRegex(c *compiler, key, val *yaml.Node) Check { return c.regexArg(key.Value, val, false) }

func compileNotRegex(c *compiler, key, val *yaml.Node) Check {
	return c.regexArg(key.Value, val, true)
}

// regexArg reads `X: pattern` or `X: {pattern: ..., flags: "is"}`.
func (c *compiler) regexArg(key string, val *yaml.Node, negate bool) Check {
	val = deref(val)
	patNode := val
	flags := ""
	if val.Kind == yaml.MappingNode {
		f, ok := c.fields(val, key, "pattern", "flags")
		if !ok {
			return nil
		}
		if f["pattern"] == nil {
			c.errorf(val, "%s needs a pattern", key)
			return nil
		}
		patNode = f["pattern"]
		if fn := f["flags"]; fn != nil {
			if flags, ok = c.text(fn, key+" flags"); !ok {
				return nil
			}
			for _, r := range flags {
				if !strings.ContainsRune("imsU", r) {
					c.errorf(fn, "unknown %s flag %q (RE2 flags are i, m, s and U)", key, r)
					return nil
				}
			}
		}
	}
	pat, ok := c.nonEmptyText(patNode, key)
	if !ok {
		return nil
	}
	src := pat
	if flags != "" {
		src = "(?" + flags + ")" + pat
	}
	re, err := cachedRegexp(src)
	if err != nil {
		c.errorf(deref(patNode), "%s does not compile: %v", key, err)
		return nil
	}
	return regexCheck{pattern: pat, flags: flags, re: re, negate: negate}
}

func (r regexCheck) slashed() string { return "/" + r.pattern + "/" + r.flags }

func (r regexCheck) Name() string {
	if r.negate {
		return "notRegex " + r.slashed()
	}
	return "regex " + r.slashed()
}

func (r regexCheck) Eval(_ context.Context, s Sample) Outcome {
	o := Outcome{Check: r.Name()}
	loc := r.re.FindStringIndex(s.Text)
	if r.negate {
		o.Pass = loc == nil
		if !o.Pass {
			o.Reason = fmt.Sprintf("expected not to match %s; matched %s in %s", r.slashed(), excerpt(s.Text[loc[0]:loc[1]]), excerptAt(s.Text, loc[0], loc[1]))
		}
		return o
	}
	o.Pass = loc != nil
	if !o.Pass {
		o.Reason = fmt.Sprintf("expected to match %s; got %s", r.slashed(), excerpt(s.Text))
	}
	return o
}

// sizeCheck implements length (in characters, i.e. Unicode code points) and
// wordCount (runs of non-space characters).
type sizeCheck struct {
	key    string
	unit   string
	lo, hi int // -1 = unbounded
}

func compileLength(c *compiler, key, val *yaml.Node) Check {
	lo, hi, ok := c.bounds(val, key.Value)
	if !ok {
		return nil
	}
	return sizeCheck{key: key.Value, unit: "characters", lo: lo, hi: hi}
}

func compileWordCount(c *compiler, key, val *yaml.Node) Check {
	lo, hi, ok := c.bounds(val, key.Value)
	if !ok {
		return nil
	}
	return sizeCheck{key: key.Value, unit: "words", lo: lo, hi: hi}
}

func (z sizeCheck) bounds() string {
	switch {
	case z.lo >= 0 && z.hi >= 0:
		return fmt.Sprintf("%d to %d %s", z.lo, z.hi, z.units(z.hi))
	case z.lo >= 0:
		return fmt.Sprintf("at least %d %s", z.lo, z.units(z.lo))
	}
	return fmt.Sprintf("at most %d %s", z.hi, z.units(z.hi))
}

// units is the unit, singular for a bound of one.
func (z sizeCheck) units(n int) string {
	if n == 1 {
		return strings.TrimSuffix(z.unit, "s")
	}
	return z.unit
}

func (z sizeCheck) Name() string { return z.key + " " + z.bounds() }

func (z sizeCheck) Eval(_ context.Context, s Sample) Outcome {
	n := utf8.RuneCountInString(s.Text)
	if z.unit == "words" {
		n = len(strings.Fields(s.Text))
	}
	o := Outcome{Check: z.Name(), Pass: (z.lo < 0 || n >= z.lo) && (z.hi < 0 || n <= z.hi)}
	if !o.Pass {
		o.Reason = fmt.Sprintf("expected %s; got %d", z.bounds(), n)
	}
	return o
}

// excerptMax is how many characters of a text a failure reason quotes.
const excerptMax = 80

// excerpt quotes the start of a text for failure reasons.
func excerpt(s string) string {
	r := []rune(s)
	if len(r) > excerptMax {
		return fmt.Sprintf("%q", string(r[:excerptMax])+"...")
	}
	return fmt.Sprintf("%q", s)
}

// excerptTail quotes the end of a text for failure reasons.
func excerptTail(s string) string {
	r := []rune(s)
	if len(r) > excerptMax {
		return fmt.Sprintf("%q", "..."+string(r[len(r)-excerptMax:]))
	}
	return fmt.Sprintf("%q", s)
}

// excerptAt quotes the part of a text around the byte span [a, b), so that
// a reason shows where an unwanted match is.
func excerptAt(s string, a, b int) string {
	const ctx = 30
	before := []rune(s[:a])
	after := []rune(s[b:])
	var sb strings.Builder
	if len(before) > ctx {
		sb.WriteString("...")
		before = before[len(before)-ctx:]
	}
	sb.WriteString(string(before))
	sb.WriteString(s[a:b])
	if len(after) > ctx {
		sb.WriteString(string(after[:ctx]))
		sb.WriteString("...")
	} else {
		sb.WriteString(string(after))
	}
	return fmt.Sprintf("%q", sb.String())
}
