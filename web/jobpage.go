package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/nmpi"
)

// logTail is how much of a log the job page shows; the rest is a link away.
const logTail = 64 << 10

// maxFigures is how many of a job's images its page shows.
const maxFigures = 12

type fileRow struct {
	nmpi.DataItem
	Href   string
	Figure bool
}

type jobView struct {
	Job        nmpi.Job
	Log        string
	LogSize    int
	LogCut     bool
	LogShown   int64
	LogTotal   int64
	Running    bool
	CanEdit    bool
	Files      []fileRow
	Figures    []fileRow
	Summary    bool
	Provenance string
	Resources  map[string]any
	Hardware   string
	Inputs     []nmpi.DataItem
	Prov       map[string]any
	// Compare is the comparison the job belongs to (its tag compare:ID), when the server runs comparisons.
	Compare string
}

func jobID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, pagef(http.StatusNotFound, "%q is not a job number.", r.PathValue("id"))
	}
	return id, nil
}

func (w *Web) handleJob(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	var j nmpi.Job
	if err := s.api.do(r.Context(), http.MethodGet, fmt.Sprintf("/jobs/%d?with_comments=true", id), nil, &j); err != nil {
		return err
	}
	var log string
	if err := s.api.do(r.Context(), http.MethodGet, fmt.Sprintf("/jobs/%d/log", id), nil, &log); err != nil {
		return err
	}
	v := jobView{Job: j, LogSize: len(log), Running: !j.Ended(), CanEdit: s.CanEdit(j.Collab) || j.UserID == s.Username}
	if w.cmp != nil {
		v.Compare = compareIDOf(j.Tags)
	}
	if len(log) > logTail {
		cut := len(log) - logTail
		for cut < len(log) && log[cut-1] != '\n' && len(log)-cut > logTail-4096 {
			cut++ // start at a line
		}
		log, v.LogCut = log[cut:], true
	}
	v.Log, v.LogShown, v.LogTotal = log, int64(len(log)), int64(v.LogSize)
	for _, f := range j.Files() {
		row := fileRow{DataItem: f, Href: fmt.Sprintf("%s/jobs/%d/files/%s", Prefix, id, escapePath(f.Path))}
		if f.Path == nmpi.SummaryPath {
			v.Summary = true
		} else if isFigure(f.Path) && len(v.Figures) < maxFigures {
			row.Figure = true
			fig := row
			fig.Href = fmt.Sprintf("%s/jobs/%d/figure/%s", Prefix, id, escapePath(f.Path))
			v.Figures = append(v.Figures, fig)
		}
		v.Files = append(v.Files, row)
	}
	if len(j.Provenance) > 0 && string(j.Provenance) != "null" {
		var buf bytes.Buffer
		if json.Indent(&buf, j.Provenance, "", "  ") == nil {
			v.Provenance = buf.String()
		}
		_ = json.Unmarshal(j.Provenance, &v.Prov)
		if res, ok := v.Prov["resources"].(map[string]any); ok {
			v.Resources = res
		}
	}
	if len(j.HardwareConfig) > 0 && string(j.HardwareConfig) != "null" {
		v.Hardware = string(j.HardwareConfig)
	}
	v.Inputs, _ = j.Inputs()
	w.render(rw, r, s, http.StatusOK, "job", v)
	return nil
}

func isFigure(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp":
		return true
	}
	return false
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// handleJobLogText serves the whole log as text. It is the job's output, so
// it is served as plain text that nothing renders (nosniff, a sandbox CSP).
func (w *Web) handleJobLogText(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	var log string
	if err := s.api.do(r.Context(), http.MethodGet, fmt.Sprintf("/jobs/%d/log", id), nil, &log); err != nil {
		return err
	}
	userContentHeaders(rw, "text/plain; charset=utf-8")
	_, _ = io.WriteString(rw, log)
	return nil
}

