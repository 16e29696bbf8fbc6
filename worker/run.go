package worker

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nmp-platform/nmp/internal/buildinfo"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/provider"
)

// errRemoved ends a job's context when its owner removes it.
var errRemoved = errors.New("the job was removed by its owner")

// outcome is how a job ended.
type outcome struct {
	status string // provider.Finished or provider.Error
	// kind of failure: "user" (the job's code, inputs or command), "limit"
	// (a limit was reached) or "system" (the worker or platform failed).
	kind   string
	reason string
	res    *sandboxResult
	// retry: the platform failed the run (a SLURM node failure, a
	// preemption); the job goes back to the queue for another attempt.
	retry bool
}

// jobRun is the state of one job on this worker.
type jobRun struct {
	w      *Worker
	job    *provider.Job
	sys    platform.Platform
	slot   int
	uid    int
	gid    int
	ownUID bool   // uid is the job's own (from the pool), not shared
	dir    string // the job's directory: work/, home/, tmp/, report/
	work   string
	limits Limits
	log    *logStream
	prov   map[string]any
	// detached: the job's command runs on after the worker let go of it (a
	// SLURM job whose worker stops, or whose lease went to another worker);
	// its directory is kept. detachedWhat names it for the log.
	detached     bool
	detachedWhat string
	before       map[string]fileStamp
	command      []string
	summary      []byte // the data summary (summary.go), nil when there is none
}

type fileStamp struct {
	size  int64
	mtime time.Time
}

// runJob runs one claimed job to its end.
func (w *Worker) runJob(ctx context.Context, job *provider.Job, slot int) {
	sys, _ := w.cfg.PlatformTable.Lookup(job.HardwarePlatform)
	attempt := job.Attempt()
	log := w.log.With("job", job.ID, "platform", job.HardwarePlatform, "attempt", attempt)
	log.Info("worker: job claimed")
	// Renewed as often as the status is checked, so that a job the server
	// asks to stop (its collab's quota was lowered) stops within that time.
	hctx, release := w.client.HoldEvery(ctx, job, w.cfg.StatusEvery)
	defer release()
	jctx, cancel := context.WithCancelCause(hctx)
	defer cancel(nil)
	go w.watch(jctx, cancel, job)

	r := &jobRun{w: w, job: job, sys: sys, slot: slot, prov: map[string]any{}}
	r.log = newLogStream(jctx, w, job, cancel)
	r.log.printf("job %d, attempt %d, on %s (nmp %s system, PyNN backend %q%s), worker %s slot %d, nmp %s",
		job.ID, attempt, job.HardwarePlatform, sys.System, sys.Backend, chipText(r.chip()), w.cfg.Name, slot, buildinfo.Version())
	out := r.execute(jctx)

	cause := context.Cause(jctx)
	switch {
	case errors.Is(cause, errRemoved):
		r.log.stop()
		log.Info("worker: job removed by its owner while running; stopped")
	case errors.Is(cause, provider.ErrLeaseLost):
		r.log.stop()
		log.Warn("worker: lease lost; the server gave the job back to the queue (or ended it); stopped")
	case ctx.Err() != nil && r.detached:
		// The worker is stopping, and the job runs on without it (a SLURM
		// job): the next start of a worker re-attaches to it.
		r.log.printf("the worker is stopping; %s runs on, and the worker re-attaches to it when it starts again", r.detachedWhat)
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		r.log.close(fctx)
		fcancel()
		log.Info("worker: stopping; the job runs on without the worker", "what", r.detachedWhat)
	case ctx.Err() != nil:
		// The worker is stopping: give the job back at once rather than at lease expiry.
		r.log.printf("the worker is stopping: the job goes back to the queue")
		r.giveBack(ctx, log)
	case errors.Is(cause, provider.ErrStop) && ctx.Err() == nil:
		// The collab's quota no longer covers the job's hold: it was killed;
		// what it wrote is uploaded and what it used charged, under the lease
		// (still renewed), with the worker's context.
		var se *provider.StopError
		errors.As(cause, &se)
		what := "the server asked for the job to be stopped"
		if se != nil {
			what = se.Reason
		}
		if out.status != provider.Finished { // (one that ended by itself just then stays finished)
			out.status, out.kind, out.retry = provider.Error, "limit", false
			out.reason = "the job was stopped: its collab's quota was lowered or used up while it ran (" + what + ")"
		}
		log.Info("worker: the server asked to stop the job (quota); stopped", "reason", what)
		r.finish(ctx, out)
	case out.retry && r.attempt() < maxRetryAttempt:
		r.log.printf("%s; the job goes back to the queue for another attempt", out.reason)
		r.giveBack(ctx, log)
	default:
		r.finish(jctx, out)
	}
	release()
	if !r.detached {
		r.cleanup()
	}
}

