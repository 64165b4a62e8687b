package history

import (
	"fmt"
	"html/template"
	"io"
	"strconv"

	"github.com/promptgrid/promptgrid/reports"
)

// HTML renders the history as one self-contained page: per suite the table
// of every run and cell, and per cell a trend chart of the pass rate with
// its 95% intervals, regression steps in red. Charts are inline SVG drawn
// here; the page loads nothing from the network and runs no script.
func HTML(h *History) reports.Renderer {
	return func(w io.Writer) error {
		v := htmlView{Header: header, Note: note(h), Skipped: h.Skipped}
		for _, s := range h.Suites {
			hs := htmlSuite{Title: title(s)}
			for _, c := range s.Cells {
				for _, p := range c.Points {
					hs.Rows = append(hs.Rows, htmlRow{Cells: row(s, c, p), Regression: p.Step != nil && p.Step.Regression})
				}
				hs.Charts = append(hs.Charts, trendChart(s, c))
			}
			v.Suites = append(v.Suites, hs)
		}
		if err := htmlTemplate.Execute(w, v); err != nil {
			return fmt.Errorf("render html: %w", err)
		}
		return nil
	}
}

type htmlView struct {
	Header  []string
	Note    string
	Suites  []htmlSuite
	Skipped []Skipped
}

type htmlSuite struct {
	Title  string
	Rows   []htmlRow
	Charts []chart
}

type htmlRow struct {
	Cells      []string
	Regression bool
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH         = 720.0, 240.0
	padL, padR, padT, padB = 52.0, 36.0, 14.0, 44.0
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	maxXLabels             = 12
	pointR, regressionR    = 3.5, 5.5
	chartTitleFmt          = "Pass rate of %s by run"
)

type chart struct {
	Label, Title   string
	W, H           float64
	X0, X1, Y0, Y1 float64
	Grid           []gridLine
	Segments       []segment
	Points         []chartPoint
	XLabels        []xLabel
}

type gridLine struct {
	Y     float64
	Label string
}

type segment struct {
	X1, Y1, X2, Y2 float64
	Regression     bool
}

type chartPoint struct {
	X, Y, Lo, Hi float64
	HasCI        bool
	R            float64
	Regression   bool
	Tip          string
}

type xLabel struct {
	X    float64
	Text string
}

// trendChart lays out the pass-rate chart of one cell: x is the run's place
// in the suite's history (the same for every cell), y the pass rate.
func trendChart(s *Suite, c *CellHistory) chart {
	ch := chart{Label: c.Label, Title: fmt.Sprintf(chartTitleFmt, c.Label), W: chartW, H: chartH,
		X0: padL, X1: padL + plotW, Y0: padT, Y1: padT + plotH}
	n := len(s.Runs)
	x := func(i int) float64 {
		if n <= 1 {
			return padL + plotW/2
		}
		return padL + float64(i)*plotW/float64(n-1)
	}
	y := func(v float64) float64 { return padT + (1-clamp01(v))*plotH }
	for _, g := range []float64{0, 0.25, 0.5, 0.75, 1} {
		ch.Grid = append(ch.Grid, gridLine{Y: y(g), Label: strconv.Itoa(int(100*g)) + "%"})
	}
	every := 1
	if n > maxXLabels {
		every = (n + maxXLabels - 1) / maxXLabels
	}
	for i, r := range s.Runs {
		if i%every != 0 && i != n-1 {
			continue
		}
		t := Short(r.Commit)
		if t == "" {
			t = "#" + strconv.Itoa(i+1)
		}
		ch.XLabels = append(ch.XLabels, xLabel{X: x(i), Text: t})
	}
	var prev *chartPoint
	for _, p := range c.Points {
		if !p.PassRate.Value.Defined() {
			prev = nil
			continue
		}
		r := s.Runs[p.Run]
		cp := chartPoint{X: x(p.Run), Y: y(float64(p.PassRate.Value)), R: pointR,
			Regression: p.Step != nil && p.Step.Regression}
		if p.PassRate.Lo.Defined() && p.PassRate.Hi.Defined() {
			cp.HasCI, cp.Lo, cp.Hi = true, y(float64(p.PassRate.Lo)), y(float64(p.PassRate.Hi))
		}
		if cp.Regression {
			cp.R = regressionR
		}
		cp.Tip = fmt.Sprintf("%s · %s · commit %s · pass rate %s · cost %s · E2E p50 %s, p95 %s · step: %s",
			r.RunID, fmtTime(r.Started), orDash(Short(r.Commit)), fmtRate(p.PassRate), fmtCost(p.Cost),
			fmtQuantile(p.E2EP50), fmtQuantile(p.E2EP95), stepText(p.Step))
		if prev != nil {
			ch.Segments = append(ch.Segments, segment{X1: prev.X, Y1: prev.Y, X2: cp.X, Y2: cp.Y, Regression: cp.Regression})
		}
		ch.Points = append(ch.Points, cp)
		prev = &ch.Points[len(ch.Points)-1]
	}
	return ch
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }

