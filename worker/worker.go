// Package worker runs the jobs of an nmp job queue: it claims the jobs of its
// platforms from the server (atomically, under a lease it keeps renewing),
// fetches each job's code (a pasted script, a git repository, a zip or
// tar.gz archive, or a directory uploaded to the server) and input data into
// a fresh directory, runs the job's command with {system} replaced by the
// platform's PyNN backend, as an unprivileged user of its own, with limits
// on wall-clock time, CPU time, memory, processes and output, streams the
// log to the server while the job runs, uploads the files the job wrote,
// and ends the job with its status, provenance and resource usage in the
// platform's units.
//
// A job that breaks a limit, crashes or is removed by its owner ends
// cleanly with a reason in its log; a worker that dies loses no job (the
// lease expires and the server gives the job to another run); a server that
// is away is retried with backoff. docs/worker.md describes all of it,
// including what the isolation of jobs does and does not protect.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/provider"
)

// Config configures a worker. Zero fields take the defaults shown.
type Config struct {
	// Server is the job queue server's URL; APIKey a key of a provider that runs Platforms.
	Server    string
	APIKey    string
	Platforms []string
	// PlatformTable says what each platform's jobs run on (default platform.Default()).
	PlatformTable platform.Table
	// Slots is how many jobs run at once (default 1).
	Slots int
	// WorkDir holds the jobs' directories (required; created 0711).
	WorkDir string
	// Hide lists directories jobs must not see, such as the server's data
	// directory (with namespaces; without them, file permissions must do).
	Hide []string
	// Limits are the most a job may use (default DefaultLimits); a job's
	// hardware_config may ask for less.
	Limits Limits
	// Python runs commands whose first word is a .py script (default /usr/bin/python3).
	Python string
	// NMPBinary is given to jobs as $NMP_BINARY, so that their simulations
	// use the same nmp as the worker ("" leaves it unset).
	NMPBinary string
	// Chip is the emulated chip this worker stands for, on platforms with
	// chips (default: the platform's DefaultChip). Jobs get it in the
	// platform's ChipEnv, and it goes in their provenance.
	Chip string
	// JobEnv are further variables of every job's environment ("NAME=value"),
	// such as where the chip's nightly calibrations are; Expose lists
	// directories and files jobs see read-only wherever they lie (the
	// calibrations), even under the work or a hidden directory.
	JobEnv []string
	Expose []string
	// Calibrate, when set, runs the calibrations the server asks for of
	// this worker's chips (calibrations.go) on the platforms whose system is
	// CalibrationSystem (e.g. "brainscales2").
	Calibrate         func(ctx context.Context, chip string) (*CalibrationResult, error)
	CalibrationSystem string
	// CalibrationDir, when set, is where the worker keeps its chips' latest
	// calibrations for its jobs (jobs see it read-only; CalibrationEnv
	// names the variable that tells them where it is).
	CalibrationDir string
	CalibrationEnv string
	// CalibrationPoll is how often the worker asks for calibrations and
	// looks for a newer latest one (default 10 s).
	CalibrationPoll time.Duration

	// RunAs is a user all jobs run as. Empty (the default when the worker
	// runs as root): each job gets a user id of its own from UIDs, with
	// group Group, so that jobs cannot touch each other's processes and files.
	RunAs string
	// UIDs is the range [first, last] of per-job user ids (default 1900000000-1900000999).
	UIDs [2]int
	// Group of per-job users (default "nmp-job" if it exists, else "nogroup").
	Group string
	// UIDLockDir holds the locks that keep a user id to one job on this
	// machine, across workers (default /run/nmp/uids).
	UIDLockDir string
	// NoNamespaces and NoCgroups turn those layers of isolation off (they are
	// used when the kernel allows them); Strict makes Start fail instead of
	// running jobs with less isolation than namespaces, cgroups and their
	// own users give.
	NoNamespaces, NoCgroups, Strict bool
	// JobNetwork lets jobs use the host's network (default: loopback only,
	// when namespaces are available).
	JobNetwork bool

	// AllowPrivateURLs lets code and input URLs point to loopback and private
	// addresses (the job queue server itself is always allowed).
	AllowPrivateURLs bool
	// FetchTimeout bounds fetching a job's code or one input file (default 10 min).
	FetchTimeout time.Duration
	// Code limits: archive or clone size (default 1 GiB) and files (default 100 000).
	MaxCodeBytes int64
	MaxCodeFiles int
	// MaxInputBytes bounds a job's input data together (default 4 GiB).
	MaxInputBytes int64
	// MaxLogBytes is how much of a job's output goes to its log (default 8 MiB, the server's cap).
	MaxLogBytes int64
	// MaxOutputFiles is how many output files are uploaded (default 10 000).
	MaxOutputFiles int

	// Poll is the pause after finding the queues empty (default 2 s);
	// Backoff and MaxBackoff bound the pauses while the server is away
	// (default 1 s doubling to 1 min).
	Poll, Backoff, MaxBackoff time.Duration
	// StatusEvery is how often a running job's status is checked, to stop it
	// once its owner removes it (default 5 s).
	StatusEvery time.Duration
	// LogFlush is how often a running job's new output goes to the server (default 1 s).
	LogFlush time.Duration
	// Grace is the time between SIGTERM and SIGKILL for a job stopped at its
	// wall-clock limit or cancelled (default 5 s).
	Grace time.Duration
	// KeepWorkDirs keeps job directories after the job (for debugging).
	KeepWorkDirs bool

	// Helper is the command that runs the job supervisor, SandboxMain
	// (default: this executable with the argument "sandbox", i.e. nmp sandbox).
	Helper    []string
	HelperEnv []string
	// Slurm, when set, runs each job's command as a SLURM batch job
	// (slurm.go) instead of on this machine; WorkDir must then be a
	// directory the cluster's nodes share at the same path, and jobs run as
	// RunAs (default nmp-job), a user the nodes know.
	Slurm *SlurmConfig

	// Name identifies the worker in logs and provenance (default: the host name).
	Name   string
	Logger *slog.Logger
}