// maxRetryAttempt is the last attempt after which a run the platform failed
// (outcome.retry) ends the job as an error instead of going back to the queue.
const maxRetryAttempt = 3

// giveBack sends the rest of the log and puts the job back in the queue.
func (r *jobRun) giveBack(ctx context.Context, log *slog.Logger) {
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer fcancel()
	r.log.close(fctx)
	if r.w.slurm != nil {
		r.w.slurm.forget(r.job.ID)
	}
	if err := r.w.client.Update(fctx, r.job, &provider.Update{Status: "submitted"}); err != nil {
		log.Warn("worker: could not give the job back; the server will when its lease expires", "error", err)
	} else {
		log.Info("worker: job given back to the queue")
	}
}

func chipText(chip string) string {
	if chip == "" {
		return ""
	}
	return ", chip " + chip
}

// watch checks the job's status now and then, to stop it once it is
// removed, or back in the queue because the lease was lost.
func (w *Worker) watch(ctx context.Context, cancel context.CancelCauseFunc, job *provider.Job) {
	t := time.NewTicker(w.cfg.StatusEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), provider.ErrLeaseLost) {
				// The lease is gone: find out whether the owner removed the job.
				gctx, gcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				j, err := w.client.Get(gctx, job.ID, false)
				gcancel()
				if err == nil && j.Status == "removed" {
					cancel(errRemoved)
				}
			}
			return
		case <-t.C:
			j, err := w.client.Get(ctx, job.ID, false)
			switch {
			case err != nil:
			case j.Status == "removed":
				cancel(errRemoved)
				return
			case j.Status != provider.Running:
				// Back in the queue (our lease expired) or ended: no longer ours.
				cancel(fmt.Errorf("%w: the job is %s", provider.ErrLeaseLost, j.Status))
				return
			}
		}
	}
}

