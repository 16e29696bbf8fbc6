package benchmark

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nmp-platform/nmp/benchmark/compare"
	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/nmpi"
)

// The compare API (docs/benchmarks.md): POST /compare/ submits one PyNN
// script as one normal job per platform, as the caller and charged to the
// caller's collab; GET /compare/{id} reads the jobs back and, once all have
// ended, compares their recorded simulations (package compare) as nmp
// compare does on one machine.
//
// A comparison keeps no state of its own: its jobs carry the tags
// "compare" and "compare:ID", and everything else is read from them. Each
// job runs the script under a small Python wrapper that sets
// NMP_SIMSERVER_RECORD, so that nmp simserver records every simulation into
// the job's directory (RecordDir), whose files the worker uploads as the
// job's outputs like any other.

// RecordDir is the directory of a compare job's recorded simulations.
const RecordDir = "nmp-compare-record"

// compareWrapper runs the script (argv[1], with the rest as its arguments)
// as __main__ with NMP_SIMSERVER_RECORD set, the way nmp compare runs it.
const compareWrapper = `import os, runpy, sys; d = os.path.abspath("` + RecordDir + `"); os.makedirs(d, exist_ok=True); ` +
	`os.environ["NMP_SIMSERVER_RECORD"] = d; sys.argv = sys.argv[1:]; ` +
	`sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0]))); runpy.run_path(sys.argv[0], run_name="__main__")`

// Limits of the compare API.
const (
	// MaxRecordBytes bounds one recorded file a comparison downloads.
	MaxRecordBytes = 256 << 20
	// compareCacheSize is how many finished comparisons stay in memory.
	compareCacheSize = 32
)

// CompareRequest is the body of POST /compare/.
type CompareRequest struct {
	// Collab pays for the jobs; the caller must be allowed to submit to it.
	Collab string `json:"collab"`
	// Code is the script's text, or the URL of the code (an archive
	// uploaded with POST /code, as nmp submit DIR does, or a repository).
	Code string `json:"code"`
	// Script is the file to run in the code (default run.py; a script
	// sent as text is run.py).
	Script string `json:"script,omitempty"`
	// Args follow the backend on the script's command line.
	Args []string `json:"args,omitempty"`
	// Platforms to run on (default: every one that runs here); the
	// reference is always among them.
	Platforms []string `json:"platforms,omitempty"`
	// WallClockS limits each job's duration (hardware_config.limits.wall_clock_s;
	// 0: the worker's default).
	WallClockS float64 `json:"wall_clock_s,omitempty"`
}

// ComparePlatform is a platform a comparison may run on (GET /compare/platforms).
type ComparePlatform struct {
	Name    string `json:"name"`
	Backend string `json:"backend"`
	System  string `json:"system"`
}

// Comparer serves /compare. It talks to the job queue's API at Server with
// the caller's own token, so the queue's rules (collab roles, quotas, who
// may read which job) apply to comparisons unchanged.
type Comparer struct {
	// Server is the job queue API's URL.
	Server string
	// Platforms are those a comparison runs on (System set; the one whose
	// System is "reference" is compared with the others).
	Platforms []Platform
	// HTTP downloads the jobs' output files (default: http.DefaultClient).
	HTTP   *http.Client
	Logger *slog.Logger

	mu    sync.Mutex
	cache map[string]*compared
	order []string
}

// compared is a finished comparison: its report and the runs behind it,
// for the jobs it was made from.
type compared struct {
	jobs string
	tau  float64
	rep  *compare.Report
	runs []*compare.Run
}

var (
	compareIDRE = regexp.MustCompile(`^[0-9a-f]{16}$`)
	urlRE       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://`)
)

// ServeHTTP implements http.Handler for /compare and below.
func (cm *Comparer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.Trim(strings.TrimPrefix(r.URL.Path, "/compare"), "/")
	err := cm.serve(w, r, p)
	if err == nil {
		return
	}
	status, msg := http.StatusInternalServerError, err.Error()
	var he *httpError
	var ne *nmpi.Error
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.As(err, &ne) && ne.Status >= 400 && ne.Status < 500:
		status = ne.Status
	default:
		if cm.Logger != nil {
			cm.Logger.Error("compare API", "error", err)
		}
		msg = "internal error (the server's log has the details)"
	}
	_ = writeJSON(w, status, map[string]string{"detail": msg})
}