// Worker runs jobs. Create it with New; Start and Stop it.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	client  *provider.Client
	fetch   *fetcher
	sandbox *sandboxRunner
	uids    *uidPool
	cgroups cgroupSetup
	// isolation describes what protects jobs here, for logs and provenance.
	isolation isolation
	// expose is what jobs see read-only wherever it lies (the nmp binary).
	expose []string
	// exec runs jobs' commands; slurm is it when jobs go to SLURM.
	exec  executor
	slurm *slurmExecutor
	// adopted are jobs a SLURM worker still held when it started.
	adopted chan *provider.Job
	// binaryAt is where jobs find the nmp binary ("": where it is, cfg.NMPBinary).
	binaryAt string

	mu      sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	running map[int64]bool
}

type isolation struct {
	// Executor is where commands run: "" on this machine, else "SLURM".
	Executor   string   `json:"executor,omitempty"`
	User       string   `json:"user"`
	Namespaces bool     `json:"namespaces"`
	Network    string   `json:"network"`
	Cgroup     string   `json:"cgroup"`
	Notes      []string `json:"notes,omitempty"`
}

func (i isolation) String() string {
	ns := "no namespaces"
	if i.Namespaces {
		ns = "mount, PID, IPC, UTS and network namespaces"
	}
	cg := "limits by process sampling"
	if i.Cgroup != "" {
		cg = "limits by " + i.Cgroup
	}
	if i.Executor != "" {
		return fmt.Sprintf("a %s batch job as %s; on the node, SLURM's isolation (its proctrack and task plugins: cgroups where configured); fetching code and converting Python 2 here: %s; network: %s; %s",
			i.Executor, i.User, ns, i.Network, cg)
	}
	return fmt.Sprintf("%s; %s; network: %s; %s", i.User, ns, i.Network, cg)
}

