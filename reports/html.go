package reports

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
)

//go:embed templates/report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f1":  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
}).Parse(reportTemplateText))

// HTML renders the summary as one self-contained HTML page: the summary
// table, pass rate by cell with 95% error bars, latency distributions by
// cell, cost per sample against pass rate with the Pareto front, and the
// failing cases with the model's text and the reasons. Charts are inline
// SVG drawn here; the page loads nothing from the network and runs no script.
func HTML(s *Summary) Renderer {
	return func(w io.Writer) error {
		v := htmlView{Title: s.Suite, RunID: s.RunID, SuiteHash: s.SuiteHash, Header: tableHeader(s),
			Superseded: s.Superseded, Incomplete: s.Incomplete, Warnings: s.Warnings}
		if v.Title == "" {
			v.Title = "run"
		}
		for _, c := range s.Cells {
			v.Rows = append(v.Rows, tableRow(s, c))
		}
		if s.Total != nil && len(s.Cells) > 1 {
			v.Footer = tableRow(s, s.Total)
		}
		v.DetailHeader, v.CaseHeader = detailHeader(), caseHeader(s)
		for _, c := range s.Cells {
			v.Details = append(v.Details, detailRow(c))
			for _, cs := range c.PerCase {
				v.CaseRows = append(v.CaseRows, caseRow(s, c, cs))
			}
		}
		v.Pass = passChart(s.Cells)
		v.Latency = []boxChart{latencyChart("e2e", "End-to-end latency (E2E)", s.Cells, func(c *Cell) Dist { return c.E2E })}
		if hasDist(s.Cells, func(c *Cell) Dist { return c.TTFT }) {
			v.Latency = append(v.Latency, latencyChart("ttft", "Time to first token (TTFT)", s.Cells, func(c *Cell) Dist { return c.TTFT }))
		}
		v.Cost = costChart(s.Cells)
		v.Within = newHTMLWithin(s.Within)
		for i := range v.Cost.Points {
			v.Cost.Points[i].Recommended = s.Within != nil && v.Cost.Points[i].Label == s.Within.Recommended
		}
		for _, c := range s.Cells {
			for _, cs := range c.PerCase {
				if cs.Pass {
					continue
				}
				hf := htmlFailure{Cell: c.Label, Case: cs.ID, Passed: cs.Passed, Samples: cs.Samples}
				for _, f := range cs.Failures {
					hs := htmlSample{Seed: f.Seed, Result: f.ResultIndex, Text: xmlSafe(f.Text), Error: xmlSafe(f.Error),
						Trajectory: xmlSafe(f.Trajectory)}
					for _, r := range f.Reasons {
						hs.Reasons = append(hs.Reasons, xmlSafe(r))
					}
					hf.Items = append(hf.Items, hs)
				}
				v.Failures = append(v.Failures, hf)
			}
		}
		if err := reportTemplate.Execute(w, v); err != nil {
			return fmt.Errorf("render html: %w", err)
		}
		return nil
	}
}

type htmlView struct {
	Title, RunID, SuiteHash string
	Header, Footer          []string
	Rows                    [][]string
	DetailHeader            []string
	Details                 [][]string
	CaseHeader              []string
	CaseRows                [][]string
	Pass                    barChart
	Latency                 []boxChart
	Cost                    scatterChart
	Failures                []htmlFailure
	Superseded, Incomplete  int
	// Warnings are the summary's warning lines, shown under the table.
	Warnings []string
	// Within is the section "Choosing a cell" (nil with one cell).
	Within *htmlWithin
}

type htmlFailure struct {
	Cell, Case      string
	Passed, Samples int
	Items           []htmlSample
}

type htmlSample struct {
	Seed        int64
	Result      int
	Text, Error string
	Reasons     []string
	// Trajectory is the agent sample's steps (Failure.Trajectory).
	Trajectory string
}

// Chart geometry, in SVG user units.
const (
	chartLabelW = 280.0 // room for cell labels on the left
	chartPlotW  = 420.0
	chartRowH   = 30.0
	chartTop    = 10.0
	chartAxisH  = 30.0
)

type tick struct {
	X     float64
	Label string
}

