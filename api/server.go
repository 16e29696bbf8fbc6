// Package api is the job queue server's HTTP interface: the nmpi v3 REST API
// that the official Python client (`nmpi` 0.11) and the hardware providers'
// runners speak, with nmp's additions (atomic claims with leases, appendable
// logs, stored output files behind signed URLs, its own identity provider).
//
// The routes are listed once, in routes.go; openapi.json describes the same
// routes and a test holds the two together.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

// Notifier is told when jobs start and end, and when resource requests are submitted.
// Its methods must not block for long (notify.Mailer queues).
type Notifier interface {
	JobStarted(ctx context.Context, job *store.Job, user *store.User)
	JobEnded(ctx context.Context, job *store.Job, user *store.User, logTail string)
	ProjectSubmitted(ctx context.Context, p *store.Project, admins []store.User)
}

// Config is the server's configuration. The zero value of each field means its default.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	// DataDir holds stored output files (required for uploads).
	DataDir string
	// BaseURL is the server's public URL, for download links; default: from each request.
	BaseURL string
	// Status is the initial service status: "ok", "down" or "read-only", optionally followed by ": message".
	Status string
	// Lease is how long a claimed job stays with its runner without a renewal (default 2 minutes).
	Lease time.Duration
	// TokenTTL is the lifetime of tokens issued at login (default 30 days).
	TokenTTL time.Duration
	// DownloadTTL is how long a signed download URL works (default 24 hours).
	DownloadTTL time.Duration
	// Retention is how long stored output files are kept (default queue.Retention, three months).
	Retention time.Duration
	// MaxLogBytes caps a job's log; the tail is kept (default 8 MiB).
	MaxLogBytes int
	// MaxBodyBytes caps JSON request bodies (default 64 MiB: job code travels inline).
	MaxBodyBytes int64
	// MaxFileBytes caps one uploaded output file (default 1 GiB).
	MaxFileBytes int64
	// PlatformTable is the platforms jobs may be submitted to, with their
	// units, grants and reservations (default platform.Default()).
	PlatformTable platform.Table
	// Reservations override the table's reservations per platform.
	Reservations map[string]float64
	// Unavailable lists platforms that take no jobs here, with the reason
	// submitters are told (e.g. "nmp has no emulation of this system yet").
	// GET / reports them as "unavailable".
	Unavailable map[string]string
	// MaxCodeBytes caps an uploaded code archive (POST /code; default 256 MiB).
	MaxCodeBytes int64
	// AuthCacheTTL is how long a checked credential is trusted (default 5 s; negative: no cache).
	AuthCacheTTL time.Duration
	// PasswordIterations is the PBKDF2 work factor of passwords set through the API (0: default).
	PasswordIterations int
	Notifier           Notifier
	Now                func() time.Time
	// SigningKey signs download URLs; default: a random key kept in the store.
	SigningKey []byte
	// CalibrateNewChips asks for a calibration of a chip a worker serves
	// that has none yet, when the worker first polls for calibrations.
	CalibrateNewChips bool
	// CalibrationLease is how long a worker may take for a calibration it
	// claimed (default queue.CalibrationLeaseDefault).
	CalibrationLease time.Duration
	// BodyGrace and MinBodyRate bound how slowly a request body may arrive:
	// after BodyGrace (default 10 s) it must have come at MinBodyRate bytes a
	// second (default 1024) on average, or the connection is cut.
	BodyGrace   time.Duration
	MinBodyRate int64
	// MaxPageSize caps one page of a listing (default 10000; the nmpi client
	// asks for 100000); callers page on with from_index.
	MaxPageSize int
}

// statsConcurrency is how many statistics answers are computed at once; more wait.
const statsConcurrency = 2

// Server serves the API.
type Server struct {
	cfg    Config
	st     store.Store
	log    *slog.Logger
	auth   *identity.Authenticator
	key    []byte
	router *router

	mu        sync.RWMutex
	status    string
	message   string
	platforms map[string]nmpi.PlatformStatus
	// statusAt is when the statuses were last read from or written to the
	// store (sharedstatus.go); statusLoad lets one request at a time read them.
	statusAt   time.Time
	statusLoad sync.Mutex

	statsSem chan struct{} // one slot per statistics computation allowed at once

	statsMu    sync.Mutex
	statsCache map[string]cachedAnswer
}

