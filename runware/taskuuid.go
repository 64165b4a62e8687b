package runware

import (
	"bufio"
	"crypto/rand"
	"sync"

	"github.com/google/uuid"
)

// taskUUIDRand buffers crypto/rand for task UUIDs, 256 of them a read.
// Reading 16 bytes per UUID took 6 µs of CPU per request in the
// whole-command profile of BENCHMARKS.md (issue 13), most of it growing the
// stack of the request's goroutine for the vDSO getrandom call; a task UUID
// names a task, it guards nothing, so random bytes held in memory until used
// are fine.
var taskUUIDRand = struct {
	sync.Mutex
	r *bufio.Reader
}{r: bufio.NewReaderSize(rand.Reader, 256*16)}

// NewTaskUUID returns a fresh random UUID (version 4) for a task.
func NewTaskUUID() string {
	taskUUIDRand.Lock()
	u, err := uuid.NewRandomFromReader(taskUUIDRand.r)
	taskUUIDRand.Unlock()
	if err != nil {
		return uuid.NewString() // not reached: crypto/rand.Read does not fail
	}
	return u.String()
}
