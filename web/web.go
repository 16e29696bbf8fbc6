// Package web is nmp's web interface: the pages a person opens in a browser
// to use the platform without the Python client, as the EBRAINS platform's
// "Job Manager" and "Resource Manager" apps: sign in, choose a collab, list,
// submit, follow and remove jobs, look at their logs, output files and plots,
// request resources and see the quotas, compare one script across the
// systems, review requests (administrators), and see the platforms' status.
//
// The pages are an API client. They call the job queue server's own handler
// (and the compare API's, Config.Compare) in this process (no network) with
// the signed-in person's token, so every
// rule (roles, quotas, limits) is the API's, checked in one place. The pages
// are rendered on the server with html/template and work without JavaScript;
// small scripts of our own (static/) stream the log and draw the plots. Every
// template and asset is embedded in the binary: nothing is loaded from
// elsewhere, and the Content-Security-Policy allows nothing else.
//
// Mount puts the pages under /app/ beside the API, which keeps every path
// the nmpi client and the runners use; a browser that opens / is sent to the
// job list.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/platform"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the pages live.
const Prefix = "/app"

// Config is the web interface's configuration.
type Config struct {
	// API is the job queue server's handler (api.Server.Handler()).
	API http.Handler
	// Compare is the compare API's handler (POST /compare/, GET
	// /compare/{id}, ...: benchmark.Comparer), which the compare pages call;
	// nil: the server runs no comparisons and the pages say so.
	Compare http.Handler
	// PlatformTable is the platforms, for their chips and units (default platform.Default()).
	PlatformTable platform.Table
	Logger        *slog.Logger
	// Key signs the CSRF tokens; default: random at start (forms open across a restart must be sent again).
	Key []byte
	// SessionLabel is the label of the tokens sign-ins create (default "web session").
	SessionLabel string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Web serves the pages.
type Web struct {
	cfg    Config
	log    *slog.Logger
	hc     *http.Client
	cmp    *http.Client // the compare API, nil without one
	key    []byte
	pages  map[string]*template.Template
	mux    *http.ServeMux
	static http.Handler
}

// New checks the configuration and parses the templates.
func New(cfg Config) (*Web, error) {
	if cfg.API == nil {
		return nil, errors.New("web: no API handler")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionLabel == "" {
		cfg.SessionLabel = "web session"
	}
	cfg.PlatformTable = cfg.PlatformTable.OrDefault()
	w := &Web{cfg: cfg, log: cfg.Logger, key: cfg.Key}
	if len(w.key) == 0 {
		w.key = make([]byte, 32)
		_, _ = rand.Read(w.key)
	}
	w.hc = &http.Client{Transport: handlerTransport{cfg.API}, Timeout: 10 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if cfg.Compare != nil {
		w.cmp = &http.Client{Transport: handlerTransport{cfg.Compare}, Timeout: 10 * time.Minute,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if err := w.parse(); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	w.static = http.StripPrefix(Prefix+"/static/", http.FileServerFS(sub))
	w.mux = http.NewServeMux()
	w.routes()
	return w, nil
}

func (w *Web) parse() error {
	funcs := template.FuncMap{
		"bytes": humanBytes,
		"fbytes": func(v any) string {
			f, _ := v.(float64)
			return humanBytes(int64(f))
		},
		"when":     when,
		"percent":  percent,
		"excerpt":  excerpt,
		"statusOK": func(s string) bool { return s == "finished" },
		"join":     strings.Join,
		"add":      func(a, b int) int { return a + b },
		"seq": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i
			}
			return out
		},
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	w.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", n, err)
		}
		w.pages[base] = t
	}
	return nil
}

// Mount returns a handler serving the pages under /app/ and everything else
// with api. A browser asking for / (it prefers HTML) is sent to the pages.
func Mount(api http.Handler, pages *Web) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == Prefix || strings.HasPrefix(p, Prefix+"/") {
			pages.ServeHTTP(rw, r)
			return
		}
		if (p == "/" || p == "") && (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
			http.Redirect(rw, r, Prefix+"/", http.StatusSeeOther)
			return
		}
		api.ServeHTTP(rw, r)
	})
}

// wantsHTML tells whether the request's Accept header asks for a page before
// JSON (browsers do; the nmpi client and curl send */* or nothing).
func wantsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.TrimSpace(mt) {
		case "text/html", "application/xhtml+xml":
			return true
		case "application/json", "*/*":
			return false
		}
	}
	return false
}

// csp is the pages' Content-Security-Policy: our own scripts, styles and
// images only, no inline code, no frames, forms only to ourselves.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP serves the pages with the security headers every answer carries.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, Prefix+"/static/") {
		h.Set("Cache-Control", "no-cache")
		w.static.ServeHTTP(rw, r)
		return
	}
	h.Set("Cache-Control", "no-store")
	w.mux.ServeHTTP(rw, r)
}

// handler is a page handler: it returns an error instead of writing one.
type handler func(rw http.ResponseWriter, r *http.Request, s *session) error