// execute prepares and runs the job; it returns how the job ended.
func (r *jobRun) execute(ctx context.Context) *outcome {
	w, job := r.w, r.job
	fail := func(err error) *outcome {
		o := &outcome{status: provider.Error, kind: "system", reason: err.Error()}
		if errors.Is(err, errUser) || errors.Is(err, ErrUnsafeArchive) {
			o.kind = "user"
			o.reason = strings.TrimPrefix(err.Error(), errUser.Error()+": ")
		}
		return o
	}
	if w.slurm != nil {
		if st, ok := w.slurm.load(job.ID); ok {
			if o := w.slurm.resume(ctx, r, st); o != nil {
				return o
			}
		}
	}
	limits, notes, err := effectiveLimits(w.cfg.Limits, job.HardwareConfig)
	if err != nil {
		return fail(userErrorf("%v", err))
	}
	for _, n := range notes {
		r.log.printf("%s", n)
	}
	// The job may use only the quota held for it: its time is bounded so
	// that what it is charged stays within the hold (zero overspend).
	if job.Lease != nil && job.Lease.Hold > 0 && r.sys.Usage != nil {
		if perHour, _ := r.sys.Usage(platform.Used{WallClock: 3600}); perHour > 0 {
			most := time.Duration(job.Lease.Hold/perHour*float64(time.Hour)) - w.cfg.Grace - time.Second
			if most < time.Second {
				return &outcome{status: provider.Error, kind: "limit", reason: fmt.Sprintf("the collab's quota on %s has no room left for this job (%g %s held)",
					job.HardwarePlatform, job.Lease.Hold, r.sys.Units)}
			}
			if most < limits.WallClock || limits.WallClock == 0 {
				limits.WallClock = most.Truncate(time.Second)
				r.log.printf("quota: %g %s of the collab's quota are held for this job: its wall-clock limit is %s", job.Lease.Hold,
					r.sys.Units, limits.WallClock)
			}
		}
	}
	r.limits = limits
	r.command, err = buildCommand(job.Command, r.sys.Backend, job.HardwarePlatform, w.cfg.Python)
	if err != nil {
		return fail(userErrorf("%v", err))
	}
	uid, gid, releaseUID, err := w.uids.acquire()
	if err != nil {
		return fail(err)
	}
	defer releaseUID()
	r.uid, r.gid = uid, gid
	// Only a user id of the job's own may have its processes killed: a
	// -run-as user is shared by every job (and, on SLURM, by the nodes' jobs).
	r.ownUID = w.uids.held != nil
	if r.ownUID && uid > 0 {
		killUser(uid) // leftovers of a worker that died
	}
	if err := r.makeDirs(); err != nil {
		return fail(err)
	}
	if err := r.fetchCode(ctx); err != nil {
		return fail(err)
	}
	if err := r.fetchInputs(ctx); err != nil {
		return fail(err)
	}
	if err := chownTree(r.dir, r.uid, r.gid); err != nil {
		return fail(fmt.Errorf("give the job's files to its user: %w", err))
	}
	if err := r.convertPython2(ctx); err != nil {
		return fail(err)
	}
	if r.sys.System == w.cfg.CalibrationSystem {
		if seen := w.calibrationSeen(r.chip()); seen != nil {
			// Which nightly calibration helper.nightly_calib_path() gave the job.
			r.prov["nightly_calibration"] = seen
		}
	}
	r.before = snapshot(r.work)
	r.log.printf("running: %s", strings.Join(r.command, " "))
	r.log.printf("limits: %s", limits)
	r.log.printf("isolation: %s", w.isolation)
	res, err := w.exec.run(ctx, r)
	if err != nil {
		return fail(err)
	}
	o := r.judge(res)
	if res.Started && (o.kind == "" || o.kind == "user") && ctx.Err() == nil {
		r.summary = r.summarize(ctx)
	}
	return o
}

// executor runs a prepared job's command (r.command with r.env() in r.work,
// within r.limits) to its end: on this machine in the sandbox (localExecutor),
// or as a SLURM batch job (slurmExecutor, slurm.go).
type executor interface {
	run(ctx context.Context, r *jobRun) (*sandboxResult, error)
}

// localExecutor runs jobs on the worker's machine, under the supervisor.
type localExecutor struct{}

func (localExecutor) run(ctx context.Context, r *jobRun) (*sandboxResult, error) {
	return r.run(ctx, r.command, r.env(), r.limits, !r.w.cfg.JobNetwork)
}

// judge turns the supervisor's result into the job's outcome.
func (r *jobRun) judge(res *sandboxResult) *outcome {
	o := &outcome{status: provider.Finished, res: res}
	l := r.limits
	switch res.Reason {
	case reasonWallClock:
		o.kind, o.reason = "limit", fmt.Sprintf("the job exceeded its wall-clock limit of %s and was stopped", l.WallClock)
	case reasonCPU:
		o.kind, o.reason = "limit", fmt.Sprintf("the job exceeded its CPU-time limit of %s and was killed", l.CPUTime)
	case reasonMemory:
		o.kind, o.reason = "limit", fmt.Sprintf("the job exceeded its memory limit of %s and was killed", Bytes(l.Memory))
	case reasonOutput:
		o.kind, o.reason = "limit", fmt.Sprintf("the job wrote more than its output limit of %s and was killed", Bytes(l.Output))
	case reasonCancelled:
		o.kind, o.reason = "system", "the job was stopped"
	case reasonSystem:
		o.kind, o.reason = "system", res.Error
	case reasonRetry:
		o.kind, o.reason, o.retry = "system", res.Error, true
	default:
		switch {
		case res.Signal != "":
			o.kind, o.reason = "user", fmt.Sprintf("the job's command was killed by %s", res.Signal)
		case res.ExitCode != 0:
			o.kind, o.reason = "user", fmt.Sprintf("the job's command exited with status %d", res.ExitCode)
		}
	}
	if o.kind != "" {
		o.status = provider.Error
	}
	return o
}

