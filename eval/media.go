package eval

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v4"
)

// Media limits: one image file, one video file, and every distinct media
// file a suite reads, together (their data URIs are held in memory while
// the suite is).
const (
	MaxImageBytes      = 4 << 20
	MaxVideoBytes      = 16 << 20
	MaxMediaTotalBytes = 256 << 20
)

// maxMediaTotal is MaxMediaTotalBytes; tests lower it.
var maxMediaTotal int64 = MaxMediaTotalBytes

// MediaInput is one entry of a case's images or videos.
type MediaInput struct {
	// Entry is the entry as the suite wrote it (a path, a URL, a UUID).
	Entry string
	// Wire is what is sent in inputs.images / inputs.videos: a data URI
	// for a local file, else the entry itself.
	Wire string
	// Ref stands for Wire in the request hash and the trial key: for a
	// local file "sha256:<hex> <mime>" (so the key covers the content and
	// not the base64), else the entry itself.
	Ref string
	// Note is the short record of the input: for a local file
	// "<entry> sha256:<hex>", else the entry.
	Note string
}

// mediaFile is a local media file read once per suite load.
type mediaFile struct {
	uri, sha, mime string
}

// mediaCache holds the media files of one suite load, shared by its forks.
type mediaCache struct {
	mu    sync.Mutex
	files map[string]mediaFile
	total int64
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// mediaKind is "image" or "video", the case key without its plural.
func mediaLimit(kind string) int64 {
	if kind == "video" {
		return MaxVideoBytes
	}
	return MaxImageBytes
}

// mediaEntry resolves one entry of images/videos: an http(s) URL or a
// Runware UUID passes through; anything else is a local file relative to
// the suite file's directory, read under the input-file rules, checked to
// be of the kind, and sent as a data URI.
func (l *loader) mediaEntry(kind, entry string) (MediaInput, error) {
	e := strings.TrimSpace(entry)
	switch {
	case e == "":
		return MediaInput{}, fmt.Errorf("an empty %s entry: give a file path, an http(s) URL or a Runware UUID", kind)
	case uuidRE.MatchString(e):
		return MediaInput{Entry: e, Wire: e, Ref: e, Note: e}, nil
	case strings.HasPrefix(e, "http://") || strings.HasPrefix(e, "https://"):
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			return MediaInput{}, fmt.Errorf("bad %s entry %s: not a valid http(s) URL", kind, quoteShort(e))
		}
		return MediaInput{Entry: e, Wire: e, Ref: e, Note: e}, nil
	case strings.HasPrefix(e, "data:") || strings.Contains(e, "://"):
		return MediaInput{}, fmt.Errorf("bad %s entry %s: give a file path, an http(s) URL or a Runware UUID", kind, quoteShort(e))
	}
	path := e
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(l.path), path)
	}
	mf, err := l.readMedia(kind, path)
	if err != nil {
		return MediaInput{}, fmt.Errorf("%s file %s: %v", kind, quoteShort(e), err)
	}
	return MediaInput{Entry: e, Wire: mf.uri, Ref: "sha256:" + mf.sha + " " + mf.mime, Note: e + " sha256:" + mf.sha}, nil
}