// New checks the configuration and returns a server.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("api: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Lease, 2*time.Minute)
	def(&cfg.TokenTTL, 30*24*time.Hour)
	def(&cfg.DownloadTTL, 24*time.Hour)
	def(&cfg.Retention, queue.Retention)
	def(&cfg.CalibrationLease, queue.CalibrationLeaseDefault)
	def(&cfg.BodyGrace, 10*time.Second)
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = 10000
	}
	if cfg.MinBodyRate <= 0 {
		cfg.MinBodyRate = 1024
	}
	cfg.PlatformTable = cfg.PlatformTable.OrDefault()
	if err := cfg.PlatformTable.Check(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if cfg.AuthCacheTTL == 0 {
		cfg.AuthCacheTTL = 5 * time.Second
	}
	if cfg.MaxLogBytes <= 0 {
		cfg.MaxLogBytes = 8 << 20
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = 1 << 30
	}
	if cfg.MaxCodeBytes <= 0 {
		cfg.MaxCodeBytes = 256 << 20
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &Server{cfg: cfg, st: cfg.Store, log: cfg.Logger, platforms: map[string]nmpi.PlatformStatus{},
		statsSem: make(chan struct{}, statsConcurrency), statsCache: map[string]cachedAnswer{}}
	s.auth = &identity.Authenticator{Store: cfg.Store, CacheTTL: cfg.AuthCacheTTL, Now: cfg.Now, PasswordIterations: cfg.PasswordIterations}
	if err := s.setStatus(cfg.Status); err != nil {
		return nil, err
	}
	s.key = cfg.SigningKey
	if len(s.key) == 0 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		v, err := cfg.Store.SettingGetOrCreate(ctx, "download_signing_key", hex.EncodeToString(b))
		if err != nil {
			return nil, fmt.Errorf("api: signing key: %w", err)
		}
		s.key, err = hex.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("api: signing key in store is not hex: %w", err)
		}
	}
	s.router = newRouter()
	for _, rt := range s.routes() {
		s.router.handle(rt.method, rt.pattern, rt.handler)
	}
	return s, nil
}

// Authenticator returns the server's credential checker (its cache can be flushed with Forget).
func (s *Server) Authenticator() *identity.Authenticator { return s.auth }

// Handler returns the HTTP handler with all middleware.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Now()
	rw := &statusWriter{ResponseWriter: w, status: 200}
	defer func() {
		if v := recover(); v != nil {
			s.log.ErrorContext(r.Context(), "panic serving request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if !rw.wrote {
				writeError(rw, http.StatusInternalServerError, "internal error; the server's log has the details")
			}
		}
		s.log.DebugContext(r.Context(), "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rw.status), slog.Duration("took", s.cfg.Now().Sub(start)))
	}()
	// The nmpi client may build URLs with doubled slashes and either trailing-slash
	// spelling: serve them all in place (a redirect would turn a POST into a GET).
	r.URL.Path = normalizePath(r.URL.Path)
	r.URL.RawPath = ""
	h := rw.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, x-api-key, X-Nmp-Lease")
		rw.WriteHeader(http.StatusNoContent)
		return
	}
	if msg, blocked := s.blockedByStatus(r); blocked {
		writeJSON(rw, http.StatusServiceUnavailable, map[string]string{"error": msg})
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		rc := http.NewResponseController(w)
		g := &slowBodyGuard{ReadCloser: r.Body, rc: rc, header: w.Header(), start: time.Now(), grace: s.cfg.BodyGrace, rate: s.cfg.MinBodyRate}
		r.Body = g
		defer func() {
			if !g.cut {
				_ = rc.SetReadDeadline(time.Time{}) // the next request on the connection starts afresh
			}
		}()
	}
	if err := s.router.serve(rw, r); err != nil {
		s.fail(rw, r, err)
	}
}

// normalizePath collapses repeated slashes and drops a trailing slash.
func normalizePath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Service status: "ok", "down" (everything but / and /status answers 503) or
// "read-only" (every change answers 503), as the reference server's NMPI_SERVICE_STATUS.

func (s *Server) setStatus(v string) error {
	status, msg, _ := strings.Cut(v, ":")
	status = strings.TrimSpace(status)
	if status == "" {
		status = "ok"
	}
	switch status {
	case "ok", "down", "read-only":
	default:
		return fmt.Errorf("status: %q is not ok, down or read-only", status)
	}
	s.mu.Lock()
	s.status, s.message = status, strings.TrimSpace(msg)
	s.mu.Unlock()
	return nil
}

func (s *Server) statusText() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.message != "" {
		return s.status + ": " + s.message
	}
	return s.status
}

func (s *Server) blockedByStatus(r *http.Request) (string, bool) {
	s.loadStatus(r.Context())
	s.mu.RLock()
	status := s.status
	s.mu.RUnlock()
	if r.URL.Path == "/" || r.URL.Path == "/status" {
		return "", false
	}
	switch status {
	case "down":
		return s.statusText(), true
	case "read-only":
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete {
			return s.statusText(), true
		}
	}
	return "", false
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// slowBodyGuard cuts a request body that arrives more slowly than the
// server's minimum rate, so that a client trickling bytes cannot hold a
// connection (and a handler) for long: before each read it moves the
// connection's read deadline to start + grace + bytes so far / rate.
type slowBodyGuard struct {
	io.ReadCloser
	rc     *http.ResponseController
	header http.Header
	start  time.Time
	grace  time.Duration
	rate   int64
	n      int64
	cut    bool
}

func (g *slowBodyGuard) Read(p []byte) (int, error) {
	// Servers that cannot set deadlines (tests' recorders) are not guarded.
	_ = g.rc.SetReadDeadline(g.start.Add(g.grace + time.Duration(g.n*int64(time.Second)/g.rate)))
	n, err := g.ReadCloser.Read(p)
	g.n += int64(n)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// Answer, then close: the rest of the body is not waited for.
		g.cut = true
		g.header.Set("Connection", "close")
	}
	return n, err
}
