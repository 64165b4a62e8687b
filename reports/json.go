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
