package runwaretest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

// Two "images" with different content; the simulator only hashes them.
var (
	catPNG = "\x89PNG\r\n\x1a\ncat"
	dogPNG = "\x89PNG\r\n\x1a\ndog"
)

func dataURI(b string) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte(b))
}

func withImages(imgs ...string) func(map[string]any) {
	l := make([]any, len(imgs))
	for i, s := range imgs {
		l[i] = s
	}
	return with("inputs", map[string]any{"images": l})
}

// TestScenarioMatchesImage: match.image picks the scenario by a data
// URI's content hash (a prefix of it) or by a URL's file name; a task
// with another image (or none) falls through to the next scenario.
func TestScenarioMatchesImage(t *testing.T) {
	sum := sha256.Sum256([]byte(catPNG))
	s := newTestServer(t, Options{Scenarios: []Scenario{
		{Name: "cat", Match: Match{Contains: "animal", Image: "sha256:" + hex.EncodeToString(sum[:])[:12]}, Answer: "A cat."},
		{Name: "dog", Match: Match{Image: "dog.jpg"}, Answer: "A dog."},
		{Name: "other", Answer: "Something else."},
	}})
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"cat by hash", withImages(dataURI(catPNG)), "A cat."},
		{"cat among others", withImages("https://example.com/x/bird.png", dataURI(catPNG)), "A cat."},
		{"dog by name", withImages("https://example.com/pics/dog.jpg?size=2"), "A dog."},
		{"other content", withImages(dataURI(dogPNG)), "Something else."},
		{"no image", func(map[string]any) {}, "Something else."},
		{"uuid", withImages("0b7c3b1e-5a8f-4d2e-9c1a-2f3e4d5c6b7a"), "Something else."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s.URL(), testKey, []any{task("Which animal is this?", tc.edit)})
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			e := r.envelope(t)
			if len(e.Data) != 1 || e.Data[0]["text"] != tc.want {
				t.Fatalf("data = %v, want text %q", e.Data, tc.want)
			}
		})
	}
}

// TestMediaInputsValidated: inputs.images and inputs.videos entries must
// be UUIDs, http(s) URLs, data URIs of their kind or base64; others get
// the API's error shape with code invalidInputs (simulator choice).
func TestMediaInputsValidated(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, tc := range []struct {
		name, param string
		inputs      map[string]any
	}{
		{"file path", "inputs.images", map[string]any{"images": []any{"data/cat.png"}}},
		{"ftp URL", "inputs.images", map[string]any{"images": []any{"ftp://example.com/a.png"}}},
		{"empty", "inputs.images", map[string]any{"images": []any{""}}},
		{"bad base64", "inputs.images", map[string]any{"images": []any{"data:image/png;base64,@@@"}}},
		{"not base64 data URI", "inputs.images", map[string]any{"images": []any{"data:image/png,abc"}}},
		{"video as image", "inputs.images", map[string]any{"images": []any{"data:video/mp4;base64,AAAA"}}},
		{"image as video", "inputs.videos", map[string]any{"videos": []any{dataURI(catPNG)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s.URL(), testKey, []any{task("hi", with("inputs", tc.inputs))})
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			e := r.envelope(t)
			if len(e.Errors) != 1 || e.Errors[0].Code != "invalidInputs" || e.Errors[0].Parameter != tc.param || e.Errors[0].TaskType != "textInference" || !strings.Contains(e.Errors[0].Message, "[0]") {
				t.Fatalf("errors = %+v", e.Errors)
			}
		})
	}
	for _, ok := range []map[string]any{
		{"images": []any{dataURI(catPNG), "https://example.com/a.png", "0b7c3b1e-5a8f-4d2e-9c1a-2f3e4d5c6b7a", base64.StdEncoding.EncodeToString([]byte(dogPNG))}},
		{"videos": []any{"data:video/mp4;base64,AAAA", "https://example.com/v.mp4"}},
	} {
		if r := post(t, s.URL(), testKey, []any{task("hi", with("inputs", ok))}); r.status != http.StatusOK {
			t.Errorf("inputs %v: status %d: %s", ok, r.status, r.body)
		}
	}
}

// TestImageMatchChecked: a match.image hash that cannot match is refused.
func TestImageMatchChecked(t *testing.T) {
	for _, img := range []string{"sha256:abc", "sha256:zzzzzzzzzz"} {
		if err := CheckScenarios([]Scenario{{Match: Match{Image: img}, Answer: "x"}}); err == nil || !strings.Contains(err.Error(), "match.image") {
			t.Errorf("image %q: err = %v", img, err)
		}
	}
	if err := CheckScenarios([]Scenario{{Match: Match{Image: "sha256:0123abcd"}, Answer: "x"}}); err != nil {
		t.Error(err)
	}
}
