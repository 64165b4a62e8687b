package main

import (
	"fmt"
	"net/url"
	"strconv"
)

// hasCredentials reports whether an endpoint carries userinfo or a query
// (which RedactURL blanks in run.json).
func hasCredentials(endpoint string) bool {
	u, err := url.Parse(endpoint)
	return err != nil || u.User != nil || u.RawQuery != ""
}

// resumeMayChange are the flags that shape a run and may differ on
// --resume; the change is recorded in run.json. --max-cost may only rise.
var resumeMayChange = map[string]bool{"rate": true, "concurrency": true, "timeout": true, "max-cost": true,
	"idle-timeout": true, "max-retry-after": true}

// resumeIgnores are flags that do not shape the run's samples: how this
// invocation reports, shows progress and where it resumes.
var resumeIgnores = map[string]bool{"resume": true, "retry-errors": true, "quiet": true, "out": true,
	"format": true, "baseline": true, "fail-under": true, "margin": true, "fail-on": true,
	"fail-on-availability": true, "max-error-rate": true, "reference": true}

// restoreFlags gives o every flag the resumed run was started (or last
// resumed) with and not given now, refuses a given one that differs unless
// resumeMayChange allows it, and returns the allowed changes.
func (o *runOptions) restoreFlags(prev map[string]string) (map[string]string, error) {
	changed := map[string]string{}
	for name, now := range o.changed {
		if resumeIgnores[name] {
			continue
		}
		was, had := prev[name]
		if had && was == now {
			continue
		}
		if !resumeMayChange[name] {
			if !had {
				was = "not set"
			}
			return nil, withCode(exitInput, fmt.Errorf("--resume: --%s %s differs from the run's (%s); it shapes the run and cannot change on resume (only --rate, --concurrency, --timeout, --idle-timeout, --max-retry-after and a higher --max-cost can): drop the flag or start a new run", name, now, was))
		}
		if name == "max-cost" && had {
			a, _ := strconv.ParseFloat(was, 64)
			b, _ := strconv.ParseFloat(now, 64)
			if b < a {
				return nil, withCode(exitInput, fmt.Errorf("--resume: --max-cost %s is below the run's %s; the budget can only rise on resume", now, was))
			}
		}
		changed[name] = now
	}
	for name, was := range prev {
		if resumeIgnores[name] || o.set(name) {
			continue
		}
		if name == "endpoint" && hasCredentials(was) {
			return nil, withCode(exitInput, fmt.Errorf("--resume: the run's --endpoint %s carried credentials, which run.json does not keep: give --endpoint again", was))
		}
		if err := o.restore(name, was); err != nil {
			return nil, withCode(exitInput, fmt.Errorf("--resume: run.json flag --%s %q: %w", name, was, err))
		}
	}
	return changed, nil
}
