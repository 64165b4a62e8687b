package journal

// Scoring is how a run's samples are summarised: the cell order and each
// case's pass rule, recorded in run.json when the run starts so that a
// report depends on the run directory alone. Editing the suite file after
// the run does not change the run's report (report --rescore is the way to
// score a run with the current suite).
type Scoring struct {
	// CellOrder lists the run's cell labels in the order the suite declares
	// them (variants, then the grid's cells).
	CellOrder []string `json:"cellOrder"`
	// Pass is the suite's pass rule.
	Pass PassRule `json:"pass"`
	// Cases holds the rule of every case whose rule differs from Pass.
	Cases map[string]PassRule `json:"cases,omitempty"`
}

// PassRule is a pass rule as run.json records it: the fields of
// eval.PassRule (journal imports no suite types for run.json).
type PassRule struct {
	// Threshold is the weighted check score a sample needs (0 to 1).
	Threshold float64 `json:"threshold"`
	// Case is how a case passes across its samples in a cell: "" or
	// "all", "any", "atLeast" (K samples) or "fraction" (Fraction of them).
	Case     string  `json:"case,omitempty"`
	K        int     `json:"k,omitempty"`
	Fraction float64 `json:"fraction,omitempty"`
	// ErrorsAsFailures: a sample without an answer counts as failing
	// (eval.PassRule.ErrorsAsFailures); meaningful on the suite's rule.
	ErrorsAsFailures bool `json:"errorsAsFailures,omitempty"`
}

// Rule returns the recorded pass rule of a case: its own, else the suite's.
func (s *Scoring) Rule(caseID string) PassRule {
	if r, ok := s.Cases[caseID]; ok {
		return r
	}
	return s.Pass
}
