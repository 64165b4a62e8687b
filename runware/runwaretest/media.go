package runwaretest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// mediaKey identifies one media input for scenario matching: the sha256 of
// its content (a data URI or base64), or the name (a URL's last path
// segment, or a UUID).
type mediaKey struct {
	sha  string
	name string
}

// parseMedia validates the entries of inputs.images or inputs.videos
// (param) and returns their keys. An entry must be a Runware UUID, an
// http(s) URL, a data URI of the kind (image/* or video/*) with base64
// content, or bare base64 (the model page lists it); anything else is
// refused with code invalidInputs (the simulator's choice: Runware does
// not document the code).
func parseMedia(v *validator, kind, param string, entries []string) []mediaKey {
	var out []mediaKey
	for i, e := range entries {
		k, ok := mediaEntryKey(kind, e)
		if !ok {
			v.add("invalidInputs", param, fmt.Sprintf("Invalid value for %s[%d]. It must be a UUID, an http(s) URL, a data URI (data:%s/...;base64,...) or base64 data.", param, i, kind)).Type = "string"
			continue
		}
		out = append(out, k)
	}
	return out
}

var base64Re = regexp.MustCompile(`^[A-Za-z0-9+/]+={0,2}$`)

func mediaEntryKey(kind, e string) (mediaKey, bool) {
	switch {
	case e == "":
		return mediaKey{}, false
	case uuidRe.MatchString(e):
		return mediaKey{name: strings.ToLower(e)}, true
	case strings.HasPrefix(e, "http://") || strings.HasPrefix(e, "https://"):
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			return mediaKey{}, false
		}
		return mediaKey{name: path.Base(u.Path)}, true
	case strings.HasPrefix(e, "data:"):
		meta, data, ok := strings.Cut(e[len("data:"):], ",")
		if !ok || !strings.HasSuffix(meta, ";base64") || !strings.HasPrefix(meta, kind+"/") {
			return mediaKey{}, false
		}
		return contentKey(data)
	}
	return contentKey(e)
}

// contentKey decodes base64 content and hashes it.
func contentKey(data string) (mediaKey, bool) {
	if len(data)%4 != 0 || !base64Re.MatchString(data) {
		return mediaKey{}, false
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(b) == 0 {
		return mediaKey{}, false
	}
	sum := sha256.Sum256(b)
	return mediaKey{sha: hex.EncodeToString(sum[:])}, true
}

// checkImageMatch refuses a match.image that cannot match anything.
func checkImageMatch(label, img string) error {
	if img == "" {
		return nil
	}
	if hx, ok := strings.CutPrefix(img, "sha256:"); ok {
		if len(hx) < 8 || len(hx) > 64 || strings.Trim(strings.ToLower(hx), "0123456789abcdef") != "" {
			return fmt.Errorf("%s: match.image %q: give sha256: and at least 8 hex digits of the content hash, or a file name", label, img)
		}
	}
	return nil
}

// imageMatches reports whether a scenario's match.image (if any) names one
// of the task's images: "sha256:<hex prefix>" matches the content of a
// data URI or base64 entry, anything else the last path segment of an
// image URL (or a UUID).
func (cs *compiledScenario) imageMatches(imgs []mediaKey) bool {
	want := cs.Match.Image
	if want == "" {
		return true
	}
	hx, isHash := strings.CutPrefix(want, "sha256:")
	hx = strings.ToLower(hx)
	for _, k := range imgs {
		if isHash && k.sha != "" && strings.HasPrefix(k.sha, hx) {
			return true
		}
		if !isHash && k.name != "" && (k.name == want || k.name == strings.ToLower(want)) {
			return true
		}
	}
	return false
}
