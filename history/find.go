package history

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/promptgrid/promptgrid/journal"
)

// DefaultDepth is how many directory levels below each argument Find looks
// for run directories: enough for a folder of downloaded CI artifacts
// (history/<artifact>/run.json) or a runs/ tree, without crawling a whole
// checkout.
const DefaultDepth = 4

// Find returns the run directories (directories holding a run.json) among
// paths: a path that is a run directory is itself; another directory is
// walked down to maxDepth levels (DefaultDepth when maxDepth <= 0) without
// entering run directories, hidden directories or symbolic links; a path
// to a run.json file stands for its directory. Each directory is listed
// once, in the order found. A path that does not exist, or a file that is
// not a run.json, is an error.
func Find(paths []string, maxDepth int) ([]string, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultDepth
	}
	var out []string
	seen := map[string]bool{}
	add := func(dir string) {
		key := dir
		if abs, err := filepath.Abs(dir); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, dir)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if !st.IsDir() {
			if filepath.Base(p) != journal.MetaFile {
				return nil, fmt.Errorf("%s is not a run directory, a folder of them, or a run.json", p)
			}
			add(filepath.Dir(p))
			continue
		}
		root := filepath.Clean(p)
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == root {
					return err
				}
				// An unreadable folder below the argument is passed over.
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				return nil
			}
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			if isRunDir(path) {
				add(path)
				return fs.SkipDir
			}
			if depth(root, path) >= maxDepth {
				return fs.SkipDir
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return out, nil
}

// isRunDir reports whether dir holds a run.json file.
func isRunDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, journal.MetaFile))
	return err == nil && st.Mode().IsRegular()
}

// depth is the number of path elements of path below root.
func depth(root, path string) int {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." {
		return 0
	}
	return len(strings.Split(rel, string(filepath.Separator)))
}

// errNoJournal marks a run directory without a journal.
var errNoJournal = errors.New("no journal.jsonl")
