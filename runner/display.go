package runner

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// PlainEvery is how often the plain progress line is written when stderr is
// not a terminal.
const PlainEvery = 5 * time.Second

// ShowProgress displays p on w until the returned stop function is called:
// an mpb bar with done/total, ETA, spend, pass rate, retries and 429s when w
// is a terminal, otherwise one plain line every interval (and one at stop).
func ShowProgress(w io.Writer, tty bool, p *Progress, interval time.Duration) (stop func()) {
	if tty {
		return showBar(w, p)
	}
	return showLines(w, p, interval)
}

// Summary is the one-line state of a run, as the plain display prints it.
func (p *Progress) Summary() string {
	pass := "-"
	if r := p.PassRate(); !math.IsNaN(r) {
		pass = fmt.Sprintf("%.1f%%", 100*r)
	}
	s := fmt.Sprintf("%d/%d samples, spent %s, pass %s, retries %d, 429s %d",
		p.Done.Load(), p.Total.Load(), formatUSD(p.Spent()), pass, p.Retries.Load(), p.RateLimited.Load())
	if e := p.Errored.Load(); e > 0 {
		s += fmt.Sprintf(", errors %d", e)
	}
	if c := p.CacheHits.Load(); c > 0 {
		s += fmt.Sprintf(", cached trials %d", c)
	}
	return s + p.pauseNote()
}

// pauseNote says, while a server's Retry-After holds requests back, for how
// long (and that the pause was capped when the server asked for more).
func (p *Progress) pauseNote() string {
	d, capped := p.Paused()
	if d <= 0 {
		return ""
	}
	s := fmt.Sprintf(", paused %s by Retry-After", d.Round(time.Second))
	if capped {
		s += " (capped by --max-retry-after)"
	}
	return s
}

func showLines(w io.Writer, p *Progress, interval time.Duration) func() {
	if interval <= 0 {
		interval = PlainEvery
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintln(w, "promptgrid:", p.Summary())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		fmt.Fprintln(w, "promptgrid:", p.Summary())
	}
}

func showBar(w io.Writer, p *Progress) func() {
	c := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))
	bar := c.AddBar(max(p.Total.Load(), 1),
		mpb.PrependDecorators(decor.CountersNoUnit("%d/%d"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			pass := "-"
			if r := p.PassRate(); !math.IsNaN(r) {
				pass = fmt.Sprintf("%.0f%%", 100*r)
			}
			return fmt.Sprintf("%s pass %s retries %d 429s %d", formatUSD(p.Spent()), pass, p.Retries.Load(), p.RateLimited.Load()) + p.pauseNote()
		})),
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			bar.SetTotal(max(p.Total.Load(), 1), false)
			bar.SetCurrent(p.Done.Load())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		bar.SetTotal(-1, true)
		c.Wait()
	}
}
