//go:build unix

package eval

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) the process has used, GC
// workers included: benchmarks report it per op, which other load on the
// machine inflates less than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