var htmlTemplate = template.Must(template.New("history").Funcs(template.FuncMap{
	"f1":  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"add": func(a, b float64) float64 { return a + b },
}).Parse(htmlText))

const htmlText = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>promptgrid history</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #1b1f24; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; }
h3 { font-size: 1em; margin-top: 1.5em; }
.scroll { overflow-x: auto; }
table.history { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.history th, table.history td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; white-space: nowrap; }
table.history thead th { background: #f6f8fa; }
table.history tr.regression td { background: #ffebe9; }
svg { display: block; max-width: 100%; height: auto; font-size: 12px; }
svg text { fill: #1b1f24; }
svg .grid { stroke: #d8dee4; }
svg .axis { stroke: #57606a; }
svg .ci { stroke: #8c959f; stroke-width: 1.5; }
svg .line { stroke: #4c8bf5; stroke-width: 2; }
svg .line.regression { stroke: #b3261e; stroke-width: 3; }
svg .pt { fill: #4c8bf5; }
svg .pt.regression { fill: #b3261e; }
.legend { color: #57606a; font-size: 0.9em; }
</style>
</head>
<body>
<h1>promptgrid history</h1>
{{range $si, $s := .Suites}}
<h2>{{$s.Title}}</h2>
<div class="scroll"><table class="history">
<thead><tr>{{range $.Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range $s.Rows}}<tr{{if .Regression}} class="regression"{{end}}>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{range $s.Charts}}
<h3>{{.Label}}</h3>
<svg role="img" aria-label="{{.Title}}" viewBox="0 0 {{f1 .W}} {{f1 .H}}" width="{{f1 .W}}" height="{{f1 .H}}">
<title>{{.Title}}</title>
{{$c := .}}{{range .Grid}}<line class="grid" x1="{{f1 $c.X0}}" x2="{{f1 $c.X1}}" y1="{{f1 .Y}}" y2="{{f1 .Y}}"/><text x="{{f1 (add $c.X0 -6)}}" y="{{f1 (add .Y 4)}}" text-anchor="end">{{.Label}}</text>
{{end}}<line class="axis" x1="{{f1 .X0}}" x2="{{f1 .X1}}" y1="{{f1 .Y1}}" y2="{{f1 .Y1}}"/>
{{range .XLabels}}<text x="{{f1 .X}}" y="{{f1 (add $c.Y1 18)}}" text-anchor="middle">{{.Text}}</text>
{{end}}{{range .Segments}}<line class="line{{if .Regression}} regression{{end}}" x1="{{f1 .X1}}" y1="{{f1 .Y1}}" x2="{{f1 .X2}}" y2="{{f1 .Y2}}"/>
{{end}}{{range .Points}}{{if .HasCI}}<line class="ci" x1="{{f1 .X}}" x2="{{f1 .X}}" y1="{{f1 .Lo}}" y2="{{f1 .Hi}}"/>{{end}}<circle class="pt{{if .Regression}} regression{{end}}" cx="{{f1 .X}}" cy="{{f1 .Y}}" r="{{f1 .R}}"><title>{{.Tip}}</title></circle>
{{end}}</svg>
{{end}}
{{end}}
<p class="legend">{{.Note}} Charts: pass rate per run in time order (x labels: commit, or the run's number when no commit was recorded) with its 95% interval clustered by case; a red point and segment mark a regression step. Hover a point for its run, cost and latency.</p>
{{range .Skipped}}<p class="legend">Skipped {{.Dir}}: {{.Reason}}</p>
{{end}}</body>
</html>
`
