package web

import (
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/benchmark/compare"
	"github.com/nmp-platform/nmp/nmpi"
)

// The compare pages: one PyNN script on the reference and on every emulated
// system, side by side (docs/benchmarks.md, "nmp compare"). They call the
// compare API's handler (Config.Compare) in this process with the person's
// token, as the other pages call the job queue's API; a comparison is its
// jobs, tagged "compare:ID", so who may see one is what the queue says of
// its jobs.

// compareTagPrefix starts the tag that names a job's comparison.
const compareTagPrefix = "compare:"

var compareIDRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// maxCompareJobs bounds the jobs the list of comparisons reads.
const maxCompareJobs = 1000

// comparer is the compare API as the signed-in person sees it.
func (w *Web) comparer(s *session) *caller {
	c := *s.api
	c.hc = w.cmp
	return &c
}

// needCompare refuses the compare pages on a server without the compare API.
func (w *Web) needCompare() error {
	if w.cmp == nil {
		return pagef(http.StatusNotFound, "This server does not run comparisons: they are served by the benchmark service, which is off here (nmp serve -benchmarks=false).")
	}
	return nil
}

// ---- the list of comparisons

type compareRow struct {
	ID, Status, By, Excerpt string
	Started                 nmpi.Time
	Jobs                    []nmpi.Job
}

type compareListView struct {
	Rows      []compareRow
	CanSubmit bool
	Truncated bool
}

func (w *Web) handleCompareList(rw http.ResponseWriter, r *http.Request, s *session) error {
	if err := w.needCompare(); err != nil {
		return err
	}
	rememberCollab(rw, r, s)
	v := compareListView{CanSubmit: s.CanEdit(s.current)}
	aq := url.Values{"collab": {s.current}, "tags": {"compare"}, "size": {strconv.Itoa(maxCompareJobs)}}
	var jobs []nmpi.Job
	if err := s.api.do(r.Context(), http.MethodGet, "/jobs?"+aq.Encode(), nil, &jobs); err != nil {
		return err
	}
	v.Truncated = len(jobs) >= maxCompareJobs
	byID := map[string]*compareRow{}
	for _, j := range jobs {
		id := compareIDOf(j.Tags)
		if id == "" {
			continue
		}
		row := byID[id]
		if row == nil {
			row = &compareRow{ID: id, Status: "done", Started: j.Submitted}
			byID[id] = row
		}
		row.Jobs = append(row.Jobs, j)
		if !j.Ended() {
			row.Status = "running"
		}
		if !j.Submitted.After(row.Started.Time) {
			row.Started, row.By, row.Excerpt = j.Submitted, j.UserID, excerpt(j.Code, 60)
		}
	}
	for _, row := range byID {
		sort.Slice(row.Jobs, func(i, j int) bool { return row.Jobs[i].ID < row.Jobs[j].ID })
		v.Rows = append(v.Rows, *row)
	}
	sort.Slice(v.Rows, func(i, j int) bool { return v.Rows[i].Started.After(v.Rows[j].Started.Time) })
	w.render(rw, r, s, http.StatusOK, "comparisons", v)
	return nil
}

// compareIDOf is the comparison a job belongs to ("" for none).
func compareIDOf(tags []string) string {
	for _, t := range tags {
		if id, ok := strings.CutPrefix(t, compareTagPrefix); ok && compareIDRe.MatchString(id) {
			return id
		}
	}
	return ""
}

// ---- the form

// comparePlatform is one system the form offers.
type comparePlatform struct {
	Name, System, Status, Message string
	Available, Reference, Checked bool
}

// compareForm is the form, as sent and as shown again with an error.
type compareForm struct {
	Collab, Code, Script, WallClock string
	Error, Field                    string
	Platforms                       []comparePlatform
	Collabs                         []string
}

// comparePlatforms are the platforms a comparison may run on, as the
// compare API says (GET /compare/platforms), with their status here.
func (w *Web) comparePlatforms(r *http.Request, s *session) ([]comparePlatform, error) {
	var plats []struct {
		Name   string `json:"name"`
		System string `json:"system"`
	}
	if err := w.comparer(s).do(r.Context(), http.MethodGet, "/compare/platforms", nil, &plats); err != nil {
		return nil, err
	}
	status, err := w.platforms(r, s)
	if err != nil {
		return nil, err
	}
	st := map[string]platformChoice{}
	for _, p := range status {
		st[p.Name] = p
	}
	var out []comparePlatform
	for _, p := range plats {
		c, ok := st[p.Name]
		if !ok {
			c = platformChoice{Status: "unavailable", Message: "not a platform of the job queue"}
		}
		out = append(out, comparePlatform{Name: p.Name, System: p.System, Status: c.Status, Message: c.Message,
			Available: c.Available, Reference: p.System == "reference"})
	}
	return out, nil
}

