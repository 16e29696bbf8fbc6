package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/platform"
)

// The resource request's limits, as the guidebook's form states them and the
// API enforces them.
const (
	maxTitle       = 200
	maxAbstract    = 500
	maxDescription = 10000
)

type quotaRow struct {
	nmpi.Quota
	Percent, Held float64
	High          float64 // where the bar turns to a warning: 90 % of the limit
}

type requestRow struct {
	nmpi.Project
	Quotas []quotaRow
}

type resourcesView struct {
	Requests  []requestRow
	Usage     []quotaRow // per platform, summed over the accepted requests
	CanSubmit bool
	// Storage: the collab's kept files (copy_data_to_storage), the first page.
	Storage *nmpi.CollabStorage
}

func quotaRowOf(q nmpi.Quota) quotaRow {
	return quotaRow{Quota: q, Percent: percent(q.Usage, q.Limit), Held: percent(q.Reserved, q.Limit), High: 0.9 * q.Limit}
}

func (w *Web) handleResources(rw http.ResponseWriter, r *http.Request, s *session) error {
	rememberCollab(rw, r, s)
	var ps []nmpi.Project
	if err := s.api.do(r.Context(), http.MethodGet, "/projects?size=1000&collab="+url.QueryEscape(s.current), nil, &ps); err != nil {
		return err
	}
	v := resourcesView{CanSubmit: s.CanEdit(s.current)}
	sum := map[string]*nmpi.Quota{}
	for _, p := range ps {
		row := requestRow{Project: p}
		for _, q := range p.Quotas {
			row.Quotas = append(row.Quotas, quotaRowOf(q))
			if p.Status == "accepted" {
				t := sum[q.Platform]
				if t == nil {
					t = &nmpi.Quota{Platform: q.Platform, Units: q.Units}
					sum[q.Platform] = t
				}
				t.Limit += q.Limit
				t.Usage += q.Usage
				t.Reserved += q.Reserved
			}
		}
		v.Requests = append(v.Requests, row)
	}
	for _, q := range sum {
		v.Usage = append(v.Usage, quotaRowOf(*q))
	}
	sort.Slice(v.Usage, func(i, j int) bool { return v.Usage[i].Platform < v.Usage[j].Platform })
	var st nmpi.CollabStorage
	if err := s.api.do(r.Context(), http.MethodGet, "/collabs/"+url.PathEscape(s.current)+"/storage?size=100", nil, &st); err == nil {
		v.Storage = &st
	} else if apiStatus(err) != http.StatusNotFound {
		return err
	}
	w.render(rw, r, s, http.StatusOK, "resources", v)
	return nil
}

// handleKeptDelete deletes a kept file of the current collab (the API says
// who may: the job's owner, the collab's editors), freeing its storage.
func (w *Web) handleKeptDelete(rw http.ResponseWriter, r *http.Request, s *session) error {
	collab, job, path := r.PostFormValue("collab"), r.PostFormValue("job"), r.PostFormValue("path")
	id, err := strconv.ParseInt(job, 10, 64)
	if err != nil || id <= 0 || path == "" || collab == "" {
		return pagef(http.StatusBadRequest, "Which kept file? The form lacks its collab, job or path.")
	}
	if err := s.api.do(r.Context(), http.MethodDelete, fmt.Sprintf("/collabs/%s/storage/%d/%s", url.PathEscape(collab), id, (&url.URL{Path: path}).EscapedPath()), nil, nil); err != nil {
		return err
	}
	msg := fmt.Sprintf("%s of job %d deleted from the collab's storage.", path, id)
	http.Redirect(rw, r, Prefix+"/resources?collab="+url.QueryEscape(collab)+"&flash="+urlQuery(msg), http.StatusSeeOther)
	return nil
}

type requestForm struct {
	ID, Collab, Title, Abstract, Description, Access, Status string
	Error, Field                                             string
	Editable                                                 bool
	MaxTitle, MaxAbstract, MaxDescription                    int
	Collabs                                                  []string
}

func (w *Web) handleRequestForm(rw http.ResponseWriter, r *http.Request, s *session) error {
	f := requestForm{Collab: s.current, Access: "test", Editable: true}
	if id := r.PathValue("id"); id != "" {
		var p nmpi.Project
		if err := s.api.do(r.Context(), http.MethodGet, "/projects/"+url.PathEscape(id), nil, &p); err != nil {
			return err
		}
		f = requestForm{ID: p.ID, Collab: p.Collab, Title: p.Title, Abstract: p.Abstract, Access: p.Access, Status: p.Status,
			Editable: p.Status == "in preparation" && s.CanEdit(p.Collab)}
		if p.Description != nil {
			f.Description = *p.Description
		}
	}
	return w.showRequestForm(rw, r, s, http.StatusOK, &f)
}

