package web

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nmp-platform/nmp/nmpi"
)

// pageSize is the number of jobs on a page of the list.
const pageSize = 20

// platformChoice is a platform as the forms and filters show it.
type platformChoice struct {
	Name, Status, Message string
	Available             bool
}

// platforms reads the server's platforms and their statuses (GET /).
func (w *Web) platforms(r *http.Request, s *session) ([]platformChoice, error) {
	var about nmpi.About
	if err := s.api.do(r.Context(), http.MethodGet, "/", nil, &about); err != nil {
		return nil, err
	}
	var out []platformChoice
	for name, st := range about.Platforms {
		out = append(out, platformChoice{Name: name, Status: st.Status, Message: st.Message, Available: st.Status == "ok" || st.Status == "degraded"})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Available != out[j].Available {
			return out[i].Available
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

type jobRow struct {
	nmpi.Job
	Excerpt string
}

type jobListView struct {
	Jobs                  []jobRow
	Platforms             []platformChoice
	Statuses              []string
	Tags                  []string
	Status, Platform, Tag string
	Page                  int
	Prev, Next            string
	CanSubmit             bool
}

func (w *Web) handleJobList(rw http.ResponseWriter, r *http.Request, s *session) error {
	rememberCollab(rw, r, s)
	q := r.URL.Query()
	v := jobListView{Status: q.Get("status"), Platform: q.Get("platform"), Tag: q.Get("tag"), Page: 1,
		Statuses: []string{"submitted", "running", "finished", "error", "removed"}, CanSubmit: s.CanEdit(s.current)}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 1 && p < 1_000_000 {
		v.Page = p
	}
	aq := url.Values{"collab": {s.current}, "size": {strconv.Itoa(pageSize + 1)}, "from_index": {strconv.Itoa((v.Page - 1) * pageSize)}}
	if v.Status != "" {
		aq.Set("status", v.Status)
	}
	if v.Platform != "" {
		aq.Set("hardware_platform", v.Platform)
	}
	if v.Tag != "" {
		aq.Set("tags", v.Tag)
	}
	var jobs []nmpi.Job
	if err := s.api.do(r.Context(), http.MethodGet, "/jobs?"+aq.Encode(), nil, &jobs); err != nil {
		return err
	}
	more := len(jobs) > pageSize
	if more {
		jobs = jobs[:pageSize]
	}
	for _, j := range jobs {
		v.Jobs = append(v.Jobs, jobRow{Job: j, Excerpt: excerpt(j.Code, 60)})
	}
	var err error
	if v.Platforms, err = w.platforms(r, s); err != nil {
		return err
	}
	_ = s.api.do(r.Context(), http.MethodGet, "/tags?collab="+url.QueryEscape(s.current), nil, &v.Tags)
	link := func(page int) string {
		l := url.Values{"collab": {s.current}, "page": {strconv.Itoa(page)}}
		for k, val := range map[string]string{"status": v.Status, "platform": v.Platform, "tag": v.Tag} {
			if val != "" {
				l.Set(k, val)
			}
		}
		return Prefix + "/jobs?" + l.Encode()
	}
	if v.Page > 1 {
		v.Prev = link(v.Page - 1)
	}
	if more {
		v.Next = link(v.Page + 1)
	}
	w.render(rw, r, s, http.StatusOK, "jobs", v)
	return nil
}

// jobForm is the New Job form, as sent and as shown again with an error.
type jobForm struct {
	Collab, Platform, Code, CodeURL, Command, HardwareConfig, Inputs, Tags string
	Error, Field                                                           string
	Platforms                                                              []platformChoice
	Collabs                                                                []string
}

func (w *Web) handleJobForm(rw http.ResponseWriter, r *http.Request, s *session) error {
	f := jobForm{Collab: s.current}
	if f.Collab != "" && !s.CanEdit(f.Collab) {
		f.Collab = ""
	}
	return w.showJobForm(rw, r, s, http.StatusOK, &f)
}

func (w *Web) showJobForm(rw http.ResponseWriter, r *http.Request, s *session, status int, f *jobForm) error {
	var err error
	if f.Platforms, err = w.platforms(r, s); err != nil {
		return err
	}
	for _, c := range s.Collabs {
		if s.CanEdit(c) {
			f.Collabs = append(f.Collabs, c)
		}
	}
	w.render(rw, r, s, status, "newjob", f)
	return nil
}

// Bounds of what the New Job form takes.
const (
	maxJobForm    = 64 << 20 // the whole form, files included
	maxCodeText   = 1 << 20  // a pasted or uploaded script
	maxInputs     = 100
	maxUploadDirs = 10000 // files of an uploaded directory
)

func (w *Web) handleJobSubmit(rw http.ResponseWriter, r *http.Request, s *session) error {
	f := jobForm{Collab: r.PostFormValue("collab"), Platform: r.PostFormValue("platform"), Code: r.PostFormValue("code"),
		CodeURL: strings.TrimSpace(r.PostFormValue("code_url")), Command: strings.TrimSpace(r.PostFormValue("command")),
		HardwareConfig: strings.TrimSpace(r.PostFormValue("hardware_config")), Inputs: r.PostFormValue("inputs"), Tags: r.PostFormValue("tags")}
	bad := func(field, format string, args ...any) error {
		f.Field, f.Error = field, fmt.Sprintf(format, args...)
		return w.showJobForm(rw, r, s, http.StatusUnprocessableEntity, &f)
	}
	if f.Collab == "" {
		return bad("collab", "Collab: choose the collab the job belongs to.")
	}
	if f.Platform == "" {
		return bad("platform", "Hardware platform: choose one.")
	}
	body := map[string]any{"collab": f.Collab, "hardware_platform": f.Platform}
	// The code: pasted, an uploaded file or directory, or a URL; exactly one.
	var files []*multipart.FileHeader
	if r.MultipartForm != nil {
		files = append(files, r.MultipartForm.File["code_file"]...)
		files = append(files, r.MultipartForm.File["code_dir"]...)
	}
	forms := 0
	for _, has := range []bool{strings.TrimSpace(f.Code) != "", len(files) > 0, f.CodeURL != ""} {
		if has {
			forms++
		}
	}
	switch {
	case forms == 0:
		return bad("code", "Code: paste the script, upload a file or a directory, or give the URL of a git repository or a zip or tar.gz archive.")
	case forms > 1:
		return bad("code", "Code: give only one of the pasted script, an upload and a URL.")
	case strings.TrimSpace(f.Code) != "":
		if len(f.Code) > maxCodeText {
			return bad("code", "Code: the pasted script has %s; at most %s can be pasted (upload a directory or give a URL instead).", humanBytes(int64(len(f.Code))), humanBytes(maxCodeText))
		}
		body["code"] = f.Code
	case f.CodeURL != "":
		u, err := url.Parse(f.CodeURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "git") || u.Host == "" {
			return bad("code_url", "Code URL: %q is not an http, https or git URL of a repository or archive.", f.CodeURL)
		}
		body["code"] = f.CodeURL
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
	if f.Command != "" {
		if len(f.Command) > 1000 {
			return bad("command", "Command: at most 1000 characters.")
		}
		body["command"] = f.Command
	}
	if f.HardwareConfig != "" {
		var cfg map[string]any
		if err := json.Unmarshal([]byte(f.HardwareConfig), &cfg); err != nil || cfg == nil {
			msg := "it is not a JSON object"
			if err != nil {
				msg = err.Error()
			}
			return bad("hardware_config", "Hardware config: %s (write a JSON object such as {\"limits\": {\"wall_clock_s\": 600}}).", msg)
		}
		body["hardware_config"] = cfg
	}
	var inputs []map[string]string
	for _, line := range strings.Split(f.Inputs, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		u, err := url.Parse(line)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("inputs", "Input files: %q is not an http or https URL (one URL per line).", line)
		}
		inputs = append(inputs, map[string]string{"url": line})
	}
	if len(inputs) > maxInputs {
		return bad("inputs", "Input files: at most %d URLs.", maxInputs)
	}
	if len(inputs) > 0 {
		body["input_data"] = inputs
	}
	if tags := splitTags(f.Tags); len(tags) > 0 {
		body["tags"] = tags
	}
	var j nmpi.Job
	if err := s.api.do(r.Context(), http.MethodPost, "/jobs", body, &j); err != nil {
		if st := apiStatus(err); st >= 400 && st < 500 && st != http.StatusUnauthorized {
			field, _, _ := strings.Cut(apiMessage(err), ":")
			return bad(field, "%s", apiMessage(err))
		}
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("%s/jobs/%d?flash=%s", Prefix, j.ID, urlQuery(fmt.Sprintf("Job %d submitted to %s.", j.ID, j.HardwarePlatform))), http.StatusSeeOther)
	return nil
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// uploadedCode turns uploaded files into the job's code: one script is sent
// as the code itself; an archive, or several files (a directory), is stored
// with POST /code and its URL is the code. msg is what the person is told
// when the upload cannot be used.
func (w *Web) uploadedCode(r *http.Request, s *session, collab string, files []*multipart.FileHeader) (code, msg string, err error) {
	if len(files) > maxUploadDirs {
		return "", fmt.Sprintf("Code: the directory has %d files; at most %d are taken (give a git URL instead).", len(files), maxUploadDirs), nil
	}
	if len(files) == 1 {
		fh := files[0]
		data, err := readPart(fh, maxJobForm)
		if err != nil {
			return "", "", err
		}
		switch {
		case bytes.HasPrefix(data, []byte("PK\x03\x04")):
			return w.storeCode(r, s, collab, data, "application/zip")
		case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
			return w.storeCode(r, s, collab, data, "application/gzip")
		case !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0:
			return "", fmt.Sprintf("Code file: %s is neither a text script nor a zip or tar.gz archive.", fh.Filename), nil
		case len(data) > maxCodeText:
			return "", fmt.Sprintf("Code file: %s has %s; a script may have at most %s (upload its directory instead).", fh.Filename, humanBytes(int64(len(data))), humanBytes(maxCodeText)), nil
		}
		return string(data), "", nil
	}
	// A directory: the browser sends each file with its relative path as its name.
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	root := ""
	for i, fh := range files {
		name := path.Clean(strings.TrimPrefix(strings.ReplaceAll(fh.Filename, "\\", "/"), "/"))
		if name == "." || strings.HasPrefix(name, "../") || name == ".." {
			return "", fmt.Sprintf("Code directory: the file name %q is not a path inside the directory.", fh.Filename), nil
		}
		// Browsers prefix the chosen directory's own name: the code is its contents.
		top, _, _ := strings.Cut(name, "/")
		if i == 0 {
			root = top
		} else if root != top {
			root = ""
		}
		data, err := readPart(fh, maxJobForm)
		if err != nil {
			return "", "", err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return "", "", err
		}
		if _, err := tw.Write(data); err != nil {
			return "", "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", "", err
	}
	if err := gz.Close(); err != nil {
		return "", "", err
	}
	_ = root // the worker takes a single top directory as the code's root
	return w.storeCode(r, s, collab, buf.Bytes(), "application/gzip")
}

func readPart(fh *multipart.FileHeader, max int64) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

func (w *Web) storeCode(r *http.Request, s *session, collab string, data []byte, ct string) (string, string, error) {
	var out nmpi.CodeArchive
	err := s.api.raw(r.Context(), http.MethodPost, "/code?collab="+url.QueryEscape(collab), bytes.NewReader(data), ct, &out)
	if err != nil {
		if st := apiStatus(err); st >= 400 && st < 500 && st != http.StatusUnauthorized {
			return "", "Code upload: " + apiMessage(err), nil
		}
		return "", "", err
	}
	return out.URL, "", nil
}
