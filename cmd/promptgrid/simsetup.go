package main

import (
	"encoding/json"
	"fmt"

	"github.com/promptgrid/promptgrid/eval"
	"github.com/promptgrid/promptgrid/runware/runwaretest"
)

// simKey is the API key of the in-process simulator started by `run --sim`.
const simKey = "sim"

// simScenarios converts a suite's `sim:` list into simulator scenarios. The
// suite keeps them as decoded JSON values and runwaretest.Scenario is
// json-tagged, so a JSON round trip is the conversion.
func simScenarios(s *eval.Suite) ([]runwaretest.Scenario, error) {
	if len(s.Sim) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(s.Sim)
	if err != nil {
		return nil, fmt.Errorf("%s: sim: %w", s.Path, err)
	}
	var out []runwaretest.Scenario
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: sim: not a list of simulator scenarios: %w", s.Path, err)
	}
	return out, nil
}

// startSim starts the simulator in-process on 127.0.0.1 with the suite's
// scenarios, answering only the key simKey. timeScale scales its model
// delays (0 = none). faults, when not nil, configures fault injection.
func startSim(s *eval.Suite, timeScale float64, faults *runwaretest.Faults) (*runwaretest.Server, error) {
	sc, err := simScenarios(s)
	if err != nil {
		return nil, err
	}
	opts := runwaretest.Options{APIKeys: []string{simKey}, Scenarios: sc, TimeScale: timeScale}
	if faults != nil {
		opts.Faults = *faults
	}
	return runwaretest.NewServer(opts), nil
}
