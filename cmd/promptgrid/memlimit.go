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
//
// Under the limit, GOGC is raised to softGCPercent (unless GOGC is in the
// environment, the user's choice): a run's live heap is small (8 MB for a
// 20,000-trial run) and with GOGC 100 it was collected 65 times, 5% of the
// CPU and more in write barriers and assists; at 400 it is collected 12
// times and the run takes 9% less CPU for about 20 MB more RSS. The limit
// bounds the heap all the same, so a large run is unchanged.
const (
	softLimitFloor = 128 << 20
	softLimitEvery = 50 * time.Millisecond
	softGCPercent  = 400
)

// softLimit returns the memory limit for a live heap of live bytes.
func softLimit(live uint64) int64 {
	return int64(max(softLimitFloor, live+live/4+32<<20))
}

// softLimiter is the one follower of the live heap in the process: commands
// run in one process at once (the tests run many) share it, the first start
// setting the limit and the last stop restoring the one there was.
var softLimiter struct {
	mu    sync.Mutex
	users int
	prev  int64
	// prevGC is the GOGC there was (-2: left alone, GOGC is set).
	prevGC int
	done   chan struct{}
	wg     sync.WaitGroup
}

// startSoftMemoryLimit starts following the live heap; stop (call it once)
// restores the limit there was when no other command still follows it.
func startSoftMemoryLimit() (stop func()) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	l := &softLimiter
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.users++; l.users == 1 {
		l.prev = debug.SetMemoryLimit(softLimit(0))
		l.prevGC = -2
		if _, set := os.LookupEnv("GOGC"); !set {
			l.prevGC = debug.SetGCPercent(softGCPercent)
		}
		l.done = make(chan struct{})
		l.wg.Go(func() { followLiveHeap(l.done) })
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.users--; l.users == 0 {
				close(l.done)
				l.wg.Wait()
				debug.SetMemoryLimit(l.prev)
				if l.prevGC != -2 {
					debug.SetGCPercent(l.prevGC)
				}
			}
		})
	}
}

// followLiveHeap sets the limit from the live heap every softLimitEvery
// until done is closed.
func followLiveHeap(done <-chan struct{}) {
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
}
