package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unicode/utf8"
)

// MaxInputFileBytes bounds every file a suite reads other than the suite
// file itself: its includes, JSON Schema files and each row of a casesFrom
// data file (data files as a whole have MaxDataFileBytes).
const MaxInputFileBytes = 8 << 20

// MaxSuiteFileBytes bounds the suite file itself, which may hold its cases
// inline (100,000 short cases are 12 to 25 MB; its cases list is parsed a
// chunk at a time, load_chunks.go). A file the chunking does not handle is
// parsed whole, about 160 bytes per node, and the densest file
// (`[a,a,a,...]`) has a node per 2 bytes: parsing a 32 MiB file peaks at
// about 4 GB in that worst case. Past it, casesFrom streams the cases from
// a data file.
const MaxSuiteFileBytes = 32 << 20

// LoadOptions change how LoadWithOptions reads a suite.
type LoadOptions struct {
	// AllowOutside lets a suite read files (includes, casesFrom, schemas)
	// outside the directory tree of the suite file. Off by default: a suite
	// from a pull request must not read ../../etc/passwd or
	// /proc/self/environ. The command line maps it to
	// --allow-outside-suite-dir.
	AllowOutside bool
	// CompactCases keeps the cases built from casesFrom data files out of
	// Suite.Cases: the suite keeps each row's place in its file, and builds
	// a case again when it is asked for, so that a million rows load in a
	// few tens of megabytes. Suite.Cases then holds the suite's own cases
	// only; Suite.NumCases counts every case and Suite.AllCases yields
	// them all (ExpandSeq, CountTrials and Filter use them). Off by
	// default: Suite.Cases holds every case, as callers that range over it
	// expect.
	CompactCases bool
}

// inputFiles reads the files of one suite, enforcing the rules every input
// file obeys, and remembers their bytes (for carets) and hashes (for
// Suite.Hash).
type inputFiles struct {
	root         string // the suite file's directory, absolute, symlinks resolved
	allowOutside bool
	sources      map[string][]byte
	hashes       []string        // path NUL sha256, in read order
	streamed     map[string]bool // data files hashed while streamed
	media        *mediaCache     // media files (images, videos), read once
}

// newInputFiles roots the rules at the directory of the suite file.
func newInputFiles(suitePath string, opts LoadOptions) *inputFiles {
	f := &inputFiles{allowOutside: opts.AllowOutside, sources: map[string][]byte{}, streamed: map[string]bool{}, media: &mediaCache{files: map[string]mediaFile{}}}
	dir, err := filepath.Abs(filepath.Dir(suitePath))
	if err == nil {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			dir = r
		}
		f.root = dir
	}
	return f
}

// errOutside is returned for a file outside the suite's directory tree.
var errOutside = errors.New("outside the suite's directory")

// read returns the contents of path after checking that it is inside the
// suite's tree (unless allowed), a regular file (never a device or a FIFO,
// which would hang or never end) and at most MaxInputFileBytes. Errors say
// what to do and never quote the file.
func (f *inputFiles) read(path string) ([]byte, error) {
	return f.readMax(path, MaxInputFileBytes)
}

// readMax is read with limit in place of MaxInputFileBytes (the suite
// file has MaxSuiteFileBytes).
func (f *inputFiles) readMax(path string, limit int) ([]byte, error) {
	if b, ok := f.sources[path]; ok {
		return b, nil
	}
	fh, fi, err := f.open(path, int64(limit))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	// A regular file can still grow while read, or report size 0 (procfs):
	// never read past the limit. The buffer starts at the file's size, so
	// that a big suite is not copied while it is read.
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(fh, int64(limit)+1))
	if err != nil {
		return nil, unwrapPathErr(err)
	}
	b := buf.Bytes()
	if len(b) > limit {
		return nil, &tooBigError{limit: int64(limit)}
	}
	if !isText(b) {
		return nil, errNotText
	}
	f.sources[path] = b
	f.addHash(path, sha256.Sum256(b))
	return b, nil
}

// tooBigError refuses a file past its size limit; size is 0 when the file
// grew past the limit while it was read.
type tooBigError struct{ size, limit int64 }

func (e *tooBigError) Error() string {
	if e.size == 0 {
		return fmt.Sprintf("the file is more than %d bytes: split it", e.limit)
	}
	return fmt.Sprintf("the file is %d bytes, more than the limit of %d: split it", e.size, e.limit)
}

// errNotText refuses a file with NUL bytes or invalid UTF-8.
var errNotText = errors.New("not a text file (it holds NUL bytes or invalid UTF-8): name a UTF-8 text file")

// isText reports whether b holds no NUL byte and is valid UTF-8.
func isText(b []byte) bool { return bytes.IndexByte(b, 0) < 0 && utf8.Valid(b) }

// addHash records a file's content hash for Suite.Hash.
func (f *inputFiles) addHash(path string, sum [sha256.Size]byte) {
	f.hashes = append(f.hashes, filepath.ToSlash(f.rel(path))+"\x00"+hex.EncodeToString(sum[:]))
}

// open opens path for reading after checking that it is inside the
// suite's tree (unless allowed), a regular file (never a device or a FIFO,
// which would hang or never end) and at most limit bytes. Errors say what
// to do and never quote the file.
func (f *inputFiles) open(path string, limit int64) (*os.File, os.FileInfo, error) {
	if err := f.inside(path); err != nil {
		return nil, nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, unwrapPathErr(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("not a regular file (%s): name a plain file", fileKind(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, nil, &tooBigError{size: fi.Size(), limit: limit}
	}
	// O_NONBLOCK: if the path was swapped for a FIFO after the Stat, the
	// open returns at once instead of waiting for a writer.
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, unwrapPathErr(err)
	}
	if fi, err = fh.Stat(); err != nil {
		fh.Close()
		return nil, nil, unwrapPathErr(err)
	}
	if !fi.Mode().IsRegular() {
		fh.Close()
		return nil, nil, fmt.Errorf("not a regular file (%s): name a plain file", fileKind(fi.Mode()))
	}
	return fh, fi, nil
}

// inside reports errOutside (with what to do) when path, symlinks
// resolved, is not under the suite's directory.
func (f *inputFiles) inside(path string) error {
	if f.allowOutside {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	} else if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(r, filepath.Base(abs))
	}
	if f.root == "" || !within(f.root, abs) {
		return fmt.Errorf("%w: a suite reads only files under the directory of its suite file; move the file there, or pass --allow-outside-suite-dir if you trust this suite", errOutside)
	}
	return nil
}

// rel names path relative to the suite's directory for the hash, so that
// the hash does not depend on where the checkout lives.
func (f *inputFiles) rel(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil || f.root == "" {
		return path
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	if r, err := filepath.Rel(f.root, abs); err == nil {
		return r
	}
	return path
}

// within reports whether path is root or under it (both absolute, clean).
func within(root, path string) bool {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	return r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

// fileKind names a non-regular file type for an error.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}
