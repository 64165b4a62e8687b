package reports

import (
	"encoding/json"
	"fmt"
	"io"
)

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
