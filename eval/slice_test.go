package eval

// Slice forms of the streaming functions, for tests.

// Expand turns a suite into trials: every case × grid cell × variant ×
// seed replicate × repeat, in that nesting (case outermost, variant
// innermost, so the arms compared with each other run close in time). It
// holds every trial in memory; runs walk ExpandSeq instead.
func Expand(s *Suite) ([]Trial, error) {
	var out []Trial
	for t, err := range ExpandSeq(s) {
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// MakePlan forecasts requests, tokens, cost and duration of running trials
// (from Expand) of suite s.
func MakePlan(s *Suite, trials []Trial, opt PlanOptions) Plan {
	p, _ := MakePlanSeq(s, func(yield func(Trial, error) bool) {
		for _, t := range trials {
			if !yield(t, nil) {
				return
			}
		}
	}, opt)
	return p
}