func (w *Web) handleCompareForm(rw http.ResponseWriter, r *http.Request, s *session) error {
	if err := w.needCompare(); err != nil {
		return err
	}
	f := compareForm{Collab: s.current}
	if f.Collab != "" && !s.CanEdit(f.Collab) {
		f.Collab = ""
	}
	return w.showCompareForm(rw, r, s, http.StatusOK, &f, nil)
}

// showCompareForm renders the form; chosen are the platforms ticked (nil: every available one).
func (w *Web) showCompareForm(rw http.ResponseWriter, r *http.Request, s *session, status int, f *compareForm, chosen map[string]bool) error {
	var err error
	if f.Platforms, err = w.comparePlatforms(r, s); err != nil {
		return err
	}
	for i := range f.Platforms {
		p := &f.Platforms[i]
		p.Checked = p.Available && (chosen == nil || chosen[p.Name] || p.Reference)
	}
	for _, c := range s.Collabs {
		if s.CanEdit(c) {
			f.Collabs = append(f.Collabs, c)
		}
	}
	w.render(rw, r, s, status, "newcompare", f)
	return nil
}

// maxWallClock bounds the duration a comparison's jobs may be given.
const maxWallClock = 7 * 24 * time.Hour

func (w *Web) handleCompareSubmit(rw http.ResponseWriter, r *http.Request, s *session) error {
	if err := w.needCompare(); err != nil {
		return err
	}
	f := compareForm{Collab: r.PostFormValue("collab"), Code: r.PostFormValue("code"), Script: strings.TrimSpace(r.PostFormValue("script")),
		WallClock: strings.TrimSpace(r.PostFormValue("wall_clock"))}
	chosen := map[string]bool{}
	if r.MultipartForm != nil || r.PostForm != nil {
		for _, p := range r.PostForm["platforms"] {
			chosen[p] = true
		}
	}
	bad := func(field, format string, args ...any) error {
		f.Field, f.Error = field, fmt.Sprintf(format, args...)
		return w.showCompareForm(rw, r, s, http.StatusUnprocessableEntity, &f, chosen)
	}
	if f.Collab == "" {
		return bad("collab", "Collab: choose the collab whose quotas pay for the comparison's jobs.")
	}
	if !s.CanEdit(f.Collab) {
		return bad("collab", "Collab: you may not submit jobs in %q (you need to be one of its editors).", f.Collab)
	}
	// The systems: those ticked, every one an emulated platform here.
	plats, err := w.comparePlatforms(r, s)
	if err != nil {
		return err
	}
	known := map[string]comparePlatform{}
	for _, p := range plats {
		known[p.Name] = p
	}
	var names []string
	others := 0
	for _, n := range r.PostForm["platforms"] {
		p, ok := known[n]
		switch {
		case !ok:
			return bad("platforms", "Systems: %q is not a platform a comparison runs on here.", n)
		case !p.Available:
			return bad("platforms", "Systems: %s takes no jobs here (%s).", n, strings.TrimPrefix(p.Status+": "+p.Message, ": "))
		}
		names = append(names, n)
		if !p.Reference {
			others++
		}
	}
	if others == 0 {
		return bad("platforms", "Systems: choose at least one emulated system to compare with the reference.")
	}
	body := map[string]any{"collab": f.Collab, "platforms": names}
	// The duration: each job's wall-clock limit.
	if f.WallClock != "" {
		d, ok := parseDuration(f.WallClock)
		if !ok || d <= 0 || d > maxWallClock {
			return bad("wall_clock", "Duration: %q is not a duration of at most a week (seconds, such as 600, or 10m, 1h30m).", f.WallClock)
		}
		body["wall_clock_s"] = d.Seconds()
	}
	// The code: pasted or uploaded, exactly one.
	var files []*multipart.FileHeader
	if r.MultipartForm != nil {
		files = r.MultipartForm.File["code_file"]
	}
	switch pasted := strings.TrimSpace(f.Code) != ""; {
	case !pasted && len(files) == 0:
		return bad("code", "Code: paste the PyNN script or upload it (a script, or a zip or tar.gz archive of its directory).")
	case pasted && len(files) > 0:
		return bad("code", "Code: give only one of the pasted script and an upload.")
	case len(files) > 1:
		return bad("code_file", "Code file: upload one file (a script, or a zip or tar.gz archive).")
	case pasted:
		if len(f.Code) > maxCodeText {
			return bad("code", "Code: the pasted script has %s; at most %s can be pasted (upload an archive instead).", humanBytes(int64(len(f.Code))), humanBytes(maxCodeText))
		}
		body["code"] = f.Code
	default:
		code, msg, err := w.uploadedCode(r, s, f.Collab, files)
		if err != nil {
			return err
		}
		if msg != "" {
			return bad("code_file", "%s", msg)
		}
		body["code"] = code
	}
	if f.Script != "" {
		body["script"] = f.Script
	}
	var doc compare.Doc
	if err := w.comparer(s).do(r.Context(), http.MethodPost, "/compare/", body, &doc); err != nil {
		if st := apiStatus(err); st >= 400 && st < 500 && st != http.StatusUnauthorized {
			msg := apiMessage(err)
			field, _, _ := strings.Cut(msg, ":")
			switch field {
			case "wall_clock_s":
				field = "wall_clock"
			case "collab", "code", "script", "platforms":
			default:
				field = ""
			}
			return bad(field, "%s", msg)
		}
		return err
	}
	flash := fmt.Sprintf("Comparison %s started: %d jobs.", doc.ID, len(doc.Jobs))
	for _, j := range doc.Jobs {
		if j.JobID == 0 {
			flash += fmt.Sprintf(" %s was not submitted: %s.", j.Platform, strings.TrimSuffix(j.Error, "."))
		}
	}
	http.Redirect(rw, r, fmt.Sprintf("%s/compare/%s?collab=%s&flash=%s", Prefix, doc.ID, urlQuery(f.Collab), urlQuery(flash)), http.StatusSeeOther)
	return nil
}

