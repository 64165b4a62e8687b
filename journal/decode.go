package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// lineError is the error of a line that is not a journal record.
func lineError(name string, lineNo int, err error) error {
	return fmt.Errorf("%s:%d: not a journal record: %w", name, lineNo, err)
}

// scanLines calls fn with every line of r that is not blank, trimmed, with
// its 1-based line number, in order; line is valid only until fn returns.
// A last line without a newline (a write cut short) is not passed on:
// partialTail says it was there.
func scanLines(r io.Reader, name string, fn func(line []byte, lineNo int) error) (partialTail bool, err error) {
	br := bufio.NewReaderSize(r, 256*1024)
	lineNo := 0
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull || len(long) > 0 {
			long = append(long, line...)
			if err == bufio.ErrBufferFull {
				continue
			}
			line = long
		}
		if len(line) > 0 {
			lineNo++
			if line[len(line)-1] != '\n' {
				return true, nil
			}
			if t := bytes.TrimSpace(line); len(t) > 0 {
				if ferr := fn(t, lineNo); ferr != nil {
					return false, ferr
				}
			}
		}
		long = long[:0]
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read %s: %w", name, err)
		}
	}
}

// decode streams the records of r to fn in file order, each with its
// 1-based line number. Lines are decoded ahead of fn on GOMAXPROCS
// goroutines, a few chunks at a time, so reading a journal uses every core
// while memory stays flat; fn is called from one goroutine, and not at all
// after a line that does not decode.
func decode(r io.Reader, name string, fn func(rec *Record, lineNo int) error) (ReadStats, error) {
	return decodeWith(r, name, runtime.GOMAXPROCS(0), fn)
}

// Chunk sizes of decodeWith: a chunk is full at chunkLines lines or
// chunkBytes bytes of them, whichever comes first.
const (
	chunkLines = 64
	chunkBytes = 32 * 1024
)

// chunk is a run of consecutive lines decoded by one worker: into records
// (recs) or keys (keys), depending on the reader.
type chunk struct {
	buf   []byte
	spans []lineSpan
	recs  []*Record
	keys  []Key
	// err is the decode error of spans[n], n the number of lines decoded
	// (the first line that did not decode); no later line of the chunk is
	// decoded.
	err  error
	done chan struct{}
}

type lineSpan struct{ start, end, lineNo int }

func newChunk() *chunk {
	return &chunk{buf: make([]byte, 0, chunkBytes+4096), done: make(chan struct{})}
}

// reset empties c for another run of lines.
func (c *chunk) reset() {
	c.buf, c.spans = c.buf[:0], c.spans[:0]
	clear(c.recs)
	clear(c.keys)
	c.recs, c.keys, c.err = c.recs[:0], c.keys[:0], nil
	c.done = make(chan struct{})
}

func (c *chunk) add(line []byte, lineNo int) {
	start := len(c.buf)
	c.buf = append(c.buf, line...)
	c.spans = append(c.spans, lineSpan{start, len(c.buf), lineNo})
}

func (c *chunk) full() bool { return len(c.spans) >= chunkLines || len(c.buf) >= chunkBytes }

func (c *chunk) line(i int) []byte { return c.buf[c.spans[i].start:c.spans[i].end] }

// decodeRecord decodes one trimmed line into a new record: by recDecoder
// when it can vouch for the result, else by json.Unmarshal.
func decodeRecord(d *recDecoder, line []byte) (*Record, error) {
	rec := new(Record)
	if d.decode(line, rec) {
		return rec, nil
	}
	*rec = Record{}
	if err := json.Unmarshal(line, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// decodeRecords fills c.recs.
func (c *chunk) decodeRecords(d *recDecoder) {
	defer close(c.done)
	for i := range c.spans {
		rec, err := decodeRecord(d, c.line(i))
		if err != nil {
			c.err = err
			return
		}
		c.recs = append(c.recs, rec)
	}
}

// decodeKeys fills c.keys.
func (c *chunk) decodeKeys(*recDecoder) {
	defer close(c.done)
	for i := range c.spans {
		var k Key
		if err := decodeKey(c.line(i), &k); err != nil {
			c.err = err
			return
		}
		c.keys = append(c.keys, k)
	}
}

// errQuit stops the line scanner of decodeWith when fn has stopped.
var errQuit = errors.New("journal: reader stopped")

// decodeWith is decode with the given number of decoding goroutines (1:
// none, everything in the caller's goroutine).
func decodeWith(r io.Reader, name string, workers int, fn func(rec *Record, lineNo int) error) (ReadStats, error) {
	var st ReadStats
	if workers <= 1 {
		var d recDecoder
		var err error
		st.PartialTail, err = scanLines(r, name, func(line []byte, lineNo int) error {
			rec, err := decodeRecord(&d, line)
			if err != nil {
				return lineError(name, lineNo, err)
			}
			st.Records++
			return fn(rec, lineNo)
		})
		return st, err
	}
	var err error
	st.PartialTail, err = readChunks(r, name, workers, (*chunk).decodeRecords, func(c *chunk) error {
		for i, rec := range c.recs {
			st.Records++
			if err := fn(rec, c.spans[i].lineNo); err != nil {
				return err
			}
		}
		if c.err != nil {
			return lineError(name, c.spans[len(c.recs)].lineNo, c.err)
		}
		return nil
	})
	return st, err
}

// readChunks splits r into chunks of lines (scanLines), has workers
// goroutines decode them (decodeChunk, each worker with its own
// recDecoder) and calls consume with each decoded chunk in file order from
// the caller's goroutine, stopping at its first error. A chunk is reused
// once consume has returned; about workers + 3 chunks are in memory.
func readChunks(r io.Reader, name string, workers int, decodeChunk func(*chunk, *recDecoder), consume func(*chunk) error) (partialTail bool, err error) {
	// The scanner hands each full chunk to the consumer (order) and then to
	// the workers (work); the consumer waits for each chunk in turn to be
	// decoded. order's capacity bounds the chunks in memory; free holds
	// the consumed ones for the scanner to fill again.
	quit := make(chan struct{})
	order := make(chan *chunk, workers+1)
	work := make(chan *chunk, workers)
	free := make(chan *chunk, workers+3)
	var wg sync.WaitGroup
	var partial bool
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(work)
		next := func() *chunk {
			select {
			case c := <-free:
				c.reset()
				return c
			default:
				return newChunk()
			}
		}
		c := next()
		send := func() error {
			select {
			case order <- c:
			case <-quit:
				return errQuit
			}
			select {
			case work <- c:
			case <-quit:
				return errQuit
			}
			c = next()
			return nil
		}
		partial, readErr = scanLines(r, name, func(line []byte, lineNo int) error {
			if c.add(line, lineNo); c.full() {
				return send()
			}
			return nil
		})
		if readErr == nil && len(c.spans) > 0 {
			readErr = send()
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d recDecoder
			for {
				select {
				case c, ok := <-work:
					if !ok {
						return
					}
					decodeChunk(c, &d)
				case <-quit:
					return
				}
			}
		}()
	}
	// However the consumer leaves (done, an error, a panic in consume),
	// the scanner and the workers stop before readChunks returns.
	defer func() {
		close(quit)
		wg.Wait()
	}()
	for c := range order {
		<-c.done
		if err := consume(c); err != nil {
			return false, err
		}
		select {
		case free <- c:
		default:
		}
	}
	// order is closed: the scanner has set partial and readErr.
	return partial, readErr
}
