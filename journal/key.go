package journal

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"unicode/utf8"
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
var foldedFields = func() map[string]bool {
	m := make(map[string]bool, len(recordFields))
	for name := range recordFields {
		m[lowerASCII(name)] = true
	}
	return m
}()

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// keyScanner walks one line of JSON.
type keyScanner struct {
	b []byte
	i int
}

// maxDepth bounds nesting as json.Unmarshal does; deeper lines go to it.
const maxDepth = 10000

// scanKey fills k from line and reports whether the result is exactly what
// json.Unmarshal into a Record would give, with no error from it for the
// line's syntax or top-level types. It returns false when in doubt.
func scanKey(line []byte, k *Key) bool {
	*k = Key{}
	s := keyScanner{b: line}
	s.ws()
	if !s.eat('{') {
		return false
	}
	s.ws()
	if s.eat('}') {
		return s.end()
	}
	for {
		s.ws()
		name, ok := s.plainString()
		if !ok || !isASCII(name) {
			// Non-ASCII names may fold to a field's name (the Kelvin
			// sign to k): json.Unmarshal decides.
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		kind, known := recordFields[string(name)]
		if !known && foldedFields[lowerASCII(string(name))] {
			return false
		}
		if !s.field(string(name), kind, k) {
			return false
		}
		s.ws()
		if s.eat('}') {
			return s.end()
		}
		if !s.eat(',') {
			return false
		}
	}
}

// field scans the value of the top-level field name, of the given kind
// (kindUnknown: a name json.Unmarshal ignores), storing key fields in k.
func (s *keyScanner) field(name string, kind fieldKind, k *Key) bool {
	if s.literal("null") {
		// null leaves a field as it was, whatever its kind.
		return true
	}
	switch kind {
	case kindUnknown:
		return s.value(0)
	case kindString:
		switch name {
		case "trialKey", "caseId", "variant", "cell":
			v, ok := s.plainString()
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
		return s.peek() == '"' && s.value(0)
	case kindInt:
		start := s.i
		if !s.number() {
			return false
		}
		n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
		if err != nil {
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
		start := s.i
		if !s.number() {
			return false
		}
		_, err := strconv.ParseFloat(string(s.b[start:s.i]), 64)
		return err == nil
	case kindBool:
		return s.literal("true") || s.literal("false")
	case kindObject:
		return s.peek() == '{' && s.value(0)
	case kindArray:
		return s.peek() == '[' && s.value(0)
	}
	return false
}

func (s *keyScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *keyScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *keyScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end reports whether only whitespace follows.
func (s *keyScanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

func (s *keyScanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// plainString scans a string without escapes whose bytes are valid UTF-8
// (so that json.Unmarshal would give exactly those bytes) and returns its
// contents; anything else is not plain.
func (s *keyScanner) plainString() ([]byte, bool) {
	v, _, esc, ok := s.stringHead()
	return v, ok && !esc
}

// stringHead scans a string up to its closing quote, returning its contents
// (valid UTF-8: ok is false otherwise), or, when it has an escape, up to its
// first backslash (esc; s.i is at the backslash and start where the contents
// begin). A control byte or an unterminated string is not ok.
func (s *keyScanner) stringHead() (v []byte, start int, esc, ok bool) {
	if !s.eat('"') {
		return nil, 0, false, false
	}
	start = s.i
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, start, false, ascii || utf8.Valid(v)
		case c == '\\':
			return nil, start, true, true
		case c < 0x20:
			return nil, start, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
	return nil, start, false, false
}

// value skips one JSON value, checking its syntax.
func (s *keyScanner) value(depth int) bool {
	switch c := s.peek(); {
	case c == '"':
		return s.skipString()
	case c == '{' || c == '[':
		return s.container(depth + 1)
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return s.literal("true") || s.literal("false") || s.literal("null")
}

// container skips an object or an array.
func (s *keyScanner) container(depth int) bool {
	if depth > maxDepth {
		return false
	}
	obj := s.b[s.i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	s.i++
	s.ws()
	if s.eat(closer) {
		return true
	}
	for {
		s.ws()
		if obj {
			if s.peek() != '"' || !s.skipString() {
				return false
			}
			s.ws()
			if !s.eat(':') {
				return false
			}
			s.ws()
		}
		if !s.value(depth) {
			return false
		}
		s.ws()
		if s.eat(closer) {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// skipString skips a string, checking its escapes; like json.Unmarshal it
// accepts invalid UTF-8 (decoded as U+FFFD) but no control characters.
func (s *keyScanner) skipString() bool {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			switch s.peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if !isHex(s.peek()) {
						return false
					}
					s.i++
				}
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *keyScanner) number() bool {
	s.eat('-')
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.eat('.') && !s.digits() {
		return false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips one or more digits.
func (s *keyScanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
