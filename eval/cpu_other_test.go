//go:build !unix

package eval

import "time"

// processCPU is unknown here: benchmarks report 0 CPU ns/op.
func processCPU() time.Duration { return 0 }