// makeDirs creates the job's directory: work/ (the working directory, whose
// new files are the job's output), home/ and tmp/ (for caches and temporary
// files) and report/ (run reports, see docs/worker.md).
func (r *jobRun) makeDirs() error {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	attempt := r.job.Attempt()
	r.dir = filepath.Join(r.w.cfg.WorkDir, fmt.Sprintf("job-%d-%d-%s", r.job.ID, attempt, hex.EncodeToString(b)))
	if err := os.Mkdir(r.dir, 0o700); err != nil {
		return fmt.Errorf("job directory: %w", err)
	}
	r.work = filepath.Join(r.dir, "work")
	for _, d := range []string{"work", "home", "tmp", "report"} {
		if err := os.Mkdir(filepath.Join(r.dir, d), 0o700); err != nil {
			return fmt.Errorf("job directory: %w", err)
		}
	}
	if err := os.Chmod(r.work, 0o755); err != nil {
		return err
	}
	return chownTree(r.dir, r.uid, r.gid)
}

// env is the job's environment: nothing of the worker's, a few things of its own.
func (r *jobRun) env() []string {
	user := "nmp-job"
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + filepath.Join(r.dir, "home"),
		"TMPDIR=" + filepath.Join(r.dir, "tmp"),
		"USER=" + user, "LOGNAME=" + user,
		"LANG=C.UTF-8",
		// Output reaches the log as it is printed, and plots need no display.
		"PYTHONUNBUFFERED=1",
		"MPLBACKEND=Agg",
		"NMP_JOB_ID=" + strconv.FormatInt(r.job.ID, 10),
		"NMP_JOB_ATTEMPT=" + strconv.Itoa(r.attempt()),
		"NMP_PLATFORM=" + r.job.HardwarePlatform,
		"NMP_SYSTEM=" + r.sys.System,
		"NMP_BACKEND=" + r.sys.Backend,
		"NMP_JOB_REPORT=" + filepath.Join(r.dir, "report"),
		// SpiNNaker's tools find their NMPI job this way.
		"NMPI_JOB_ID=" + strconv.FormatInt(r.job.ID, 10),
		"NMPI_USER=" + r.job.UserID,
	}
	if r.w.binaryAt != "" {
		env = append(env, "NMP_BINARY="+r.w.binaryAt)
	} else if r.w.cfg.NMPBinary != "" {
		env = append(env, "NMP_BINARY="+r.w.cfg.NMPBinary)
	}
	if chip := r.chip(); chip != "" {
		env = append(env, r.sys.ChipEnv+"="+chip)
	}
	if d, e := r.w.cfg.CalibrationDir, r.w.cfg.CalibrationEnv; d != "" && e != "" && r.sys.System == r.w.cfg.CalibrationSystem {
		env = append(env, e+"="+d)
	}
	return append(env, r.w.cfg.JobEnv...)
}

// attempt is the run of the job this is (1 for the first).
func (r *jobRun) attempt() int {
	return r.job.Attempt()
}

// chip is the emulated chip the job runs on ("" for systems without chips).
func (r *jobRun) chip() string {
	if r.sys.ChipEnv == "" {
		return ""
	}
	if key := r.sys.ChipConfig; key != "" && len(r.job.HardwareConfig) > 0 {
		var hc map[string]any
		if json.Unmarshal(r.job.HardwareConfig, &hc) == nil {
			switch v := hc[key].(type) {
			case string:
				if v != "" {
					return v
				}
			case float64:
				// a number, as BrainScaleS users give {"WAFER_MODULE": 33}
				if v >= 0 && v <= 1<<31 && v == math.Trunc(v) {
					return strconv.FormatInt(int64(v), 10)
				}
			}
		}
	}
	if r.w.cfg.Chip != "" {
		return r.w.cfg.Chip
	}
	return r.sys.DefaultChip
}

// run runs argv in the job's sandbox, its output going to the job's log.
func (r *jobRun) run(ctx context.Context, argv, env []string, limits Limits, isolateNet bool) (*sandboxResult, error) {
	return r.runTo(ctx, argv, env, limits, isolateNet, r.log)
}

