package eval

import (
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"
)

// suite walks the (include-merged) top-level mapping.
func (l *loader) suite(root *yaml.Node) *Suite {
	s := &Suite{
		Path:          l.path,
		Name:          strings.TrimSuffix(filepath.Base(l.path), filepath.Ext(l.path)),
		Request:       map[string]any{},
		Seeds:         []int64{0},
		NumberResults: 1,
		Repeat:        1,
		Transport:     "native",
		Pass:          PassRule{Threshold: 1, Case: "all"},
	}
	fields, _ := l.fields(root, "the suite", topKeys)
	byKey := map[string]field{}
	for _, f := range fields {
		byKey[f.key.Value] = f
	}
	get := func(k string) (field, bool) { f, ok := byKey[k]; return f, ok }

	if f, ok := get("name"); ok {
		if v, ok := l.text(f.val, "name"); ok {
			if v == "" {
				l.errf(f.val, "name must not be empty")
			}
			s.Name = v
		}
	}
	if f, ok := get("description"); ok {
		s.Description, _ = l.str(f.val, "description")
	}
	if f, ok := get("request"); ok {
		l.loadRequestDefaults(s, f)
	}
	var modelAxis *GridAxis
	if f, ok := get("model"); ok {
		modelAxis = l.loadModel(s, f)
	}
	if f, ok := get("transport"); ok {
		l.validateField("transport", f.val, f.key)
		if v, ok := f.val.Value, f.val.Kind == yaml.ScalarNode; ok && contains(requestFields["transport"].enum, v) {
			s.Transport = v
		}
	}
	if f, ok := get("systemPrompt"); ok {
		s.SystemPrompt = l.systemPromptTemplate(f.val)
	}
	if f, ok := get("numberResults"); ok {
		if _, dup := s.Request["numberResults"]; dup {
			l.errf(f.key, "numberResults is set both here and in request; keep one")
		}
		l.validateField("numberResults", f.val, f.key)
		if v, ok := value(f.val).(int64); ok {
			s.Request["numberResults"] = v
		}
	}
	if v, ok := s.Request["numberResults"].(int64); ok {
		s.NumberResults = int(v)
	}
	if f, ok := get("grid"); ok {
		s.Grid = l.loadGrid(f.val)
	}
	if modelAxis != nil {
		if axisIndex(s.Grid, "model") >= 0 {
			l.errf(byKey["model"].val, "model is a list and grid has a model axis too; keep one")
		} else {
			s.Grid = append([]GridAxis{*modelAxis}, s.Grid...)
		}
	}
	if f, ok := get("seeds"); ok {
		if s.FixedSeed != nil {
			l.errf(f.key, "seeds and request.seed both set: request.seed sends one fixed seed, seeds derives one per replicate; keep one")
		}
		s.Seeds = l.loadSeeds(f.val)
	}
	if f, ok := get("repeat"); ok {
		if v, ok := l.integer(f.val, "repeat"); ok {
			if v < 1 || v > 1000 {
				l.errf(f.val, "repeat must be between 1 and 1000; got %d", v)
			} else {
				s.Repeat = int(v)
			}
		}
	}
	if f, ok := get("pass"); ok {
		if r, ok := l.loadPass(f.val, "pass"); ok {
			s.Pass = r
		}
	}
	if f, ok := get("pricing"); ok {
		s.Pricing = l.loadPricing(f.val)
	}
	if f, ok := get("limits"); ok {
		s.Limits = l.loadLimits(f.val)
	}
	if f, ok := get("sim"); ok {
		s.Sim = l.loadSim(f.val, s)
	}
	if f, ok := get("variants"); ok {
		s.Variants = l.loadVariants(f.val, s)
	}
	if f, ok := get("agent"); ok {
		l.suiteAgent = f.val
	}
	ids := map[string]*yaml.Node{}
	if f, ok := get("cases"); ok {
		if l.chunks != nil && f.val == l.chunks.seq {
			l.chunkCases(s, ids)
		} else if items, ok := l.list(f.val, "cases"); ok {
			// Once a case is compiled its subtree is dropped, so that
			// the tree shrinks while the cases grow (the parser built it
			// whole: ~160 bytes a node). An anchored list may be reached
			// through an alias too, so it is left whole.
			seq := deref(f.val)
			release := seq.Anchor == ""
			for i, it := range items {
				if c := l.loadCase(it, s, nil); c != nil {
					l.addCase(s, c, it, ids)
				}
				if release {
					items[i], seq.Content[i] = nil, nil
				}
			}
		}
	}
	if f, ok := get("casesFrom"); ok {
		l.loadCasesFrom(f.val, s, ids)
		l.checkRowIDs()
	}
	_, hasCases := byKey["cases"]
	_, hasFrom := byKey["casesFrom"]
	if !hasCases && !hasFrom {
		l.errf(root, "the suite has no cases: add a cases list (or casesFrom)")
	}
	if s.Model == "" && axisIndex(s.Grid, "model") < 0 {
		l.errf(root, "no model: add `model: %s` (or a grid over model)", DefaultModel)
	}
	return s
}

