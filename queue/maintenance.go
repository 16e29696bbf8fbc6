package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// Defaults of the maintenance services.
const (
	RescueIntervalDefault = 15 * time.Second
	MaxAttemptsDefault    = 3
	CleanIntervalDefault  = time.Hour
)

// service runs fn every interval between Start and Stop. With a locker
// (servers sharing a PostgreSQL database), it runs fn only while this server
// holds the duty's lock: exactly one of the servers runs each duty, and when
// that one dies (its database session ends, releasing the lock) another takes
// the duty over at its next tick.
type service struct {
	name     string
	interval time.Duration
	logger   *slog.Logger
	locker   store.DutyLocker
	fn       func(ctx context.Context) error

	held   atomic.Bool
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *service) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return fmt.Errorf("%s: already started", s.name)
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		var lock store.DutyLock
		defer func() {
			if lock != nil {
				lock.Release()
				s.held.Store(false)
			}
		}()
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			if s.locker != nil {
				lock = s.hold(ctx, lock)
			}
			if s.locker == nil || lock != nil {
				if err := s.fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
					s.logger.ErrorContext(ctx, s.name+": run failed", slog.String("error", err.Error()))
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// hold keeps or takes the duty's lock; nil when another server holds it.
func (s *service) hold(ctx context.Context, lock store.DutyLock) store.DutyLock {
	if lock != nil {
		if err := lock.Check(ctx); err == nil {
			return lock
		} else if ctx.Err() == nil {
			s.logger.WarnContext(ctx, s.name+": lost the duty's lock; another server may take it over", slog.String("error", err.Error()))
		}
		lock.Release()
		s.held.Store(false)
	}
	l, ok, err := s.locker.TryDutyLock(ctx, s.name)
	if err != nil {
		if ctx.Err() == nil {
			s.logger.WarnContext(ctx, s.name+": cannot take the duty's lock", slog.String("error", err.Error()))
		}
		return nil
	}
	if !ok {
		return nil
	}
	s.logger.InfoContext(ctx, s.name+": this server runs the duty (it holds its lock)", slog.String("duty", s.name))
	s.held.Store(true)
	return l
}

func (s *service) stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Duty is a background duty of the servers sharing a database, run by one of
// them at a time (nightly calibrations, benchmark triggers and other
// periodic work use it as the rescuer and the cleaner do).
type Duty struct {
	// Name identifies the duty (and its lock) across servers.
	Name     string
	Interval time.Duration
	// Locker is the shared store (nil: this server runs the duty on its own).
	Locker store.DutyLocker
	Logger *slog.Logger
	Run    func(ctx context.Context) error
	svc    service
}

// Start runs the duty every Interval until Stop or ctx ends, while this server holds it.
func (d *Duty) Start(ctx context.Context) error {
	if d.Name == "" || d.Run == nil || d.Interval <= 0 {
		return errors.New("queue: a duty needs a name, an interval and a function")
	}
	d.svc.name, d.svc.interval, d.svc.locker, d.svc.fn = d.Name, d.Interval, d.Locker, d.Run
	d.svc.logger = d.Logger
	if d.svc.logger == nil {
		d.svc.logger = slog.New(slog.DiscardHandler)
	}
	return d.svc.start(ctx)
}

// Stop stops the duty and releases its lock.
func (d *Duty) Stop() { d.svc.stop() }

// Held tells whether this server runs the duty now.
func (d *Duty) Held() bool { return d.svc.locker == nil || d.svc.held.Load() }

// Rescuer requeues running jobs whose lease expired (their runner stopped
// renewing it), up to MaxAttempts attempts per job, then marks them as errors.
type Rescuer struct {
	Store       store.Store
	Logger      *slog.Logger
	Interval    time.Duration // default RescueIntervalDefault
	MaxAttempts int           // default MaxAttemptsDefault
	Now         func() time.Time
	// OnRescue is called for each job rescued (for notifications); may be nil.
	OnRescue func(ctx context.Context, r store.JobRescued)
	// Locker, when several servers share the store, lets only one of them rescue.
	Locker store.DutyLocker
	svc    service
}

// RunOnce rescues the jobs whose lease has expired now.
func (r *Rescuer) RunOnce(ctx context.Context) ([]store.JobRescued, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	max := r.MaxAttempts
	if max <= 0 {
		max = MaxAttemptsDefault
	}
	rs, err := r.Store.JobRescue(ctx, &store.JobRescueParams{Now: now, MaxAttempts: max})
	if err != nil {
		return nil, fmt.Errorf("rescue jobs: %w", err)
	}
	for _, x := range rs {
		r.logger().InfoContext(ctx, "rescuer: lease expired", slog.Int64("job", x.ID), slog.Int("attempts", x.Attempts), slog.String("now", x.Status))
		if r.OnRescue != nil {
			r.OnRescue(ctx, x)
		}
	}
	return rs, nil
}

func (r *Rescuer) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// Start runs the rescuer in the background until Stop or ctx ends.
func (r *Rescuer) Start(ctx context.Context) error {
	r.svc.name, r.svc.logger, r.svc.locker = "rescuer", r.logger(), r.Locker
	r.svc.interval = r.Interval
	if r.svc.interval <= 0 {
		r.svc.interval = RescueIntervalDefault
	}
	r.svc.fn = func(ctx context.Context) error { _, err := r.RunOnce(ctx); return err }
	return r.svc.start(ctx)
}

// Stop stops the rescuer and waits for it.
func (r *Rescuer) Stop() { r.svc.stop() }

// Held tells whether this server runs the rescuer now.
func (r *Rescuer) Held() bool { return r.svc.locker == nil || r.svc.held.Load() }

// Cleaner deletes stored output files and uploaded code archives whose
// retention period has ended.
type Cleaner struct {
	Store   store.Store
	Logger  *slog.Logger
	DataDir string // files live under DataDir/files/<job>/<path>, code archives under DataDir/code
	// CodeRetention is how long uploaded code archives are kept (default Retention).
	CodeRetention time.Duration
	Interval      time.Duration
	Now           func() time.Time
	// Locker, when several servers share the store, lets only one of them clean.
	Locker store.DutyLocker
	svc    service
}

// CodeDir is the directory below the data directory that holds uploaded code archives.
const CodeDir = "code"

// FilePath is where a stored output file of a job lives.
func FilePath(dataDir string, jobID int64, path string) string {
	return filepath.Join(dataDir, "files", strconv.FormatInt(jobID, 10), filepath.FromSlash(path))
}

// RunOnce deletes the files whose retention ended, and returns how many.
func (c *Cleaner) RunOnce(ctx context.Context) (int, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	n := 0
	for {
		items, err := c.Store.DataItemExpire(ctx, &store.DataItemExpireParams{Now: now, Limit: 500})
		if err != nil {
			return n, fmt.Errorf("expire files: %w", err)
		}
		for _, it := range items {
			p := FilePath(c.DataDir, it.JobID, it.Path)
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				c.logger().WarnContext(ctx, "cleaner: cannot delete file", slog.String("path", p), slog.String("error", err.Error()))
			}
		}
		n += len(items)
		if len(items) < 500 {
			break
		}
	}
	m, err := c.cleanCode(now)
	return n + m, err
}

