package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyPNG is a 2x2 PNG of one colour.
func tinyPNG(t *testing.T, c color.Color) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for x := range 2 {
		for y := range 2 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// tinyMP4 is the start of an MP4 file (an ftyp box), enough for
// net/http.DetectContentType to say video/mp4.
const tinyMP4 = "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"

const mediaUUID = "0b7c3b1e-5a8f-4d2e-9c1a-2f3e4d5c6b7a"

func onlyTrial(t *testing.T, s *Suite) Trial {
	t.Helper()
	trials, err := Expand(s)
	if err != nil || len(trials) != 1 {
		t.Fatalf("Expand: %d trials, %v", len(trials), err)
	}
	return trials[0]
}

func inputsOf(t *testing.T, tr Trial, key string) []any {
	t.Helper()
	in, _ := tr.Request["inputs"].(map[string]any)
	l, _ := in[key].([]any)
	return l
}

// TestMediaEntries: a local file becomes a data URI with the MIME type
// of its content; a URL and a UUID pass through; the trial records short
// notes, never the base64.
func TestMediaEntries(t *testing.T) {
	red := tinyPNG(t, color.RGBA{255, 0, 0, 255})
	src := limitsHead + "cases:\n  - id: a\n    prompt: What is this?\n    images: [img/red.bin, https://example.com/pics/cat.png, " + mediaUUID + "]\n    videos: [clip.mp4]\n"
	p := writeSuite(t, src, "img/red.bin", red, "clip.mp4", tinyMP4)
	tr := onlyTrial(t, mustLoad(t, p))
	imgs := inputsOf(t, tr, "images")
	want := []any{"data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte(red)), "https://example.com/pics/cat.png", mediaUUID}
	if len(imgs) != 3 || imgs[0] != want[0] || imgs[1] != want[1] || imgs[2] != want[2] {
		t.Errorf("inputs.images = %v, want %v", imgs, want)
	}
	vids := inputsOf(t, tr, "videos")
	if len(vids) != 1 || vids[0] != "data:video/mp4;base64,"+base64.StdEncoding.EncodeToString([]byte(tinyMP4)) {
		t.Errorf("inputs.videos = %v", vids)
	}
	if len(tr.Media) != 4 || !strings.HasPrefix(tr.Media[0], "image img/red.bin sha256:") || tr.Media[1] != "image https://example.com/pics/cat.png" || !strings.HasPrefix(tr.Media[3], "video clip.mp4 sha256:") {
		t.Errorf("Media = %q", tr.Media)
	}
	for _, m := range tr.Media {
		if strings.Contains(m, "base64") || len(m) > 200 {
			t.Errorf("a media note holds content: %.80q", m)
		}
	}
}

// TestMediaHashes: changing an image's content (same name) changes the
// trial key, the request hash and the suite hash; a request hash is over
// the content hash, so the same content under another name keeps it.
func TestMediaHashes(t *testing.T) {
	src := limitsHead + "cases:\n  - id: a\n    prompt: What is this?\n    images: [a.png]\n"
	p := writeSuite(t, src, "a.png", tinyPNG(t, color.White))
	s1 := mustLoad(t, p)
	t1 := onlyTrial(t, s1)
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "a.png"), []byte(tinyPNG(t, color.Black)), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := mustLoad(t, p)
	t2 := onlyTrial(t, s2)
	if t1.Key == t2.Key || t1.RequestHash == t2.RequestHash {
		t.Errorf("trial key %s / request hash %s unchanged when the image changed", t1.Key, t1.RequestHash)
	}
	if s1.Hash == s2.Hash {
		t.Errorf("suite hash %s unchanged when the image changed", s1.Hash)
	}
	// The same content under another name keeps the request hash.
	if err := os.Rename(filepath.Join(filepath.Dir(p), "a.png"), filepath.Join(filepath.Dir(p), "b.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(src, "a.png", "b.png", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if t3 := onlyTrial(t, mustLoad(t, p)); t3.RequestHash != t2.RequestHash || t3.Media[0] == t2.Media[0] {
		t.Errorf("renamed image: request hash %s -> %s, media %q -> %q", t2.RequestHash, t3.RequestHash, t2.Media, t3.Media)
	}
	// The hashed request holds the content hash, not the data URI.
	req := cloneMap(t2.Request)
	applyMedia(req, t2.Case, true)
	if c := string(canonicalJSON(req)); strings.Contains(c, "base64") || !strings.Contains(c, "sha256:") {
		t.Errorf("hashed request: %.200s", c)
	}
}

// TestMediaErrors: each bad entry is a problem at its line and column.
func TestMediaErrors(t *testing.T) {
	big := tinyPNG(t, color.White) + strings.Repeat("\x00", MaxImageBytes)
	head := limitsHead + "cases:\n  - id: a\n    prompt: hi\n    images:\n      - "
	for _, tc := range []struct {
		name, entry, want string
		files             []string
	}{
		{"missing", "nope.png", `suite.yaml:7:9: image file "nope.png": `, nil},
		{"too big", "big.png", "more than the limit of 4194304", []string{"big.png", big}},
		{"not an image", "notes.txt", "the content is text/plain, not image/*", []string{"notes.txt", "hello"}},
		{"video as image", "clip.mp4", "the content is video/mp4, not image/*", []string{"clip.mp4", tinyMP4}},
		{"bad scheme", "ftp://example.com/a.png", `suite.yaml:7:9: bad image entry "ftp://example.com/a.png"`, nil},
		{"empty", `""`, "suite.yaml:7:9: an empty image entry", nil},
		{"outside", "../outside.png", "outside the suite's directory", nil},
		{"directory", "sub", "not a regular file", []string{"sub/x", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeSuite(t, head+tc.entry+"\n", tc.files...)
			if got := loadErr(t, p, LoadOptions{}); !strings.Contains(got, tc.want) {
				t.Errorf("got:\n%s\nwant %q", got, tc.want)
			}
		})
	}
	// --allow-outside-suite-dir lifts the tree rule for media too.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "o.png"), []byte(tinyPNG(t, color.White)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := writeSuite(t, head+filepath.Join(dir, "o.png")+"\n")
	if _, err := LoadWithOptions(p, LoadOptions{AllowOutside: true}); err != nil {
		t.Errorf("allowed outside: %v", err)
	}
	if _, err := LoadWithOptions(p, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "outside the suite's directory") {
		t.Errorf("not allowed outside: %v", err)
	}
}

// TestMediaTotalBound: the media files of a suite together are bounded.
func TestMediaTotalBound(t *testing.T) {
	defer func(n int64) { maxMediaTotal = n }(maxMediaTotal)
	a, b := tinyPNG(t, color.White), tinyPNG(t, color.Black)
	maxMediaTotal = int64(len(a) + len(b) - 1)
	p := writeSuite(t, limitsHead+"cases:\n  - id: a\n    prompt: hi\n    images: [a.png, a.png, b.png]\n", "a.png", a, "b.png", b)
	if got := loadErr(t, p, LoadOptions{}); !strings.Contains(got, "suite.yaml:6:28: image file \"b.png\": the suite's media files are more than") {
		t.Errorf("got:\n%s", got)
	}
}

// TestMediaCasesFrom: a JSONL field, a CSV column ("|" between entries)
// and a template entry give media; a bad row entry is a problem at the
// row's line in the data file; compact cases build the same requests.
func TestMediaCasesFrom(t *testing.T) {
	a, b := tinyPNG(t, color.White), tinyPNG(t, color.Black)
	src := limitsHead + "casesFrom:\n  - file: rows.jsonl\n    prompt: \"{{.q}}\"\n  - file: rows.csv\n    id: \"csv-{{.q}}\"\n    prompt: \"{{.q}}\"\n  - file: t.jsonl\n    id: \"t-{{.q}}\"\n    prompt: \"{{.q}}\"\n    images: [\"data/{{.img}}\"]\n"
	files := []string{
		"rows.jsonl", `{"q": "one", "images": ["data/a.png"]}` + "\n" + `{"q": "two", "images": ["data/b.png", "https://example.com/x.png"]}` + "\n",
		"rows.csv", "q,images\nthree,data/a.png|data/b.png\nfour,\n",
		"t.jsonl", `{"q": "five", "img": "b.png"}` + "\n",
		"data/a.png", a, "data/b.png", b,
	}
	p := writeSuite(t, src, files...)
	for _, compact := range []bool{false, true} {
		s, err := LoadWithOptions(p, LoadOptions{CompactCases: compact})
		if err != nil {
			t.Fatal(err)
		}
		trials, err := Expand(s)
		if err != nil || len(trials) != 5 {
			t.Fatalf("compact %v: %d trials, %v", compact, len(trials), err)
		}
		got := map[string]int{}
		for _, tr := range trials {
			got[tr.CaseID] = len(inputsOf(t, tr, "images"))
		}
		want := map[string]int{"rows-1": 1, "rows-2": 2, "csv-three": 2, "csv-four": 0, "t-five": 1}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("compact %v: case %s has %d images, want %d (all: %v)", compact, k, got[k], n, got)
			}
		}
		if img := inputsOf(t, trials[4], "images"); len(img) != 1 || img[0] != "data:image/png;base64,"+base64.StdEncoding.EncodeToString([]byte(b)) {
			t.Errorf("template entry: %.60v", img)
		}
	}
	bad := writeSuite(t, limitsHead+"casesFrom: {file: rows.jsonl, prompt: hi}\n", "rows.jsonl", `{"images": ["data/a.png"]}`+"\n"+`{"images": ["gone.png"]}`+"\n", "data/a.png", a)
	if got := loadErr(t, bad, LoadOptions{}); !strings.Contains(got, `rows.jsonl:2:1: row 2: field images: image file "gone.png": `) {
		t.Errorf("got:\n%s", got)
	}
	tmpl := writeSuite(t, limitsHead+"casesFrom: {file: rows.jsonl, prompt: hi, images: [\"{{.img}}\"]}\n", "rows.jsonl", `{"img": "data/a.png"}`+"\n"+`{"img": "no.txt"}`+"\n", "data/a.png", a, "no.txt", "text")
	if got := loadErr(t, tmpl, LoadOptions{}); !strings.Contains(got, "rows.jsonl:2:1: row 2: image file \"no.txt\": the content is text/plain, not image/* (the type is read from the content, not the name) (template at ") {
		t.Errorf("got:\n%s", got)
	}
}