// New checks the configuration and returns a worker.
func New(cfg Config) (*Worker, error) {
	if cfg.Server == "" {
		return nil, errors.New("worker: no server URL")
	}
	if cfg.APIKey == "" {
		return nil, errors.New("worker: no provider API key")
	}
	if len(cfg.Platforms) == 0 {
		return nil, errors.New("worker: no platforms")
	}
	cfg.PlatformTable = cfg.PlatformTable.OrDefault()
	if err := cfg.PlatformTable.Check(); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	for _, p := range cfg.Platforms {
		s, err := cfg.PlatformTable.Get(p)
		if err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
		if s.Unavailable != "" {
			return nil, fmt.Errorf("worker: cannot run %s: %s", p, s.Unavailable)
		}
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("worker: no work directory")
	}
	wd, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("worker: work directory: %w", err)
	}
	if wd == "/" {
		return nil, errors.New("worker: the work directory cannot be /")
	}
	cfg.WorkDir = wd
	for i, h := range cfg.Hide {
		if cfg.Hide[i], err = filepath.Abs(h); err != nil {
			return nil, err
		}
		if within(wd, cfg.Hide[i]) {
			return nil, fmt.Errorf("worker: the work directory %s lies in %s, which jobs must not see", wd, h)
		}
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.Python == "" {
		cfg.Python = "/usr/bin/python3"
		if _, err := os.Stat(cfg.Python); err != nil {
			cfg.Python = "python3"
		}
	}
	if cfg.Slots <= 0 {
		cfg.Slots = 1
	}
	if cfg.UIDs == [2]int{} {
		cfg.UIDs = [2]int{1900000000, 1900000999}
	}
	if cfg.UIDs[0] <= 0 || cfg.UIDs[1] < cfg.UIDs[0] {
		return nil, fmt.Errorf("worker: user id range %d-%d is empty or includes root", cfg.UIDs[0], cfg.UIDs[1])
	}
	if cfg.UIDLockDir == "" {
		cfg.UIDLockDir = "/run/nmp/uids"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.FetchTimeout, 10*time.Minute)
	def(&cfg.Poll, 2*time.Second)
	def(&cfg.Backoff, time.Second)
	def(&cfg.MaxBackoff, time.Minute)
	def(&cfg.StatusEvery, 5*time.Second)
	def(&cfg.CalibrationPoll, 10*time.Second)
	def(&cfg.LogFlush, time.Second)
	def(&cfg.Grace, 5*time.Second)
	if cfg.MaxCodeBytes <= 0 {
		cfg.MaxCodeBytes = 1 << 30
	}
	if cfg.MaxCodeFiles <= 0 {
		cfg.MaxCodeFiles = 100000
	}
	if cfg.MaxInputBytes <= 0 {
		cfg.MaxInputBytes = 4 << 30
	}
	if cfg.MaxLogBytes <= 0 {
		cfg.MaxLogBytes = 8 << 20
	}
	if cfg.MaxOutputFiles <= 0 {
		cfg.MaxOutputFiles = 10000
	}
	if len(cfg.Helper) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("worker: cannot find the nmp executable for the job supervisor: %w", err)
		}
		cfg.Helper = []string{exe, "sandbox"}
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{cfg: cfg, log: cfg.Logger, running: map[int64]bool{}}
	if cfg.NMPBinary != "" {
		w.expose = []string{cfg.NMPBinary}
	}
	w.expose = append(w.expose, cfg.Expose...)
	if cfg.CalibrationDir != "" {
		if cfg.CalibrationDir, err = filepath.Abs(cfg.CalibrationDir); err != nil {
			return nil, fmt.Errorf("worker: calibration directory: %w", err)
		}
		if err := os.MkdirAll(cfg.CalibrationDir, 0o755); err != nil {
			return nil, fmt.Errorf("worker: calibration directory: %w", err)
		}
		w.expose = append(w.expose, cfg.CalibrationDir)
	}
	w.client = provider.New(cfg.Server, cfg.APIKey)
	w.client.HTTP = &http.Client{Timeout: 10 * time.Minute}
	w.fetch = newFetcher(cfg.Server, cfg.AllowPrivateURLs, cfg.FetchTimeout)
	w.sandbox = &sandboxRunner{Helper: cfg.Helper, HelperEnv: cfg.HelperEnv}
	w.exec = localExecutor{}
	if cfg.Slurm != nil {
		if w.cfg.RunAs == "" && os.Geteuid() == 0 {
			// SLURM starts jobs as users the nodes know, not as ids of a pool.
			w.cfg.RunAs = "nmp-job"
		}
		if w.slurm, err = newSlurmExecutor(w, *cfg.Slurm); err != nil {
			return nil, err
		}
		w.exec = w.slurm
	}
	return w, nil
}

// Isolation describes how this worker isolates jobs (known after Start).
func (w *Worker) Isolation() string { return w.isolation.String() }