func (w *Web) showRequestForm(rw http.ResponseWriter, r *http.Request, s *session, status int, f *requestForm) error {
	f.MaxTitle, f.MaxAbstract, f.MaxDescription = maxTitle, maxAbstract, maxDescription
	for _, c := range s.Collabs {
		if s.CanEdit(c) {
			f.Collabs = append(f.Collabs, c)
		}
	}
	w.render(rw, r, s, status, "request", f)
	return nil
}

func (w *Web) handleRequestSave(rw http.ResponseWriter, r *http.Request, s *session) error {
	f := requestForm{ID: r.PathValue("id"), Collab: r.PostFormValue("collab"), Title: strings.TrimSpace(r.PostFormValue("title")),
		Abstract: r.PostFormValue("abstract"), Description: r.PostFormValue("description"), Access: r.PostFormValue("access"), Editable: true}
	submit := r.PostFormValue("action") == "submit"
	bad := func(field, format string, args ...any) error {
		f.Field, f.Error = field, fmt.Sprintf(format, args...)
		return w.showRequestForm(rw, r, s, http.StatusUnprocessableEntity, &f)
	}
	for _, c := range []struct {
		field, label, v string
		min, max        int
	}{{"title", "Project title", f.Title, 1, maxTitle}, {"abstract", "Abstract", f.Abstract, 1, maxAbstract}, {"description", "Project description", f.Description, 0, maxDescription}} {
		n := utf8.RuneCountInString(c.v)
		if n < c.min {
			return bad(c.field, "%s: required.", c.label)
		}
		if n > c.max {
			return bad(c.field, "%s: at most %d characters (it has %d).", c.label, c.max, n)
		}
	}
	switch f.Access {
	case "test", "preparatory", "project":
	default:
		return bad("access", "Access: choose test, preparatory or project access.")
	}
	body := map[string]any{"title": f.Title, "abstract": f.Abstract, "description": f.Description, "access": f.Access}
	if submit {
		body["status"] = "under review"
	}
	var p nmpi.Project
	var err error
	if f.ID == "" {
		if f.Collab == "" {
			return bad("collab", "Collab: choose the collab the request is for.")
		}
		body["collab"] = f.Collab
		err = s.api.do(r.Context(), http.MethodPost, "/projects", body, &p)
	} else {
		err = s.api.do(r.Context(), http.MethodPut, "/projects/"+url.PathEscape(f.ID), body, &p)
	}
	if err != nil {
		if st := apiStatus(err); st >= 400 && st < 500 && st != http.StatusUnauthorized {
			field, _, _ := strings.Cut(apiMessage(err), ":")
			return bad(field, "%s", apiMessage(err))
		}
		return err
	}
	msg := "Saved: the request stays in preparation until you submit it."
	if submit {
		msg = "Submitted: the administrators review it now."
	}
	http.Redirect(rw, r, Prefix+"/resources?collab="+url.QueryEscape(p.Collab)+"&flash="+urlQuery(msg), http.StatusSeeOther)
	return nil
}

type reviewView struct {
	Requests  []nmpi.Project
	Platforms []string
}

func (w *Web) handleReview(rw http.ResponseWriter, r *http.Request, s *session) error {
	if !s.Admin {
		return pagef(http.StatusForbidden, "Only platform administrators review resource requests.")
	}
	var ps []nmpi.Project
	if err := s.api.do(r.Context(), http.MethodGet, "/projects?size=1000&as_admin=true&status="+url.QueryEscape("under review"), nil, &ps); err != nil {
		return err
	}
	v := reviewView{Requests: ps, Platforms: w.cfg.PlatformTable.Names()}
	v.Platforms = append(v.Platforms, platform.Storage)
	w.render(rw, r, s, http.StatusOK, "review", v)
	return nil
}

