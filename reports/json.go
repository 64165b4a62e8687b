package reports

import (
	"encoding/json"
	"fmt"
	"io"
)

// JSON renders the summary as indented JSON in the versioned schema
// documented in docs/report-schema.md (field "schema" names the version).
func JSON(s *Summary) Renderer {
	return func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return fmt.Errorf("encode summary: %w", err)
		}
		return nil
	}
}

// ReadJSON decodes a summary written by JSON, checking its schema version.
func ReadJSON(r io.Reader) (*Summary, error) {
	var s Summary
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode summary: %w", err)
	}
	if s.Schema != SchemaID {
		return nil, fmt.Errorf("summary schema %q is not %q", s.Schema, SchemaID)
	}
	return &s, nil
}