// addCase appends c unless its id is taken.
func (l *loader) addCase(s *Suite, c *Case, at *yaml.Node, ids map[string]*yaml.Node) {
	if first, dup := ids[c.ID]; dup {
		where := ""
		if first != nil {
			where = " (first defined at " + l.file(first) + ":" + itoa(int64(first.Line)) + ")"
		}
		pos := at
		if idn := lookup(at, "id"); idn != nil {
			pos = idn
		}
		l.errf(pos, "duplicate case id %q%s", c.ID, where)
		return
	}
	ids[c.ID] = l.posNode(at)
	s.Cases = append(s.Cases, c)
}

// posNode is a node at n's line that holds none of n's subtree: n's first
// key when it is a scalar on n's line (a block mapping starts at it), else
// a bare copy of n's position. Keeping it instead of n lets n's subtree go.
func (l *loader) posNode(n *yaml.Node) *yaml.Node {
	if len(n.Content) > 0 && n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Line == n.Line {
		return n.Content[0]
	}
	p := &yaml.Node{Kind: n.Kind, Line: n.Line, Column: n.Column}
	if f, ok := l.fileOf[n]; ok {
		l.fileOf[p] = f
	}
	return p
}

// loadRequestDefaults validates the request mapping and moves the fields
// promptgrid handles itself (model, transport, seed) into the Suite.
func (l *loader) loadRequestDefaults(s *Suite, f field) {
	before := l.nprobs
	l.validateRequest(f.val, "request")
	if l.nprobs > before || f.val.Kind != yaml.MappingNode {
		// keep what is valid for later checks, but don't trust types
		if f.val.Kind != yaml.MappingNode {
			return
		}
	}
	req, _ := value(f.val).(map[string]any)
	if m, ok := req["model"].(string); ok {
		s.Model = m
		delete(req, "model")
	}
	if t, ok := req["transport"].(string); ok {
		s.Transport = t
		delete(req, "transport")
	}
	if seed, ok := req["seed"].(int64); ok && seed >= 0 {
		s.FixedSeed = &seed
		s.Seeds = []int64{seed}
		delete(req, "seed")
	}
	s.Request = req
}

// loadModel reads `model:`, a string or a list of models (a grid axis).
func (l *loader) loadModel(s *Suite, f field) *GridAxis {
	if _, dup := s.Request["model"]; dup || (s.Model != "" && f.val.Kind == yaml.ScalarNode) {
		l.errf(f.key, "model is set both here and in request; keep one")
	}
	if f.val.Kind == yaml.SequenceNode {
		items, _ := l.list(f.val, "model")
		if len(items) == 0 {
			l.errf(f.val, "model list must not be empty")
			return nil
		}
		ax := &GridAxis{Path: "model"}
		seen := map[string]bool{}
		for _, it := range items {
			if m, ok := l.str(it, "model"); ok {
				if seen[m] {
					l.errf(it, "model %q is listed twice", m)
					continue
				}
				seen[m] = true
				ax.Values = append(ax.Values, m)
			}
		}
		if len(ax.Values) > 0 {
			s.Model = ax.Values[0].(string)
		}
		if len(ax.Values) == 1 {
			return nil
		}
		return ax
	}
	if m, ok := l.str(f.val, "model"); ok {
		if m == "" {
			l.errf(f.val, "model must not be empty")
		}
		s.Model = m
	}
	return nil
}

// systemPromptTemplate reads a systemPrompt template and checks that it
// parses; rendering (and the length limit) is checked per case.
func (l *loader) systemPromptTemplate(n *yaml.Node) string {
	v, ok := l.str(n, "systemPrompt")
	if !ok {
		return ""
	}
	if v == "" {
		l.errf(n, "systemPrompt must not be empty (leave it out for none)")
	}
	if hasAction(v) {
		if _, err := parseTemplate("systemPrompt", v); err != nil {
			l.errf(n, "%v", err)
		}
	}
	return v
}

// loadGrid reads the grid: a mapping of dotted task-field paths to lists of
// values, in file order.
func (l *loader) loadGrid(n *yaml.Node) []GridAxis {
	if n.Kind != yaml.MappingNode {
		l.errf(n, "grid must be a mapping of task-field paths to lists of values, e.g. settings.thinkingLevel: [none, high]; got %s", kindName(n))
		return nil
	}
	var axes []GridAxis
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		ok, hint := gridPathOK(k.Value)
		if !ok {
			if strings.HasPrefix(hint, ":") {
				l.errf(k, "grid axis %q cannot vary%s", k.Value, hint)
			} else {
				l.errf(k, "unknown grid axis %q: not a textInference task field%s", k.Value, hint)
			}
			continue
		}
		items, ok := l.list(v, "grid axis "+k.Value)
		if !ok {
			continue
		}
		if len(items) == 0 {
			l.errf(v, "grid axis %s has no values", k.Value)
			continue
		}
		ax := GridAxis{Path: k.Value}
		seen := map[string]*yaml.Node{}
		for _, it := range items {
			before := l.nprobs
			l.validateField(k.Value, it, it)
			if l.nprobs > before {
				continue
			}
			val := value(it)
			label := describeAxisValue(val)
			if first, dup := seen[label]; dup {
				l.errf(it, "grid axis %s lists %s twice (first at line %d)", k.Value, label, first.Line)
				continue
			}
			seen[label] = it
			ax.Values = append(ax.Values, val)
		}
		axes = append(axes, ax)
	}
	return axes
}

func axisIndex(axes []GridAxis, path string) int {
	for i, a := range axes {
		if a.Path == path {
			return i
		}
	}
	return -1
}
