package benchmark

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/store"
)

// The API's documents.
type (
	// SourceDoc is a registered source.
	SourceDoc struct {
		Name      string     `json:"name"`
		Kind      string     `json:"kind"`
		URL       string     `json:"url"`
		Branch    string     `json:"branch,omitempty"`
		Every     string     `json:"every,omitempty"`
		CreatedBy string     `json:"created_by"`
		CreatedAt time.Time  `json:"created_at"`
		Commit    string     `json:"commit"`
		Message   string     `json:"message"`
		SkippedCI bool       `json:"skipped_ci"`
		CheckedAt *time.Time `json:"checked_at,omitempty"`
		Error     string     `json:"error,omitempty"`
		NextDue   *time.Time `json:"next_due,omitempty"`
	}
	// RunDoc is a run of a task on a platform.
	RunDoc struct {
		ID           int64      `json:"id"`
		Source       string     `json:"source"`
		Commit       string     `json:"commit"`
		Model        string     `json:"model"`
		Task         string     `json:"task"`
		Platform     string     `json:"platform"`
		Command      string     `json:"command"`
		Trigger      string     `json:"trigger"`
		Status       string     `json:"status"`
		JobID        *int64     `json:"job_id,omitempty"`
		Error        string     `json:"error,omitempty"`
		CreatedAt    time.Time  `json:"created_at"`
		EndedAt      *time.Time `json:"ended_at,omitempty"`
		Measurements int        `json:"measurements"`
	}
	// MeasurementDoc is one measurement.
	MeasurementDoc struct {
		Source        string          `json:"source"`
		Model         string          `json:"model"`
		Task          string          `json:"task"`
		Platform      string          `json:"platform"`
		Type          string          `json:"type"`
		Name          string          `json:"name"`
		Value         float64         `json:"value"`
		Units         string          `json:"units,omitempty"`
		StdDev        *float64        `json:"std_dev,omitempty"`
		Min           *float64        `json:"min,omitempty"`
		Max           *float64        `json:"max,omitempty"`
		Measure       string          `json:"measure"`
		Timestamp     time.Time       `json:"timestamp"`
		RecordedAt    time.Time       `json:"recorded_at"`
		JobID         int64           `json:"job_id"`
		RunID         int64           `json:"run_id"`
		NMPVersion    string          `json:"nmp_version"`
		Commit        string          `json:"commit"`
		Machine       string          `json:"machine"`
		File          string          `json:"file"`
		Configuration json.RawMessage `json:"configuration,omitempty"`
	}
	// LatestDoc is the latest value of one series (model, task, name,
	// platform) with its spread and its recent band.
	LatestDoc struct {
		MeasurementDoc
		// Count is the series' length; SeriesMin/Max its range.
		Count     int     `json:"count"`
		SeriesMin float64 `json:"series_min"`
		SeriesMax float64 `json:"series_max"`
		Band      *Band   `json:"band,omitempty"`
	}
)

