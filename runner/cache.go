package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/promptgrid/promptgrid/runware"
)

// Cache is an on-disk response cache: one JSON file per request, keyed by a
// hash of the canonical task (every field except taskUUID, seed included),
// the transport and a namespace (the endpoint, so that simulated answers
// never stand in for real ones). It stores results and timings, never the
// API key, which is not part of a task. Only complete successes are stored.
type Cache struct {
	dir string
	ns  string

	mu  sync.Mutex
	err error
}

// OpenCache opens (creating) a cache directory; namespace separates
// endpoints sharing one directory.
func OpenCache(dir, namespace string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open cache: %w", err)
	}
	return &Cache{dir: dir, ns: namespace}, nil
}

// LazyCache is a cache in dir whose directory is made when its first entry
// is stored (a run directory's AgentStepsDir, empty for most suites).
func LazyCache(dir, namespace string) *Cache { return &Cache{dir: dir, ns: namespace} }

// Err is the first error storing an entry met (nil if none): a cache that
// cannot be written costs money on the next run but does not end this one.
func (c *Cache) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// cacheEntry is what a cache file holds.
type cacheEntry struct {
	Results []runware.Result `json:"results"`
	// Offsets from dispatch of the original attempt, replayed so that
	// latency checks and reports see the answer as it first came.
	FirstByte      time.Duration `json:"firstByte,omitempty"`
	FirstReasoning time.Duration `json:"firstReasoning,omitempty"`
	FirstText      time.Duration `json:"firstText,omitempty"`
	LastDelta      time.Duration `json:"lastDelta,omitempty"`
	Done           time.Duration `json:"done,omitempty"`
}

// key hashes the canonical request.
// A nil Cache keys requests in the empty namespace (the judge uses the key
// to let identical requests in flight pay once, cache or not).
func (c *Cache) key(task *runware.Task, transport string) string {
	t := *task
	t.TaskUUID = ""
	b, _ := json.Marshal(t) // a Task always encodes: it was decoded from JSON
	ns := ""
	if c != nil {
		ns = c.ns
	}
	h := sha256.New()
	fmt.Fprintf(h, "promptgrid-cache/1\n%s\n%s\n", ns, transport)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func (c *Cache) path(key string) string { return filepath.Join(c.dir, key[:2], key+".json") }

// lookup returns the cached answer as a response dispatched at now.
func (c *Cache) lookup(task *runware.Task, transport string, now time.Time) (*runware.Response, bool) {
	b, err := os.ReadFile(c.path(c.key(task, transport)))
	if err != nil {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || len(e.Results) < max(task.NumberResults, 1) {
		return nil, false
	}
	at := func(d time.Duration) time.Time {
		if d == 0 {
			return time.Time{}
		}
		return now.Add(d)
	}
	return &runware.Response{
		TaskUUID: "",
		Results:  e.Results,
		Timings: runware.Timings{Dispatched: now, FirstByte: at(e.FirstByte), FirstReasoning: at(e.FirstReasoning),
			FirstText: at(e.FirstText), LastDelta: at(e.LastDelta), Done: at(e.Done)},
	}, true
}

// store writes a successful answer (atomically: temp file and rename).
func (c *Cache) store(task *runware.Task, transport string, resp *runware.Response) error {
	for i := range resp.Results {
		if resp.Results[i].Err != nil {
			return nil
		}
	}
	err := c.write(task, transport, resp)
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return err
}

func (c *Cache) write(task *runware.Task, transport string, resp *runware.Response) error {
	d := resp.Timings.Dispatched
	since := func(t time.Time) time.Duration {
		if t.IsZero() || d.IsZero() {
			return 0
		}
		return t.Sub(d)
	}
	e := cacheEntry{Results: make([]runware.Result, len(resp.Results)),
		FirstByte: since(resp.Timings.FirstByte), FirstReasoning: since(resp.Timings.FirstReasoning),
		FirstText: since(resp.Timings.FirstText), LastDelta: since(resp.Timings.LastDelta), Done: since(resp.Timings.Done)}
	for i, res := range resp.Results {
		res.TaskUUID = ""
		e.Results[i] = res
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("cache: encode: %w", err)
	}
	p := c.path(c.key(task, transport))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: write %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}