// cleanCode deletes uploaded code archives older than the code retention.
func (c *Cleaner) cleanCode(now time.Time) (int, error) {
	keep := c.CodeRetention
	if keep <= 0 {
		keep = Retention
	}
	dir := filepath.Join(c.DataDir, CodeDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("expire code archives: %w", err)
	}
	n := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || now.Sub(fi.ModTime()) < keep {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}

func (c *Cleaner) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Start runs the cleaner in the background until Stop or ctx ends.
func (c *Cleaner) Start(ctx context.Context) error {
	c.svc.name, c.svc.logger, c.svc.locker = "cleaner", c.logger(), c.Locker
	c.svc.interval = c.Interval
	if c.svc.interval <= 0 {
		c.svc.interval = CleanIntervalDefault
	}
	c.svc.fn = func(ctx context.Context) error {
		n, err := c.RunOnce(ctx)
		if n > 0 {
			c.logger().InfoContext(ctx, "cleaner: deleted expired output files and code archives", slog.Int("files", n))
		}
		return err
	}
	return c.svc.start(ctx)
}

// Stop stops the cleaner and waits for it.
func (c *Cleaner) Stop() { c.svc.stop() }

// Held tells whether this server runs the cleaner now.
func (c *Cleaner) Held() bool { return c.svc.locker == nil || c.svc.held.Load() }
