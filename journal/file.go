package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File names inside a run directory.
const (
	JournalFile = "journal.jsonl"
	MetaFile    = "run.json"
)

// Writer appends records to a journal file. Each record is written with a
// single write call as soon as it is appended, so a crash loses at most the
// line being written; the file is fsynced at most SyncEvery after a write and
// on Close. Writer is safe for concurrent use.
type Writer struct {
	mu    sync.Mutex
	f     *os.File
	dirty bool
	err   error
	stop  chan struct{}
	done  chan struct{}
}

// SyncEvery bounds how long an appended line may stay un-fsynced.
const SyncEvery = time.Second

// Create opens (creating if needed) the journal in dir for appending. If the
// existing file ends in a partial line (a crash mid-write), the partial line is
// cut off so that appended records start on a line of their own.
func Create(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	path := filepath.Join(dir, JournalFile)
	if err := trimPartialLine(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	w := &Writer{f: f, stop: make(chan struct{}), done: make(chan struct{})}
	go w.syncLoop()
	return w, nil
}

func trimPartialLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	// Scan back from the end for the last newline.
	size := st.Size()
	buf := make([]byte, 64*1024)
	end := size
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return fmt.Errorf("read journal: %w", err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			cut := end - n + int64(i) + 1
			if cut == size {
				return nil
			}
			return f.Truncate(cut)
		}
		end -= n
	}
	return f.Truncate(0)
}

func (w *Writer) syncLoop() {
	defer close(w.done)
	t := time.NewTicker(SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.mu.Lock()
			if w.dirty && w.err == nil {
				w.err = w.f.Sync()
				w.dirty = false
			}
			w.mu.Unlock()
		}
	}
}

// Append writes one record as one line.
func (w *Writer) Append(r *Record) error {
	line, err := MarshalLine(r)
	if err != nil {
		return fmt.Errorf("encode journal record: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if _, err := w.f.Write(line); err != nil {
		w.err = fmt.Errorf("write journal: %w", err)
		return w.err
	}
	w.dirty = true
	return nil
}

// Close fsyncs and closes the journal.
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if serr := w.f.Sync(); err == nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadStats says what a read skipped.
type ReadStats struct {
	Records int
	// PartialTail is true when the file ended in a line without a newline
	// (a write cut short by a crash); that line is ignored.
	PartialTail bool
}

// Read streams every record of the journal at path to fn, in file order,
// without holding the journal in memory.
func Read(path string, fn func(*Record) error) (ReadStats, error) {
	var st ReadStats
	f, err := os.Open(path)
	if err != nil {
		return st, fmt.Errorf("open journal: %w", err)
	}
	defer f.Close()
	return decode(f, path, fn)
}

func decode(r io.Reader, name string, fn func(*Record) error) (ReadStats, error) {
	var st ReadStats
	br := bufio.NewReaderSize(r, 256*1024)
	lineNo := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			if line[len(line)-1] != '\n' {
				st.PartialTail = true
				return st, nil
			}
			line = bytes.TrimSpace(line)
			if len(line) > 0 {
				var rec Record
				if jerr := json.Unmarshal(line, &rec); jerr != nil {
					return st, fmt.Errorf("%s:%d: not a journal record: %w", name, lineNo, jerr)
				}
				st.Records++
				if ferr := fn(&rec); ferr != nil {
					return st, ferr
				}
			}
		}
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("read %s: %w", name, err)
		}
	}
}

// WriteMeta writes run.json atomically (temp file + rename).
func WriteMeta(dir string, m *Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".run-*.json")
	if err != nil {
		return fmt.Errorf("write run.json: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write run.json: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write run.json: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write run.json: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, MetaFile))
}

// ReadMeta reads run.json from a run directory.
func ReadMeta(dir string) (*Meta, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return nil, fmt.Errorf("read run.json: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MetaFile), err)
	}
	return &m, nil
}

// AppendAll writes records as consecutive lines with a single write call, so
// that the samples of one trial reach the file together: a crash leaves all
// of them or (after the partial tail is cut on the next Create) none.
func (w *Writer) AppendAll(rs []*Record) error {
	var buf []byte
	for _, r := range rs {
		line, err := MarshalLine(r)
		if err != nil {
			return fmt.Errorf("encode journal record: %w", err)
		}
		buf = append(buf, line...)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if _, err := w.f.Write(buf); err != nil {
		w.err = fmt.Errorf("write journal: %w", err)
		return w.err
	}
	w.dirty = true
	return nil
}