func (cm *Comparer) serve(w http.ResponseWriter, r *http.Request, p string) error {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return &httpError{http.StatusUnauthorized, "the compare API needs a user's token (Authorization: Bearer ...): its jobs are the caller's"}
	}
	c := client.New(cm.Server, strings.TrimSpace(tok))
	id, sub, _ := strings.Cut(p, "/")
	switch {
	case p == "" && r.Method == http.MethodPost:
		return cm.create(w, r, c)
	case p == "platforms" && r.Method == http.MethodGet:
		// What a comparison may run on, the reference first (the web
		// interface's form offers these).
		plats, err := cm.choose(nil)
		if err != nil {
			return err
		}
		out := make([]ComparePlatform, len(plats))
		for i, p := range plats {
			out[i] = ComparePlatform(p)
		}
		return writeJSON(w, http.StatusOK, out)
	case id != "" && r.Method == http.MethodGet:
		if !compareIDRE.MatchString(id) {
			return &httpError{http.StatusNotFound, fmt.Sprintf("%q is not a comparison's id", id)}
		}
		tau := 5.0
		if v := r.URL.Query().Get("tau"); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0) || f > 1e6 {
				return badRequest(fmt.Errorf("tau: %q is not a time constant in ms (a positive number)", v))
			}
			tau = f
		}
		doc, done, err := cm.read(r.Context(), c, id, r.URL.Query().Get("collab"), tau)
		if err != nil {
			return err
		}
		switch sub {
		case "":
			return writeJSON(w, http.StatusOK, doc)
		case "spikes":
			if done == nil {
				return &httpError{http.StatusConflict, fmt.Sprintf("comparison %s is still running", id)}
			}
			return writeJSON(w, http.StatusOK, SpikesOf(done.runs))
		case "page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, err := io.WriteString(w, comparePage(doc, done))
			return err
		}
	}
	return &httpError{http.StatusNotFound, fmt.Sprintf("no %s %s in the compare API (docs/benchmarks.md)", r.Method, r.URL.Path)}
}