// runTo runs argv in the job's sandbox, its output going to out.
func (r *jobRun) runTo(ctx context.Context, argv, env []string, limits Limits, isolateNet bool, out io.Writer) (*sandboxResult, error) {
	spec := &sandboxSpec{
		Argv: argv, Env: env, Dir: r.work, JobDir: r.dir, WorkRoot: r.w.cfg.WorkDir, Hide: r.w.cfg.Hide, Expose: r.w.expose,
		UID: r.uid, GID: r.gid, Network: !isolateNet, Limits: limits, Grace: r.w.cfg.Grace,
	}
	if r.w.binaryAt != "" {
		spec.Binary, spec.BinaryAt = r.w.cfg.NMPBinary, r.w.binaryAt
	}
	if r.w.cgroups.Version != "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		dirs, err := r.w.cgroups.create(fmt.Sprintf("job-%d-%s", r.job.ID, hex.EncodeToString(b)))
		if err != nil {
			return nil, fmt.Errorf("%w: cgroup: %v", errSandbox, err)
		}
		defer r.w.cgroups.remove(dirs)
		spec.Cgroup, spec.CgroupDirs = r.w.cgroups.Version, dirs
	}
	return r.w.sandbox.run(ctx, spec, out)
}

// fetchCode puts the job's code into its working directory.
func (r *jobRun) fetchCode(ctx context.Context) error {
	kind, u, err := classifyCode(r.job.Code)
	if err != nil {
		return err
	}
	code := map[string]any{"kind": kind}
	r.prov["code"] = code
	switch kind {
	case codeScript:
		name := scriptName(r.job.Command)
		sum := sha256.Sum256([]byte(r.job.Code))
		code["file"], code["sha256"] = name, hex.EncodeToString(sum[:])
		r.log.printf("code: the script of the job, saved as %s (%s)", name, Bytes(int64(len(r.job.Code))))
		return os.WriteFile(filepath.Join(r.work, name), []byte(r.job.Code), 0o644)
	case codeGit:
		code["url"] = u.String()
		return r.clone(ctx, u, code)
	}
	code["url"] = u.String()
	tmp := filepath.Join(r.dir, "code.download")
	defer os.Remove(tmp)
	r.log.printf("code: downloading %s", u)
	fctx, cancel := context.WithTimeout(ctx, r.w.cfg.FetchTimeout)
	n, sum, err := r.w.fetch.download(fctx, u.String(), tmp, r.w.cfg.MaxCodeBytes)
	cancel()
	if err != nil {
		if kind == codeURL {
			// Not downloadable as a file: perhaps a git server that answers only git's requests.
			r.log.printf("code: %s cannot be downloaded as an archive (%v); trying it as a git repository", u, err)
			code["kind"] = codeGit
			return r.clone(ctx, u, code)
		}
		return userErrorf("code: %v", err)
	}
	head := make([]byte, 512)
	if f, err := os.Open(tmp); err == nil {
		k, _ := io.ReadFull(f, head)
		head = head[:k]
		f.Close()
	}
	ak := archiveKind(head)
	if ak == "" {
		if kind == codeURL {
			os.Remove(tmp)
			code["kind"] = codeGit
			return r.clone(ctx, u, code)
		}
		return userErrorf("code: %s is not a zip, tar.gz, tar.bz2 or tar archive", u)
	}
	code["kind"], code["format"], code["sha256"], code["bytes"] = codeArchive, ak, sum, n
	st, err := extractArchive(tmp, r.work, ak, ExtractLimits{MaxBytes: r.w.cfg.MaxCodeBytes, MaxFiles: r.w.cfg.MaxCodeFiles})
	if err != nil {
		if errors.Is(err, ErrUnsafeArchive) {
			return fmt.Errorf("code: archive %s refused: %w", u, err)
		}
		return userErrorf("code: archive %s: %v", u, err)
	}
	code["files"] = st.Files
	msg := fmt.Sprintf("code: %s archive, %d files, %s unpacked", ak, st.Files, Bytes(st.Bytes))
	if st.Stripped != "" {
		msg += fmt.Sprintf(" (from its top directory %s/)", st.Stripped)
	}
	r.log.printf("%s", msg)
	return nil
}

