package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/worker"
)

const workerUsage = `usage: nmp worker [flags]

Runs the jobs of a job queue server's platforms on this machine: it claims a
job (atomically, under a lease it keeps renewing), fetches its code and input
data into a fresh directory, runs its command with {system} replaced by the
platform's PyNN backend, as a user of its own, within limits on wall-clock
time, CPU time, memory, processes and output, streams the log, uploads the
files the job wrote, and ends the job with its provenance and resource usage.

The provider's API key comes from $NMP_API_KEY or -key-file (never from the
command line, which other users can read). 'nmp admin key add PROVIDER'
makes one; the local platform's first start writes one to bootstrap.json.

Examples:

	NMP_API_KEY=nmpk_... nmp worker -server https://nmp.example.org
	nmp worker -key-file /etc/nmp/key -platforms Demo -slots 2 -memory 8GiB

Run it as root: each job then runs as a user id of its own, in new mount,
PID, IPC, UTS and network namespaces, in a cgroup with its limits (where the
kernel allows them; the log says what is in effect). docs/worker.md explains
the isolation and its limits. SIGINT or SIGTERM stops the worker; running
jobs go back to the queue.

With -executor slurm each job's command runs as a SLURM batch job instead
(partition, account, QOS and generic resources per platform from
-slurm-config; -work-dir must be shared with the nodes at the same path;
jobs run as -run-as, default nmp-job). Stopping such a worker leaves its
SLURM jobs running; it re-attaches to them when it starts again:

	nmp worker -executor slurm -slurm-config /etc/nmp/slurm.json -work-dir /shared/nmp/jobs -slots 16`

func runWorker(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "worker", workerUsage)
	server := env.Getenv("NMP_SERVER")
	if server == "" {
		server = "http://localhost:8080"
	}
	serverURL := fs.String("server", server, "the job queue server's URL (default $NMP_SERVER, else http://localhost:8080)")
	keyFile := fs.String("key-file", "", "file holding the provider's API key (default: $NMP_API_KEY)")
	platforms := fs.String("platforms", strings.Join(platformTable.Emulated(), ","), "platforms to run, comma-separated")
	slots := fs.Int("slots", 1, "jobs to run at once")
	executor := fs.String("executor", "local", "where jobs' commands run: local (this machine, in the sandbox) or slurm (as SLURM batch jobs; see -slurm-config)")
	slurmConfig := fs.String("slurm-config", "", "the SLURM executor's JSON configuration: partitions, accounts, QOS and generic resources per platform (docs/deployment.md)")
	wf := addWorkerFlags(fs)
	name := fs.String("name", "", "the worker's name in logs and provenance (default: the host name); a SLURM worker re-attaches to the jobs it ran under this name")
	verbose := fs.Bool("v", false, "log more")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("worker: unexpected argument %q", pos[0])
	}
	key := strings.TrimSpace(env.Getenv("NMP_API_KEY"))
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	if key == "" {
		return usagef("worker: no API key: set $NMP_API_KEY or give -key-file")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := wf.config()
	if err != nil {
		return err
	}
	cfg.Server, cfg.APIKey, cfg.Logger, cfg.Slots, cfg.Name = *serverURL, key, logger, *slots, *name
	for _, p := range strings.Split(*platforms, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.Platforms = append(cfg.Platforms, p)
		}
	}
	switch *executor {
	case "local":
		if *slurmConfig != "" {
			return usagef("worker: -slurm-config is for -executor slurm")
		}
	case "slurm":
		if *slurmConfig == "" {
			return usagef("worker: -executor slurm needs -slurm-config FILE (docs/deployment.md shows one)")
		}
		b, err := os.ReadFile(*slurmConfig)
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		sc, err := worker.ParseSlurmConfig(b)
		if err != nil {
			return fmt.Errorf("worker: %s: %w", *slurmConfig, err)
		}
		cfg.Slurm = sc
	default:
		return usagef("worker: -executor: %q is not local or slurm", *executor)
	}
	w, err := worker.New(cfg)
	if err != nil {
		return err
	}
	if err := w.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	logger.Info("worker stopping: running jobs go back to the queue")
	w.Stop()
	return nil
}

// workerFlags are the flags nmp worker and nmp serve share.
type workerFlags struct {
	workDir, hide                  *string
	wall, cpu                      *time.Duration
	memory, output                 *string
	processes                      *int
	runAs, uids, group             *string
	network, noNS, noCgroups       *bool
	strict, allowPrivate, keepDirs *bool
	fetchTimeout, grace, poll      *time.Duration
	maxCode, maxInput              *string
	chip                           *string
	calibrations                   *string
	calibrate                      *bool
}