// TestPlanCountsMediaTrials: the plan knows which trials send media.
func TestPlanCountsMediaTrials(t *testing.T) {
	p := writeSuite(t, limitsHead+"cases:\n  - id: a\n    prompt: hi\n    images: [a.png]\n  - id: b\n    prompt: hi\n", "a.png", tinyPNG(t, color.White))
	s := mustLoad(t, p)
	pl, err := MakePlanSeq(s, ExpandSeq(s), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pl.MediaTrials != 1 {
		t.Errorf("MediaTrials = %d, want 1", pl.MediaTrials)
	}
}

// TestSimImageFile: a sim entry's match.image naming a local image file
// becomes the sha256 of its content (what the simulator matches a data
// URI by); another name is kept; a file that is no image is a problem.
func TestSimImageFile(t *testing.T) {
	a := tinyPNG(t, color.White)
	src := limitsHead + "cases:\n  - id: a\n    prompt: hi\n    images: [data/a.png]\nsim:\n  - match: {image: data/a.png}\n    answer: white\n  - match: {image: cat.jpg}\n    answer: cat\n"
	s := mustLoad(t, writeSuite(t, src, "data/a.png", a))
	sum := sha256.Sum256([]byte(a))
	if got := s.Sim[0]["match"].(map[string]any)["image"]; got != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("match.image = %v", got)
	}
	if got := s.Sim[1]["match"].(map[string]any)["image"]; got != "cat.jpg" {
		t.Errorf("match.image = %v", got)
	}
	bad := writeSuite(t, limitsHead+"cases: [{id: a, prompt: hi}]\nsim:\n  - match: {image: n.txt}\n    answer: x\n", "n.txt", "text")
	if got := loadErr(t, bad, LoadOptions{}); !strings.Contains(got, "suite.yaml:5:20: match.image file \"n.txt\": the content is text/plain") {
		t.Errorf("got:\n%s", got)
	}
}