// create submits the script on every platform asked for.
func (cm *Comparer) create(w http.ResponseWriter, r *http.Request, c *client.Client) error {
	var req CompareRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.Collab) == "":
		return badRequest(errors.New("collab: required (the collab whose quota pays for the jobs)"))
	case strings.TrimSpace(req.Code) == "":
		return badRequest(errors.New("code: required (the script, or the URL of its code)"))
	}
	script := req.Script
	if !urlRE.MatchString(strings.TrimSpace(req.Code)) {
		// A pasted script is saved as run.py (the worker's rule for a
		// command that names no script of its own).
		if script != "" && script != "run.py" {
			return badRequest(fmt.Errorf("script: a script sent as text is run as run.py, not %q (send the code's URL to run another file)", script))
		}
		script = "run.py"
	}
	if script == "" {
		script = "run.py"
	}
	if err := checkWord("script", script); err != nil {
		return err
	}
	if path.IsAbs(script) || strings.HasPrefix(path.Clean(script), "..") {
		return badRequest(fmt.Errorf("script: %q is not a path inside the code", script))
	}
	for i, a := range req.Args {
		if err := checkWord(fmt.Sprintf("args[%d]", i), a); err != nil {
			return err
		}
	}
	var hwConfig map[string]any
	switch {
	case req.WallClockS < 0 || req.WallClockS > 7*24*3600:
		return badRequest(fmt.Errorf("wall_clock_s: %g is not a duration in seconds between 0 and one week", req.WallClockS))
	case req.WallClockS > 0:
		hwConfig = map[string]any{"limits": map[string]any{"wall_clock_s": req.WallClockS}}
	}
	plats, err := cm.choose(req.Platforms)
	if err != nil {
		return err
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	words := []string{"python3", "-c", "'" + compareWrapper + "'", "'" + script + "'", "{system}"}
	for _, a := range req.Args {
		words = append(words, "'"+a+"'")
	}
	command := strings.Join(words, " ")
	doc := compare.Doc{ID: id, Status: "running", Links: links(id)}
	submitted := 0
	for _, p := range plats {
		j, err := c.Submit(r.Context(), &client.Submission{Code: req.Code, Command: command, Platform: p.Name, Collab: req.Collab,
			HardwareConfig: hwConfig, Tags: []string{"compare", "compare:" + id}})
		if err != nil {
			var ne *nmpi.Error
			if !errors.As(err, &ne) {
				return err
			}
			if submitted == 0 && (ne.Status == http.StatusNotFound || ne.Status == http.StatusUnauthorized) {
				return err // the collab is not the caller's, or the token is bad: nothing to compare
			}
			doc.Jobs = append(doc.Jobs, compare.Job{Platform: p.Name, Status: "not submitted", Error: ne.Detail})
			continue
		}
		submitted++
		doc.Jobs = append(doc.Jobs, compare.Job{Platform: p.Name, JobID: j.ID, Status: j.Status})
	}
	if submitted == 0 {
		return &httpError{http.StatusForbidden, "no platform took the script: " + doc.Jobs[0].Error}
	}
	// A comparison is its jobs, so a platform that has none is recorded as
	// a comment on the first job submitted, where GET /compare/{id} (and
	// the job's page) reads it back.
	first := int64(0)
	for _, j := range doc.Jobs {
		if j.JobID != 0 {
			first = j.JobID
			break
		}
	}
	for _, j := range doc.Jobs {
		if j.JobID != 0 {
			continue
		}
		if err := c.Comment(r.Context(), first, notSubmittedComment(j.Platform, j.Error)); err != nil && cm.Logger != nil {
			cm.Logger.Warn("compare: the platform left out is not recorded with the comparison", "compare", id, "platform", j.Platform, "job", first, "error", err)
		}
	}
	w.Header().Set("Location", "/compare/"+id)
	return writeJSON(w, http.StatusAccepted, doc)
}

// notSubmittedPrefix starts the comment that records a platform whose job
// could not be submitted: "nmp compare: PLATFORM was not submitted: REASON".
const (
	notSubmittedPrefix = "nmp compare: "
	notSubmittedInfix  = " was not submitted: "
)

func notSubmittedComment(platform, reason string) string {
	if reason == "" {
		reason = "the queue refused it"
	}
	return notSubmittedPrefix + platform + notSubmittedInfix + reason
}

// parseNotSubmitted reads a comment notSubmittedComment wrote.
func parseNotSubmitted(content string) (platform, reason string, ok bool) {
	rest, ok := strings.CutPrefix(content, notSubmittedPrefix)
	if !ok {
		return "", "", false
	}
	platform, reason, ok = strings.Cut(rest, notSubmittedInfix)
	return platform, reason, ok && platform != ""
}

// checkWord refuses what cannot be one single-quoted word of a job's command.
func checkWord(field, s string) error {
	if s == "" || len(s) > 1000 || strings.ContainsAny(s, "'\\{}") || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return badRequest(fmt.Errorf("%s: %q must be 1 to 1000 characters without quotes, backslashes, braces or control characters", field, s))
	}
	return nil
}

// choose returns the platforms to run on, the reference first.
func (cm *Comparer) choose(names []string) ([]Platform, error) {
	var out []Platform
	if len(names) == 0 {
		out = append(out, cm.Platforms...)
	} else {
		seen := map[string]bool{}
		for _, n := range names {
			var found *Platform
			for i := range cm.Platforms {
				if strings.EqualFold(cm.Platforms[i].Name, n) {
					found = &cm.Platforms[i]
				}
			}
			if found == nil {
				return nil, badRequest(fmt.Errorf("platforms: %q is not a platform that runs here (%s)", n, strings.Join(platformNames(cm.Platforms), ", ")))
			}
			if !seen[found.Name] {
				seen[found.Name] = true
				out = append(out, *found)
			}
		}
		if !seen[cm.reference().Name] && cm.reference().Name != "" {
			out = append(out, cm.reference())
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].System == "reference" && out[j].System != "reference" })
	if len(out) == 0 || out[0].System != "reference" {
		return nil, &httpError{http.StatusServiceUnavailable, "no platform of the reference system runs here, so there is nothing to compare with"}
	}
	return out, nil
}