// userContentHeaders mark an answer as a job's content: never run, framed or
// sniffed into something that runs in this origin.
func userContentHeaders(rw http.ResponseWriter, contentType string) {
	h := rw.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// handleJobLogEvents streams the log as server-sent events: every second the
// text added since the offset the page has (its Last-Event-ID after a
// reconnection), and an "end" event with the job's final status.
func (w *Web) handleJobLogEvents(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	if le := r.Header.Get("Last-Event-ID"); le != "" {
		offset, _ = strconv.Atoi(le)
	}
	var j nmpi.Job
	if err := s.api.do(r.Context(), http.MethodGet, fmt.Sprintf("/jobs/%d", id), nil, &j); err != nil {
		return err
	}
	fl, _ := rw.(http.Flusher)
	rw.Header().Set("Content-Type", "text/event-stream")
	rw.Header().Set("X-Accel-Buffering", "no")
	rw.WriteHeader(http.StatusOK)
	send := func(event string, id int, data any) {
		b, _ := json.Marshal(data)
		if id >= 0 {
			fmt.Fprintf(rw, "id: %d\n", id)
		}
		fmt.Fprintf(rw, "event: %s\ndata: %s\n\n", event, b)
		if fl != nil {
			fl.Flush()
		}
	}
	// A connection lasts at most 10 minutes; the browser reconnects where it was.
	deadline := w.cfg.Now().Add(10 * time.Minute)
	status := r.URL.Query().Get("status")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var log string
		if err := s.api.do(r.Context(), http.MethodGet, fmt.Sprintf("/jobs/%d/log", id), nil, &log); err != nil {
			send("failure", -1, apiMessage(err))
			return nil
		}
		if len(log) < offset {
			// The server keeps the log's tail: it was cut at the front.
			send("reset", len(log), map[string]any{"text": tailText(log), "offset": len(log)})
			offset = len(log)
		} else if len(log) > offset {
			send("log", len(log), map[string]any{"text": log[offset:], "offset": len(log)})
			offset = len(log)
		}
		if j.Status != status && !j.Ended() {
			send("status", -1, map[string]any{"status": j.Status})
			status = j.Status
		}
		if j.Ended() {
			send("end", -1, map[string]any{"status": j.Status})
			return nil
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
		}
		if w.cfg.Now().After(deadline) {
			return nil
		}
		if err := s.api.do(r.Context(), http.MethodGet, fmt.Sprintf("/jobs/%d", id), nil, &j); err != nil {
			send("failure", -1, apiMessage(err))
			return nil
		}
	}
}

func tailText(log string) string {
	if len(log) > logTail {
		return log[len(log)-logTail:]
	}
	return log
}

