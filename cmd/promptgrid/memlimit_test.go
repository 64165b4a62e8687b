package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// TestSoftLimitFollowsLiveHeap: the limit is never below the floor (small
// runs are left to GOGC) and always leaves room above the live heap (the
// collector must not run back to back).
func TestSoftLimitFollowsLiveHeap(t *testing.T) {
	if got := softLimit(0); got != softLimitFloor {
		t.Errorf("softLimit(0) = %d, want the floor %d", got, softLimitFloor)
	}
	for _, live := range []uint64{100 << 20, 1 << 30, 8 << 30} {
		if got := softLimit(live); got < int64(live+live/4) {
			t.Errorf("softLimit(%d) = %d: less than 25%% above the live heap", live, got)
		}
	}
}

// TestSoftLimitLeavesUsersGOMEMLIMIT: a GOMEMLIMIT in the environment is
// the user's and is not overridden.
func TestSoftLimitLeavesUsersGOMEMLIMIT(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "off")
	before := debug.SetMemoryLimit(-1)
	stop := startSoftMemoryLimit()
	during := debug.SetMemoryLimit(-1)
	stop()
	if during != before {
		t.Fatalf("memory limit %d while running, %d before: GOMEMLIMIT was overridden", during, before)
	}
}

// TestSoftLimitRestored: the limit there was is back once the command ends.
func TestSoftLimitRestored(t *testing.T) {
	before := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(before)
	stop := startSoftMemoryLimit()
	if during := debug.SetMemoryLimit(-1); during == math.MaxInt64 {
		t.Fatalf("no soft limit while running")
	}
	stop()
	if after := debug.SetMemoryLimit(-1); after != math.MaxInt64 {
		t.Fatalf("limit %d after stop, want %d restored", after, int64(math.MaxInt64))
	}
}

// TestSoftLimitSharedByConcurrentCommands: two commands in one process (as
// in the tests) share the limit; the first to end does not take it from
// the other, and the last restores the limit there was.
func TestSoftLimitSharedByConcurrentCommands(t *testing.T) {
	before := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(before)
	stopA := startSoftMemoryLimit()
	stopB := startSoftMemoryLimit()
	stopA()
	stopA() // a second call changes nothing
	if during := debug.SetMemoryLimit(-1); during == math.MaxInt64 {
		t.Fatal("the first command to end took the limit from the other")
	}
	stopB()
	if after := debug.SetMemoryLimit(-1); after != math.MaxInt64 {
		t.Fatalf("limit %d after both ended, want %d restored", after, int64(math.MaxInt64))
	}
}

// gcPercentAround runs a command's soft limit with GOGC 100 set before
// it, returning GOGC while it ran and after it stopped.
func gcPercentAround() (during, after int) {
	before := debug.SetGCPercent(100)
	stop := startSoftMemoryLimit()
	during = debug.SetGCPercent(-1)
	debug.SetGCPercent(during)
	stop()
	after = debug.SetGCPercent(before)
	return during, after
}

// TestSoftLimitRaisesGOGC: under the soft limit the collector runs at GOGC
// softGCPercent, and the GOGC there was is back once the command ends.
func TestSoftLimitRaisesGOGC(t *testing.T) {
	if _, set := os.LookupEnv("GOGC"); set {
		t.Skip("GOGC is set in the environment")
	}
	if during, after := gcPercentAround(); during != softGCPercent || after != 100 {
		t.Fatalf("GOGC %d while running, %d after; want %d, then 100 restored", during, after, softGCPercent)
	}
}

// TestSoftLimitLeavesUsersGOGC: a GOGC in the environment is the user's.
func TestSoftLimitLeavesUsersGOGC(t *testing.T) {
	t.Setenv("GOGC", "100")
	if during, _ := gcPercentAround(); during != 100 {
		t.Fatalf("GOGC %d while running with GOGC=100 set: overridden", during)
	}
}