func (cm *Comparer) reference() Platform {
	for _, p := range cm.Platforms {
		if p.System == "reference" {
			return p
		}
	}
	return Platform{}
}

func links(id string) map[string]string {
	return map[string]string{"self": "/compare/" + id, "page": "/compare/" + id + "/page", "spikes": "/compare/" + id + "/spikes"}
}

// read lists the comparison's jobs as the caller and, once every one has
// ended, compares them (once; the result is kept for the same jobs).
func (cm *Comparer) read(ctx context.Context, c *client.Client, id, collab string, tau float64) (*compare.Doc, *compared, error) {
	q := client.JobQuery{Tags: []string{"compare:" + id}, Size: 100}
	if collab != "" {
		q.Collab = []string{collab}
	}
	jobs, err := c.Jobs(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	if len(jobs) == 0 {
		return nil, nil, &httpError{http.StatusNotFound, fmt.Sprintf("comparison %s: no jobs of it that you may read (add ?collab= for a comparison another member of a collab started)", id)}
	}
	order := map[string]int{}
	for i, p := range cm.Platforms {
		order[p.Name] = i + 1
		if p.System == "reference" {
			order[p.Name] = 0
		}
	}
	skipped, err := cm.notSubmitted(ctx, c, jobs, order)
	if err != nil {
		return nil, nil, err
	}
	sort.SliceStable(jobs, func(i, j int) bool { return order[jobs[i].HardwarePlatform] < order[jobs[j].HardwarePlatform] })
	doc := &compare.Doc{ID: id, Status: "done", Links: links(id)}
	var key strings.Builder
	for _, j := range jobs {
		doc.Jobs = append(doc.Jobs, compare.Job{Platform: j.HardwarePlatform, JobID: j.ID, Status: j.Status})
		if !j.Ended() {
			doc.Status = "running"
		}
		fmt.Fprintf(&key, "%d,", j.ID)
	}
	doc.Jobs = append(doc.Jobs, skipped...)
	sort.SliceStable(doc.Jobs, func(i, j int) bool { return order[doc.Jobs[i].Platform] < order[doc.Jobs[j].Platform] })
	if doc.Status != "done" {
		return doc, nil, nil
	}
	cm.mu.Lock()
	done := cm.cache[id]
	cm.mu.Unlock()
	if done == nil || done.jobs != key.String() || done.tau != tau {
		var runs []*compare.Run
		for i := range jobs {
			run, err := cm.runOf(ctx, c, &jobs[i])
			if err != nil {
				return nil, nil, err
			}
			runs = append(runs, run)
		}
		for _, sj := range skipped {
			run := &compare.Run{Platform: sj.Platform, Refused: "its job was not submitted: " + sj.Error}
			for _, p := range cm.Platforms {
				if p.Name == sj.Platform {
					run.System, run.Backend = p.System, p.Backend
				}
			}
			runs = append(runs, run)
		}
		sort.SliceStable(runs, func(i, j int) bool { return order[runs[i].Platform] < order[runs[j].Platform] })
		done = &compared{jobs: key.String(), tau: tau, rep: compare.Compare(runs, tau), runs: runs}
		cm.keep(id, done)
	}
	doc.Report = done.rep
	doc.Text = done.rep.Text()
	return doc, done, nil
}

// notSubmitted reads the platforms create left out, from the comments of
// the comparison's first job (the one with the lowest id), keeping those
// that name a platform of this comparer which has no job in it.
func (cm *Comparer) notSubmitted(ctx context.Context, c *client.Client, jobs []client.Job, order map[string]int) ([]compare.Job, error) {
	first := jobs[0].ID
	has := map[string]bool{}
	for _, j := range jobs {
		first = min(first, j.ID)
		has[j.HardwarePlatform] = true
	}
	comments, err := c.Comments(ctx, first)
	if err != nil {
		return nil, fmt.Errorf("comparison's job %d: comments: %w", first, err)
	}
	var out []compare.Job
	for _, cmt := range comments {
		p, reason, ok := parseNotSubmitted(cmt.Content)
		if _, known := order[p]; !ok || !known || has[p] {
			continue
		}
		has[p] = true
		out = append(out, compare.Job{Platform: p, Status: "not submitted", Error: reason})
	}
	return out, nil
}

func (cm *Comparer) keep(id string, c *compared) {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if cm.cache == nil {
		cm.cache = map[string]*compared{}
	}
	if _, ok := cm.cache[id]; !ok {
		cm.order = append(cm.order, id)
	}
	cm.cache[id] = c
	for len(cm.order) > compareCacheSize {
		delete(cm.cache, cm.order[0])
		cm.order = cm.order[1:]
	}
}

// runOf reads one ended job's recorded simulations.
func (cm *Comparer) runOf(ctx context.Context, c *client.Client, j *client.Job) (*compare.Run, error) {
	r := &compare.Run{Platform: j.HardwarePlatform, JobID: j.ID}
	for _, p := range cm.Platforms {
		if p.Name == j.HardwarePlatform {
			r.System, r.Backend = p.System, p.Backend
		}
	}
	if j.Status != nmpi.StatusFinished {
		// The reason, as the benchmark runs give it: the job's error and
		// the last line of its own log (Python's exception).
		var prov provenance
		_ = json.Unmarshal(j.Provenance, &prov)
		r.Refused = "job " + j.Status
		if prov.Error != nil {
			r.Refused = prov.Error.Reason
			if l := lastLogLine(prov.Error.LogTail); l != "" {
				r.Refused = l
			}
		} else if full, err := c.Job(ctx, j.ID, true); err == nil && full.Log != nil {
			if l := lastLogLine(*full.Log); l != "" {
				r.Refused = l
			}
		}
	}
	sessions := map[string][2]string{}
	var names []string
	for _, f := range j.Files() {
		dir, file := path.Split(f.Path)
		if dir != RecordDir+"/" {
			continue
		}
		base, ext := strings.TrimSuffix(file, path.Ext(file)), path.Ext(file)
		s, ok := sessions[base]
		if !ok {
			names = append(names, base)
		}
		switch ext {
		case ".in":
			s[0] = f.URL
		case ".out":
			s[1] = f.URL
		}
		sessions[base] = s
	}
	sort.Strings(names)
	read := 0
	for _, n := range names {
		s := sessions[n]
		if s[0] == "" || s[1] == "" {
			continue
		}
		in, err := cm.download(ctx, s[0])
		if err != nil {
			return nil, fmt.Errorf("job %d: %s/%s.in: %w", j.ID, RecordDir, n, err)
		}
		out, err := cm.download(ctx, s[1])
		if err != nil {
			return nil, fmt.Errorf("job %d: %s/%s.out: %w", j.ID, RecordDir, n, err)
		}
		if err := r.ReadSession(bytes.NewReader(in), bytes.NewReader(out)); err != nil && r.Refused == "" {
			r.Refused = fmt.Sprintf("its simulations could not be read: %s: %v", n, err)
		}
		read++
	}
	if read == 0 && r.Refused == "" {
		r.Refused = "the script ran no simulation through nmp"
	}
	return r, nil
}

func (cm *Comparer) download(ctx context.Context, u string) ([]byte, error) {
	hc := cm.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	return getBounded(ctx, hc, u, MaxRecordBytes)
}

// SpikesOf is the runs' spikes, per platform and population.
func SpikesOf(runs []*compare.Run) []compare.Spikes {
	out := []compare.Spikes{}
	for _, r := range runs {
		s := compare.Spikes{Platform: r.Platform, Refused: r.Refused, SimulatedMs: r.SimulatedMs}
		for _, p := range r.Populations {
			s.Pops = append(s.Pops, struct {
				Label  string      `json:"label"`
				Size   int         `json:"size"`
				Trains [][]float64 `json:"trains"`
			}{p.Label, p.Size, p.Trains})
		}
		out = append(out, s)
	}
	return out
}
