package journal

import (
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
	*appendFile
	tally Tally
	// fresh is true when the file held no line when the Writer opened it;
	// tee, when set, sees every line written since (Tee).
	fresh bool
	tee   *tee
}

// SyncEvery bounds how long an appended line may stay un-fsynced.
const SyncEvery = time.Second

// Create opens (creating if needed) the journal in dir for appending. If the
// existing file ends in a partial line (a crash mid-write), the partial line is
// cut off so that appended records start on a line of their own.
//
// Create is the form for tests and tools outside a run directory; a run
// opens its journal with RunDir.Journal, which writes run.json first.
func Create(dir string) (*Writer, error) { return createWriter(dir) }

func createWriter(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	a, err := openAppend(filepath.Join(dir, JournalFile), "journal")
	if err != nil {
		return nil, err
	}
	st, err := a.f.Stat()
	if err != nil {
		a.close()
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return &Writer{appendFile: a, fresh: st.Size() == 0}, nil
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

// Append writes one record as one line.
func (w *Writer) Append(r *Record) error {
	return w.AppendAll([]*Record{r})
}

// Close fsyncs and closes the journal.
func (w *Writer) Close() error { return w.close() }

// ReadStats says what a read skipped.
type ReadStats struct {
	Records int
	// PartialTail is true when the file ended in a line without a newline
	// (a write cut short by a crash); that line is ignored.
	PartialTail bool
}

// Read streams every record of the journal at path to fn, in file order,
// without holding the journal in memory. Lines are decoded a few chunks
// ahead of fn on every core; fn is called from one goroutine at a time, and
// not at all after the first line that is not a record (the error names it)
// or that an option refuses (see OwnedBy).
func Read(path string, fn func(*Record) error, opts ...ReadOption) (ReadStats, error) {
	var o readOptions
	for _, opt := range opts {
		opt(&o)
	}
	var st ReadStats
	f, err := os.Open(path)
	if err != nil {
		return st, fmt.Errorf("open journal: %w", err)
	}
	defer f.Close()
	return decode(f, path, func(r *Record, lineNo int) error {
		if err := o.owner.check(path, lineNo, r); err != nil {
			return err
		}
		return fn(r)
	})
}

// MaxMetaSize bounds run.json: its flags, resumes and the recorded pass
// rules of the cases that have their own (Scoring) stay far below it for any
// suite eval loads; a larger file is not a run.json promptgrid wrote.
const MaxMetaSize = 64 << 20

// WriteMeta writes run.json in dir atomically (WriteAtomic).
func WriteMeta(dir string, m *Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if len(b) > MaxMetaSize {
		return fmt.Errorf("%s: run.json would be %d bytes, over the %d MiB bound", dir, len(b), MaxMetaSize>>20)
	}
	return WriteAtomic(filepath.Join(dir, MetaFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReadMeta reads run.json from a run directory; one over MaxMetaSize is
// refused.
func ReadMeta(dir string) (*Meta, error) {
	path := filepath.Join(dir, MetaFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read run.json: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxMetaSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxMetaSize {
		return nil, fmt.Errorf("%s: over the %d MiB a run.json may have: not a run.json promptgrid wrote; start a new run", path, MaxMetaSize>>20)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MetaFile), err)
	}
	return &m, nil
}

// AppendAll writes records as consecutive lines with a single write call, so
// that the samples of one trial reach the file together: a crash leaves all
// of them or (after the partial tail is cut on the next Create) none. The
// lines are those of MarshalLine, encoded straight into one pooled buffer.
func (w *Writer) AppendAll(rs []*Record) error {
	buf := linePool.Get().(*bytes.Buffer)
	defer putLineBuffer(buf)
	buf.Reset()
	line := buf.AvailableBuffer()
	for _, r := range rs {
		var err error
		if line, err = appendRecord(line, r); err != nil {
			return fmt.Errorf("encode journal record: %w", err)
		}
		line = append(line, '\n')
	}
	buf.Write(line)
	return w.write(buf.Bytes(), func() {
		w.tally.Writes++
		for _, r := range rs {
			w.tally.add(r)
		}
		if w.tee != nil {
			w.tee = w.tee.pass(buf.Bytes(), rs)
		}
	})
}

// linePool holds the buffers AppendAll encodes into.
var linePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putLineBuffer returns a buffer to linePool unless a huge record grew it.
func putLineBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		linePool.Put(b)
	}
}