// handleJobFile serves an output file as a download: whatever it holds, the
// browser saves it and never shows it in this origin.
func (w *Web) handleJobFile(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	p := r.PathValue("path")
	resp, err := s.api.open(r.Context(), fmt.Sprintf("/files/%d/%s", id, escapePath(p)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	userContentHeaders(rw, "application/octet-stream")
	rw.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(path.Base(p)))
	if cl := resp.Header.Get("Content-Length"); cl != "" {
		rw.Header().Set("Content-Length", cl)
	}
	_, _ = io.Copy(rw, resp.Body)
	return nil
}

// maxFigureBytes caps an image the job page shows.
const maxFigureBytes = 32 << 20

// handleJobFigure serves an image the job wrote, for the job page's <img>:
// only raster images (PNG, JPEG, GIF, WebP, recognised by their first bytes),
// which a browser never runs. Anything else answers 415.
func (w *Web) handleJobFigure(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	resp, err := s.api.open(r.Context(), fmt.Sprintf("/files/%d/%s", id, escapePath(r.PathValue("path"))))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFigureBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxFigureBytes {
		return pagef(http.StatusRequestEntityTooLarge, "this image is larger than %s; download it instead", humanBytes(maxFigureBytes))
	}
	ct := imageType(data)
	if ct == "" {
		return pagef(http.StatusUnsupportedMediaType, "this file is not a PNG, JPEG, GIF or WebP image; download it instead")
	}
	userContentHeaders(rw, ct)
	rw.Header().Set("Cache-Control", "private, max-age=300")
	_, _ = rw.Write(data)
	return nil
}

func imageType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// maxSummaryBytes caps the data summary the plots read.
const maxSummaryBytes = 16 << 20

// handleJobSummary serves the job's data summary (nmpi.SummaryPath) as JSON
// for the plots, after checking it is JSON.
func (w *Web) handleJobSummary(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	resp, err := s.api.open(r.Context(), fmt.Sprintf("/files/%d/%s", id, nmpi.SummaryPath))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSummaryBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxSummaryBytes || !json.Valid(data) {
		return pagef(http.StatusUnprocessableEntity, "the job's data summary is not valid JSON of at most %s", humanBytes(maxSummaryBytes))
	}
	userContentHeaders(rw, "application/json")
	_, _ = rw.Write(data)
	return nil
}

func (w *Web) back(rw http.ResponseWriter, r *http.Request, id int64, flash string) {
	http.Redirect(rw, r, fmt.Sprintf("%s/jobs/%d?flash=%s", Prefix, id, urlQuery(flash)), http.StatusSeeOther)
}

func (w *Web) handleJobRemove(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	if err := s.api.do(r.Context(), http.MethodDelete, fmt.Sprintf("/jobs/%d", id), nil, nil); err != nil {
		return err
	}
	http.Redirect(rw, r, Prefix+"/jobs?flash="+urlQuery(fmt.Sprintf("Job %d removed.", id)), http.StatusSeeOther)
	return nil
}

func (w *Web) handleJobResubmit(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	var j nmpi.Job
	if err := s.api.do(r.Context(), http.MethodGet, fmt.Sprintf("/jobs/%d", id), nil, &j); err != nil {
		return err
	}
	body := map[string]any{"code": j.Code, "command": j.Command, "collab": j.Collab, "hardware_platform": j.HardwarePlatform, "tags": j.Tags}
	if len(j.HardwareConfig) > 0 && string(j.HardwareConfig) != "null" {
		body["hardware_config"] = j.HardwareConfig
	}
	if len(j.InputData) > 0 && string(j.InputData) != "null" {
		body["input_data"] = j.InputData
	}
	var nj nmpi.Job
	if err := s.api.do(r.Context(), http.MethodPost, "/jobs", body, &nj); err != nil {
		return err
	}
	w.back(rw, r, nj.ID, fmt.Sprintf("Job %d submitted again as job %d.", id, nj.ID))
	return nil
}

func (w *Web) handleJobCopy(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	var ds nmpi.DataSet
	if err := s.api.do(r.Context(), http.MethodPut, fmt.Sprintf("/jobs/%d/output_data", id), map[string]string{"repository": "nmp collab storage"}, &ds); err != nil {
		return err
	}
	w.back(rw, r, id, fmt.Sprintf("%d output files are kept in the collab's storage until they are deleted (they still count against its storage quota).", len(ds.Files)))
	return nil
}

func (w *Web) handleJobComment(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	content := strings.TrimSpace(r.PostFormValue("content"))
	if content == "" {
		return pagef(http.StatusUnprocessableEntity, "Comment: write something first.")
	}
	if err := s.api.do(r.Context(), http.MethodPost, fmt.Sprintf("/jobs/%d/comments", id), map[string]string{"content": content}, nil); err != nil {
		return err
	}
	w.back(rw, r, id, "Comment added.")
	return nil
}

func (w *Web) handleJobTags(rw http.ResponseWriter, r *http.Request, s *session) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	if add := splitTags(r.PostFormValue("add")); len(add) > 0 {
		if err := s.api.do(r.Context(), http.MethodPost, fmt.Sprintf("/jobs/%d/tags", id), add, nil); err != nil {
			return err
		}
	}
	if rm := r.PostFormValue("remove"); rm != "" {
		if err := s.api.do(r.Context(), http.MethodDelete, fmt.Sprintf("/jobs/%d/tags", id), []string{rm}, nil); err != nil {
			return err
		}
	}
	w.back(rw, r, id, "Tags changed.")
	return nil
}