// clone clones a git repository shallowly (fully from servers that cannot
// clone shallowly), with its submodules, as the job's user, in the sandbox
// (with the network, which the job itself may not have).
func (r *jobRun) clone(ctx context.Context, u *url.URL, code map[string]any) error {
	if !r.w.cfg.AllowPrivateURLs {
		if _, err := r.w.fetch.checkHost(ctx, hostPort(u)); err != nil {
			return userErrorf("code: %v", err)
		}
	}
	r.log.printf("code: cloning the git repository %s (shallow)", u)
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + filepath.Join(r.dir, "home"),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_ALLOW_PROTOCOL=http:https:git",
		"LANG=C.UTF-8",
	}
	limits := r.w.cfg.Limits
	limits.WallClock = r.w.cfg.FetchTimeout
	limits.CPUTime = 0
	limits.Output = r.w.cfg.MaxCodeBytes
	git := append([]string{"git", "-c", "advice.detachedHead=false", "-c", "core.symlinks=true"}, gitProtocols...)
	argv := append(append([]string(nil), git...), "clone", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules", "--", u.String(), ".")
	res, err := r.run(ctx, argv, env, limits, false)
	if err != nil {
		return err
	}
	if res.Reason == "" && res.ExitCode != 0 {
		// Plain ("dumb") HTTP servers cannot give a shallow clone: clone it all.
		r.log.printf("code: the shallow clone failed; cloning the whole repository (plain HTTP servers cannot clone shallowly)")
		if err := emptyDir(r.work); err != nil {
			return fmt.Errorf("code: %w", err)
		}
		argv = append(append([]string(nil), git...), "clone", "--quiet", "--no-recurse-submodules", "--", u.String(), ".")
		if res, err = r.run(ctx, argv, env, limits, false); err != nil {
			return err
		}
	}
	if res.Reason == "" && res.ExitCode == 0 {
		res, err = r.submodules(ctx, git, env, limits)
		if err != nil {
			return err
		}
	}
	if res.Reason != "" || res.ExitCode != 0 {
		what := fmt.Sprintf("exit status %d", res.ExitCode)
		switch res.Reason {
		case reasonWallClock:
			what = "it took longer than " + r.w.cfg.FetchTimeout.String()
		case reasonOutput:
			what = "the repository is larger than " + Bytes(r.w.cfg.MaxCodeBytes)
		case reasonCancelled:
			what = "cancelled"
		}
		return userErrorf("code: cloning %s failed (%s); the log has git's message", u, what)
	}
	if commit := gitHead(r.work); commit != "" {
		code["commit"] = commit
		r.log.printf("code: commit %s", commit)
	}
	return nil
}

// emptyDir removes what dir holds, keeping dir.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// gitHead reads the commit a fresh clone has checked out.
func gitHead(dir string) string {
	read := func(p string) string {
		f, err := os.OpenFile(filepath.Join(dir, ".git", p), os.O_RDONLY|noFollow, 0)
		if err != nil {
			return ""
		}
		defer f.Close()
		b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
		return string(b)
	}
	head := strings.TrimSpace(read("HEAD"))
	ref, ok := strings.CutPrefix(head, "ref: ")
	if !ok {
		return head
	}
	if c := strings.TrimSpace(read(ref)); c != "" && !strings.Contains(ref, "..") {
		return c
	}
	for _, line := range strings.Split(read("packed-refs"), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == ref {
			return f[0]
		}
	}
	return ""
}

// fetchInputs downloads the job's input data into its working directory.
func (r *jobRun) fetchInputs(ctx context.Context) error {
	inputs, err := r.job.Inputs()
	if err != nil {
		return userErrorf("%v", err)
	}
	if len(inputs) == 0 {
		return nil
	}
	var items []map[string]any
	var total int64
	for i, in := range inputs {
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return userErrorf("input_data[%d]: %q is not an http or https URL", i, in.URL)
		}
		name, err := inputName(in.URL, in.Path, i)
		if err != nil {
			return err
		}
		dst, err := safePath(r.work, name)
		if err != nil {
			return userErrorf("input_data[%d] (%s): %v", i, name, err)
		}
		if _, err := os.Lstat(dst); err == nil {
			return userErrorf("input_data[%d]: %s is already in the job's directory (from its code); give the item another path", i, name)
		}
		r.log.printf("input: downloading %s as %s", in.URL, name)
		fctx, cancel := context.WithTimeout(ctx, r.w.cfg.FetchTimeout)
		n, sum, err := r.w.fetch.download(fctx, in.URL, dst, r.w.cfg.MaxInputBytes-total)
		cancel()
		if err != nil {
			return userErrorf("input_data[%d]: %v", i, err)
		}
		total += n
		items = append(items, map[string]any{"url": in.URL, "path": name, "bytes": n, "sha256": sum})
	}
	r.prov["inputs"] = items
	r.log.printf("input: %d files, %s", len(items), Bytes(total))
	return nil
}