func (w *Web) routes() {
	m := w.mux
	m.HandleFunc("GET "+Prefix+"/signin", w.handleSignInForm)
	m.HandleFunc("POST "+Prefix+"/signin", w.handleSignIn)
	m.HandleFunc("GET "+Prefix+"/{$}", func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, Prefix+"/jobs", http.StatusSeeOther)
	})
	m.HandleFunc("GET "+Prefix, func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, Prefix+"/jobs", http.StatusSeeOther)
	})
	get := func(p string, h handler) { m.Handle("GET "+Prefix+p, w.page(h, false)) }
	post := func(p string, h handler) { m.Handle("POST "+Prefix+p, w.page(h, true)) }
	post("/signout", w.handleSignOut)
	get("/jobs", w.handleJobList)
	get("/jobs/new", w.handleJobForm)
	post("/jobs/new", w.handleJobSubmit)
	get("/jobs/{id}", w.handleJob)
	get("/jobs/{id}/log", w.handleJobLogText)
	get("/jobs/{id}/log/events", w.handleJobLogEvents)
	get("/jobs/{id}/files/{path...}", w.handleJobFile)
	get("/jobs/{id}/figure/{path...}", w.handleJobFigure)
	get("/jobs/{id}/summary", w.handleJobSummary)
	post("/jobs/{id}/remove", w.handleJobRemove)
	post("/jobs/{id}/resubmit", w.handleJobResubmit)
	post("/jobs/{id}/copy", w.handleJobCopy)
	post("/jobs/{id}/comments", w.handleJobComment)
	post("/jobs/{id}/tags", w.handleJobTags)
	get("/resources", w.handleResources)
	post("/resources/storage/delete", w.handleKeptDelete)
	get("/resources/new", w.handleRequestForm)
	post("/resources/new", w.handleRequestSave)
	get("/resources/{id}", w.handleRequestForm)
	post("/resources/{id}", w.handleRequestSave)
	get("/review", w.handleReview)
	post("/review/{id}", w.handleReviewDecide)
	get("/platforms", w.handlePlatforms)
	get("/compare", w.handleCompareList)
	get("/compare/new", w.handleCompareForm)
	post("/compare/new", w.handleCompareSubmit)
	get("/compare/{id}", w.handleCompare)
	m.HandleFunc(Prefix+"/", func(rw http.ResponseWriter, r *http.Request) {
		w.errorPage(rw, r, nil, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})
}

// page wraps a handler: it needs a signed-in person, and for a form (post)
// a valid CSRF token.
func (w *Web) page(h handler, post bool) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s, err := w.session(r)
		if err != nil {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/events") {
				http.Redirect(rw, r, Prefix+"/signin?next="+urlQuery(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			w.errorPage(rw, r, nil, http.StatusUnauthorized, "You are not signed in (or your session ended): sign in again.")
			return
		}
		if post {
			if err := w.checkForm(r, s); err != nil {
				w.errorPage(rw, r, s, http.StatusForbidden, err.Error())
				return
			}
		}
		if err := h(rw, r, s); err != nil {
			w.fail(rw, r, s, err)
		}
	})
}

// fail shows an error: the API's with its status, anything else as a 500
// whose details go to the log.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, s *session, err error) {
	var pe *pageError
	switch {
	case errors.As(err, &pe):
		w.errorPage(rw, r, s, pe.status, pe.msg)
	case apiStatus(err) == http.StatusUnauthorized:
		clearSession(rw, r)
		w.errorPage(rw, r, nil, http.StatusUnauthorized, "Your session ended: sign in again.")
	case apiStatus(err) != 0:
		w.errorPage(rw, r, s, apiStatus(err), apiMessage(err))
	case errors.Is(err, context.Canceled):
	default:
		w.log.ErrorContext(r.Context(), "web: page failed", "path", r.URL.Path, "error", err)
		w.errorPage(rw, r, s, http.StatusInternalServerError, "Something went wrong on the server; its log has the details.")
	}
}

// pageError is an error with the status and message a page shows.
type pageError struct {
	status int
	msg    string
}

func (e *pageError) Error() string { return e.msg }

func pagef(status int, format string, args ...any) error {
	return &pageError{status: status, msg: fmt.Sprintf(format, args...)}
}

func (w *Web) errorPage(rw http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	w.render(rw, r, s, status, "error", map[string]any{"Status": status, "StatusText": http.StatusText(status), "Message": msg})
}

// view is what every page template gets.
type view struct {
	Title   string
	S       *session
	CSRF    string
	Active  string
	Collab  string
	Flash   string
	Data    any
	NoJSRef bool
	// Compare: the server runs comparisons (the nav links to them).
	Compare bool
}

// render writes a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, s *session, status int, name string, data any) {
	t, ok := w.pages[name]
	if !ok {
		http.Error(rw, "no template "+name, http.StatusInternalServerError)
		return
	}
	v := view{S: s, Data: data, Active: name, Flash: r.URL.Query().Get("flash"), Compare: w.cmp != nil}
	if s != nil {
		v.CSRF = w.csrfToken(s)
		v.Collab = s.collab(r)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", v); err != nil {
		w.log.ErrorContext(r.Context(), "web: template failed", "template", name, "error", err)
		http.Error(rw, "the page could not be rendered; the server's log has the details", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write([]byte(b.String()))
}
