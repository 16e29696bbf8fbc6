package benchmark

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"

	"github.com/nmp-platform/nmp/store"
)

// The page: the sources, the latest value of every series with its spread
// and band (regressions flagged), a time series per measure and platform,
// and the recent runs. It is server-rendered HTML with inline SVG, no
// script, so that it works without the web interface.
var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"num":   func(v float64) string { return fmt.Sprintf("%.4g", v) },
	"short": short,
	"deref": func(p *float64) float64 { return *p },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nmp benchmarks</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
td,th{border-bottom:1px solid #ddd;padding:0.25em 0.6em;text-align:left;vertical-align:middle}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{background:#fde2e2}.flag{color:#b00;font-weight:bold}.muted{color:#777}
svg{background:#fafafa;border:1px solid #eee}
</style></head><body>
<h1>Benchmarks</h1>
<p class="muted">Every task of every registered repository, run as a job on every platform that can run it.
Regressions: the latest value outside the mean &plusmn; 3 standard deviations of the {{.Window}} values before it.
JSON: <a href="/benchmarks/latest">latest</a>, <a href="/benchmarks/measurements">measurements</a>,
<a href="/benchmarks/runs">runs</a>, <a href="/benchmarks/sources">sources</a>.</p>
<h2>Sources</h2>
<table><tr><th>name</th><th>repository</th><th>commit</th><th>message</th><th>checked</th><th>problem</th></tr>
{{range .Sources}}<tr><td>{{.Name}}</td><td>{{.URL}}</td><td><code>{{short .Commit}}</code></td>
<td>{{.Message}}{{if .SkippedCI}} <span class="muted">(not run: [skip ci])</span>{{end}}</td>
<td>{{if .CheckedAt}}{{.CheckedAt.Format "2006-01-02 15:04:05"}}{{end}}</td><td class="flag">{{.Error}}</td></tr>
{{else}}<tr><td colspan="6" class="muted">none registered: nmp bench add URL</td></tr>{{end}}
</table>
<h2>Latest values</h2>
<table><tr><th>model</th><th>task</th><th>measure</th><th>platform</th><th class="num">latest</th><th>units</th><th class="num">range (n)</th><th>recent band</th><th>series</th><th>job</th></tr>
{{range .Rows}}<tr{{if .Flag}} class="bad"{{end}}><td>{{.L.Model}}</td><td>{{.L.Task}}</td><td title="{{.L.Type}}, {{.L.Measure}}">{{.L.Name}}</td><td>{{.L.Platform}}</td>
<td class="num">{{num .L.Value}}{{if .L.StdDev}} &plusmn; {{num (deref .L.StdDev)}}{{end}}</td><td>{{.L.Units}}</td>
<td class="num">{{num .L.SeriesMin}} &hellip; {{num .L.SeriesMax}} ({{.L.Count}})</td>
<td>{{if .L.Band}}{{num .L.Band.Lo}} &hellip; {{num .L.Band.Hi}}{{if .Flag}} <span class="flag">regression</span>{{end}}{{else}}<span class="muted">too few values</span>{{end}}</td>
<td>{{.SVG}}</td><td><a href="/jobs/{{.L.JobID}}">{{.L.JobID}}</a></td></tr>
{{else}}<tr><td colspan="10" class="muted">no measurements yet</td></tr>{{end}}
</table>
<h2>Recent runs</h2>
<table><tr><th>run</th><th>source</th><th>commit</th><th>model/task</th><th>platform</th><th>status</th><th>job</th><th>trigger</th><th>measurements / error</th></tr>
{{range .Runs}}<tr><td>{{.ID}}</td><td>{{.Source}}</td><td><code>{{short .Commit}}</code></td><td>{{.Model}}/{{.Task}}</td><td>{{.Platform}}</td><td>{{.Status}}</td>
<td>{{if .JobID}}<a href="/jobs/{{.JobID}}">{{.JobID}}</a>{{end}}</td><td>{{.Trigger}}</td><td>{{if .Error}}<span class="flag">{{.Error}}</span>{{else}}{{.Measurements}}{{end}}</td></tr>
{{end}}</table>
</body></html>
`))

type pageRow struct {
	L    LatestDoc
	Flag bool
	SVG  template.HTML
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.list(r)
	if err != nil {
		return err
	}
	srcs, err := h.Store.BenchmarkSourceList(r.Context())
	if err != nil {
		return err
	}
	var sdocs []SourceDoc
	for i := range srcs {
		sdocs = append(sdocs, sourceDoc(&srcs[i]))
	}
	runs, err := h.Store.BenchmarkRunList(r.Context(), &store.BenchmarkRunListParams{Limit: 50})
	if err != nil {
		return err
	}
	names, err := h.sourceNames(r.Context())
	if err != nil {
		return err
	}
	var rows []pageRow
	for _, l := range Latest(ms) {
		var vals []float64
		for _, m := range ms {
			if m.Source == l.Source && m.Model == l.Model && m.Task == l.Task && m.Name == l.Name && m.Platform == l.Platform {
				vals = append(vals, m.Value)
			}
		}
		rows = append(rows, pageRow{L: l, Flag: l.Band != nil && l.Band.Regressed, SVG: sparkline(vals, l.Band)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return pageTmpl.Execute(w, map[string]any{"Sources": sdocs, "Rows": rows, "Runs": runDocs(runs, names), "Window": Window})
}

// sparkline draws a series as a small SVG line, its band as a shaded strip
// and the latest point red when it left the band.
func sparkline(vals []float64, b *Band) template.HTML {
	const W, H, pad = 160.0, 36.0, 3.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if b != nil {
		lo, hi = math.Min(lo, b.Lo), math.Max(hi, b.Hi)
	}
	if hi-lo < 1e-300 {
		lo, hi = lo-1, hi+1
	}
	x := func(i int) float64 {
		if len(vals) == 1 {
			return W / 2
		}
		return pad + float64(i)*(W-2*pad)/float64(len(vals)-1)
	}
	y := func(v float64) float64 { return H - pad - (v-lo)/(hi-lo)*(H-2*pad) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg width="%g" height="%g" viewBox="0 0 %g %g" role="img">`, W, H, W, H)
	if b != nil {
		fmt.Fprintf(&sb, `<rect x="0" y="%.1f" width="%g" height="%.1f" fill="#dfe9f7"/>`, y(b.Hi), W, math.Max(y(b.Lo)-y(b.Hi), 0.5))
	}
	sb.WriteString(`<polyline fill="none" stroke="#2a5db0" stroke-width="1.5" points="`)
	for i, v := range vals {
		fmt.Fprintf(&sb, "%.1f,%.1f ", x(i), y(v))
	}
	sb.WriteString(`"/>`)
	color := "#2a5db0"
	if b != nil && b.Regressed {
		color = "#c00"
	}
	if n := len(vals); n > 0 {
		fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, x(n-1), y(vals[n-1]), color)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