// quoteShort quotes s, cut to 100 characters.
func quoteShort(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// readMedia reads a media file once per suite load: a regular file inside
// the suite's tree (unless allowed), at most the kind's limit, whose
// content sniffs (net/http.DetectContentType) as the kind. Its hash enters
// Suite.Hash.
func (l *loader) readMedia(kind, path string) (mediaFile, error) {
	mc := l.files.media
	abs, err := filepath.Abs(path)
	if err != nil {
		return mediaFile{}, err
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if mf, ok := mc.files[abs]; ok {
		if !strings.HasPrefix(mf.mime, kind+"/") {
			return mediaFile{}, fmt.Errorf("the content is %s, not %s/*", mf.mime, kind)
		}
		return mf, nil
	}
	limit := mediaLimit(kind)
	fh, _, err := l.files.open(path, limit)
	if err != nil {
		return mediaFile{}, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return mediaFile{}, unwrapPathErr(err)
	}
	if int64(len(b)) > limit {
		return mediaFile{}, fmt.Errorf("the file is more than the %s limit of %d bytes", kind, limit)
	}
	if len(b) == 0 {
		return mediaFile{}, fmt.Errorf("the file is empty")
	}
	mime := http.DetectContentType(b)
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		mime = strings.TrimSpace(mime[:i])
	}
	if !strings.HasPrefix(mime, kind+"/") {
		return mediaFile{}, fmt.Errorf("the content is %s, not %s/* (the type is read from the content, not the name)", mime, kind)
	}
	if mc.total+int64(len(b)) > maxMediaTotal {
		return mediaFile{}, fmt.Errorf("the suite's media files are more than %d bytes together: use URLs or fewer files", maxMediaTotal)
	}
	sum := sha256.Sum256(b)
	mf := mediaFile{uri: "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b), sha: hex.EncodeToString(sum[:]), mime: mime}
	mc.total += int64(len(b))
	mc.files[abs] = mf
	if !l.frozen {
		l.files.addHash(path, sum)
	}
	return mf, nil
}

// loadMedia reads a case's images or videos list at node n; each entry is
// a template over vars (rendered per casesFrom row).
func (l *loader) loadMedia(n *yaml.Node, kind string, vars map[string]any, row *rowCtx) []MediaInput {
	what := kind + "s"
	items, ok := l.list(n, what)
	if !ok {
		return nil
	}
	var out []MediaInput
	for _, it := range items {
		s, ok := l.str(it, what+" entry")
		if !ok {
			continue
		}
		s, ok = l.renderAt(it, what, s, vars, row, "")
		if !ok {
			continue
		}
		m, err := l.mediaEntry(kind, s)
		if err != nil {
			if row != nil && hasAction(it.Value) {
				l.rowErr(row, "%v (template at %s:%d:%d)", err, l.file(it), it.Line, it.Column)
			} else {
				l.errf(it, "%v", err)
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

// rowMedia reads a casesFrom row's images or videos field: a JSON list of
// strings or one string (a CSV cell), whose entries are separated by "|".
func (l *loader) rowMedia(row *rowCtx, kind string) []MediaInput {
	v, ok := row.fields[kind+"s"]
	if !ok || v == nil {
		return nil
	}
	var entries []string
	switch x := v.(type) {
	case string:
		for _, e := range strings.Split(x, "|") {
			if e = strings.TrimSpace(e); e != "" {
				entries = append(entries, e)
			}
		}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				l.rowErr(row, "field %ss must be a list of strings (file paths, http(s) URLs or Runware UUIDs)", kind)
				return nil
			}
			entries = append(entries, s)
		}
	default:
		l.rowErr(row, "field %ss must be a list of strings or a string", kind)
		return nil
	}
	var out []MediaInput
	for _, e := range entries {
		m, err := l.mediaEntry(kind, e)
		if err != nil {
			l.rowErr(row, "field %ss: %v", kind, err)
			continue
		}
		out = append(out, m)
	}
	return out
}

// applyMedia puts a case's media into a trial's request as
// inputs.images / inputs.videos, replacing what the request held there.
// ref selects MediaInput.Ref (for the hash) instead of Wire.
func applyMedia(req map[string]any, c *Case, ref bool) {
	set := func(key string, ms []MediaInput) {
		if len(ms) == 0 {
			return
		}
		out := make([]any, len(ms))
		for i, m := range ms {
			if ref {
				out[i] = m.Ref
			} else {
				out[i] = m.Wire
			}
		}
		setPath(req, "inputs."+key, out)
	}
	set("images", c.Images)
	set("videos", c.Videos)
}

// mediaNotes lists a case's media as short records ("images: data/cat.png
// sha256:…"), never the content.
func mediaNotes(c *Case) []string {
	if len(c.Images)+len(c.Videos) == 0 {
		return nil
	}
	out := make([]string, 0, len(c.Images)+len(c.Videos))
	for _, m := range c.Images {
		out = append(out, "image "+m.Note)
	}
	for _, m := range c.Videos {
		out = append(out, "video "+m.Note)
	}
	return out
}

// hasMedia reports whether a trial's request carries media inputs.
func hasMedia(req map[string]any) bool {
	in, ok := req["inputs"].(map[string]any)
	if !ok {
		return false
	}
	for _, k := range []string{"images", "videos"} {
		if l, ok := in[k].([]any); ok && len(l) > 0 {
			return true
		}
	}
	return false
}

// simImage replaces a sim entry's match.image that names a local image
// file (relative to the suite file) with "sha256:<hex>" of its content,
// which is what the simulator matches data URIs by; a name that is no
// file is left alone (it matches an image URL's last path segment).
func (l *loader) simImage(n *yaml.Node, entry map[string]any) {
	m, ok := entry["match"].(map[string]any)
	if !ok {
		return
	}
	img, ok := m["image"].(string)
	if !ok || img == "" || strings.HasPrefix(img, "sha256:") || strings.Contains(img, "://") {
		return
	}
	path := img
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(l.path), path)
	}
	if _, err := os.Stat(path); err != nil {
		return
	}
	at := n
	if mn := lookup(n, "match"); mn != nil {
		if in := lookup(mn, "image"); in != nil {
			at = in
		}
	}
	mf, err := l.readMedia("image", path)
	if err != nil {
		l.errf(at, "match.image file %s: %v", quoteShort(img), err)
		return
	}
	m["image"] = "sha256:" + mf.sha
}