// Handler serves the benchmark API and pages under /benchmarks. Reading is
// open to anyone who reaches the server (as the statistics are);
// registering sources, starting runs and reporting system changes need a
// platform administrator's token.
type Handler struct {
	Service *Service
	Store   store.Store
	Auth    *identity.Authenticator
	Logger  *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/benchmarks"), "/")
	var err error
	switch {
	case p == "" && r.Method == http.MethodGet:
		err = h.page(w, r)
	case p == "/sources" && r.Method == http.MethodGet:
		err = h.sources(w, r)
	case p == "/sources" && r.Method == http.MethodPost:
		err = h.admin(w, r, h.addSource)
	case strings.HasPrefix(p, "/sources/") && strings.HasSuffix(p, "/poll") && r.Method == http.MethodPost:
		err = h.admin(w, r, func(w http.ResponseWriter, r *http.Request, _ *identity.Principal) error {
			src, err := h.Service.Poll(r.Context(), strings.TrimSuffix(strings.TrimPrefix(p, "/sources/"), "/poll"))
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, sourceDoc(src))
		})
	case strings.HasPrefix(p, "/sources/") && r.Method == http.MethodDelete:
		err = h.admin(w, r, func(w http.ResponseWriter, r *http.Request, _ *identity.Principal) error {
			if err := h.Store.BenchmarkSourceDelete(r.Context(), strings.TrimPrefix(p, "/sources/")); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	case p == "/runs" && r.Method == http.MethodGet:
		err = h.runs(w, r)
	case p == "/runs" && r.Method == http.MethodPost:
		err = h.admin(w, r, h.run)
	case p == "/measurements" && r.Method == http.MethodGet:
		err = h.measurements(w, r)
	case p == "/latest" && r.Method == http.MethodGet:
		err = h.latest(w, r)
	case p == "/platforms" && r.Method == http.MethodGet:
		err = writeJSON(w, http.StatusOK, h.Service.Platforms())
	case strings.HasPrefix(p, "/systems/") && strings.HasSuffix(p, "/changed") && r.Method == http.MethodPost:
		err = h.admin(w, r, func(w http.ResponseWriter, r *http.Request, who *identity.Principal) error {
			var body struct {
				Reason string `json:"reason"`
			}
			if err := decodeBody(r, &body); err != nil {
				return err
			}
			if body.Reason == "" {
				body.Reason = "reported by " + who.Name()
			}
			platform := strings.TrimSuffix(strings.TrimPrefix(p, "/systems/"), "/changed")
			if err := h.Service.SystemChanged(r.Context(), platform, clip(body.Reason, 500)); err != nil {
				return badRequest(err)
			}
			w.WriteHeader(http.StatusAccepted)
			return nil
		})
	default:
		err = &httpError{http.StatusNotFound, fmt.Sprintf("no %s %s in the benchmark API (docs/benchmarks.md)", r.Method, r.URL.Path)}
	}
	if err != nil {
		h.fail(w, err)
	}
}

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(err error) error { return &httpError{http.StatusBadRequest, err.Error()} }

func (h *Handler) fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	msg := err.Error()
	var he *httpError
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrExists):
		status = http.StatusConflict
	default:
		if h.Logger != nil {
			h.Logger.Error("benchmark API", "error", err)
		}
		msg = "internal error (the server's log has the details)"
	}
	_ = writeJSON(w, status, map[string]string{"detail": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return badRequest(err)
	}
	if len(data) > 1<<20 {
		return &httpError{http.StatusRequestEntityTooLarge, "the request body is larger than 1 MiB"}
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	if err := decodeStrict(data, v); err != nil {
		return badRequest(fmt.Errorf("request body: %w", err))
	}
	return nil
}

// admin runs fn for a platform administrator's token.
func (h *Handler) admin(w http.ResponseWriter, r *http.Request, fn func(http.ResponseWriter, *http.Request, *identity.Principal) error) error {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return &httpError{http.StatusUnauthorized, "invalid_token: this needs 'Authorization: Bearer <token>' of a platform administrator"}
	}
	who, err := h.Auth.Token(r.Context(), strings.TrimSpace(tok))
	if err != nil {
		return &httpError{http.StatusUnauthorized, "invalid_token: " + err.Error()}
	}
	if !who.Admin() {
		return &httpError{http.StatusForbidden, who.Name() + " is not a platform administrator: only they register benchmarks and start runs"}
	}
	return fn(w, r, who)
}

func sourceDoc(s *store.BenchmarkSource) SourceDoc {
	d := SourceDoc{Name: s.Name, Kind: s.Kind, URL: s.URL, Branch: s.Branch, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, Commit: s.Commit,
		Message: s.Message, SkippedCI: s.SkippedCI, CheckedAt: s.CheckedAt, Error: s.Error, NextDue: s.NextDue}
	if s.Every > 0 {
		d.Every = s.Every.String()
	}
	return d
}

func (h *Handler) sourceNames(ctx context.Context) (map[int64]string, error) {
	srcs, err := h.Store.BenchmarkSourceList(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, s := range srcs {
		out[s.ID] = s.Name
	}
	return out, nil
}

func runDocs(runs []store.BenchmarkRun, names map[int64]string) []RunDoc {
	out := []RunDoc{}
	for _, r := range runs {
		out = append(out, RunDoc{ID: r.ID, Source: names[r.SourceID], Commit: r.Commit, Model: r.Model, Task: r.Task, Platform: r.Platform,
			Command: r.Command, Trigger: r.Trigger, Status: r.Status, JobID: r.JobID, Error: r.Error, CreatedAt: r.CreatedAt, EndedAt: r.EndedAt,
			Measurements: r.Measurements})
	}
	return out
}

func (h *Handler) sources(w http.ResponseWriter, r *http.Request) error {
	srcs, err := h.Store.BenchmarkSourceList(r.Context())
	if err != nil {
		return err
	}
	out := []SourceDoc{}
	for i := range srcs {
		out = append(out, sourceDoc(&srcs[i]))
	}
	return writeJSON(w, http.StatusOK, out)
}

// AddRequest is the body of POST /benchmarks/sources.
type AddRequest struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Kind   string `json:"kind,omitempty"`
	Branch string `json:"branch,omitempty"`
	Every  string `json:"every,omitempty"`
}

// AddResponse answers it.
type AddResponse struct {
	Source SourceDoc `json:"source"`
	Runs   []RunDoc  `json:"runs"`
}

func (h *Handler) addSource(w http.ResponseWriter, r *http.Request, who *identity.Principal) error {
	var req AddRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	var every time.Duration
	if req.Every != "" {
		d, err := time.ParseDuration(req.Every)
		if err != nil {
			return badRequest(fmt.Errorf("every: %q is not a duration such as 24h", req.Every))
		}
		every = d
	}
	src, runs, err := h.Service.AddSource(r.Context(), AddParams{Name: req.Name, URL: req.URL, Kind: req.Kind, Branch: req.Branch, Every: every, By: who.Name()})
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			return err
		}
		return badRequest(err)
	}
	return writeJSON(w, http.StatusCreated, AddResponse{Source: sourceDoc(src), Runs: runDocs(runs, map[int64]string{src.ID: src.Name})})
}

