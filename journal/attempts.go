package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// AttemptsFile is a run directory's write-ahead log of requests: a line
// before every request leaves ("sent": trial key, taskUUID, the most it can
// cost) and a line once its answer is in ("settled": what it counts as
// spent). It is what makes spend cumulative across resumes and lets a resume
// find the requests a killed run had in flight. journal.jsonl stays one line
// per sample; this file is never read by reports.
const AttemptsFile = "attempts.jsonl"

// Attempt kinds.
const (
	AttemptSent    = "sent"
	AttemptSettled = "settled"
)

// MaxAttemptLine bounds one line of AttemptsFile; a longer one is not a line
// promptgrid wrote.
const MaxAttemptLine = 64 << 10

// Attempt is one line of AttemptsFile.
type Attempt struct {
	Kind     string `json:"kind"`
	TrialKey string `json:"trialKey"`
	TaskUUID string `json:"taskUUID"`
	// Delivery is the request's deliveryMethod (sent lines).
	Delivery string `json:"deliveryMethod,omitempty"`
	// Judge marks a judge check's request.
	Judge bool `json:"judge,omitempty"`
	// Agent marks a step of an agent loop (sent lines): resume never
	// recovers one by its taskUUID, since the loop's earlier steps are
	// not in the journal; the trial runs again from its first step.
	Agent bool `json:"agent,omitempty"`
	// Bound is the most the request can cost, in USD (sent lines).
	Bound float64 `json:"bound,omitempty"`
	// Charged is what the request counts as spent, in USD (settled lines):
	// the reported or estimated cost of its answer, its bound when the
	// answer never arrived (timeout, reset, cancel), 0 when the server
	// refused it.
	Charged float64   `json:"charged"`
	At      time.Time `json:"at"`
}

// AttemptLog appends to AttemptsFile. Sent's lines are written (one write
// call) before it returns, so a sent line is in the file (in the OS, which a
// kill -9 does not lose) before its request leaves; settled lines follow
// with the next write, within SyncEvery (Settled); the file is fsynced at
// most SyncEvery after a write and on Close. Safe for concurrent use; a nil
// *AttemptLog records nothing.
type AttemptLog struct {
	*appendFile
}

// Attempts opens the run's attempt log for appending (creating it), after
// cutting a partial last line a crash may have left.
func (d *RunDir) Attempts() (*AttemptLog, error) { return OpenAttempts(d.Path) }

// OpenAttempts opens the attempt log in dir; see RunDir.Attempts.
func OpenAttempts(dir string) (*AttemptLog, error) {
	a, err := openAppend(filepath.Join(dir, AttemptsFile), "attempt log")
	if err != nil {
		return nil, err
	}
	return &AttemptLog{appendFile: a}, nil
}

// Sent records requests about to leave, in one write made before it
// returns (with any settled lines still held).
func (l *AttemptLog) Sent(as ...Attempt) error {
	for i := range as {
		as[i].Kind = AttemptSent
	}
	return l.write(as, false)
}

// Settled records what requests count as spent. The lines go out with the
// next sent line's write, or within SyncEvery, or on Close: a settled line
// lost in a crash costs nothing a resume cannot read elsewhere (the answer's
// cost is on its journal line; a request whose answer was not journaled
// counts at its bound, never less than it cost), and under load a write call
// of its own was half the log's writes.
func (l *AttemptLog) Settled(as ...Attempt) error {
	for i := range as {
		as[i].Kind = AttemptSettled
	}
	return l.write(as, true)
}

// write encodes as and writes them now, or with the next write (later).
func (l *AttemptLog) write(as []Attempt, later bool) error {
	if l == nil || len(as) == 0 {
		return nil
	}
	buf := linePool.Get().(*bytes.Buffer)
	defer putLineBuffer(buf)
	buf.Reset()
	b := buf.AvailableBuffer()
	now := time.Now().UTC()
	for i := range as {
		if as[i].At.IsZero() {
			as[i].At = now
		}
		var err error
		if b, err = appendAttempt(b, &as[i]); err != nil {
			return fmt.Errorf("encode attempt: %w", err)
		}
		b = append(b, '\n')
	}
	buf.Write(b)
	if later {
		return l.appendFile.writeLater(buf.Bytes())
	}
	return l.appendFile.write(buf.Bytes(), nil)
}

// Close fsyncs and closes the log; later calls return the first's result.
func (l *AttemptLog) Close() error {
	if l == nil {
		return nil
	}
	return l.close()
}

// Ledger is what a run's attempt log says about money and requests in
// flight, read on resume.
type Ledger struct {
	// Settled is the sum of the charges of settled attempts.
	Settled float64
	// Attempts counts sent lines.
	Attempts int
	// Open holds the sent attempts with no settled line, by taskUUID: the
	// requests a killed run had in flight. Their cost is unknown until a
	// journal line or a recovery settles them.
	Open map[string]Attempt
	// Exists is false when the directory has no attempt log (a run made by
	// a promptgrid before it): spend must then be read from the journal.
	Exists bool
}

// OpenBound is the sum of the bounds of the open attempts.
func (l *Ledger) OpenBound() float64 {
	s := 0.0
	for _, a := range l.Open {
		s += a.Bound
	}
	return s
}

// ReadLedger reads the attempt log of dir. Memory is one entry per attempt
// open at a time (at most a run's concurrency per crash), not per attempt.
func ReadLedger(dir string) (*Ledger, error) {
	path := filepath.Join(dir, AttemptsFile)
	led := &Ledger{Open: map[string]Attempt{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return led, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read attempt log: %w", err)
	}
	defer f.Close()
	led.Exists = true
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), MaxAttemptLine)
	line := 0
	// A line that does not decode is refused unless it is the last one (a
	// write cut short by a crash, which the next OpenAttempts trims).
	var bad error
	for sc.Scan() {
		line++
		if bad != nil {
			return nil, bad
		}
		var a Attempt
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			bad = fmt.Errorf("%s:%d: not an attempt line: %v", path, line, err)
			continue
		}
		switch a.Kind {
		case AttemptSent:
			led.Attempts++
			led.Open[a.TaskUUID] = a
		case AttemptSettled:
			led.Settled += a.Charged
			delete(led.Open, a.TaskUUID)
		default:
			return nil, fmt.Errorf("%s:%d: unknown attempt kind %q", path, line, a.Kind)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return led, nil
}
