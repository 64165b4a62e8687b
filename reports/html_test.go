package reports

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// TestHTMLSelfContained: the page references nothing outside itself (no
// src or href to another resource, no stylesheet or script links) and runs
// no script.
func TestHTMLSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := HTML(fixtureSummary(t))(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if m := regexp.MustCompile(`(?i)\b(src|href)\s*=|<link|<script|@import|url\(`).FindString(page); m != "" {
		t.Errorf("report.html refers to an outside resource or runs a script: %q", m)
	}
	for _, m := range regexp.MustCompile(`https?://[^"' )]+`).FindAllString(page, -1) {
		if m != "http://www.w3.org/2000/svg" {
			t.Errorf("report.html mentions a URL other than the SVG namespace: %s", m)
		}
	}
	// Model text with markup is shown as text, not parsed.
	if strings.Contains(page, "<tag>") || !strings.Contains(page, "&lt;tag&gt;") {
		t.Error("model text must be HTML-escaped")
	}
}

// TestHTMLInChromium renders the report in headless Chromium: the page
// loads without console messages (it has no script, so any message is an
// error such as a blocked resource), and the DOM Chromium built holds the
// three charts with one mark per cell and the failing cases.
func TestHTMLInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless browser test skipped: %s not found (install Debian's chromium package: apt-get install chromium)", chromiumPath)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := WriteFile(page, HTML(fixtureSummary(t))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Flags from the machine notes: no sandbox as root, and no background
	// networking (the machine has no network).
	cmd := exec.CommandContext(ctx, chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"--dump-dom", "file://"+page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "net::ERR") {
			t.Errorf("browser console: %s", line)
		}
	}
	dom := stdout.String()
	for _, tc := range []struct {
		what, re string
		n        int
	}{
		// One bar with an error bar per cell.
		{"pass-rate bars", `<rect class="bar"`, 3},
		{"pass-rate chart", `<svg id="pass-rate-chart"`, 1},
		// E2E and TTFT box plots, one box per cell each.
		{"latency charts", `<svg id="latency-chart-`, 2},
		{"latency boxes", `<rect class="box"`, 6},
		// One point per cell; with this fixture every cell is on the front.
		{"cost chart", `<svg id="cost-chart"`, 1},
		{"Pareto points", `<circle class="pt front[" ]`, 3},
		// The within-run section with its recommendation, marked in the chart.
		{"within-run table", `<table class="summary" id="within-table"`, 1},
		{"recommendation", `<p class="recommendation" id="recommendation">Recommendation: `, 1},
		{"Pareto line", `<polyline class="front-line"`, 1},
		// The five failing case × cell pairs.
		{"failing cases", `<details class="failure"`, 5},
	} {
		if got := len(regexp.MustCompile(tc.re).FindAllStringIndex(dom, -1)); got != tc.n {
			t.Errorf("%s: %d in the rendered DOM, want %d", tc.what, got, tc.n)
		}
	}
	if !strings.Contains(dom, "expected to contain") {
		t.Error("the failing cases should carry the check reasons")
	}
}