// addWorkerFlags defines the worker's flags.
func addWorkerFlags(fs interface {
	Int(string, int, string) *int
	String(string, string, string) *string
	Bool(string, bool, string) *bool
	Duration(string, time.Duration, string) *time.Duration
}) *workerFlags {
	d := worker.DefaultLimits
	return &workerFlags{
		workDir:      fs.String("work-dir", defaultWorkDir(), "directory for the jobs' directories"),
		hide:         fs.String("hide", "", "directories jobs must not see, comma-separated (e.g. the server's data directory)"),
		wall:         fs.Duration("wall-clock", d.WallClock, "most wall-clock time of a job's command"),
		cpu:          fs.Duration("cpu-time", d.CPUTime, "most CPU time of a job (all its processes)"),
		memory:       fs.String("memory", worker.Bytes(d.Memory), "most memory of a job (all its processes), e.g. 4GiB"),
		output:       fs.String("output", worker.Bytes(d.Output), "most a job may write to its directory, e.g. 1GiB"),
		processes:    fs.Int("processes", d.Processes, "most processes and threads of a job"),
		runAs:        fs.String("run-as", "", "run every job as this user (default: a user id of its own per job)"),
		uids:         fs.String("uids", "1900000000-1900000999", "user ids for jobs, FIRST-LAST"),
		group:        fs.String("group", "", "group of the jobs' users (default nmp-job if it exists, else nogroup)"),
		network:      fs.Bool("job-network", false, "let jobs use the network (default: loopback only)"),
		noNS:         fs.Bool("no-namespaces", false, "do not use namespaces"),
		noCgroups:    fs.Bool("no-cgroups", false, "do not use cgroups (sample /proc instead)"),
		strict:       fs.Bool("strict", false, "refuse to start without namespaces, cgroups and a user per job"),
		allowPrivate: fs.Bool("allow-private-urls", false, "let code and input URLs point to private and loopback addresses"),
		keepDirs:     fs.Bool("keep-work-dirs", false, "keep job directories after the jobs (for debugging)"),
		fetchTimeout: fs.Duration("fetch-timeout", 10*time.Minute, "most time to fetch a job's code or one input file"),
		grace:        fs.Duration("grace", 5*time.Second, "time between SIGTERM and SIGKILL for a stopped job"),
		poll:         fs.Duration("poll", 2*time.Second, "pause after finding the queues empty"),
		maxCode:      fs.String("max-code", "1GiB", "largest code archive or repository"),
		maxInput:     fs.String("max-input", "4GiB", "most input data of one job"),
		chip:         fs.String("chip", "", "the emulated chip this worker stands for ("+chipDefaults()+")"),
		calibrations: fs.String("calibrations", "", "directory where the worker keeps its chips' latest calibrations for its jobs (docs/calibration.md; default WORK-DIR/calibrations)"),
		calibrate:    fs.Bool("calibrate", true, "run the calibrations the server asks for of this worker's chips"),
	}
}

// chipDefaults says which platforms have chips, and their default chips.
func chipDefaults() string {
	var out []string
	for _, p := range platformTable {
		if p.DefaultChip != "" {
			out = append(out, p.Name+"; default "+p.DefaultChip)
		}
	}
	if len(out) == 0 {
		return "no platform has chips"
	}
	return strings.Join(out, ", ")
}

func defaultWorkDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/nmp/jobs"
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("nmp-jobs-%d", os.Geteuid()))
}

func (f *workerFlags) config() (worker.Config, error) {
	cfg := worker.Config{
		PlatformTable: platformTable,
		WorkDir:       *f.workDir, RunAs: *f.runAs, Group: *f.group, JobNetwork: *f.network,
		NoNamespaces: *f.noNS, NoCgroups: *f.noCgroups, Strict: *f.strict, AllowPrivateURLs: *f.allowPrivate,
		KeepWorkDirs: *f.keepDirs, FetchTimeout: *f.fetchTimeout, Grace: *f.grace, Poll: *f.poll, Chip: *f.chip,
		Limits: worker.Limits{WallClock: *f.wall, CPUTime: *f.cpu, Processes: *f.processes},
	}
	if exe, err := os.Executable(); err == nil {
		cfg.NMPBinary = exe
	}
	for _, h := range strings.Split(*f.hide, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.Hide = append(cfg.Hide, h)
		}
	}
	var err error
	for _, s := range []struct {
		name string
		v    *string
		dst  *int64
	}{{"memory", f.memory, &cfg.Limits.Memory}, {"output", f.output, &cfg.Limits.Output},
		{"max-code", f.maxCode, &cfg.MaxCodeBytes}, {"max-input", f.maxInput, &cfg.MaxInputBytes}} {
		if *s.dst, err = parseSize(*s.v); err != nil {
			return cfg, usagef("-%s: %v", s.name, err)
		}
	}
	lo, hi, ok := strings.Cut(*f.uids, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a <= 0 || b < a {
		return cfg, usagef("-uids: %q is not FIRST-LAST (positive user ids)", *f.uids)
	}
	cfg.UIDs = [2]int{a, b}
	if err := calibrationWorker(&cfg, *f.calibrations, *f.calibrate); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// parseSize reads a byte count: 123, 64KiB, 512MiB, 4GiB, 1TiB (also KB, MB,
// GB, TB as powers of 1000, and a bare K, M, G, T as powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a size such as 512MiB or 4GiB", s)
	}
	return int64(v * float64(mult)), nil
}
