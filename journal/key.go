package journal

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"github.com/promptgrid/promptgrid/internal/jsonscan"
)

// Key is the part of a record that names its sample and its trial: what a
// reader needs to tell which lines supersede which, without the rest.
type Key struct {
	TrialKey    string
	CaseID      string
	Variant     string
	Cell        string
	Seed        int64
	Replicate   int
	ResultIndex int
}

// Key returns the record's key fields.
func (r *Record) Key() Key {
	return Key{TrialKey: r.TrialKey, CaseID: r.CaseID, Variant: r.Variant, Cell: r.Cell,
		Seed: r.Seed, Replicate: r.Replicate, ResultIndex: r.ResultIndex}
}

// ReadKeys streams the Key of every record of the journal at path to fn, in
// file order: the same lines as Read, with the same key values and the same
// ReadStats, at a small fraction of Read's cost. A line is scanned once
// without decoding the rest of it; it must be valid JSON whose top-level
// scalar fields have the types Read expects, else (and for any key spelt
// other than exactly as MarshalLine writes it, or a key value with escapes)
// the line is decoded in full, so that a line Read rejects for its syntax or
// top-level types fails here with the same error. What only Read reports is a
// valid line whose nested values (timings, usage, error, checks, tool calls)
// have the wrong types.
func ReadKeys(path string, fn func(*Key) error) (ReadStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return ReadStats{}, fmt.Errorf("open journal: %w", err)
	}
	defer f.Close()
	return readKeysWith(f, path, runtime.GOMAXPROCS(0), fn)
}

// readKeysWith is ReadKeys of r with the given number of scanning
// goroutines (1: none). Lines are scanned a few chunks ahead of fn, as
// Read decodes them; fn is called in file order from one goroutine.
func readKeysWith(r io.Reader, name string, workers int, fn func(*Key) error) (ReadStats, error) {
	var st ReadStats
	var err error
	if workers <= 1 {
		var k Key
		st.PartialTail, err = scanLines(r, name, func(line []byte, lineNo int) error {
			if err := decodeKey(line, &k); err != nil {
				return lineError(name, lineNo, err)
			}
			st.Records++
			return fn(&k)
		})
		return st, err
	}
	st.PartialTail, err = readChunks(r, name, workers, (*chunk).decodeKeys, func(c *chunk) error {
		for i := range c.keys {
			st.Records++
			if err := fn(&c.keys[i]); err != nil {
				return err
			}
		}
		if c.err != nil {
			return lineError(name, c.spans[len(c.keys)].lineNo, c.err)
		}
		return nil
	})
	return st, err
}

// decodeKey fills k from one journal line (trimmed, not empty): by scanKey
// when it can vouch for the result, else by decoding the whole record.
func decodeKey(line []byte, k *Key) error {
	if scanKey(line, k) {
		return nil
	}
	var rec Record
	if err := json.Unmarshal(line, &rec); err != nil {
		return err
	}
	*k = rec.Key()
	return nil
}

// fieldKind is the JSON shape json.Unmarshal accepts for a Record field.
type fieldKind uint8

const (
	kindUnknown fieldKind = iota
	kindString
	kindInt
	kindFloat
	kindBool
	kindObject
	kindArray
)

// recordFields maps every top-level JSON name of Record to its shape.
var recordFields = map[string]fieldKind{
	"v": kindInt, "runId": kindString, "suite": kindString, "suiteHash": kindString,
	"caseId": kindString, "tags": kindArray, "cell": kindString, "cellValues": kindObject,
	"variant": kindString, "seed": kindInt, "replicate": kindInt, "resultIndex": kindInt,
	"numberResults": kindInt, "trialKey": kindString, "taskUUID": kindString,
	"requestHash": kindString, "model": kindString, "deliveryMethod": kindString,
	"transport": kindString, "vars": kindObject, "prompt": kindString, "timings": kindObject,
	"text": kindString, "reasoning": kindString, "finishReason": kindString,
	"toolCalls": kindArray, "usage": kindObject, "cost": kindFloat, "costEstimated": kindBool,
	"error": kindObject, "attempts": kindInt, "retried": kindBool, "cached": kindBool,
	"checks": kindArray, "pass": kindBool, "score": kindFloat,
}

// foldedFields holds the ASCII-lowercased names of recordFields:
// json.Unmarshal matches a key to a field case-insensitively, so a key that
// folds to a field's name without being it sends the line to the full
// decoder.
var foldedFields = func() jsonscan.Names {
	n := jsonscan.Names{}
	for name := range recordFields {
		n.Add(name)
	}
	return n
}()

// keyScanner walks one line of JSON.
type keyScanner struct {
	jsonscan.Scanner
}

// scanKey fills k from line and reports whether the result is exactly what
// json.Unmarshal into a Record would give, with no error from it for the
// line's syntax or top-level types. It returns false when in doubt.
func scanKey(line []byte, k *Key) bool {
	*k = Key{}
	var s keyScanner
	s.Reset(line)
	s.WS()
	return s.Object(func(name []byte) bool {
		kind, known := recordFields[string(name)]
		if !known && foldedFields.MayMatch(name) {
			return false
		}
		return s.field(string(name), kind, k)
	}) && s.End()
}

// field scans the value of the top-level field name, of the given kind
// (kindUnknown: a name json.Unmarshal ignores), storing key fields in k.
func (s *keyScanner) field(name string, kind fieldKind, k *Key) bool {
	if s.Literal("null") {
		// null leaves a field as it was, whatever its kind.
		return true
	}
	switch kind {
	case kindUnknown:
		return s.Value()
	case kindString:
		switch name {
		case "trialKey", "caseId", "variant", "cell":
			v, ok := s.PlainString()
			if !ok {
				return false
			}
			switch name {
			case "trialKey":
				k.TrialKey = string(v)
			case "caseId":
				k.CaseID = string(v)
			case "variant":
				k.Variant = string(v)
			case "cell":
				k.Cell = string(v)
			}
			return true
		}
		return s.Peek() == '"' && s.Value()
	case kindInt:
		n, ok := s.Int64()
		if !ok {
			return false
		}
		switch name {
		case "seed":
			k.Seed = n
		case "replicate":
			k.Replicate = int(n)
		case "resultIndex":
			k.ResultIndex = int(n)
		}
		return strconv.IntSize == 64 || int64(int(n)) == n
	case kindFloat:
		_, ok := s.Float64()
		return ok
	case kindBool:
		return s.Literal("true") || s.Literal("false")
	case kindObject:
		return s.Peek() == '{' && s.Value()
	case kindArray:
		return s.Peek() == '[' && s.Value()
	}
	return false
}