// Start prepares the work directory, finds out which isolation the machine
// allows, and starts taking jobs in the background.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.prepare(ctx); err != nil {
		return err
	}
	w.log.Info("worker started", "server", w.cfg.Server, "platforms", w.cfg.Platforms, "slots", w.cfg.Slots,
		"work_dir", w.cfg.WorkDir, "isolation", w.isolation.String())
	for _, n := range w.isolation.Notes {
		w.log.Warn("worker: " + n)
	}
	ctx, cancel := context.WithCancel(ctx)
	w.mu.Lock()
	w.cancel = cancel
	w.mu.Unlock()
	if w.slurm != nil {
		jobs := w.slurm.adopt(ctx)
		w.adopted = make(chan *provider.Job, len(jobs))
		for _, j := range jobs {
			w.adopted <- j
		}
	}
	for i := 0; i < w.cfg.Slots; i++ {
		w.wg.Add(1)
		go func(slot int) {
			defer w.wg.Done()
			w.loop(ctx, slot)
		}(i)
	}
	if (w.cfg.Calibrate != nil || w.cfg.CalibrationDir != "") && len(w.calibrationChips()) > 0 {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.calibrations(ctx)
		}()
	}
	return nil
}

// Stop stops taking jobs, stops the running ones and gives them back to the
// queue, and waits.
func (w *Worker) Stop() {
	w.mu.Lock()
	cancel := w.cancel
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	w.wg.Wait()
}

