package runware

// stackRoom is about the stack one sync request takes on the goroutine that
// calls Client.Do (net/http's client, encoding/json's decoder, crypto/rand).
const stackRoom = 8 << 10

// MakeStackRoom grows the calling goroutine's stack to hold stackRoom more
// bytes in one step, while the stack is still shallow. A caller that starts a
// goroutine per request (promptgrid's runner does) calls it first thing in
// that goroutine: the goroutine otherwise grows its stack several times deep
// inside the request (the attempt log's encoding, net/http, encoding/json,
// crypto/rand), and every growth copies the stack and adjusts each frame on
// it: 6-9 µs of CPU per request in the whole-command profile of
// BENCHMARKS.md (issue 13), against about 1 µs for this. Client.Do calls it
// too. On a stack that already has the room it costs clearing stackRoom
// bytes.
//
//go:noinline
func MakeStackRoom() {
	var room [stackRoom]byte
	touch(room[:])
}

// touch keeps room on the stack and in use.
//
//go:noinline
func touch(b []byte) { b[0] = 1 }
