package benchmark

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/nmp-platform/nmp/benchmark/compare"
)

// maxPageSpikes bounds the spikes drawn in one panel of the page (the
// report's figures count them all).
const maxPageSpikes = 20000

// comparePage is a comparison as one self-contained page: the jobs, the
// report, and a raster per population (rows) and platform (columns), drawn
// as inline SVG so that the page needs nothing else (nmp compare -server
// saves it as report.html).
func comparePage(doc *compare.Doc, done *compared) string {
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nmp compare %s</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 12px; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid #999; } .refused { color: #a00; } svg { background: #fcfcfc; border: 1px solid #ddd; }
</style></head><body>
<h1>One script on every system: comparison %s</h1>
`, e(doc.ID), e(doc.ID))
	b.WriteString("<table><tr><th>platform</th><th>job</th><th>status</th></tr>\n")
	for _, j := range doc.Jobs {
		if j.JobID == 0 {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>-</td><td class=\"refused\">%s: %s</td></tr>\n", e(j.Platform), e(j.Status), e(j.Error))
			continue
		}
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%d</td><td>%s</td></tr>\n", e(j.Platform), j.JobID, e(j.Status))
	}
	b.WriteString("</table>\n")
	if done == nil {
		b.WriteString("<p>Some jobs have not ended yet: this page shows the comparison once they have (reload it).</p></body></html>\n")
		return b.String()
	}
	b.WriteString("<h2>Spikes</h2>\n")
	b.WriteString(rasters(done.runs))
	b.WriteString("<h2>Report</h2>\n<pre>")
	b.WriteString(e(done.rep.Text()))
	b.WriteString("</pre>\n</body></html>\n")
	return b.String()
}

// rasters draws a table of spike rasters: a row per population label (in
// the order first seen), a column per platform.
func rasters(runs []*compare.Run) string {
	const w, h = 260.0, 70.0
	var labels []string
	seen := map[string]bool{}
	tmax := 0.0
	for _, r := range runs {
		tmax = math.Max(tmax, r.SimulatedMs)
		for _, p := range r.Populations {
			if !seen[p.Label] {
				seen[p.Label] = true
				labels = append(labels, p.Label)
			}
		}
	}
	if tmax <= 0 {
		tmax = 1
	}
	e := html.EscapeString
	var b strings.Builder
	b.WriteString("<table><tr><th></th>")
	for _, r := range runs {
		cls := ""
		if r.Refused != "" {
			cls = ` class="refused" title="` + e(r.Refused) + `"`
		}
		fmt.Fprintf(&b, "<th%s>%s</th>", cls, e(r.Platform))
	}
	b.WriteString("</tr>\n")
	for row, l := range labels {
		fmt.Fprintf(&b, "<tr><th>%s</th>", e(l))
		for _, r := range runs {
			b.WriteString("<td>")
			var p *compare.Population
			for _, q := range r.Populations {
				if q.Label == l {
					p = q
					break
				}
			}
			switch {
			case r.Refused != "" && row == 0:
				fmt.Fprintf(&b, `<span class="refused">did not run: %s</span>`, e(r.Refused))
			case r.Refused != "":
			case p == nil:
				b.WriteString("(no such population)")
			case p.Trains == nil:
				b.WriteString("(spikes not recorded)")
			default:
				fmt.Fprintf(&b, `<svg width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="spikes of %s on %s">`, w, h, w, h, e(l), e(r.Platform))
				n, drawn := max(p.Size, 1), 0
				fmt.Fprintf(&b, `<path stroke="#000" stroke-width="1" d="`)
				for i, tr := range p.Trains {
					y := h - 4 - (h-8)*float64(i)/float64(n)
					for _, t := range tr {
						if drawn >= maxPageSpikes {
							break
						}
						x := 2 + (w-4)*t/tmax
						fmt.Fprintf(&b, "M%.1f %.1fv-2", x, y)
						drawn++
					}
				}
				b.WriteString(`"/>`)
				fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="9" text-anchor="end" fill="#666">%g ms</text></svg>`, w-3, 10.0, tmax)
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	return b.String()
}