// prepare sets up the work directory, the users and the isolation layers.
func (w *Worker) prepare(ctx context.Context) error {
	if err := os.MkdirAll(w.cfg.WorkDir, 0o711); err != nil {
		return fmt.Errorf("worker: work directory: %w", err)
	}
	if w.slurm != nil {
		if err := w.slurm.prepare(ctx); err != nil {
			return err
		}
	}
	root := os.Geteuid() == 0
	iso := isolation{}
	switch {
	case !root:
		iso.User = fmt.Sprintf("the worker's own user (uid %d)", os.Geteuid())
		iso.Notes = append(iso.Notes, "not running as root: jobs run as the worker's own user, without namespaces or cgroups, and can read and change whatever the worker can")
		if w.cfg.Strict {
			return errors.New("worker: strict isolation needs root (to run each job as a user of its own)")
		}
		w.uids = &uidPool{single: -1, gid: -1}
	case w.cfg.RunAs != "":
		u, err := user.Lookup(w.cfg.RunAs)
		if err != nil {
			return fmt.Errorf("worker: user %s: %w", w.cfg.RunAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if uid == 0 {
			return errors.New("worker: jobs cannot run as root")
		}
		w.uids = &uidPool{single: uid, gid: gid}
		iso.User = fmt.Sprintf("user %s (uid %d), shared by all jobs", w.cfg.RunAs, uid)
		iso.Notes = append(iso.Notes, "all jobs run as one user: running jobs can see and signal each other's processes and share the process limit")
	default:
		gid := 65534
		group := w.cfg.Group
		if group == "" {
			group = "nmp-job"
			if _, err := user.LookupGroup(group); err != nil {
				group = "nogroup"
			}
		}
		if g, err := user.LookupGroup(group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		} else if w.cfg.Group != "" {
			return fmt.Errorf("worker: group %s: %w", w.cfg.Group, err)
		}
		if err := os.MkdirAll(w.cfg.UIDLockDir, 0o700); err != nil {
			return fmt.Errorf("worker: user id locks: %w", err)
		}
		w.uids = &uidPool{lo: w.cfg.UIDs[0], hi: w.cfg.UIDs[1], gid: gid, dir: w.cfg.UIDLockDir, held: map[int]*os.File{}}
		iso.User = fmt.Sprintf("a user of its own per job (uid %d-%d, group %s)", w.cfg.UIDs[0], w.cfg.UIDs[1], group)
	}
	if root && !w.cfg.NoCgroups {
		cg, err := detectCgroups("nmp-jobs")
		if err != nil {
			iso.Notes = append(iso.Notes, "no usable cgroups ("+err.Error()+"): memory and CPU limits are enforced by sampling /proc every 200 ms, which a fast-growing job can overshoot")
			if w.cfg.Strict {
				return fmt.Errorf("worker: strict isolation needs cgroups: %w", err)
			}
		} else {
			w.cgroups = cg
			iso.Cgroup = "cgroup " + cg.Version
		}
	}
	iso.Network = "the host's network"
	if root && !w.cfg.NoNamespaces {
		w.sandbox.NamespaceFlags = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
		if !w.cfg.JobNetwork {
			w.sandbox.NamespaceFlags |= syscall.CLONE_NEWNET
		}
		// A probe can fail once for a reason of its own (a signal in flight
		// while the supervisor starts); a machine without namespaces fails every time.
		err := w.probe(ctx)
		for try := 1; err != nil && try < 3 && ctx.Err() == nil; try++ {
			w.log.Warn("worker: the namespace probe failed; trying again", "error", err)
			err = w.probe(ctx)
		}
		if err != nil {
			w.sandbox.NamespaceFlags = 0
			iso.Notes = append(iso.Notes, "namespaces unavailable ("+err.Error()+"): jobs see the host's /tmp, processes and network")
			if w.cfg.Strict {
				return fmt.Errorf("worker: strict isolation needs namespaces: %w", err)
			}
		} else {
			iso.Namespaces = true
			if !w.cfg.JobNetwork {
				iso.Network = "loopback only"
			}
		}
	} else if root && w.cfg.Strict {
		return errors.New("worker: strict isolation needs namespaces")
	}
	// Without namespaces the jobs' users reach their directories through the real path.
	// Nor do they on SLURM's nodes.
	if root && (!iso.Namespaces || w.slurm != nil) && w.uids.single != -1 {
		for d := w.cfg.WorkDir; d != "/"; d = filepath.Dir(d) {
			fi, err := os.Stat(d)
			if err != nil {
				return fmt.Errorf("worker: work directory: %w", err)
			}
			if fi.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("worker: jobs' users cannot reach the work directory %s: %s has mode %04o (it needs o+x); choose another -work-dir, such as /var/lib/nmp/jobs", w.cfg.WorkDir, d, fi.Mode().Perm())
			}
		}
	}
	if w.slurm != nil {
		iso.Executor = "SLURM"
		iso.Notes = append(iso.Notes, "jobs run as SLURM batch jobs: on the nodes they are isolated by SLURM as the cluster is configured (use proctrack/cgroup and task/cgroup), not by nmp's sandbox; the worker enforces wall clock and output size, SLURM memory (--mem) and CPUs (--cpus-per-task)")
	} else if w.cfg.NMPBinary != "" && root && w.uids.single != -1 {
		// The jobs' simulations run the nmp binary: with namespaces the sandbox
		// binds it where they reach it (jobBinary); without, it must be reachable
		// where it is, or no job could run a simulation.
		if iso.Namespaces {
			if err := os.MkdirAll(jobBinaryDir, 0o755); err != nil {
				return fmt.Errorf("worker: %w", err)
			}
			// Under its own name: a program may look at how it was called.
			w.binaryAt = filepath.Join(jobBinaryDir, filepath.Base(w.cfg.NMPBinary))
		} else if err := reachable(w.cfg.NMPBinary); err != nil {
			return fmt.Errorf("worker: jobs' users cannot run the nmp binary %s: %v; install nmp where every user can run it (e.g. /usr/local/bin), or let the worker use namespaces", w.cfg.NMPBinary, err)
		}
	}
	w.isolation = iso
	return nil
}

// holdFor is the quota a job of the platform may use at most under this
// worker's limits: its wall-clock limit, charged by the platform's rule.
// The server holds that much for the job when it is claimed, as far as the
// collab's quota has room (0: platforms whose usage nmp does not charge).
// minHold is what two minutes of the job's command cost: jobs whose quota
// has less room wait for the collab's running jobs to end.
func (w *Worker) holdFor(name string) (hold, minHold float64) {
	p, err := w.cfg.PlatformTable.Get(name)
	if err != nil || p.Usage == nil {
		return 0, 0
	}
	hold, _ = p.Usage(platform.Used{WallClock: w.cfg.Limits.WallClock.Seconds()})
	minHold, _ = p.Usage(platform.Used{WallClock: (2*time.Minute + w.cfg.Grace).Seconds()})
	return hold, min(minHold, hold)
}

// jobBinaryDir is where jobs find the nmp binary when the sandbox has
// namespaces: a directory of the host that the sandbox covers with one
// holding only the binary.
const jobBinaryDir = "/run/nmp-job"

// reachable tells why a user other than the file's owner and group could
// not execute path, or nil.
func reachable(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o005 != 0o005 {
		return fmt.Errorf("it has mode %04o (it needs o+rx)", fi.Mode().Perm())
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the directory %s has mode %04o (it needs o+x)", d, fi.Mode().Perm())
		}
		if d == "/" {
			return nil
		}
	}
}

