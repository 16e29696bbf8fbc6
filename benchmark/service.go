package benchmark

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/store"
)

// Config configures the service. Store, Queue, Collab and Platforms are
// required.
type Config struct {
	Store store.Store
	// Queue is a client of the job queue as the benchmarks user: benchmark
	// runs are its jobs, submitted and read as any user's.
	Queue *client.Client
	// Collab is the collab benchmark jobs belong to (its quotas pay for them).
	Collab string
	// Platforms are those benchmarks run on: the platforms that run here,
	// with their PyNN backends.
	Platforms []Platform
	// Fingerprint describes a platform's configuration (nmp's version, the
	// system, its chip): when it changes, every benchmark runs again on that
	// platform. The service adds the latest finished calibration of each of
	// the platform's chips from the store. Nil: nothing but manual runs,
	// commits and schedules trigger.
	Fingerprint func(platform string) string
	// CacheDir keeps the mirrors of git sources.
	CacheDir string
	// AllowLocal lets git sources be local paths or file URLs (tests, and
	// servers whose administrators keep benchmark repositories on disk).
	AllowLocal bool
	// Interval between passes (polling repositories, submitting queued
	// runs, harvesting ended jobs); default 1 minute. PollEvery, how often
	// a git source is fetched, defaults to 5 minutes.
	Interval, PollEvery time.Duration
	// Held, when set, tells whether this server runs the service's passes:
	// servers sharing one database run them as a queue.Duty, which calls
	// Pass every Interval on the one server holding the duty's lock, and
	// Start then only answers Wake, with a pass when Held says so. Nil: this
	// server runs the passes on its own, every Interval.
	Held   func() bool
	Logger *slog.Logger
	Now    func() time.Time
	// HTTP fetches output files and code archives (default: a client with a 5-minute timeout).
	HTTP *http.Client
}

// Service is the benchmark service: Start runs its passes in the
// background; its methods register sources and start manual runs.
type Service struct {
	cfg  Config
	log  *slog.Logger
	mu   sync.Mutex // serialises passes and registrations
	code map[string]string
	stop context.CancelFunc
	done chan struct{}
	// wake makes the loop run a pass now.
	wake chan struct{}
}

// New checks the configuration.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("benchmark: no store")
	case cfg.Queue == nil:
		return nil, errors.New("benchmark: no job queue client")
	case cfg.Collab == "":
		return nil, errors.New("benchmark: no collab")
	case cfg.CacheDir == "":
		return nil, errors.New("benchmark: no cache directory")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 5 * time.Minute}
	}
	return &Service{cfg: cfg, log: cfg.Logger, code: map[string]string{}, wake: make(chan struct{}, 1)}, nil
}

// Platforms returns the platforms benchmarks run on.
func (s *Service) Platforms() []Platform { return append([]Platform(nil), s.cfg.Platforms...) }

// Start runs a pass now and then every Interval until Stop; with Held
// set, it runs a pass at each Wake while Held says this server holds the
// duty (the duty runs the periodic passes).
func (s *Service) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	s.stop, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		var tick <-chan time.Time
		if s.cfg.Held == nil {
			t := time.NewTicker(s.cfg.Interval)
			defer t.Stop()
			tick = t.C
		}
		for first := true; ; first = false {
			if s.cfg.Held == nil || (!first && s.cfg.Held()) {
				if err := s.Pass(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("benchmark: pass", "error", err)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick:
			case <-s.wake:
			}
		}
	}()
	return nil
}

// Stop ends the background passes and waits for the one under way.
func (s *Service) Stop() {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
}

