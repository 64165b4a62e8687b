package runware

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// readAll returns every payload of an SSE body and the error that ended it
// (nil for a clean end).
func readAll(r io.Reader) ([]string, error) {
	sr := newSSEReader(r, 0)
	var out []string
	for {
		p, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, string(p))
	}
}

// The SSE reader accepts every framing Runware's SDK parsers accept.
func TestSSEReader(t *testing.T) {
	big := strings.Repeat("x", 1<<20) // far above bufio.Scanner's 64 KiB
	tests := []struct {
		name string
		in   string
		want []string
	}{
		// Standard framing: "data: " and a blank line after each event.
		{"blank-line separated", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`{"a":1}`, "[DONE]"}},
		// The TS SDK test bodies separate events by a single newline.
		{"single-newline separated", "data: {\"a\":1}\ndata: {\"b\":2}\ndata: [DONE]\n", []string{`{"a":1}`, `{"b":2}`, "[DONE]"}},
		// "data:" without the space after the colon.
		{"no space after colon", "data:{\"a\":1}\n", []string{`{"a":1}`}},
		// Whitespace around the line and around the value.
		{"surrounding whitespace", "  data:  {\"a\":1}  \n", []string{`{"a":1}`}},
		// Comments in every spelling are keep-alives and skipped.
		{"comments", ":\n: ping\n:ping\n: keepalive\ndata: {\"a\":1}\n", []string{`{"a":1}`}},
		// Other fields and lines without a colon are ignored.
		{"other fields", "event: message\nid: 7\nretry: 1000\nnot-a-data-line\ndata: {\"a\":1}\n\n", []string{`{"a":1}`}},
		// CRLF line ends.
		{"CRLF", "data: {\"a\":1}\r\n\r\ndata: [DONE]\r\n\r\n", []string{`{"a":1}`, "[DONE]"}},
		// A lone CR also ends a line (SSE allows it).
		{"lone CR", "data: {\"a\":1}\r\rdata: [DONE]\r", []string{`{"a":1}`, "[DONE]"}},
		// A last line without a newline still counts.
		{"no final newline", "data: {\"a\":1}", []string{`{"a":1}`}},
		// A 1 MiB line is read whole.
		{"huge line", "data: {\"t\":\"" + big + "\"}\n\n", []string{`{"t":"` + big + `"}`}},
		// Standard multi-line data: lines of one event joined with "\n".
		{"multi-line event", "data: {\"a\":\ndata: 1}\n\ndata: [DONE]\n", []string{"{\"a\":\n1}", "[DONE]"}},
		// An event that never completes is handed out at the blank line, as is.
		{"incomplete at blank line", "data: {\"a\":\n\ndata: [DONE]\n", []string{`{"a":`, "[DONE]"}},
		// ... and at the end of the body.
		{"incomplete at EOF", "data: {\"a\":1}\ndata: {\"b\":", []string{`{"a":1}`, `{"b":`}},
		// Empty body: no payloads.
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []struct {
				name string
				r    io.Reader
			}{{"whole", strings.NewReader(tt.in)}, {"byte by byte", iotest.OneByteReader(strings.NewReader(tt.in))}} {
				got, err := readAll(mode.r)
				if err != nil {
					t.Fatalf("%s: %v", mode.name, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s: payloads (-want +got):\n%s", mode.name, diff)
				}
			}
		})
	}
}

// A read error other than EOF is passed on, not mistaken for a clean end.
func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: {\"a\":1}\n"), iotest.ErrReader(boom))
	got, err := readAll(r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if diff := cmp.Diff([]string{`{"a":1}`}, got); diff != "" {
		t.Errorf("payloads before the error (-want +got):\n%s", diff)
	}
}
