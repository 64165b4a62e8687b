package runner

import (
	"testing"
	"testing/synctest"
)

// A worker that is free takes the next batch: sequential batches run on
// one goroutine, not one each.
func TestPoolReusesFreeWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ran := 0
		p := newPool(4, func([]*job) { ran++ })
		for range 10 {
			p.do(nil)
			synctest.Wait() // the worker is back waiting for work
		}
		p.close()
		synctest.Wait()
		if ran != 10 || p.n != 1 {
			t.Fatalf("%d batches ran on %d workers, want 10 on 1", ran, p.n)
		}
	})
}

// do never waits for a worker: with every worker busy until a later batch
// runs (a retry waiting for the concurrency slot that batch holds), the
// later batch still runs. Waiting would deadlock (synctest reports it).
func TestPoolNeverWaitsForAWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		done := make(chan struct{}, 2)
		first := true
		p := newPool(1, func([]*job) {
			if first {
				first = false
				<-release // busy until the second batch runs
			} else {
				close(release)
			}
			done <- struct{}{}
		})
		p.do(nil)
		synctest.Wait()
		p.do(nil)
		<-done
		<-done
		p.close()
	})
}
