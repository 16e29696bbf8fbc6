package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar draws a one-line progress bar on a terminal.
type progressBar struct {
	w       io.Writer
	label   string
	start   time.Time
	lastLen int
	dt      float64
}

func newProgressBar(w io.Writer, label string, dt float64) *progressBar {
	return &progressBar{w: w, label: label, start: time.Now(), dt: dt}
}

// update draws done of total steps.
func (p *progressBar) update(done, total int64) {
	if total <= 0 {
		return
	}
	frac := float64(done) / float64(total)
	const width = 30
	n := int(frac * width)
	bar := strings.Repeat("=", n)
	if n < width {
		bar += ">" + strings.Repeat(" ", width-n-1)
	}
	el := time.Since(p.start)
	eta := "?"
	if frac > 0.01 {
		eta = (time.Duration(float64(el)/frac) - el).Round(100 * time.Millisecond).String()
	}
	line := fmt.Sprintf("\r%s [%s] %3.0f%%  %.0f/%.0f ms  elapsed %s  left %s", p.label, bar, 100*frac,
		float64(done)*p.dt, float64(total)*p.dt, el.Round(100*time.Millisecond), eta)
	pad := ""
	if len(line) < p.lastLen {
		pad = strings.Repeat(" ", p.lastLen-len(line))
	}
	p.lastLen = len(line)
	fmt.Fprint(p.w, line+pad)
}

// done clears the bar.
func (p *progressBar) done() {
	fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.lastLen)+"\r")
}