// safePath returns root/rel after checking that no directory on the way is a
// link (the code may contain links; root writes the inputs), creating the
// missing directories.
func safePath(root, rel string) (string, error) {
	segs := strings.Split(rel, "/")
	cur := root
	for _, s := range segs[:len(segs)-1] {
		cur = filepath.Join(cur, s)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return "", err
			}
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", fmt.Errorf("%s is a link", strings.TrimPrefix(cur, root+"/"))
		case !fi.IsDir():
			return "", fmt.Errorf("%s is not a directory", strings.TrimPrefix(cur, root+"/"))
		}
	}
	return filepath.Join(cur, segs[len(segs)-1]), nil
}

// chownTree gives every file below dir to uid:gid, without following links.
func chownTree(dir string, uid, gid int) error {
	if uid < 0 || os.Geteuid() != 0 {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// killUser kills every process of a job user id (left by a worker that died).
func killUser(uid int) {
	for i := 0; i < 20; i++ {
		n := 0
		for _, p := range scanProcs() {
			if p.uid == uid {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
				n++
			}
		}
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// snapshot records the files of dir, to tell the job's output from its inputs.
func snapshot(dir string) map[string]fileStamp {
	out := map[string]fileStamp{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				out[p] = fileStamp{fi.Size(), fi.ModTime()}
			}
		}
		return nil
	})
	return out
}

// finish uploads the output files and ends the job with its status, usage and provenance.
func (r *jobRun) finish(ctx context.Context, o *outcome) {
	w, job := r.w, r.job
	if o.res != nil {
		r.log.printf("command ended after %.1f s: %s; CPU time %.1f s, peak memory %s (measured by %s)",
			o.res.WallClock, exitText(o.res), o.res.CPUTime, Bytes(o.res.PeakMemory), o.res.Accounting)
	}
	var files []map[string]any
	if o.res != nil && o.res.Started && r.work != "" {
		var err error
		files, err = r.uploadOutputs(ctx)
		if err != nil && ctx.Err() == nil {
			if o.status == provider.Finished {
				o.status, o.kind = provider.Error, "system"
				o.reason = "uploading the output files failed: " + err.Error()
			} else {
				r.log.printf("uploading the output files failed: %v", err)
			}
		}
		if r.summary != nil && err == nil {
			if err := r.uploadSummary(ctx, r.summary); err != nil {
				r.log.printf("data summary: not uploaded: %v", err)
			}
		}
	}
	if o.status == provider.Finished {
		r.log.printf("finished; %d output files", len(files))
	} else {
		r.log.printf("error: %s", o.reason)
	}
	var runs []json.RawMessage
	if r.dir != "" && o.res != nil && o.res.Started {
		runs, _, _ = readReports(filepath.Join(r.dir, "report"))
	}
	value, units, rule := usage(r.sys, o.res, runs)
	prov := r.provenance(o, files, value, units, rule)
	// The log goes first, so that it is complete when the job shows as ended.
	r.log.close(ctx)
	up := &provider.Update{Status: o.status, ResourceUsage: &provider.Usage{Value: value, Units: units}, Provenance: prov}
	err := w.retry(ctx, "finish job", func(ctx context.Context) error { return w.client.Update(ctx, job, up) })
	if err != nil {
		w.log.Error("worker: could not end the job; the server will give it to another run when its lease expires", "job", job.ID, "error", err)
		return
	}
	w.log.Info("worker: job ended", "job", job.ID, "status", o.status, "reason", o.reason, "usage", value, "units", units)
}

func exitText(res *sandboxResult) string {
	if res.Signal != "" {
		return "killed by " + res.Signal
	}
	return fmt.Sprintf("exit status %d", res.ExitCode)
}

// provenance describes how the job ran.
func (r *jobRun) provenance(o *outcome, files []map[string]any, value float64, units, rule string) map[string]any {
	p := r.prov
	p["nmp_version"] = buildinfo.Version()
	p["platform"] = r.job.HardwarePlatform
	p["system"] = r.sys.System
	p["backend"] = r.sys.Backend
	p["worker"] = r.w.cfg.Name
	if a := r.job.Attempt(); a != 0 {
		p["attempt"] = a
	}
	if r.command != nil {
		p["command"] = r.command
	}
	p["limits"] = map[string]any{"wall_clock_s": r.limits.WallClock.Seconds(), "cpu_time_s": r.limits.CPUTime.Seconds(),
		"memory_bytes": r.limits.Memory, "output_bytes": r.limits.Output, "processes": r.limits.Processes}
	p["isolation"] = r.w.isolation
	if o.res != nil {
		p["resources"] = map[string]any{"wall_clock_s": o.res.WallClock, "cpu_time_s": o.res.CPUTime,
			"peak_memory_bytes": o.res.PeakMemory, "output_bytes": o.res.Output, "accounting": o.res.Accounting,
			"exit_code": o.res.ExitCode, "signal": o.res.Signal}
	}
	p["resource_usage"] = map[string]any{"value": value, "units": units, "rule": rule}
	p["output_files"] = len(files)
	runs, seeds, chips := readReports(filepath.Join(r.dir, "report"))
	if len(runs) > 0 {
		p["runs"] = runs
	}
	p["seeds"] = seeds
	if chip := r.chip(); chip != "" {
		// The chip the worker gave the job (a script may name another in setup()).
		p["chip"] = chip
		if len(chips) == 0 {
			chips = append(chips, chip)
		}
	}
	p["chips"] = chips
	if o.status == provider.Error {
		p["error"] = map[string]any{"kind": o.kind, "reason": o.reason, "log_tail": r.log.tail()}
	}
	return p
}

// readReports reads the run reports simulations append to
// $NMP_JOB_REPORT/*.jsonl (one JSON object per run; docs/worker.md), and
// collects their seeds and chip identities.
func readReports(dir string) (runs []json.RawMessage, seeds []any, chips []any) {
	seeds, chips = []any{}, []any{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, seeds, chips
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".jsonl") {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_RDONLY|noFollow, 0)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		for _, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSpace(line)
			var run map[string]any
			if len(line) == 0 || json.Unmarshal(line, &run) != nil || len(runs) >= 1000 {
				continue
			}
			runs = append(runs, json.RawMessage(line))
			if s, ok := run["seed"]; ok {
				seeds = append(seeds, s)
			}
			if c, ok := run["chip"]; ok && c != nil {
				chips = append(chips, c)
			}
		}
	}
	return runs, seeds, chips
}

// cleanup deletes the job's directory.
func (r *jobRun) cleanup() {
	if r.w.slurm != nil {
		r.w.slurm.forget(r.job.ID)
	}
	if r.dir == "" || r.w.cfg.KeepWorkDirs {
		return
	}
	if r.ownUID && r.uid > 0 {
		killUser(r.uid)
	}
	if err := os.RemoveAll(r.dir); err != nil {
		r.w.log.Warn("worker: could not delete a job directory", "dir", r.dir, "error", err)
	}
}

// retry calls fn until it succeeds, fails for good, or ctx ends; it waits
// with backoff while the server is away.
func (w *Worker) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	var delay time.Duration
	for {
		err := fn(ctx)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		delay = nextBackoff(delay, w.cfg.Backoff, w.cfg.MaxBackoff)
		w.log.Warn("worker: server unreachable; retrying", "what", what, "in", delay.Round(time.Millisecond).String(), "error", err)
		sleep(ctx, delay)
		if ctx.Err() != nil {
			return err
		}
	}
}

// retryable tells transient failures (the server is away or overloaded) from answers.
func retryable(err error) bool {
	if errors.Is(err, provider.ErrLeaseLost) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae *provider.APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests
	}
	return true
}