type bar struct {
	Label              string
	Y, W, ErrLo, ErrHi float64
	Text               string
	HasErr             bool
}

type barChart struct {
	Width, Height, PlotX, PlotW, AxisY float64
	Bars                               []bar
	Ticks                              []tick
}

func passChart(cells []*Cell) barChart {
	ch := barChart{Width: chartLabelW + chartPlotW + 200, PlotX: chartLabelW, PlotW: chartPlotW}
	ch.AxisY = chartTop + float64(len(cells))*chartRowH
	ch.Height = ch.AxisY + chartAxisH
	for i := 0; i <= 4; i++ {
		ch.Ticks = append(ch.Ticks, tick{X: chartLabelW + chartPlotW*float64(i)/4, Label: strconv.Itoa(25*i) + "%"})
	}
	for i, c := range cells {
		b := bar{Label: c.Label, Y: chartTop + float64(i)*chartRowH, Text: fmtRate(c.PassRate)}
		if c.PassRate.Value.Defined() {
			b.W = chartPlotW * float64(c.PassRate.Value)
		}
		if c.PassRate.Lo.Defined() && c.PassRate.Hi.Defined() {
			b.HasErr = true
			b.ErrLo = chartLabelW + chartPlotW*float64(c.PassRate.Lo)
			b.ErrHi = chartLabelW + chartPlotW*float64(c.PassRate.Hi)
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

type box struct {
	Label                        string
	Y                            float64
	Min, P25, P50, P75, P95, Max float64
	Text                         string
	Has                          bool
}

type boxChart struct {
	ID, Title                          string
	Width, Height, PlotX, PlotW, AxisY float64
	Boxes                              []box
	Ticks                              []tick
}

func hasDist(cells []*Cell, get func(*Cell) Dist) bool {
	return slices.ContainsFunc(cells, func(c *Cell) bool { return get(c).N > 0 })
}

// latencyChart draws one box plot per cell: whiskers from min to max, the
// box from p25 to p75, a line at the median and a tick at p95.
func latencyChart(id, title string, cells []*Cell, get func(*Cell) Dist) boxChart {
	ch := boxChart{ID: id, Title: title, Width: chartLabelW + chartPlotW + 200, PlotX: chartLabelW, PlotW: chartPlotW}
	ch.AxisY = chartTop + float64(len(cells))*chartRowH
	ch.Height = ch.AxisY + chartAxisH
	hi := 0.0
	for _, c := range cells {
		if d := get(c); d.N > 0 {
			hi = math.Max(hi, float64(d.Max))
			if d.Censored > 0 && d.CensoredBound.Defined() {
				hi = math.Max(hi, float64(d.CensoredBound))
			}
		}
	}
	step, top := niceScale(hi)
	x := func(v Num) float64 { return chartLabelW + chartPlotW*float64(v)/top }
	for v := 0.0; v <= top+step/2; v += step {
		ch.Ticks = append(ch.Ticks, tick{X: x(Num(v)), Label: fmtMs(Num(v))})
	}
	for i, c := range cells {
		d := get(c)
		b := box{Label: c.Label, Y: chartTop + float64(i)*chartRowH, Text: "no data"}
		if d.N > 0 {
			// A censored quantile without a known bound is drawn at the
			// axis end: it lies beyond every observed value.
			q := func(p float64) float64 {
				e, _ := d.At(p)
				if !e.Value.Defined() {
					return x(Num(top))
				}
				return x(e.Value)
			}
			b.Has = true
			b.Min, b.Max = x(d.Min), x(d.Max)
			if d.Censored > 0 {
				// Censored requests are slower than their bound: the
				// whisker runs to the axis end.
				b.Max = x(Num(top))
				if !d.Min.Defined() {
					b.Min = x(d.CensoredBound)
					if !d.CensoredBound.Defined() {
						b.Min = x(0)
					}
				}
			}
			b.P25, b.P50, b.P75, b.P95 = q(0.25), q(0.5), q(0.75), q(0.95)
			p50, _ := d.At(0.5)
			b.Text = fmt.Sprintf("p50 %s, n=%d", fmtQuantileValue(p50), d.N) + fmtCensoredCount(d)
		}
		ch.Boxes = append(ch.Boxes, b)
	}
	return ch
}

// niceScale returns a tick step of 1, 2 or 5 times a power of ten and the
// axis maximum (a multiple of it) that covers hi in about 5 steps.
func niceScale(hi float64) (step, top float64) {
	if !(hi > 0) {
		return 1, 4
	}
	raw := hi / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step, math.Ceil(hi/step) * step
}

type point struct {
	Label              string
	X, Y, ErrLo, ErrHi float64
	Front              bool
	Text               string
	// Recommended marks the cell the within-run comparison recommends.
	Recommended bool
}

type scatterChart struct {
	Width, Height, PlotX, PlotY, PlotW, PlotH float64
	Points                                    []point
	Front                                     string // SVG polyline points
	XTicks, YTicks                            []tick
	Empty                                     bool
}

// costChart plots cost per sample (x) against pass rate (y), one point per
// cell, and joins the Pareto front: the cells that no other cell beats on
// both (cheaper or equal and at least as good, one of them strictly).
func costChart(cells []*Cell) scatterChart {
	ch := scatterChart{Width: 720, Height: 380, PlotX: 70, PlotY: 20, PlotW: 440, PlotH: 300}
	var pts []*Cell
	hi := 0.0
	for _, c := range cells {
		if c.Cost.PerSample.Defined() && c.PassRate.Value.Defined() && c.Cost.ReportedN+c.Cost.EstimatedN > 0 {
			pts = append(pts, c)
			hi = math.Max(hi, float64(c.Cost.PerSample))
		}
	}
	if len(pts) == 0 {
		ch.Empty = true
		return ch
	}
	step, top := niceScale(hi)
	x := func(v float64) float64 { return ch.PlotX + ch.PlotW*v/top }
	y := func(v float64) float64 { return ch.PlotY + ch.PlotH*(1-v) }
	for v := 0.0; v <= top+step/2; v += step {
		ch.XTicks = append(ch.XTicks, tick{X: x(v), Label: "$" + strconv.FormatFloat(v, 'g', 4, 64)})
	}
	for i := 0; i <= 4; i++ {
		ch.YTicks = append(ch.YTicks, tick{X: y(float64(i) / 4), Label: strconv.Itoa(25*i) + "%"})
	}
	front := paretoFront(pts)
	var poly []string
	for _, c := range pts {
		p := point{Label: c.Label, X: x(float64(c.Cost.PerSample)), Y: y(float64(c.PassRate.Value)), Front: front[c],
			Text: fmt.Sprintf("%s: %s per sample, pass rate %s", c.Label, fmtPerSample(c.Cost, c.Cost.PerSample), fmtRate(c.PassRate))}
		p.ErrLo, p.ErrHi = p.Y, p.Y
		if c.PassRate.Lo.Defined() {
			p.ErrLo, p.ErrHi = y(float64(c.PassRate.Lo)), y(float64(c.PassRate.Hi))
		}
		ch.Points = append(ch.Points, p)
	}
	fp := slices.Clone(ch.Points)
	slices.SortFunc(fp, func(a, b point) int { return cmp.Compare(a.X, b.X) })
	for _, p := range fp {
		if p.Front {
			poly = append(poly, strconv.FormatFloat(p.X, 'f', 1, 64)+","+strconv.FormatFloat(p.Y, 'f', 1, 64))
		}
	}
	for i, s := range poly {
		if i > 0 {
			ch.Front += " "
		}
		ch.Front += s
	}
	return ch
}

// paretoFront marks the cells not dominated on (lower cost per sample,
// higher pass rate).
func paretoFront(cells []*Cell) map[*Cell]bool {
	front := map[*Cell]bool{}
	for _, a := range cells {
		dominated := false
		for _, b := range cells {
			ca, cb := float64(a.Cost.PerSample), float64(b.Cost.PerSample)
			ra, rb := float64(a.PassRate.Value), float64(b.PassRate.Value)
			if cb <= ca && rb >= ra && (cb < ca || rb > ra) {
				dominated = true
				break
			}
		}
		front[a] = !dominated
	}
	return front
}
