// Package ops is what operators of an nmp server look at: Prometheus metrics
// at /metrics (queue length and wait per platform, jobs by state, claims,
// lease expiries, job durations, HTTP latencies and errors, workers' last
// contact), health and readiness endpoints for a load balancer, and request
// ids in the server's structured logs.
//
// It wraps the API server from outside (a store that counts what passes
// through it, an HTTP handler around the API's), so the API knows nothing of
// it. docs/deployment.md shows how to scrape and alert on it.
package ops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nmp-platform/nmp/store"
)

// Ops holds a server's metrics and its readiness.
type Ops struct {
	reg       *prometheus.Registry
	st        store.Store
	platforms []string
	log       *slog.Logger
	draining  atomic.Bool
	now       func() time.Time

	httpDur     *prometheus.HistogramVec
	claims      *prometheus.CounterVec
	waits       *prometheus.HistogramVec
	durations   *prometheus.HistogramVec
	expiries    *prometheus.CounterVec
	lastContact *prometheus.GaugeVec

	dutyMu sync.Mutex
	dutyFn map[string]func() bool
}

// New makes the metrics of a server on st whose platforms are named.
func New(st store.Store, platforms []string, logger *slog.Logger) *Ops {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := &Ops{reg: prometheus.NewRegistry(), st: st, platforms: platforms, log: logger, now: time.Now, dutyFn: map[string]func() bool{}}
	o.httpDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "nmp_http_request_duration_seconds",
		Help: "Time to answer HTTP requests, by method, route and status class (5xx are errors).", Buckets: prometheus.DefBuckets},
		[]string{"method", "route", "code"})
	o.claims = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nmp_claims_total",
		Help: "Claims of the next job by runners, by platform and result (claimed, empty)."}, []string{"platform", "result"})
	o.waits = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "nmp_queue_wait_seconds",
		Help: "Time claimed jobs waited in the queue, by platform.", Buckets: prometheus.ExponentialBuckets(0.5, 3, 12)}, []string{"platform"})
	o.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "nmp_job_duration_seconds",
		Help: "Run time of ended jobs (start to end), by platform and status.", Buckets: prometheus.ExponentialBuckets(1, 3, 11)}, []string{"platform", "status"})
	o.expiries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nmp_lease_expiries_total",
		Help: "Jobs whose runner stopped renewing its lease, by what became of them (requeued, error)."}, []string{"outcome"})
	o.lastContact = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "nmp_provider_last_contact_timestamp_seconds",
		Help: "When a provider's runners last claimed or renewed a lease through this server (worker liveness)."}, []string{"provider"})
	o.reg.MustRegister(o.httpDur, o.claims, o.waits, o.durations, o.expiries, o.lastContact,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &queueCollector{o: o})
	return o
}

// Registry is where further metrics of the server go.
func (o *Ops) Registry() *prometheus.Registry { return o.reg }

// Duty reports whether this server holds a background duty (queue.Rescuer.Held, ...).
func (o *Ops) Duty(name string, held func() bool) {
	o.dutyMu.Lock()
	o.dutyFn[name] = held
	o.dutyMu.Unlock()
}

// LeaseExpired counts a job the rescuer handled (use as queue.Rescuer.OnRescue).
func (o *Ops) LeaseExpired(_ context.Context, r store.JobRescued) {
	outcome := "requeued"
	if r.Status == store.StatusError {
		outcome = "error"
	}
	o.expiries.WithLabelValues(outcome).Inc()
}

// Drain makes the server unready, so that a load balancer sends it no more
// requests while it finishes those in flight.
func (o *Ops) Drain() { o.draining.Store(true) }

// queueCollector reads the queue from the store at each scrape.
type queueCollector struct{ o *Ops }

