package runware

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxSSELine is the line bound of an sseReader made with limit <= 0. The
// client passes its own bound (Client.sseLineLimit, about twice the result
// cap) so a server that never sends a newline cannot exhaust memory.
const maxSSELine = 64 << 20

// sseDone is the sentinel payload that ends a Runware or OpenAI stream.
const sseDone = "[DONE]"

// errSSELineTooLong reports a line (or event) above the reader's limit.
var errSSELineTooLong = errors.New("SSE line exceeds the line limit")

// sseReader yields the data payloads of a server-sent-events body, accepting
// everything Runware's SDK parsers accept: "data:" with or without a space,
// whitespace around a line, events separated by a blank line or by a single
// newline, comment lines (":", ": ping", ":ping"), other fields ("event:",
// "id:", "retry:") and lines without a colon (ignored), and LF, CRLF or CR
// line ends. Each data line that is a complete JSON value (or [DONE]) is a
// payload of its own, as the SDKs read it line by line; a data line that is
// not complete is joined ("\n") with the following data lines of the same
// event, as standard SSE does, until the joined text is complete or the event
// ends (blank line or end of body).
type sseReader struct {
	r       *bufio.Reader
	queued  [][]byte // lines already split off a physical line at a lone CR
	pending []byte   // data of an event that is not complete yet
	partial bool     // pending holds at least one data line
	limit   int      // bound of one line and of one joined event
}

// newSSEReader reads SSE from r, lines and events bounded by limit bytes
// (limit <= 0: maxSSELine).
func newSSEReader(r io.Reader, limit int) *sseReader {
	if limit <= 0 {
		limit = maxSSELine
	}
	return &sseReader{r: bufio.NewReaderSize(r, 32<<10), limit: limit}
}

// Next returns the next data payload, trimmed of surrounding whitespace. At
// the end of the body it returns io.EOF (after any incomplete pending event,
// which is returned as it stands so that the caller can report it); other
// read errors are returned as they are.
func (s *sseReader) Next() ([]byte, error) {
	for {
		line, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && s.partial {
				return s.flush(), nil
			}
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if s.partial {
				return s.flush(), nil
			}
			continue
		}
		if line[0] == ':' {
			continue // comment, e.g. a keep-alive ping
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(bytes.TrimSpace(name)) != "data" {
			continue // another field, or a line that is no field at all
		}
		value = bytes.TrimSpace(value)
		if !s.partial {
			if complete(value) {
				return value, nil
			}
			s.pending = append(s.pending[:0], value...)
			s.partial = true
			continue
		}
		if len(s.pending)+1+len(value) > s.limit {
			return nil, errSSELineTooLong
		}
		s.pending = append(append(s.pending, '\n'), value...)
		if complete(s.pending) {
			return s.flush(), nil
		}
	}
}

// flush hands out the pending event and starts a new one.
func (s *sseReader) flush() []byte {
	p := bytes.TrimSpace(s.pending)
	s.pending, s.partial = nil, false
	return p
}

// complete reports whether a payload stands on its own.
func complete(v []byte) bool {
	return string(v) == sseDone || (len(v) > 0 && json.Valid(v))
}

// readLine returns the next line without its terminator. Lines may be of any
// length up to the limit; a lone CR also ends a line (JSON cannot contain a
// raw CR, so splitting there never breaks a payload).
func (s *sseReader) readLine() ([]byte, error) {
	if len(s.queued) > 0 {
		l := s.queued[0]
		s.queued = s.queued[1:]
		return l, nil
	}
	var line []byte
	for {
		frag, err := s.r.ReadSlice('\n')
		if len(line)+len(frag) > s.limit {
			return nil, errSSELineTooLong
		}
		line = append(line, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				break // a last line without terminator still counts
			}
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("read SSE: %w", err)
		}
		break
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if bytes.IndexByte(line, '\r') >= 0 {
		parts := bytes.Split(line, []byte("\r"))
		s.queued = append(s.queued, parts[1:]...)
		line = parts[0]
	}
	return line, nil
}
