package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
)

// sequentialDecode is Read's decoder as it was before lines were decoded in
// parallel: the reference the parallel one must match exactly.
func sequentialDecode(r io.Reader, name string, fn func(*Record) error) (ReadStats, error) {
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

// decodeResult is everything a reader of a journal observes.
type decodeResult struct {
	Recs  []*Record
	Stats ReadStats
	Err   string
}

func runDecode(dec func(io.Reader, string, func(*Record) error) (ReadStats, error), content string, stopAt int) decodeResult {
	var res decodeResult
	stop := errors.New("stop")
	st, err := dec(strings.NewReader(content), "j", func(r *Record) error {
		res.Recs = append(res.Recs, r)
		if len(res.Recs) == stopAt {
			return stop
		}
		return nil
	})
	res.Stats = st
	if err != nil {
		res.Err = err.Error()
	}
	return res
}

// TestParallelDecodeMatchesSequential protects the order and the stopping
// rules of the parallel decoder: for every number of workers, on journals
// of a few lines to many chunks, with blank lines, a line longer than the
// read buffer, a partial tail, a corrupt line, and fn stopping the read,
// fn sees the same records in the same order, the stats and the error are
// the same, and no goroutine outlives the call (synctest fails the test if
// one does).
func TestParallelDecodeMatchesSequential(t *testing.T) {
	var lines []string
	for i := range 23 {
		l, _ := MarshalLine(rec(fmt.Sprint("c", i), i%3))
		if i%11 == 0 {
			l = append(runnerLine(t, i), '\n')
		}
		lines = append(lines, string(l))
	}
	line := func(i int) string { return lines[i%len(lines)] }
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(line(i))
			if i%97 == 0 {
				b.WriteString("\n \t \n")
			}
		}
		return b.String()
	}
	long, _ := MarshalLine(&Record{TrialKey: "long", Text: strings.Repeat("y", 300*1024)})
	// More chunks than the pipeline holds: stopping early leaves the
	// scanner blocked unless the decoder stops it.
	big := many(8*chunkLines + 40)
	for _, tc := range []struct {
		name    string
		content string
		stopAt  int
	}{
		// Nothing at all, and only blank lines.
		{"empty", "", 0},
		{"blank", "\n\n  \n", 0},
		// Fewer lines than one chunk.
		{"few", many(5), 0},
		// Many chunks, read to the end.
		{"many", big, 0},
		// A line longer than the reader's buffer between chunk boundaries.
		{"long line", many(150) + string(long) + many(150), 0},
		// A write cut short at the end.
		{"partial tail", big + `{"trialKey":"cut`, 0},
		// A corrupt line in the first chunk and in a late one.
		{"corrupt early", many(3) + "{bad\n" + big, 0},
		{"corrupt late", big + "not json\n" + many(50), 0},
		// fn stops the read inside the first chunk, at a chunk's end, and late.
		{"stop early", big, 2},
		{"stop at chunk end", big, chunkLines},
		{"stop late", big, 2*chunkLines + 1},
		// fn stops on the record just before a corrupt line.
		{"stop before corrupt", many(200) + "{bad\n", 200},
	} {
		want := runDecode(sequentialDecode, tc.content, tc.stopAt)
		for _, workers := range []int{1, 2, 4} {
			synctest.Test(t, func(t *testing.T) {
				got := runDecode(func(r io.Reader, name string, fn func(*Record) error) (ReadStats, error) {
					return decodeWith(r, name, workers, func(rec *Record, _ int) error { return fn(rec) })
				}, tc.content, tc.stopAt)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s, %d workers (-sequential +parallel):\n%s", tc.name, workers, diff)
				}
			})
		}
	}
}

// TestParallelDecodeStopsOnPanic protects callers that recover from a panic
// in fn: the panic reaches them and the decoder's goroutines still end
// (synctest fails the test if one is left blocked).
func TestParallelDecodeStopsOnPanic(t *testing.T) {
	var b strings.Builder
	// More chunks than the pipeline holds, so that the scanner is blocked
	// when fn panics.
	for i := range 20 * chunkLines {
		l, _ := MarshalLine(rec(fmt.Sprint("c", i), 0))
		b.Write(l)
	}
	synctest.Test(t, func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("the panic in fn did not reach the caller")
			}
		}()
		n := 0
		decodeWith(strings.NewReader(b.String()), "j", 2, func(*Record, int) error {
			if n++; n == 5 {
				panic("fn fails")
			}
			return nil
		})
	})
}