// Wake asks the background loop for a pass now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Pass does one round of the service's duties: triggers from changed
// systems, new commits and schedules; submitting queued runs; harvesting
// the runs whose jobs ended. Errors of one source or run are recorded with
// it and do not stop the others.
func (s *Service) Pass(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if err := s.checkSystems(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.pollSources(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.submitQueued(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.harvest(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// AddParams register a source.
type AddParams struct {
	Name string
	// URL is a git URL (Kind git), or the URL of an uploaded code archive (Kind archive).
	URL, Kind, Branch string
	Every             time.Duration
	By                string
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// AddSource registers a source: it reads and checks its benchmarks.json at
// once (so a broken repository is refused with the reason) and queues its
// benchmarks on every platform. It returns the source and the runs queued.
func (s *Service) AddSource(ctx context.Context, p AddParams) (*store.BenchmarkSource, []store.BenchmarkRun, error) {
	if !nameRE.MatchString(p.Name) {
		return nil, nil, fmt.Errorf("name: %q: use letters, digits, '.', '_' and '-' (at most 100)", p.Name)
	}
	if p.Kind == "" {
		p.Kind = KindGit
	}
	if p.Every < 0 {
		return nil, nil, fmt.Errorf("every: %v is negative", p.Every)
	}
	if p.Every > 0 && p.Every < time.Minute {
		return nil, nil, fmt.Errorf("every: %v is shorter than a minute", p.Every)
	}
	if p.Branch != "" && (strings.HasPrefix(p.Branch, "-") || strings.ContainsAny(p.Branch, " \x00\n:~^?*[\\")) {
		return nil, nil, fmt.Errorf("branch: %q is not a branch name", p.Branch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.cfg.Store.BenchmarkSourceGet(ctx, p.Name); err == nil {
		return nil, nil, fmt.Errorf("benchmark source %s: %w", p.Name, store.ErrExists)
	}
	src := &store.BenchmarkSource{Name: p.Name, Kind: p.Kind, URL: p.URL, Branch: p.Branch, Every: p.Every, CreatedBy: p.By, CreatedAt: s.cfg.Now()}
	var rev *Revision
	var err error
	switch p.Kind {
	case KindGit:
		if err := checkGitURL(p.URL, s.cfg.AllowLocal); err != nil {
			return nil, nil, err
		}
		rev, err = s.gitRevision(ctx, src, true)
	case KindArchive:
		if u, perr := url.Parse(p.URL); perr != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, nil, fmt.Errorf("url: %q is not the http(s) URL of an uploaded code archive", p.URL)
		}
		rev, err = s.archiveRevision(ctx, src)
	default:
		return nil, nil, fmt.Errorf("kind: %q: a source is a git repository (git) or an uploaded directory (archive)", p.Kind)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("benchmark source %s: %w", p.Name, err)
	}
	if p.Every > 0 {
		due := s.cfg.Now().Add(p.Every)
		src.NextDue = &due
	}
	created, err := s.cfg.Store.BenchmarkSourceCreate(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	now := s.cfg.Now()
	created, err = s.cfg.Store.BenchmarkSourceUpdate(ctx, &store.BenchmarkSourceUpdateParams{ID: created.ID, Commit: &rev.Commit,
		Message: &rev.Message, SkippedCI: ptr(false), CheckedAt: &now, Error: ptr("")})
	if err != nil {
		return nil, nil, err
	}
	runs, err := s.queue(ctx, created, rev, "registered by "+p.By, nil, "", "")
	s.Wake()
	return created, runs, err
}

func ptr[T any](v T) *T { return &v }

// gitRevision fetches a git source and reads its head.
func (s *Service) gitRevision(ctx context.Context, src *store.BenchmarkSource, fresh bool) (*Revision, error) {
	g := s.repo(src)
	if fresh {
		// A new registration starts from a new mirror.
		g.dir = filepath.Join(s.cfg.CacheDir, "new-"+src.Name)
		defer func() { _ = renameMirror(g.dir, s.repo(src).dir) }()
	}
	if err := g.fetch(ctx); err != nil {
		return nil, err
	}
	commit, msg, err := g.head(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := g.suite(ctx, commit)
	if err != nil {
		return nil, err
	}
	return &Revision{Commit: commit, Message: msg, Suite: cfg}, nil
}

func (s *Service) repo(src *store.BenchmarkSource) *gitRepo {
	return &gitRepo{dir: filepath.Join(s.cfg.CacheDir, "git", src.Name+".git"), url: src.URL, branch: src.Branch, allowLocal: s.cfg.AllowLocal}
}

func (s *Service) archiveRevision(ctx context.Context, src *store.BenchmarkSource) (*Revision, error) {
	data, sum, err := fetchArchive(ctx, s.cfg.HTTP, src.URL)
	if err != nil {
		return nil, err
	}
	cfg, err := suiteFromArchive(data)
	if err != nil {
		return nil, err
	}
	return &Revision{Commit: "sha256:" + sum, Message: "uploaded directory", Suite: cfg}, nil
}

// revision reads a source's benchmarks at its last seen commit.
func (s *Service) revision(ctx context.Context, src *store.BenchmarkSource) (*Revision, error) {
	switch src.Kind {
	case KindArchive:
		return s.archiveRevision(ctx, src)
	case KindGit:
		g := s.repo(src)
		if src.Commit == "" {
			return s.gitRevision(ctx, src, false)
		}
		cfg, err := g.suite(ctx, src.Commit)
		if err != nil {
			// The mirror may be gone (a new cache directory): fetch it again.
			if ferr := g.fetch(ctx); ferr != nil {
				return nil, ferr
			}
			if cfg, err = g.suite(ctx, src.Commit); err != nil {
				return nil, err
			}
		}
		return &Revision{Commit: src.Commit, Message: src.Message, Suite: cfg}, nil
	}
	return nil, fmt.Errorf("benchmark source %s: unknown kind %q", src.Name, src.Kind)
}

// queue adds the runs of a revision on the platforms (all when nil),
// optionally one model and task only.
func (s *Service) queue(ctx context.Context, src *store.BenchmarkSource, rev *Revision, trigger string, platforms []string, model, task string) ([]store.BenchmarkRun, error) {
	planned, skipped := Expand(rev.Suite, s.cfg.Platforms, platforms...)
	for _, sk := range skipped {
		s.log.Info("benchmark: a task runs on no platform here", "source", src.Name, "model", sk.Model, "task", sk.Task, "reason", sk.Reason)
	}
	var out []store.BenchmarkRun
	for _, p := range planned {
		if (model != "" && p.Model != model) || (task != "" && p.Task != task) {
			continue
		}
		r, created, err := s.cfg.Store.BenchmarkRunCreate(ctx, &store.BenchmarkRun{SourceID: src.ID, Commit: rev.Commit, Model: p.Model, Task: p.Task,
			Platform: p.Platform, Command: p.Command, Trigger: trigger, CreatedAt: s.cfg.Now()})
		if err != nil {
			return out, err
		}
		if created {
			s.log.Info("benchmark: run queued", "run", r.ID, "source", src.Name, "model", p.Model, "task", p.Task, "platform", p.Platform, "trigger", trigger)
		}
		out = append(out, *r)
	}
	return out, nil
}

// RunParams select a manual run: a source's benchmarks at its last seen
// commit, optionally one model, task or platform.
type RunParams struct {
	Source, Model, Task, Platform, By string
}

// Run queues a manual run and returns its runs (pending duplicates coalesce).
func (s *Service) Run(ctx context.Context, p RunParams) ([]store.BenchmarkRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, err := s.cfg.Store.BenchmarkSourceGet(ctx, p.Source)
	if err != nil {
		return nil, err
	}
	var platforms []string
	if p.Platform != "" {
		ok := false
		for _, q := range s.cfg.Platforms {
			ok = ok || q.Name == p.Platform
		}
		if !ok {
			return nil, fmt.Errorf("platform: %q does not run benchmarks here (%s)", p.Platform, strings.Join(platformNames(s.cfg.Platforms), ", "))
		}
		platforms = []string{p.Platform}
	}
	rev, err := s.revision(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("benchmark source %s: %w", src.Name, err)
	}
	if p.Model != "" || p.Task != "" {
		found := false
		for _, m := range rev.Suite.Models {
			for _, t := range m.Tasks {
				found = found || ((p.Model == "" || m.Name == p.Model) && (p.Task == "" || t.Name == p.Task))
			}
		}
		if !found {
			return nil, fmt.Errorf("benchmark source %s has no model %q with task %q at %s", src.Name, p.Model, p.Task, short(rev.Commit))
		}
	}
	runs, err := s.queue(ctx, src, rev, "manual run by "+p.By, platforms, p.Model, p.Task)
	s.Wake()
	return runs, err
}

func platformNames(ps []Platform) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// checkSystems queues every source's benchmarks on the platforms whose
// configuration changed since the service last looked.
func (s *Service) checkSystems(ctx context.Context) error {
	if s.cfg.Fingerprint == nil {
		return nil
	}
	var errs []error
	for _, p := range s.cfg.Platforms {
		fp := s.cfg.Fingerprint(p.Name)
		cal, err := s.calibrations(ctx, p.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cal != "" {
			fp += "; " + Fingerprint("calibration", cal)
		}
		prev, changed, err := s.cfg.Store.BenchmarkSystemSet(ctx, p.Name, fp, s.cfg.Now())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !changed {
			continue
		}
		trigger := fmt.Sprintf("system %s changed: %s", p.Name, describeChange(prev, fp))
		s.log.Info("benchmark: "+trigger, "platform", p.Name)
		if err := s.triggerAll(ctx, trigger, []string{p.Name}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// calibrations is the calibration part of a platform's fingerprint: for
// each chip a worker serves on the platform, its latest finished
// calibration's id and a hash of its files ("hx-0=12:3fa9c0d2e1b4"), sorted
// by chip; "" when none of the platform's chips has a finished calibration. A new calibration
// (every night, on BrainScaleS-2) is a new configuration of the platform, so
// its benchmarks run again; a failed one changes nothing.
func (s *Service) calibrations(ctx context.Context, platform string) (string, error) {
	chips, err := s.cfg.Store.CalibrationChipList(ctx)
	if err != nil {
		return "", fmt.Errorf("benchmark: calibrations of %s: %w", platform, err)
	}
	var names []string
	for _, c := range chips {
		if c.Platform == platform {
			names = append(names, c.Chip)
		}
	}
	sort.Strings(names)
	var items []string
	for i, chip := range names {
		if i > 0 && chip == names[i-1] {
			continue
		}
		cs, err := s.cfg.Store.CalibrationList(ctx, &store.CalibrationListParams{Chip: []string{chip}, Status: []string{store.CalibrationFinished}, Limit: 1})
		if err != nil {
			return "", fmt.Errorf("benchmark: calibrations of chip %s: %w", chip, err)
		}
		if len(cs) == 0 {
			continue // a chip seen but not calibrated yet: nothing has changed
		}
		h := sha256.New()
		for _, f := range cs[0].Files {
			fmt.Fprintf(h, "%s %s\n", f.Name, f.Hash)
		}
		items = append(items, fmt.Sprintf("%s=%d:%x", chip, cs[0].ID, h.Sum(nil)[:6]))
	}
	return strings.Join(items, ","), nil
}

// describeChange says what differs between two fingerprints (lists of
// "key value" items separated by "; ").
func describeChange(prev, cur string) string {
	if prev == "" {
		return "first seen (" + cur + ")"
	}
	old := map[string]string{}
	for _, it := range strings.Split(prev, "; ") {
		k, v, _ := strings.Cut(it, " ")
		old[k] = v
	}
	var diffs []string
	for _, it := range strings.Split(cur, "; ") {
		k, v, _ := strings.Cut(it, " ")
		if o, ok := old[k]; !ok || o != v {
			diffs = append(diffs, fmt.Sprintf("%s %s -> %s", k, orNone(old[k]), v))
		}
	}
	if len(diffs) == 0 {
		return prev + " -> " + cur
	}
	return strings.Join(diffs, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// SystemChanged queues every benchmark on a platform whose configuration
// changed in a way the fingerprint does not see (a calibration written by
// another process, say).
func (s *Service) SystemChanged(ctx context.Context, platform, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := false
	for _, p := range s.cfg.Platforms {
		ok = ok || p.Name == platform
	}
	if !ok {
		return fmt.Errorf("platform: %q does not run benchmarks here (%s)", platform, strings.Join(platformNames(s.cfg.Platforms), ", "))
	}
	err := s.triggerAll(ctx, fmt.Sprintf("system %s changed: %s", platform, reason), []string{platform})
	s.Wake()
	return err
}

func (s *Service) triggerAll(ctx context.Context, trigger string, platforms []string) error {
	srcs, err := s.cfg.Store.BenchmarkSourceList(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i := range srcs {
		src := &srcs[i]
		rev, err := s.revision(ctx, src)
		if err != nil {
			errs = append(errs, fmt.Errorf("benchmark source %s: %w", src.Name, err))
			continue
		}
		if _, err := s.queue(ctx, src, rev, trigger, platforms, "", ""); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pollSources fetches git sources that are due and queues a new commit's
// benchmarks on every platform, unless its message says [skip ci] or
// [ci skip]; and runs the sources whose schedule is due.
func (s *Service) pollSources(ctx context.Context) error {
	srcs, err := s.cfg.Store.BenchmarkSourceList(ctx)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	for i := range srcs {
		src := &srcs[i]
		if src.Kind == KindGit && (src.CheckedAt == nil || now.Sub(*src.CheckedAt) >= s.cfg.PollEvery) {
			s.pollGit(ctx, src, now)
		}
		if src.NextDue != nil && !now.Before(*src.NextDue) && src.Every > 0 {
			next := now.Add(src.Every)
			if _, err := s.cfg.Store.BenchmarkSourceUpdate(ctx, &store.BenchmarkSourceUpdateParams{ID: src.ID, NextDue: &next}); err != nil {
				return err
			}
			if rev, err := s.revision(ctx, src); err != nil {
				s.sourceError(ctx, src, err)
			} else if _, err := s.queue(ctx, src, rev, "schedule (every "+src.Every.String()+")", nil, "", ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// Poll fetches one git source now (as the next pass would when it is due).
func (s *Service) Poll(ctx context.Context, name string) (*store.BenchmarkSource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, err := s.cfg.Store.BenchmarkSourceGet(ctx, name)
	if err != nil {
		return nil, err
	}
	if src.Kind != KindGit {
		return src, nil
	}
	s.pollGit(ctx, src, s.cfg.Now())
	s.Wake()
	return s.cfg.Store.BenchmarkSourceGet(ctx, name)
}

func (s *Service) pollGit(ctx context.Context, src *store.BenchmarkSource, now time.Time) {
	g := s.repo(src)
	err := g.fetch(ctx)
	var commit, msg string
	if err == nil {
		commit, msg, err = g.head(ctx)
	}
	if err != nil {
		s.sourceError(ctx, src, err)
		return
	}
	upd := &store.BenchmarkSourceUpdateParams{ID: src.ID, CheckedAt: &now, Error: ptr("")}
	if commit == src.Commit {
		_, _ = s.cfg.Store.BenchmarkSourceUpdate(ctx, upd)
		return
	}
	upd.Commit, upd.Message = &commit, &msg
	skip := SkipCI(msg)
	upd.SkippedCI = &skip
	if skip {
		s.log.Info("benchmark: new commit says [skip ci]; not run", "source", src.Name, "commit", short(commit))
		_, _ = s.cfg.Store.BenchmarkSourceUpdate(ctx, upd)
		return
	}
	cfg, err := g.suite(ctx, commit)
	if err != nil {
		// The commit is seen (and not retried every pass); its error shows.
		upd.Error = ptr(fmt.Sprintf("commit %s: %v", short(commit), err))
		_, _ = s.cfg.Store.BenchmarkSourceUpdate(ctx, upd)
		s.log.Warn("benchmark: new commit not run", "source", src.Name, "commit", short(commit), "error", err)
		return
	}
	if _, err := s.cfg.Store.BenchmarkSourceUpdate(ctx, upd); err != nil {
		s.log.Warn("benchmark: source update", "source", src.Name, "error", err)
		return
	}
	src.Commit, src.Message = commit, msg
	if _, err := s.queue(ctx, src, &Revision{Commit: commit, Message: msg, Suite: cfg}, "commit "+short(commit)+": "+firstLine(msg), nil, "", ""); err != nil {
		s.log.Warn("benchmark: queue", "source", src.Name, "error", err)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return clip(l, 80)
}

func (s *Service) sourceError(ctx context.Context, src *store.BenchmarkSource, err error) {
	now := s.cfg.Now()
	msg := err.Error()
	s.log.Warn("benchmark: source", "source", src.Name, "error", err)
	_, _ = s.cfg.Store.BenchmarkSourceUpdate(ctx, &store.BenchmarkSourceUpdateParams{ID: src.ID, CheckedAt: &now, Error: &msg})
}

// codeURL returns the code URL of a source's commit for jobs: a git
// commit's archive, uploaded once; an archive source's own URL.
func (s *Service) codeURL(ctx context.Context, src *store.BenchmarkSource, commit string) (string, error) {
	if src.Kind == KindArchive {
		return src.URL, nil
	}
	key := src.Name + "@" + commit
	if u, ok := s.code[key]; ok {
		return u, nil
	}
	g := s.repo(src)
	data, err := g.archive(ctx, commit)
	if err != nil {
		if ferr := g.fetch(ctx); ferr != nil {
			return "", err
		}
		if data, err = g.archive(ctx, commit); err != nil {
			return "", err
		}
	}
	u, err := s.cfg.Queue.UploadCode(ctx, s.cfg.Collab, bytes.NewReader(data), "application/gzip")
	if err != nil {
		return "", fmt.Errorf("uploading the code of %s at %s: %w", src.Name, short(commit), err)
	}
	s.code[key] = u
	return u, nil
}

func (s *Service) submitQueued(ctx context.Context) error {
	runs, err := s.cfg.Store.BenchmarkRunList(ctx, &store.BenchmarkRunListParams{Status: []string{store.RunQueued}})
	if err != nil {
		return err
	}
	sources := map[int64]*store.BenchmarkSource{}
	var errs []error
	// Oldest first.
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		src, ok := sources[r.SourceID]
		if !ok {
			all, err := s.cfg.Store.BenchmarkSourceList(ctx)
			if err != nil {
				return err
			}
			for j := range all {
				sources[all[j].ID] = &all[j]
			}
			src = sources[r.SourceID]
		}
		if src == nil {
			continue
		}
		u, err := s.codeURL(ctx, src, r.Commit)
		if err != nil {
			s.endRun(ctx, &r, store.RunError, err.Error(), nil)
			continue
		}
		j, err := s.cfg.Queue.Submit(ctx, &client.Submission{Code: u, Command: r.Command, Platform: r.Platform, Collab: s.cfg.Collab,
			Tags: []string{"benchmark", "benchmark:" + src.Name}})
		if err != nil {
			if client.Unreachable(err) {
				errs = append(errs, err) // try again next pass
				continue
			}
			s.endRun(ctx, &r, store.RunError, "the queue refused the job: "+err.Error(), nil)
			continue
		}
		if _, err := s.cfg.Store.BenchmarkRunUpdate(ctx, &store.BenchmarkRunUpdateParams{ID: r.ID, Status: ptr(store.RunSubmitted), JobID: &j.ID}); err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.Info("benchmark: run submitted", "run", r.ID, "job", j.ID, "platform", r.Platform, "task", r.Task)
	}
	return errors.Join(errs...)
}

func (s *Service) endRun(ctx context.Context, r *store.BenchmarkRun, status, reason string, ms []store.BenchmarkMeasurement) {
	if _, err := s.cfg.Store.BenchmarkRunEnd(ctx, &store.BenchmarkRunEndParams{ID: r.ID, Status: status, Error: reason, Measurements: ms, Now: s.cfg.Now()}); err != nil {
		s.log.Warn("benchmark: ending run", "run", r.ID, "error", err)
		return
	}
	s.log.Info("benchmark: run ended", "run", r.ID, "status", status, "measurements", len(ms), "error", reason)
}

// harvest ends the submitted runs whose jobs ended: their results files
// become measurements.
func (s *Service) harvest(ctx context.Context) error {
	runs, err := s.cfg.Store.BenchmarkRunList(ctx, &store.BenchmarkRunListParams{Status: []string{store.RunSubmitted}})
	if err != nil {
		return err
	}
	var errs []error
	for i := range runs {
		r := &runs[i]
		if r.JobID == nil {
			continue
		}
		j, err := s.cfg.Queue.Job(ctx, *r.JobID, false)
		if err != nil {
			var ne *client.Error
			if errors.As(err, &ne) && ne.Status == http.StatusNotFound {
				s.endRun(ctx, r, store.RunError, fmt.Sprintf("job %d is gone", *r.JobID), nil)
				continue
			}
			errs = append(errs, err)
			continue
		}
		if !j.Ended() {
			continue
		}
		ms, reason := s.harvestJob(ctx, r, j)
		status := store.RunFinished
		if reason != "" {
			status = store.RunError
		}
		s.endRun(ctx, r, status, reason, ms)
	}
	return errors.Join(errs...)
}

// provenance is what a harvest reads of a job's provenance.
type provenance struct {
	NMPVersion string   `json:"nmp_version"`
	Worker     string   `json:"worker"`
	Chips      []string `json:"chips"`
	Error      *struct {
		Kind    string `json:"kind"`
		Reason  string `json:"reason"`
		LogTail string `json:"log_tail"`
	} `json:"error"`
}

// harvestJob reads the results files of an ended job. A job that failed,
// wrote no results file, or wrote one that is invalid ends its run with the
// reason; valid files of a failed job are still kept.
func (s *Service) harvestJob(ctx context.Context, r *store.BenchmarkRun, j *client.Job) ([]store.BenchmarkMeasurement, string) {
	var prov provenance
	_ = json.Unmarshal(j.Provenance, &prov)
	machine := prov.Worker
	if len(prov.Chips) > 0 {
		machine += " (" + strings.Join(prov.Chips, ", ") + ")"
	}
	var ms []store.BenchmarkMeasurement
	var problems []string
	reports := 0
	for _, f := range j.Files() {
		if !strings.HasSuffix(strings.ToLower(f.Path), ".json") || (f.Size != nil && *f.Size > MaxReportBytes) {
			continue
		}
		data, err := s.download(ctx, f.URL)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", f.Path, err))
			continue
		}
		if !IsReport(data) {
			continue
		}
		reports++
		rep, err := ParseReport(data, r.Model, r.Task)
		if err != nil {
			problems = append(problems, fmt.Sprintf("results file %s: %v", f.Path, err))
			continue
		}
		for _, res := range rep.Results {
			ms = append(ms, store.BenchmarkMeasurement{JobID: j.ID, SourceID: r.SourceID, Model: rep.Model, Task: rep.Task, Platform: r.Platform,
				Type: res.Type, Name: res.Name, Value: res.Value, Units: res.Units, StdDev: res.StdDev, Min: res.Min, Max: res.Max, Measure: res.Measure,
				Timestamp: rep.Timestamp, RecordedAt: s.cfg.Now(), NMPVersion: prov.NMPVersion, Commit: r.Commit, Machine: machine, File: f.Path,
				Configuration: rep.Configuration})
		}
	}
	switch {
	case j.Status != "finished":
		reason := fmt.Sprintf("job %d ended %s", j.ID, j.Status)
		if prov.Error != nil && prov.Error.Reason != "" {
			reason += ": " + prov.Error.Reason
			if l := lastLogLine(prov.Error.LogTail); l != "" {
				reason += " (" + clip(l, 300) + ")"
			}
		}
		return ms, strings.Join(append([]string{reason}, problems...), "; ")
	case len(problems) > 0:
		return ms, strings.Join(problems, "; ")
	case reports == 0:
		return nil, fmt.Sprintf("job %d finished but wrote no results file (a .json output with model, task, timestamp and results, docs/benchmarks.md)", j.ID)
	}
	return ms, ""
}

func (s *Service) download(ctx context.Context, u string) ([]byte, error) {
	data, err := getBounded(ctx, s.cfg.HTTP, u, MaxReportBytes)
	if err != nil {
		return nil, fmt.Errorf("GET: %w", err)
	}
	return data, nil
}

// Fingerprint builds a platform fingerprint from its parts ("key value"
// pairs, in order), the form describeChange reads.
func Fingerprint(parts ...string) string {
	var items []string
	for i := 0; i+1 < len(parts); i += 2 {
		items = append(items, parts[i]+" "+strings.ReplaceAll(parts[i+1], ";", ","))
	}
	return strings.Join(items, "; ")
}

// lastLogLine is the last line of a job's log that is the job's own (a
// Python exception's message, say), not the worker's.
func lastLogLine(tail string) string {
	lines := strings.Split(tail, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "[nmp worker]") {
			return l
		}
	}
	return ""
}
