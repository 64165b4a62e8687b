package runner

import "github.com/promptgrid/promptgrid/runware"

// pool runs the admitted batches of a closed-loop run on goroutines that
// outlive them, up to size of them (the concurrency cap): a goroutine per
// batch grew its stack from scratch deep inside every request (net/http,
// the encoders) or paid MakeStackRoom to do it in one step, 4 µs of CPU a
// request in the whole-command profile; a worker keeps its grown stack from
// one batch to the next.
type pool struct {
	work chan []*job
	n    int
	size int
	run  func([]*job)
}

// newPool returns a pool of up to size workers calling run.
func newPool(size int, run func([]*job)) *pool {
	return &pool{work: make(chan []*job), size: max(size, 1), run: run}
}

// do hands batch to an idle worker, or a new one while there are fewer
// than size, or else to a goroutine of its own: it never waits for a worker
// to be free, since a busy worker may itself be waiting (a retry, for a
// concurrency slot the scheduler holds for batch). Only the scheduler
// calls it.
func (p *pool) do(batch []*job) {
	select {
	case p.work <- batch:
		return
	default:
	}
	if p.n < p.size {
		p.n++
		go p.loop(batch)
		return
	}
	goWithRoom(func() { p.run(batch) })
}

// goWithRoom runs f on a goroutine of its own whose stack is grown once,
// first thing (runware.MakeStackRoom), for a request that starts on it.
func goWithRoom(f func()) {
	go func() {
		runware.MakeStackRoom()
		f()
	}()
}

// loop is a worker: first, then whatever it is handed until close.
func (p *pool) loop(first []*job) {
	runware.MakeStackRoom()
	p.run(first)
	for b := range p.work {
		p.run(b)
	}
}

// close ends the workers once they are done with their batches; do must
// not be called afterwards.
func (p *pool) close() { close(p.work) }