// handleReviewDecide accepts a request (with the quotas of its access kind,
// and any the administrator adds) or rejects it with a reason, which is
// written as the request's decision comment.
func (w *Web) handleReviewDecide(rw http.ResponseWriter, r *http.Request, s *session) error {
	if !s.Admin {
		return pagef(http.StatusForbidden, "Only platform administrators review resource requests.")
	}
	id := r.PathValue("id")
	var msg string
	switch r.PostFormValue("decision") {
	case "accept":
		access := r.PostFormValue("access")
		body := map[string]any{"status": "accepted"}
		if access != "" {
			body["access"] = access
		}
		// Extra quotas (project access): validated before anything changes.
		type extra struct {
			platform string
			limit    float64
		}
		var extras []extra
		for i := 0; i < 4; i++ {
			pl := strings.TrimSpace(r.PostFormValue(fmt.Sprintf("quota_platform_%d", i)))
			ls := strings.TrimSpace(r.PostFormValue(fmt.Sprintf("quota_limit_%d", i)))
			if pl == "" && ls == "" {
				continue
			}
			l, err := strconv.ParseFloat(ls, 64)
			if pl == "" || err != nil || l < 0 {
				return pagef(http.StatusUnprocessableEntity, "Quota %d: give a platform and a non-negative limit (got %q, %q).", i+1, pl, ls)
			}
			extras = append(extras, extra{pl, l})
		}
		if err := s.api.do(r.Context(), http.MethodPut, "/projects/"+url.PathEscape(id)+"?as_admin=true", body, nil); err != nil {
			return err
		}
		for _, e := range extras {
			if err := s.api.do(r.Context(), http.MethodPost, "/projects/"+url.PathEscape(id)+"/quotas?as_admin=true",
				map[string]any{"platform": e.platform, "limit": e.limit}, nil); err != nil {
				return err
			}
		}
		msg = "Accepted: the collab has its quotas."
	case "reject":
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		if reason == "" {
			return pagef(http.StatusUnprocessableEntity, "Reason: say why the request is rejected; its authors read it.")
		}
		if utf8.RuneCountInString(reason) > 2000 {
			return pagef(http.StatusUnprocessableEntity, "Reason: at most 2000 characters.")
		}
		if err := s.api.do(r.Context(), http.MethodPut, "/projects/"+url.PathEscape(id)+"?as_admin=true",
			map[string]any{"status": "rejected", "decision_reason": reason}, nil); err != nil {
			return err
		}
		msg = "Rejected, with the reason."
	default:
		return pagef(http.StatusUnprocessableEntity, "Decision: accept or reject.")
	}
	http.Redirect(rw, r, Prefix+"/review?flash="+urlQuery(msg), http.StatusSeeOther)
	return nil
}

type platformRow struct {
	Name, Status, Message, Units, System, Chip string
	Running, Submitted                         int
	Available                                  bool
	Chips                                      []string
	Calibrations                               []calibrationRow
}

// calibrationRow is what the Platforms page says of a chip's calibrations.
type calibrationRow struct {
	Chip string
	// Latest: "#12, 2025-03-14 02:00:04 UTC (failed neurons: spiking 2, spiking2 6)"; "" when none.
	Latest  string
	Failure string // the last failure after the latest, with its error
	Pending string // a calibration queued or running
}

func calibrationRows(cs []nmpi.ChipCalibration) []calibrationRow {
	var out []calibrationRow
	for _, c := range cs {
		row := calibrationRow{Chip: c.Chip}
		if l := c.Latest; l != nil {
			row.Latest = fmt.Sprintf("#%d, %s UTC", l.ID, when(l.Completed))
			var sum struct {
				Presets map[string]struct {
					Failed int `json:"failed_neurons"`
				} `json:"presets"`
			}
			if json.Unmarshal(l.Summary, &sum) == nil && len(sum.Presets) > 0 {
				names := make([]string, 0, len(sum.Presets))
				for n := range sum.Presets {
					names = append(names, n)
				}
				sort.Strings(names)
				var parts []string
				for _, n := range names {
					parts = append(parts, fmt.Sprintf("%s %d", n, sum.Presets[n].Failed))
				}
				row.Latest += " (failed neurons: " + strings.Join(parts, ", ") + ")"
			}
		}
		if f := c.LastFailure; f != nil {
			row.Failure = fmt.Sprintf("#%d failed %s UTC: %s", f.ID, when(f.Completed), f.Error)
		}
		if p := c.Pending; p != nil {
			row.Pending = fmt.Sprintf("#%d %s (%s)", p.ID, p.Status, p.Reason)
		}
		out = append(out, row)
	}
	return out
}

func (w *Web) handlePlatforms(rw http.ResponseWriter, r *http.Request, s *session) error {
	ps, err := w.platforms(r, s)
	if err != nil {
		return err
	}
	var queues []struct {
		Name      string `json:"queue_name"`
		Running   int    `json:"running"`
		Submitted int    `json:"submitted"`
	}
	if err := s.api.do(r.Context(), http.MethodGet, "/statistics/queue-length", nil, &queues); err != nil {
		return err
	}
	var about nmpi.About
	if err := s.api.do(r.Context(), http.MethodGet, "/", nil, &about); err != nil {
		return err
	}
	var rows []platformRow
	for _, p := range ps {
		row := platformRow{Name: p.Name, Status: p.Status, Message: p.Message, Available: p.Available,
			Calibrations: calibrationRows(about.Platforms[p.Name].Calibrations)}
		if t, ok := w.cfg.PlatformTable.Lookup(p.Name); ok {
			row.Units, row.System, row.Chip = t.Units, t.System, t.DefaultChip
		}
		for _, q := range queues {
			if q.Name == p.Name {
				row.Running, row.Submitted = q.Running, q.Submitted
			}
		}
		switch {
		case !p.Available:
		case row.Running > 0:
			row.Status = "busy"
		}
		rows = append(rows, row)
	}
	w.render(rw, r, s, http.StatusOK, "platforms", rows)
	return nil
}