// probe runs /bin/true in the sandbox, to see whether namespaces work here.
func (w *Worker) probe(ctx context.Context) error {
	dir, err := os.MkdirTemp(w.cfg.WorkDir, "probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	spec := &sandboxSpec{Argv: []string{"/bin/true"}, Dir: dir, JobDir: dir, WorkRoot: w.cfg.WorkDir, UID: -1, GID: -1,
		Hide: w.cfg.Hide, Limits: Limits{WallClock: 20 * time.Second}, Grace: time.Second}
	res, err := w.sandbox.run(ctx, spec, discard{})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("/bin/true exited with %d in the sandbox", res.ExitCode)
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// loop claims and runs jobs until ctx ends.
func (w *Worker) loop(ctx context.Context, slot int) {
	backoff := time.Duration(0)
	next := rand.IntN(len(w.cfg.Platforms))
	// Platforms the server refuses to give this worker (its key's provider
	// does not run them), left alone for MaxBackoff before asking again.
	refused := map[string]time.Time{}
	for ctx.Err() == nil {
		select {
		case job := <-w.adopted:
			w.runTracked(ctx, job, slot)
			continue
		default:
		}
		var job *provider.Job
		var err error
		asked := 0
		for i := 0; i < len(w.cfg.Platforms) && job == nil && err == nil; i++ {
			p := w.cfg.Platforms[(next+i)%len(w.cfg.Platforms)]
			if time.Now().Before(refused[p]) {
				continue
			}
			asked++
			hold, minHold := w.holdFor(p)
			job, err = w.client.ClaimHold(ctx, p, hold, minHold)
			var ae *provider.APIError
			switch {
			case errors.Is(err, provider.ErrNoJob):
				err = nil
			case errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusTooManyRequests:
				// A configuration problem (a bad key, a platform not the provider's): say so, and ask less often.
				if slot == 0 {
					w.log.Error("worker: the server refuses to give jobs of a platform", "platform", p, "error", err)
				}
				refused[p] = time.Now().Add(w.cfg.MaxBackoff)
				err = nil
			}
		}
		next++
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			backoff = nextBackoff(backoff, w.cfg.Backoff, w.cfg.MaxBackoff)
			w.log.Warn("worker: server unreachable; retrying", "in", backoff.Round(time.Millisecond).String(), "error", err)
			sleep(ctx, backoff)
			continue
		case job == nil && asked == 0:
			sleep(ctx, jitter(w.cfg.Poll))
			continue
		case job == nil:
			if backoff > 0 {
				w.log.Info("worker: server reachable again")
			}
			backoff = 0
			sleep(ctx, jitter(w.cfg.Poll))
			continue
		}
		backoff = 0
		w.runTracked(ctx, job, slot)
	}
}

// runTracked runs a job, listed in Running while it runs.
func (w *Worker) runTracked(ctx context.Context, job *provider.Job, slot int) {
	w.mu.Lock()
	w.running[job.ID] = true
	w.mu.Unlock()
	w.runJob(ctx, job, slot)
	w.mu.Lock()
	delete(w.running, job.ID)
	w.mu.Unlock()
}

// Running lists the ids of the jobs running now.
func (w *Worker) Running() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int64
	for id := range w.running {
		out = append(out, id)
	}
	return out
}

func nextBackoff(cur, min, max time.Duration) time.Duration {
	if cur < min {
		return jitter(min)
	}
	cur *= 2
	if cur > max {
		cur = max
	}
	return jitter(cur)
}

// jitter spreads d by ±20 %, so that workers do not call in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// uidPool hands out user ids to jobs: each running job on this machine has
// its own, kept by an flock in the lock directory (so that several workers
// on one machine share the range safely). single >= 0 gives every job that
// user id instead; single == -1 with gid == -1 keeps the worker's own.
type uidPool struct {
	single, gid int
	lo, hi      int
	dir         string
	mu          sync.Mutex
	held        map[int]*os.File
}

func (p *uidPool) acquire() (uid, gid int, release func(), err error) {
	if p.held == nil {
		return p.single, p.gid, func() {}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.hi - p.lo + 1
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		u := p.lo + (start+i)%n
		if p.held[u] != nil {
			continue
		}
		f, err := os.OpenFile(filepath.Join(p.dir, strconv.Itoa(u)), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return 0, 0, nil, fmt.Errorf("user id lock: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		p.held[u] = f
		return u, p.gid, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			delete(p.held, u)
			f.Close()
		}, nil
	}
	return 0, 0, nil, fmt.Errorf("all %d job user ids are in use", n)
}
