package reports

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/promptgrid/promptgrid/journal"
)

// FileNames returns the files a format writes in a run directory. stem is
// inserted before the extension for re-scored reports ("summary.rescored.json").
// The table format writes no file.
func FileNames(format, stem string) []string {
	name := func(base, ext string) string {
		if stem != "" {
			return base + "." + stem + ext
		}
		return base + ext
	}
	switch format {
	case "md":
		return []string{name("summary", ".md")}
	case "json":
		return []string{name("summary", ".json")}
	case "csv":
		return []string{name("cells", ".csv"), name("samples", ".csv")}
	case "junit":
		return []string{name("junit", ".xml")}
	case "html":
		return []string{name("report", ".html")}
	}
	return nil
}

// WriteFiles writes each requested format's files into dir (see FileNames)
// and returns the paths written. journalPath is read again for the
// per-sample CSV. Unknown formats are an error; "table" writes nothing.
func WriteFiles(dir, stem string, formats []string, s *Summary, journalPath string) ([]string, error) {
	var written []string
	for _, f := range formats {
		var renders []Renderer
		switch f {
		case "table":
			continue
		case "md":
			renders = []Renderer{Markdown(s)}
		case "json":
			renders = []Renderer{JSON(s)}
		case "csv":
			renders = []Renderer{CellsCSV(s), SamplesCSV(journalPath)}
		case "junit":
			renders = []Renderer{JUnit(s)}
		case "html":
			renders = []Renderer{HTML(s)}
		default:
			return written, fmt.Errorf("unknown report format %q", f)
		}
		for i, name := range FileNames(f, stem) {
			p := filepath.Join(dir, name)
			if err := WriteFile(p, renders[i]); err != nil {
				return written, err
			}
			written = append(written, p)
		}
	}
	return written, nil
}

// WriteFile renders into the file at path, replacing it atomically
// (journal.WriteAtomic): a kill while rendering leaves the old file whole.
func WriteFile(path string, r Renderer) error {
	return journal.WriteAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := r(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// AppendFile renders at the end of the file at path (as GitHub Actions
// expects for $GITHUB_STEP_SUMMARY), creating it if needed.
func AppendFile(path string, r Renderer) error {
	return writeTo(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, r)
}

func writeTo(path string, flag int, r Renderer) error {
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	bw := bufio.NewWriter(f)
	if err := r(bw); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
