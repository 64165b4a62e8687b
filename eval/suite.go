package eval

import (
	"fmt"
	"iter"
	"path"
	"strings"
)

// Suite is a loaded, validated suite file.
type Suite struct {
	// Path is the file the suite was loaded from; Hash is a hash of its bytes
	// and of every file it includes or reads cases from.
	Path        string
	Hash        string
	Name        string
	Description string
	// Model is the default model; a list of models in the file becomes a
	// grid axis "model" (the first axis), and Model is then the first one.
	Model string
	// SystemPrompt is the suite-wide system prompt template ("" = none); a
	// case's or variant's replaces it.
	SystemPrompt string
	// Transport is the default transport: "native", "openai" or "websocket".
	Transport string
	// FixedSeed, when the request defaults set seed, is sent verbatim as the
	// seed of every task (Seeds then has one entry).
	FixedSeed *int64
	// Request holds the defaults for every task: any native textInference
	// field, as decoded JSON values (map[string]any, []any, string, float64,
	// bool, int64 for integers).
	Request  map[string]any
	Grid     []GridAxis
	Variants []Variant
	// Seeds are the replicate seeds' bases: the seed of a sample depends only
	// on the suite seed, the case id and the replicate index.
	Seeds         []int64
	NumberResults int
	Repeat        int
	Cases         []*Case
	Pass          PassRule
	// Pricing is the suite's price table, nil when the suite gives none.
	Pricing *Pricing
	Limits  Limits
	// Sim scripts the simulator for `run --sim`: decoded JSON values that the
	// caller converts into simulator scenarios.
	Sim []map[string]any
	// SimPos locates each Sim entry (same index) in the suite's files, so
	// that the caller converting the entries can point at a bad one.
	SimPos []SimPos

	// rowSets hold the casesFrom cases kept compact
	// (LoadOptions.CompactCases), after Cases.
	rowSets []*rowSet
}

// NumCases is how many cases the suite has: Cases and the compact
// casesFrom cases (LoadOptions.CompactCases), after Filter.
func (s *Suite) NumCases() int {
	n := len(s.Cases)
	for _, rs := range s.rowSets {
		n += rs.count()
	}
	return n
}

// AllCases yields every case of the suite in order: Cases, then the
// compact casesFrom cases, each built again from its row when it is
// reached (so a walk holds one of them at a time). An error (a data file
// that changed or vanished since the suite was loaded) is yielded once and
// ends the walk.
func (s *Suite) AllCases() iter.Seq2[*Case, error] {
	return func(yield func(*Case, error) bool) {
		for _, c := range s.Cases {
			if !yield(c, nil) {
				return
			}
		}
		for _, rs := range s.rowSets {
			if !rs.each(yield) {
				return
			}
		}
	}
}

// Pos is a position in a suite file, for messages.
type Pos struct {
	File      string
	Line, Col int // 1-based
}

// SimPos is where a sim entry is: the entry itself, and the value of each
// of its keys by dotted path ("answer", "pCorrect", "pCorrect.none",
// "match.contains"), nested mappings included; KeyNames has where the keys
// themselves are, for a message about the key (an unknown one).
type SimPos struct {
	Pos
	Keys     map[string]Pos
	KeyNames map[string]Pos
}

// At returns the position of the value at the dotted path, or of the
// nearest enclosing key that has one, or of the entry.
func (p SimPos) At(path string) Pos {
	for path != "" {
		if q, ok := p.Keys[path]; ok {
			return q
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return p.Pos
}

// Variant is a named, non-cartesian alternative: overrides of the request
// and/or of the messages (prompt v1 vs v2).
type Variant struct {
	Name    string
	Request map[string]any
	// SystemPrompt, Prompt and Messages, when set, replace the case's; they
	// are templates over each case's vars.
	SystemPrompt string
	Prompt       string
	Messages     []Message
	Description  string
}

// Case is one test case.
type Case struct {
	ID          string
	Description string
	Tags        []string
	// Prompt is the user message template; Messages, when set, is the whole
	// conversation (templates in every content).
	Prompt       string
	Messages     []Message
	SystemPrompt string
	Vars         map[string]any
	// Request holds per-case overrides of the request defaults.
	Request map[string]any
	Checks  []Check
	// Pass overrides the suite's pass rule for this case; nil = suite's.
	Pass *PassRule
	// Images and Videos are the case's media inputs, sent as
	// inputs.images / inputs.videos (they replace the request's).
	Images, Videos []MediaInput
	// Agent, when set, makes each trial an agent loop: the model's tool
	// calls are answered by its scripted tools until it answers in text or
	// makes Agent.MaxSteps requests (the case's agent, else the suite's).
	Agent *Agent
	// Line is where the case starts in its file, for messages.
	File string
	Line int
}

// PassRule says when a sample passes and when a case passes in a cell.
type PassRule struct {
	// Threshold: a sample passes when its weighted check score reaches it
	// (1.0 = every check must pass).
	Threshold float64
	// Case is how a case passes across its samples in a cell: "all"
	// (default), "any", "atLeast" (K samples) or "fraction" (Fraction of them).
	Case     string
	K        int
	Fraction float64
	// ErrorsAsFailures counts a sample that got no answer (an error, a
	// timeout) as a failing one (suite pass: {errors: fail}); by default
	// it is left out of pass rates and counted in the error rate.
	ErrorsAsFailures bool
}

// Filter keeps the cases selected by expr: a comma-separated list of terms,
// each a case id or tag, or a glob over them (path.Match syntax, e.g.
// "capital-*"). A case is kept when any term matches its id or one of its
// tags. An empty expr keeps everything; an expr that selects nothing, or a
// malformed glob, is an error.
func Filter(s *Suite, expr string) error {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil
	}
	var terms []string
	for _, t := range strings.Split(expr, ",") {
		if t = strings.TrimSpace(t); t != "" {
			if _, err := path.Match(t, ""); err != nil {
				return fmt.Errorf("filter %q: bad pattern %q: %w", expr, t, err)
			}
			terms = append(terms, t)
		}
	}
	match := func(name string) bool {
		for _, t := range terms {
			if ok, _ := path.Match(t, name); ok {
				return true
			}
		}
		return false
	}
	keep := func(c *Case) bool {
		ok := match(c.ID)
		for _, tag := range c.Tags {
			ok = ok || match(tag)
		}
		return ok
	}
	var kept []*Case
	for _, c := range s.Cases {
		if keep(c) {
			kept = append(kept, c)
		}
	}
	n := len(kept)
	sets := make([][]int32, len(s.rowSets))
	for si, rs := range s.rowSets {
		sets[si] = []int32{}
		r, err := rs.openRows()
		if err != nil {
			return err
		}
		for k := range rs.count() {
			i := k
			if rs.keep != nil {
				i = int(rs.keep[k])
			}
			c, err := rs.caseAt(r, i)
			if err != nil {
				r.Close()
				return err
			}
			if keep(c) {
				sets[si] = append(sets[si], int32(i))
			}
		}
		r.Close()
		n += len(sets[si])
	}
	if n == 0 {
		return fmt.Errorf("filter %q matches no case id or tag in %s", expr, s.Path)
	}
	s.Cases = kept
	for si, rs := range s.rowSets {
		rs.keep = sets[si]
	}
	return nil
}
