package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A job's commands run under a supervisor: a second nmp process (the hidden
// subcommand "nmp sandbox", see SandboxMain) started as root by the worker,
// in new mount, PID, IPC, UTS and network namespaces where the kernel allows
// them. The supervisor hides what the job must not see (other jobs'
// directories, the server's data directory, the host's /tmp), puts the job
// in a cgroup with its memory and process limits, starts the command as the
// job's own user, watches its wall-clock time, CPU time, memory and output,
// kills every process of the job when it ends or breaks a limit, and reports
// what happened as JSON on its standard output. The job's standard output
// and error go to file descriptor 3, a pipe the worker reads.

// sandboxSpec is what the worker asks the supervisor to run.
type sandboxSpec struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
	// Dir is the working directory; JobDir holds it and everything else of
	// the job (home, tmp); both are absolute.
	Dir    string `json:"dir"`
	JobDir string `json:"job_dir"`
	// WorkRoot holds every job's directory; with namespaces it is hidden but
	// for JobDir.
	WorkRoot string `json:"work_root"`
	// Hide lists directories the job must not see (with namespaces).
	Hide []string `json:"hide"`
	// Expose lists files or directories the job must see read-only even
	// where a hidden directory or the private /tmp covers them (the nmp
	// binary its simulations run).
	Expose []string `json:"expose"`
	// UID and GID the command runs as; -1 keeps the supervisor's.
	UID int `json:"uid"`
	GID int `json:"gid"`
	// Namespaces: the supervisor was started in new namespaces and sets them up.
	Namespaces bool `json:"namespaces"`
	// Network keeps the host's network (with namespaces; otherwise only loopback).
	Network bool `json:"network"`
	// Cgroup is "v1", "v2" or "" (none), CgroupDirs the job's cgroup directories
	// (one for v2; one per controller for v1: memory, pids, cpuacct).
	Cgroup     string            `json:"cgroup"`
	CgroupDirs map[string]string `json:"cgroup_dirs"`
	Limits     Limits            `json:"limits"`
	// Grace is how long the job has between SIGTERM and SIGKILL when it is
	// stopped for its wall-clock limit or cancelled.
	Grace time.Duration `json:"grace"`
	// NoSeccomp runs the command without the seccomp filter (seccomp_linux.go).
	NoSeccomp bool `json:"no_seccomp,omitempty"`
	// BinaryAt, with namespaces, is where the job finds Binary (the nmp its
	// simulations run), bound there read-only whatever the directories above
	// Binary let the job's user reach.
	Binary   string `json:"binary,omitempty"`
	BinaryAt string `json:"binary_at,omitempty"`
}

// Reasons a supervised command was stopped.
const (
	reasonWallClock = "wall-clock"
	reasonCPU       = "cpu-time"
	reasonMemory    = "memory"
	reasonOutput    = "output"
	reasonCancelled = "cancelled"
	// reasonSystem and reasonRetry come from executors other than the
	// supervisor (SLURM): the platform failed the run, for good or for now;
	// Error says how.
	reasonSystem = "system"
	reasonRetry  = "retry"
)

// sandboxResult is what the supervisor reports.
type sandboxResult struct {
	// Started: the command started (else Error says why not).
	Started  bool   `json:"started"`
	ExitCode int    `json:"exit_code"`
	Signal   string `json:"signal,omitempty"`
	// Reason is set when the supervisor stopped the command: one of the reason* constants.
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	// CommandError: the command could not start for a fault of its own (no
	// such program, not executable), not of the sandbox.
	CommandError bool `json:"command_error,omitempty"`
	// WallClock, CPUTime in seconds; PeakMemory and Output in bytes.
	WallClock  float64 `json:"wall_clock_s"`
	CPUTime    float64 `json:"cpu_time_s"`
	PeakMemory int64   `json:"peak_memory_bytes"`
	Output     int64   `json:"output_bytes"`
	// Accounting says how CPU time and memory were measured ("cgroup v1",
	// "cgroup v2" or "process scan").
	Accounting string `json:"accounting"`
	OOMKills   int    `json:"oom_kills,omitempty"`
}

// sandboxRunner starts supervisors.
type sandboxRunner struct {
	// Helper is the command line that runs SandboxMain (e.g. nmp sandbox).
	Helper    []string
	HelperEnv []string
	// NamespaceFlags are the clone flags for the supervisor (0: none).
	NamespaceFlags uintptr
}

// errSandbox marks failures of the sandbox itself (not of the job).
var errSandbox = errors.New("sandbox")

// run runs spec under a supervisor, copying the job's output to out. When ctx
// ends the supervisor is told to stop the job (reason "cancelled").
func (r *sandboxRunner) run(ctx context.Context, spec *sandboxSpec, out io.Writer) (*sandboxResult, error) {
	if len(r.Helper) == 0 {
		return nil, fmt.Errorf("%w: no supervisor command configured", errSandbox)
	}
	flags := r.NamespaceFlags
	if spec.Network {
		flags &^= syscall.CLONE_NEWNET
	}
	spec.Namespaces = flags != 0
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSandbox, err)
	}
	cmd := exec.Command(r.Helper[0], r.Helper[1:]...)
	cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, r.HelperEnv...)
	cmd.Stdin = bytes.NewReader(data)
	var stdout bytes.Buffer
	stderr := &limitedBuffer{max: 64 << 10}
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: flags,
		// The supervisor stops the job if the worker dies.
		Pdeathsig: syscall.SIGTERM,
		Setpgid:   true,
	}
	// The kernel sends Pdeathsig when the thread that started the process
	// ends, not the process: keep this goroutine on its thread until the
	// supervisor has ended, so that no exit of an idle thread stops a job.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("%w: start supervisor: %v", errSandbox, err)
	}
	pw.Close()
	var copyWG sync.WaitGroup
	copyWG.Add(1)
	go func() {
		defer copyWG.Done()
		_, _ = io.Copy(out, pr)
		pr.Close()
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		// The supervisor kills the job within its grace period; do not wait forever.
		select {
		case werr = <-waited:
		case <-time.After(spec.Grace + 30*time.Second):
			_ = cmd.Process.Kill()
			werr = <-waited
		}
	}
	copyWG.Wait()
	var res sandboxResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" && werr != nil {
			msg = werr.Error()
		}
		return nil, fmt.Errorf("%w: the supervisor gave no result: %s", errSandbox, msg)
	}
	if !res.Started && res.Error != "" {
		if res.CommandError {
			return &res, userErrorf("%s", res.Error)
		}
		return &res, fmt.Errorf("%w: %s", errSandbox, res.Error)
	}
	return &res, nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