var (
	jobsDesc = prometheus.NewDesc("nmp_jobs", "Jobs by platform and status (submitted is the queue's length).", []string{"platform", "status"}, nil)
	oldDesc  = prometheus.NewDesc("nmp_queue_oldest_wait_seconds", "How long the oldest queued job of a platform has waited.", []string{"platform"}, nil)
	upDesc   = prometheus.NewDesc("nmp_store_up", "1 if the store answered the last scrape's queries.", nil, nil)
	dutyDesc = prometheus.NewDesc("nmp_duty_held", "1 if this server runs the background duty (holds its lock), else 0.", []string{"duty"}, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- oldDesc
	ch <- upDesc
	ch <- dutyDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	o := c.o
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := 1.0
	now := o.now()
	for _, p := range o.platforms {
		for _, s := range []string{store.StatusSubmitted, store.StatusRunning, store.StatusFinished, store.StatusError} {
			n, err := o.st.JobCount(ctx, &store.JobCountParams{HardwarePlatform: p, Status: s})
			if err != nil {
				up = 0
				continue
			}
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), p, s)
		}
		js, err := o.st.JobList(ctx, &store.JobListParams{Status: []string{store.StatusSubmitted}, HardwarePlatform: []string{p}, Oldest: true, Limit: 1})
		if err != nil {
			up = 0
			continue
		}
		wait := 0.0
		if len(js) > 0 {
			wait = now.Sub(js[0].SubmittedAt).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(oldDesc, prometheus.GaugeValue, wait, p)
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
	o.dutyMu.Lock()
	for name, held := range o.dutyFn {
		v := 0.0
		if held() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(dutyDesc, prometheus.GaugeValue, v, name)
	}
	o.dutyMu.Unlock()
}

// Store wraps st so that claims, waits, renewals, rescues and job ends are counted.
func (o *Ops) Store(st store.Store) store.Store { return &countingStore{Store: st, o: o} }

type countingStore struct {
	store.Store
	o *Ops
}

func (s *countingStore) JobClaim(ctx context.Context, p *store.JobClaimParams) (*store.Job, error) {
	j, err := s.Store.JobClaim(ctx, p)
	if p.Owner != "" && (err == nil || errors.Is(err, store.ErrNotFound)) {
		s.o.lastContact.WithLabelValues(p.Owner).Set(float64(s.o.now().Unix()))
	}
	switch {
	case err == nil:
		s.o.claims.WithLabelValues(j.HardwarePlatform, "claimed").Inc()
		s.o.waits.WithLabelValues(j.HardwarePlatform).Observe(s.o.now().Sub(j.SubmittedAt).Seconds())
	case errors.Is(err, store.ErrNotFound):
		s.o.claims.WithLabelValues(p.Platform, "empty").Inc()
	}
	return j, err
}

func (s *countingStore) JobLeaseRenew(ctx context.Context, p *store.JobLeaseRenewParams) (*store.Job, error) {
	j, err := s.Store.JobLeaseRenew(ctx, p)
	if err == nil && j.LeaseOwner != "" {
		s.o.lastContact.WithLabelValues(j.LeaseOwner).Set(float64(s.o.now().Unix()))
	}
	return j, err
}

func (s *countingStore) JobUpdate(ctx context.Context, p *store.JobUpdateParams) (*store.Job, error) {
	j, err := s.Store.JobUpdate(ctx, p)
	if err == nil && p.Status != nil && (*p.Status == store.StatusFinished || *p.Status == store.StatusError) && j.StartedAt != nil && j.CompletedAt != nil {
		s.o.durations.WithLabelValues(j.HardwarePlatform, *p.Status).Observe(j.CompletedAt.Sub(*j.StartedAt).Seconds())
	}
	return j, err
}

// Handler serves /metrics, /healthz and /readyz, and passes every other
// request to api, timed and with a request id (X-Request-Id, kept from the
// proxy when it sends a sane one) in its context and its answer's headers.
func (o *Ops) Handler(api http.Handler) http.Handler {
	metrics := promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			metrics.ServeHTTP(w, r)
			return
		case "/healthz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("ok\n"))
			return
		case "/readyz":
			o.ready(w, r)
			return
		}
		id := r.Header.Get("X-Request-Id")
		if !requestID.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), ctxKey{}, &reqInfo{id: id, job: jobOf(r.URL.Path)})
		rw := &recorder{ResponseWriter: w, code: http.StatusOK}
		start := o.now()
		api.ServeHTTP(rw, r.WithContext(ctx))
		took := o.now().Sub(start)
		route := routeOf(r.URL.Path)
		o.httpDur.WithLabelValues(methodOf(r.Method), route, strconv.Itoa(rw.code/100)+"xx").Observe(took.Seconds())
		level := slog.LevelDebug
		if rw.code >= 500 || took > 5*time.Second {
			level = slog.LevelWarn
		}
		o.log.Log(ctx, level, "request", slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rw.code),
			slog.Duration("took", took))
	})
}

func (o *Ops) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if o.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("draining: the server is stopping\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := o.st.JobCount(ctx, &store.JobCountParams{Status: store.StatusSubmitted}); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("the store does not answer\n"))
		o.log.Warn("readyz: the store does not answer", slog.String("error", err.Error()))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

var requestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type ctxKey struct{}

type reqInfo struct {
	id  string
	job int64
}

var jobPath = regexp.MustCompile(`^/(?:jobs|files)/(\d{1,18})(?:/|$)`)

func jobOf(path string) int64 {
	m := jobPath.FindStringSubmatch(path)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// routes are the first path segments the API serves; the route label of a
// metric is built from them only, so that its values stay few.
var routes = map[string]bool{"": true, "jobs": true, "projects": true, "collabs": true, "quotas": true, "sessions": true, "files": true,
	"code": true, "login": true, "auth": true, "token": true, "userinfo": true, "status": true, "statistics": true, "tags": true,
	"comments": true, "results": true, "openapi.json": true, "dataitems": true, "me": true}

var subroutes = map[string]bool{"log": true, "lease": true, "files": true, "next": true, "comments": true, "tags": true, "quotas": true, "form": true}

// routeOf is a request path with ids replaced: /jobs/{id}/log.
func routeOf(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if !routes[segs[0]] {
		return "other"
	}
	out := "/" + segs[0]
	for _, s := range segs[1:min(len(segs), 3)] {
		switch {
		case s == "":
		case isNumber(s):
			out += "/{id}"
		case subroutes[s]:
			out += "/" + s
		default:
			out += "/{name}"
		}
	}
	return out
}

func isNumber(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func methodOf(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodHead:
		return m
	}
	return "other"
}

type recorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// LogHandler adds the request id and job of a request's context to every
// record logged with it (the API logs with its requests' contexts).
func LogHandler(h slog.Handler) slog.Handler { return ctxHandler{h} }

type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if ri, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		r.AddAttrs(slog.String("request_id", ri.id))
		if ri.job != 0 {
			r.AddAttrs(slog.Int64("job", ri.job))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{h.Handler.WithAttrs(as)}
}
func (h ctxHandler) WithGroup(n string) slog.Handler { return ctxHandler{h.Handler.WithGroup(n)} }
