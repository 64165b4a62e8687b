package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Soft memory limit of run and report (issue 13): the report's aggregator
// holds a few dozen bytes per sample for the whole read, and with the
// default GOGC the heap grows to twice what is live before a collection,
// so a million-sample report took twice its live heap in RSS. The limit
// follows the live heap (measured at each collection) with a margin,
// never below softLimitFloor: runs far below the floor are left to GOGC,
// and a run whose live heap grows past it raises the limit with it, so the
// collector never runs back to back. A GOMEMLIMIT in the environment (even
// "off") is the user's choice and turns this off.
const (
	softLimitFloor = 128 << 20
	softLimitEvery = 50 * time.Millisecond
)

// softLimit returns the memory limit for a live heap of live bytes.
func softLimit(live uint64) int64 {
	return int64(max(softLimitFloor, live+live/4+32<<20))
}

// startSoftMemoryLimit starts following the live heap; stop restores the
// limit there was.
func startSoftMemoryLimit() (stop func()) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	prev := debug.SetMemoryLimit(softLimit(0))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(softLimitEvery)
		defer tick.Stop()
		last := int64(-1)
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			if l := softLimit(sample[0].Value.Uint64()); l != last {
				debug.SetMemoryLimit(l)
				last = l
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		debug.SetMemoryLimit(prev)
	}
}