// RunRequest is the body of POST /benchmarks/runs.
type RunRequest struct {
	Source   string `json:"source"`
	Model    string `json:"model,omitempty"`
	Task     string `json:"task,omitempty"`
	Platform string `json:"platform,omitempty"`
}

func (h *Handler) run(w http.ResponseWriter, r *http.Request, who *identity.Principal) error {
	var req RunRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Source == "" {
		return badRequest(errors.New("source: missing"))
	}
	runs, err := h.Service.Run(r.Context(), RunParams{Source: req.Source, Model: req.Model, Task: req.Task, Platform: req.Platform, By: who.Name()})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return badRequest(err)
	}
	names, err := h.sourceNames(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, runDocs(runs, names))
}

func (h *Handler) runs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := &store.BenchmarkRunListParams{Platform: q.Get("platform"), Status: q["status"], Limit: 200}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		p.Limit = min(n, 10000)
	}
	if name := q.Get("source"); name != "" {
		src, err := h.Store.BenchmarkSourceGet(r.Context(), name)
		if err != nil {
			return err
		}
		p.SourceID = src.ID
	}
	runs, err := h.Store.BenchmarkRunList(r.Context(), p)
	if err != nil {
		return err
	}
	names, err := h.sourceNames(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, runDocs(runs, names))
}

// query reads the measurement filters of a request.
func (h *Handler) query(r *http.Request) (*store.BenchmarkMeasurementListParams, error) {
	q := r.URL.Query()
	p := &store.BenchmarkMeasurementListParams{Model: q.Get("model"), Task: q.Get("task"), Name: q.Get("name"), Measure: q.Get("measure"),
		Platform: q.Get("platform"), Limit: 100000}
	if name := q.Get("source"); name != "" {
		src, err := h.Store.BenchmarkSourceGet(r.Context(), name)
		if err != nil {
			return nil, err
		}
		p.SourceID = src.ID
	}
	for _, f := range []struct {
		key string
		dst **time.Time
	}{{"from", &p.From}, {"to", &p.To}} {
		if v := q.Get(f.key); v != "" {
			t, err := parseTimestamp(v)
			if err != nil {
				return nil, badRequest(fmt.Errorf("%s: %w", f.key, err))
			}
			*f.dst = &t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, badRequest(fmt.Errorf("limit: %q is not a positive number", v))
		}
		p.Limit = min(n, 100000)
	}
	return p, nil
}

func (h *Handler) list(r *http.Request) ([]MeasurementDoc, error) {
	p, err := h.query(r)
	if err != nil {
		return nil, err
	}
	ms, err := h.Store.BenchmarkMeasurementList(r.Context(), p)
	if err != nil {
		return nil, err
	}
	names, err := h.sourceNames(r.Context())
	if err != nil {
		return nil, err
	}
	out := []MeasurementDoc{}
	for _, m := range ms {
		out = append(out, MeasurementDoc{Source: names[m.SourceID], Model: m.Model, Task: m.Task, Platform: m.Platform, Type: m.Type, Name: m.Name,
			Value: m.Value, Units: m.Units, StdDev: m.StdDev, Min: m.Min, Max: m.Max, Measure: m.Measure, Timestamp: m.Timestamp, RecordedAt: m.RecordedAt,
			JobID: m.JobID, RunID: m.RunID, NMPVersion: m.NMPVersion, Commit: m.Commit, Machine: m.Machine, File: m.File, Configuration: m.Configuration})
	}
	return out, nil
}

func (h *Handler) measurements(w http.ResponseWriter, r *http.Request) error {
	out, err := h.list(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// Latest groups measurements (oldest first) into series and returns the
// latest value of each with its spread and band, sorted by model, task,
// name and platform.
func Latest(ms []MeasurementDoc) []LatestDoc {
	type key struct{ source, model, task, name, platform string }
	series := map[key][]MeasurementDoc{}
	var keys []key
	for _, m := range ms {
		k := key{m.Source, m.Model, m.Task, m.Name, m.Platform}
		if _, ok := series[k]; !ok {
			keys = append(keys, k)
		}
		series[k] = append(series[k], m)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return fmt.Sprint(a.source, "\x00", a.model, "\x00", a.task, "\x00", a.name, "\x00", a.platform) <
			fmt.Sprint(b.source, "\x00", b.model, "\x00", b.task, "\x00", b.name, "\x00", b.platform)
	})
	out := []LatestDoc{}
	for _, k := range keys {
		s := series[k]
		vals := make([]float64, len(s))
		lo, hi := s[0].Value, s[0].Value
		for i, m := range s {
			vals[i] = m.Value
			lo, hi = min(lo, m.Value), max(hi, m.Value)
		}
		d := LatestDoc{MeasurementDoc: s[len(s)-1], Count: len(s), SeriesMin: lo, SeriesMax: hi}
		if b, ok := BandOf(vals); ok {
			d.Band = &b
		}
		out = append(out, d)
	}
	return out
}

func (h *Handler) latest(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.list(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Latest(ms))
}
