package journal

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// appendFile is a file of whole lines opened for appending, the common part
// of the journal's Writer and the AttemptLog: each write is one write call
// under mu, so a kill loses at most the line being written (and opening cuts
// a partial last line off); the file is fsynced at most SyncEvery after a
// write, and on close. The first write error sticks.
type appendFile struct {
	mu    sync.Mutex
	f     *os.File
	what  string // "journal", "attempt log": for errors
	dirty bool
	err   error
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	cerr  error
	// later holds lines written with the next write call (writeLater).
	later []byte
}

// maxLater bounds the lines writeLater holds before it writes them.
const maxLater = 64 << 10

// openAppend opens (creating) the file at path for appending, after cutting
// a partial last line a crash may have left, and starts its sync loop.
func openAppend(path, what string) (*appendFile, error) {
	if err := trimPartialLine(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	a := &appendFile{f: f, what: what, stop: make(chan struct{}), done: make(chan struct{})}
	go a.syncLoop()
	return a, nil
}

func (a *appendFile) syncLoop() {
	defer close(a.done)
	t := time.NewTicker(SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.mu.Lock()
			a.flushLater()
			if a.dirty && a.err == nil {
				a.err = a.f.Sync()
				a.dirty = false
			}
			a.mu.Unlock()
		}
	}
}

// write appends b with one write call and, once it is written, runs then
// (when not nil) under the same lock.
func (a *appendFile) write(b []byte, then func()) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	if len(a.later) > 0 {
		b = append(a.later, b...)
		a.later = a.later[:0]
	}
	return a.writeLocked(b, then)
}

// writeLater appends b to the lines that go out with the next write call,
// or within SyncEvery (the sync loop), or on close, whichever comes first:
// for lines whose loss in a crash costs nothing but a conservative reading
// (an attempt's settled line), a write call of their own is not worth it.
func (a *appendFile) writeLater(b []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.later = append(a.later, b...)
	if len(a.later) >= maxLater {
		return a.flushLater()
	}
	return nil
}

// flushLater writes the lines writeLater holds; a.mu is held.
func (a *appendFile) flushLater() error {
	if len(a.later) == 0 || a.err != nil {
		return a.err
	}
	err := a.writeLocked(a.later, nil)
	a.later = a.later[:0]
	return err
}

// writeLocked writes b with one write call; a.mu is held.
func (a *appendFile) writeLocked(b []byte, then func()) error {
	if _, err := a.f.Write(b); err != nil {
		a.err = fmt.Errorf("write %s: %w", a.what, err)
		return a.err
	}
	a.dirty = true
	if then != nil {
		then()
	}
	return nil
}

// close fsyncs and closes the file; later calls return the first's result.
func (a *appendFile) close() error {
	a.once.Do(func() {
		close(a.stop)
		<-a.done
		a.mu.Lock()
		defer a.mu.Unlock()
		a.flushLater()
		err := a.err
		if serr := a.f.Sync(); err == nil {
			err = serr
		}
		if cerr := a.f.Close(); err == nil {
			err = cerr
		}
		a.cerr = err
	})
	return a.cerr
}