// parseDuration reads seconds (600, 90.5) or a Go duration (10m, 1h30m).
func parseDuration(s string) (time.Duration, bool) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f > maxWallClock.Seconds()*2 {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// ---- a comparison's page

type compareView struct {
	ID, Collab string
	Running    bool
	Jobs       []compare.Job
	Script     string // the script's text, or the URL of its code
	ScriptURL  bool
	By         string
	Started    nmpi.Time
	Report     *compare.Report
	Table      []compareTableRow
	Rasters    []rasterRow
	Platforms  []string
	Text       string
}

// compareTableRow is one population on every system, side by side.
type compareTableRow struct {
	Label string
	Cells []compareCell
}

type compareCell struct {
	Missing                      string // why there is nothing to show
	Rate, CV, First, DRate, DVR  string
	CellType                     string
	Active, Size                 int
	Reference, Diverges, Refused bool
}

// rasterRow is one population's spikes on every system.
type rasterRow struct {
	Label string
	Cells []raster
}

// raster is one population's spikes on one system, drawn as SVG: D is the
// path data (a short vertical tick per spike).
type raster struct {
	Platform, Label, Missing string
	W, H                     float64
	D                        string
	TMax                     string
	Spikes, Neurons          int
	Cut                      bool
}

// Raster geometry and bound.
const (
	rasterW, rasterH = 300.0, 90.0
	maxRasterSpikes  = 20000
)

func (w *Web) handleCompare(rw http.ResponseWriter, r *http.Request, s *session) error {
	if err := w.needCompare(); err != nil {
		return err
	}
	id := r.PathValue("id")
	if !compareIDRe.MatchString(id) {
		return pagef(http.StatusNotFound, "%q is not a comparison's id.", id)
	}
	collab := r.URL.Query().Get("collab")
	if collab == "" {
		collab = s.current
	}
	notFound := pagef(http.StatusNotFound, "There is no comparison %s in %s that you may see.", id, collab)
	if _, member := s.Roles[collab]; !member && !s.Admin {
		return notFound // and the API is not asked whether such a collab exists
	}
	api := w.comparer(s)
	q := "?collab=" + url.QueryEscape(collab)
	var doc compare.Doc
	if err := api.do(r.Context(), http.MethodGet, "/compare/"+id+q, nil, &doc); err != nil {
		if st := apiStatus(err); st == http.StatusNotFound || st == http.StatusForbidden {
			return notFound
		}
		return err
	}
	v := compareView{ID: id, Collab: collab, Running: doc.Status != "done", Jobs: doc.Jobs, Report: doc.Report, Text: doc.Text}
	// The script, from the comparison's first job.
	first := int64(0)
	for _, j := range doc.Jobs {
		if j.JobID != 0 && (first == 0 || j.JobID < first) {
			first = j.JobID
		}
	}
	if first != 0 {
		var j nmpi.Job
		if err := s.api.do(r.Context(), http.MethodGet, fmt.Sprintf("/jobs/%d", first), nil, &j); err != nil {
			return err
		}
		v.Script, v.By, v.Started = j.Code, j.UserID, j.Submitted
		v.ScriptURL = strings.HasPrefix(j.Code, "http://") || strings.HasPrefix(j.Code, "https://") || strings.HasPrefix(j.Code, "git")
	}
	if doc.Report != nil {
		v.Table = sideBySide(doc.Report)
		for _, sys := range doc.Report.Systems {
			v.Platforms = append(v.Platforms, sys.Platform)
		}
		var spikes []compare.Spikes
		if err := api.do(r.Context(), http.MethodGet, "/compare/"+id+"/spikes"+q, nil, &spikes); err != nil {
			return err
		}
		v.Rasters = rasters(spikes)
	}
	rememberCollab(rw, r, s)
	w.render(rw, r, s, http.StatusOK, "compare", v)
	return nil
}

// sideBySide lays the report out as a row per population label (in the
// order first seen) and a column per system.
func sideBySide(rep *compare.Report) []compareTableRow {
	var labels []string
	seen := map[string]bool{}
	for _, sys := range rep.Systems {
		for _, p := range sys.Populations {
			if !seen[p.Label] {
				seen[p.Label] = true
				labels = append(labels, p.Label)
			}
		}
	}
	f := func(x *float64, format string) string {
		if x == nil {
			return "–"
		}
		return fmt.Sprintf(format, *x)
	}
	var rows []compareTableRow
	for _, l := range labels {
		row := compareTableRow{Label: l}
		for i, sys := range rep.Systems {
			c := compareCell{Reference: i == 0}
			var st *compare.Stats
			for k := range sys.Populations {
				if sys.Populations[k].Label == l {
					st = &sys.Populations[k]
					break
				}
			}
			switch {
			case sys.Refused != "":
				c.Missing, c.Refused = "did not run", true
			case st == nil:
				c.Missing = "no such population"
			case !st.Recorded:
				c.Missing = "spikes not recorded"
			default:
				c.CellType, c.Active, c.Size = st.CellType, st.Active, st.Size
				c.Rate = fmt.Sprintf("%.3f", st.RateHz)
				c.CV = f(st.CVISI, "%.3f")
				c.First = "–"
				if st.FirstSpikeMs >= 0 {
					c.First = fmt.Sprintf("%.2f", st.FirstSpikeMs)
				}
				c.DRate, c.DVR = f(st.RateDiffHz, "%+.3f"), f(st.VanRossum, "%.3f")
				// A system diverges visibly when its rate moves by more
				// than a tenth of the reference's, or by 1 Hz.
				if st.RateDiffHz != nil {
					ref := st.RateHz - *st.RateDiffHz
					c.Diverges = math.Abs(*st.RateDiffHz) > math.Max(1, 0.1*math.Abs(ref))
				}
			}
			row.Cells = append(row.Cells, c)
		}
		rows = append(rows, row)
	}
	return rows
}

// rasters draws the spikes as a row per population label and a column per
// platform, on one time axis (the longest simulation).
func rasters(runs []compare.Spikes) []rasterRow {
	var labels []string
	seen := map[string]bool{}
	tmax := 0.0
	for _, r := range runs {
		tmax = math.Max(tmax, r.SimulatedMs)
		for _, p := range r.Pops {
			if !seen[p.Label] {
				seen[p.Label] = true
				labels = append(labels, p.Label)
			}
			for _, tr := range p.Trains {
				if n := len(tr); n > 0 {
					tmax = math.Max(tmax, tr[n-1])
				}
			}
		}
	}
	if !(tmax > 0) {
		tmax = 1
	}
	var rows []rasterRow
	for _, l := range labels {
		row := rasterRow{Label: l}
		for _, r := range runs {
			c := raster{Platform: r.Platform, Label: l, W: rasterW, H: rasterH, TMax: fmt.Sprintf("%g ms", tmax)}
			k := -1
			for i := range r.Pops {
				if r.Pops[i].Label == l {
					k = i
					break
				}
			}
			switch {
			case r.Refused != "":
				c.Missing = "did not run"
			case k < 0:
				c.Missing = "no such population"
			case r.Pops[k].Trains == nil:
				c.Missing = "spikes not recorded"
			default:
				p := r.Pops[k]
				n := max(p.Size, len(p.Trains), 1)
				c.Neurons = n
				var d strings.Builder
				for i, tr := range p.Trains {
					y := rasterH - 4 - (rasterH-8)*float64(i)/float64(n)
					for _, t := range tr {
						if c.Spikes >= maxRasterSpikes {
							c.Cut = true
							break
						}
						if !(t >= 0) || math.IsInf(t, 0) {
							continue
						}
						fmt.Fprintf(&d, "M%.1f %.1fv-2", 2+(rasterW-4)*t/tmax, y)
						c.Spikes++
					}
				}
				c.D = d.String()
			}
			row.Cells = append(row.Cells, c)
		}
		rows = append(rows, row)
	}
	return rows
}
