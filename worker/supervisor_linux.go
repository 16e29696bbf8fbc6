package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// SandboxMain is the supervisor of one job command (see sandbox.go): it reads
// a sandboxSpec from stdin, runs the command, and writes a sandboxResult to
// stdout. It is the hidden subcommand "nmp sandbox"; it must run as root to
// switch users, set up namespaces and cgroups.
func SandboxMain(stdin io.Reader, stdout io.Writer) int {
	if st := os.Getenv(stageEnv); st != "" {
		return stageMain(st)
	}
	var spec sandboxSpec
	res := &sandboxResult{}
	if err := json.NewDecoder(stdin).Decode(&spec); err != nil {
		res.Error = "bad specification: " + err.Error()
	} else {
		supervise(&spec, res)
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// supervise runs the command of spec and fills res.
func supervise(spec *sandboxSpec, res *sandboxResult) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	// Orphaned processes of the job come back to us, so we can reap and kill them.
	_ = prctl(pr_SET_CHILD_SUBREAPER, 1)
	if len(spec.Argv) == 0 {
		res.Error = "no command"
		return
	}
	if spec.Namespaces {
		if err := setupNamespaces(spec); err != nil {
			res.Error = "namespaces: " + err.Error()
			return
		}
	}
	var cg jobCgroup
	switch spec.Cgroup {
	case "v1":
		cg = &cgroupV1{dirs: spec.CgroupDirs}
	case "v2":
		cg = &cgroupV2{dir: spec.CgroupDirs["unified"]}
	}
	if cg != nil {
		if err := cg.setup(spec.Limits); err != nil {
			res.Error = "cgroup: " + err.Error()
			return
		}
		res.Accounting = cg.name()
	} else {
		res.Accounting = "process scan"
	}
	// Limits every process of the job inherits: no core dumps, no file larger
	// than the output limit, a bound on processes (per user: each job has its own).
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	if l := spec.Limits.Output; l > 0 {
		// One byte over the limit, so that a file stopped by it shows as over.
		_ = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(l) + 1, Max: uint64(l) + 1})
	}
	if spec.Limits.Processes > 0 && spec.UID > 0 {
		n := uint64(spec.Limits.Processes)
		_ = syscall.Setrlimit(rlimitNPROC, &syscall.Rlimit{Cur: n, Max: n})
	}

	path, err := lookPath(spec.Argv[0], spec.Dir, spec.Env)
	if err != nil {
		res.Error, res.CommandError = err.Error(), true
		return
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		res.Error = err.Error()
		return
	}
	out := os.NewFile(3, "job-output")
	if out == nil {
		res.Error = "no output descriptor (fd 3)"
		return
	}
	sys := &syscall.SysProcAttr{Setsid: true}
	if spec.UID >= 0 && spec.UID != os.Getuid() {
		sys.Credential = &syscall.Credential{Uid: uint32(spec.UID), Gid: uint32(spec.GID), Groups: []uint32{}}
	}
	if fd, ok := cg.(cloneInto); ok && cg != nil {
		f, err := fd.open()
		if err != nil {
			res.Error = "cgroup: " + err.Error()
			return
		}
		defer f.Close()
		sys.UseCgroupFD, sys.CgroupFD = true, int(f.Fd())
	}
	// Started through the stage, which installs the seccomp filter (seccomp_linux.go).
	argv0, argv, env := path, spec.Argv, spec.Env
	if !spec.NoSeccomp {
		st, err := json.Marshal(stageSpec{Path: path, Argv: spec.Argv, Env: spec.Env})
		if err != nil {
			res.Error = err.Error()
			return
		}
		argv0, argv, env = "/proc/self/exe", os.Args, append(os.Environ(), stageEnv+"="+string(st))
	}
	p, err := os.StartProcess(argv0, argv, &os.ProcAttr{Dir: spec.Dir, Env: env, Files: []*os.File{devnull, out, out}, Sys: sys})
	devnull.Close()
	if err != nil {
		res.Error = fmt.Sprintf("cannot start %s: %v", spec.Argv[0], err)
		res.CommandError = errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.ENOEXEC)
		return
	}
	out.Close()
	res.Started = true
	start := time.Now()
	main := p.Pid
	s := &supervisor{spec: spec, cg: cg, main: main, self: os.Getpid()}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	lastOutputCheck := time.Time{}
	for !s.mainDone {
		select {
		case sig := <-sigs:
			if sig != syscall.SIGCHLD {
				res.Reason = reasonCancelled
				s.stop(spec.Grace, sigs)
			}
		case <-tick.C:
			now := time.Now()
			if l := spec.Limits.WallClock; l > 0 && now.Sub(start) > l {
				res.Reason = reasonWallClock
				s.stop(spec.Grace, sigs)
				break
			}
			cpu, mem := s.usage()
			if mem > res.PeakMemory {
				res.PeakMemory = mem
			}
			if cpu > res.CPUTime {
				res.CPUTime = cpu
			}
			if l := spec.Limits.CPUTime; l > 0 && cpu > l.Seconds() {
				res.Reason = reasonCPU
				s.stop(0, sigs)
				break
			}
			// Without a cgroup the memory limit is enforced here, by sampling.
			if l := spec.Limits.Memory; l > 0 && cg == nil && mem > l {
				res.Reason = reasonMemory
				s.stop(0, sigs)
				break
			}
			if now.Sub(lastOutputCheck) >= time.Second {
				lastOutputCheck = now
				res.Output = dirSize(spec.JobDir)
				if l := spec.Limits.Output; l > 0 && res.Output > l {
					res.Reason = reasonOutput
					s.stop(0, sigs)
					break
				}
			}
		}
		if !s.mainDone {
			s.reap()
		}
	}
	status := s.status
	res.WallClock = time.Since(start).Seconds()
	// The job ends with its main process: nothing it started may outlive it.
	cpu, mem := s.usage()
	s.killAll(sigs)
	if cg != nil {
		if c, ok := cg.cpuTime(); ok {
			cpu = c
		}
		if pk := cg.peakMemory(); pk > mem {
			mem = pk
		}
		res.OOMKills = cg.oomKills()
		if res.OOMKills > 0 && res.Reason == "" && !(status.Exited() && status.ExitStatus() == 0) {
			res.Reason = reasonMemory
		}
	} else {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) == nil {
			if c := tv(ru.Utime) + tv(ru.Stime); c > cpu {
				cpu = c
			}
			if m := ru.Maxrss * 1024; m > mem {
				mem = m
			}
		}
	}
	if cpu > res.CPUTime {
		res.CPUTime = cpu
	}
	if mem > res.PeakMemory {
		res.PeakMemory = mem
	}
	res.Output = dirSize(spec.JobDir)
	if l := spec.Limits.Output; l > 0 && res.Output > l && res.Reason == "" {
		res.Reason = reasonOutput
	}
	switch {
	case status.Exited():
		res.ExitCode = status.ExitStatus()
	case status.Signaled():
		res.ExitCode = 128 + int(status.Signal())
		res.Signal = signalName(status.Signal())
		// A process killed with SIGXCPU or SIGXFSZ broke an rlimit.
		if res.Reason == "" && status.Signal() == syscall.SIGXFSZ {
			res.Reason = reasonOutput
		}
	}
}

type supervisor struct {
	spec *sandboxSpec
	cg   jobCgroup
	main int
	self int
	// cpuReaped is the CPU time of reaped children (process-scan accounting).
	cpuReaped float64
	// status is the main process's, once it has been reaped (mainDone).
	status   syscall.WaitStatus
	mainDone bool
}

// reap collects every exited child; it notes the main process's status.
func (s *supervisor) reap() {
	for {
		var ws syscall.WaitStatus
		var ru syscall.Rusage
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, &ru)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		s.cpuReaped += tv(ru.Utime) + tv(ru.Stime)
		if pid == s.main {
			s.status, s.mainDone = ws, true
		}
	}
}

// stop ends the job: SIGTERM to all its processes, grace to exit, then SIGKILL.
func (s *supervisor) stop(grace time.Duration, sigs chan os.Signal) {
	if grace > 0 {
		s.signalAll(syscall.SIGTERM)
		deadline := time.After(grace)
	wait:
		for !s.mainDone {
			s.reap()
			if s.mainDone {
				break
			}
			select {
			case <-deadline:
				break wait
			case <-sigs:
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	s.killAll(sigs)
	// The main process is gone (killed) but perhaps not reaped yet: wait for it.
	for i := 0; i < 500 && !s.mainDone; i++ {
		s.reap()
		if !s.mainDone {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !s.mainDone {
		// Never reaped (it cannot be our child any more): count it as killed.
		s.status, s.mainDone = syscall.WaitStatus(syscall.SIGKILL), true
	}
}

// pids lists the job's processes: those of its cgroup, the supervisor's
// descendants, and any process of the job's user.
func (s *supervisor) pids() []int {
	seen := map[int]bool{}
	var out []int
	add := func(pid int) {
		if pid != s.self && pid > 0 && !seen[pid] {
			seen[pid] = true
			out = append(out, pid)
		}
	}
	if s.cg != nil {
		for _, p := range s.cg.procs() {
			add(p)
		}
	}
	procs := scanProcs()
	for _, p := range descendants(procs, s.self) {
		add(p.pid)
	}
	if s.spec.UID > 0 {
		for _, p := range procs {
			if p.uid == s.spec.UID {
				add(p.pid)
			}
		}
	}
	return out
}

func (s *supervisor) signalAll(sig syscall.Signal) {
	_ = syscall.Kill(-s.main, sig)
	for _, p := range s.pids() {
		_ = syscall.Kill(p, sig)
	}
}

// killAll kills every process of the job and reaps our children, until none is left.
func (s *supervisor) killAll(sigs chan os.Signal) {
	if s.cg != nil {
		s.cg.kill()
	}
	for i := 0; i < 200; i++ {
		ps := s.pids()
		_ = syscall.Kill(-s.main, syscall.SIGKILL)
		for _, p := range ps {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		s.reap()
		if len(ps) == 0 {
			return
		}
		select {
		case <-sigs:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// usage returns the job's CPU time (s) and memory (bytes) now.
func (s *supervisor) usage() (cpu float64, mem int64) {
	if s.cg != nil {
		c, ok := s.cg.cpuTime()
		m := s.cg.memory()
		if ok {
			return c, m
		}
		cpu = 0
		mem = m
	}
	procs := scanProcs()
	var rss int64
	for _, p := range descendants(procs, s.self) {
		cpu += p.cpu
		rss += p.rss
	}
	if s.cg == nil {
		mem = rss
	}
	return cpu + s.cpuReaped, mem
}

// setupNamespaces runs in the supervisor's new mount, PID, IPC, UTS (and
// network) namespaces, as root: it gives the job a private /tmp, /var/tmp
// and /dev/shm, its own /proc, hides the other jobs' directories and the
// directories in spec.Hide, and brings up loopback.
func setupNamespaces(spec *sandboxSpec) error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	jobDir, err := os.Open(spec.JobDir)
	if err != nil {
		return err
	}
	defer jobDir.Close()
	var binary *os.File
	if spec.Binary != "" && spec.BinaryAt != "" {
		if binary, err = os.Open(spec.Binary); err != nil {
			return fmt.Errorf("nmp binary: %w", err)
		}
		defer binary.Close()
	}
	// Every place the job could write outside its own directory and the
	// private temporary directories below (such as /run/lock, a world-writable
	// directory on the host's disk) becomes read-only: what a job writes is
	// counted against its output limit and removed with it.
	if err := readOnlyMounts(); err != nil {
		return err
	}
	// Keep hold of what must stay visible before anything covers it.
	type exposed struct {
		path string
		f    *os.File
		dir  bool
	}
	var expose []exposed
	for _, p := range spec.Expose {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			continue
		}
		expose = append(expose, exposed{p, f, fi.IsDir()})
	}
	tmpSize := spec.Limits.Output
	if tmpSize <= 0 {
		tmpSize = 1 << 30
	}
	type mask struct {
		dir, opts string
		flags     uintptr
	}
	masks := []mask{
		{"/tmp", fmt.Sprintf("mode=1777,size=%d", tmpSize), syscall.MS_NOSUID | syscall.MS_NODEV},
		{"/var/tmp", fmt.Sprintf("mode=1777,size=%d", tmpSize), syscall.MS_NOSUID | syscall.MS_NODEV},
		{"/dev/shm", fmt.Sprintf("mode=1777,size=%d", tmpSize), syscall.MS_NOSUID | syscall.MS_NODEV},
		{spec.WorkRoot, "mode=0755,size=1m", syscall.MS_NOSUID | syscall.MS_NODEV},
	}
	for _, h := range spec.Hide {
		masks = append(masks, mask{h, "mode=000,size=4k", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC | syscall.MS_RDONLY})
	}
	sort.SliceStable(masks, func(i, j int) bool { return len(masks[i].dir) < len(masks[j].dir) })
	var done []string
	for _, m := range masks {
		if m.dir == "" || !filepath.IsAbs(m.dir) {
			continue
		}
		hidden := false
		for _, d := range done {
			if within(m.dir, d) {
				hidden = true
			}
		}
		if hidden {
			continue
		}
		if fi, err := os.Stat(m.dir); err != nil || !fi.IsDir() {
			continue
		}
		if err := syscall.Mount("tmpfs", m.dir, "tmpfs", m.flags, m.opts); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", m.dir, err)
		}
		done = append(done, m.dir)
	}
	// The job's own directory comes back at the same path.
	if err := os.MkdirAll(spec.JobDir, 0o755); err != nil {
		return fmt.Errorf("job directory: %w", err)
	}
	if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", jobDir.Fd()), spec.JobDir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind job directory: %w", err)
	}
	// The bind copied the read-only flag of the mount it came from.
	if err := syscall.Mount("", spec.JobDir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
		return fmt.Errorf("job directory writable: %w", err)
	}
	if binary != nil {
		// A directory of its own holding only the binary, reachable by the job's user.
		dir := filepath.Dir(spec.BinaryAt)
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755,size=4k"); err != nil {
			return fmt.Errorf("mount %s: %w", dir, err)
		}
		f, err := os.OpenFile(spec.BinaryAt, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			return fmt.Errorf("nmp binary: %w", err)
		}
		f.Close()
		if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", binary.Fd()), spec.BinaryAt, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind nmp binary: %w", err)
		}
		if err := syscall.Mount("", spec.BinaryAt, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
			return fmt.Errorf("nmp binary read-only: %w", err)
		}
		if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755,size=4k"); err != nil {
			return fmt.Errorf("mount %s read-only: %w", dir, err)
		}
	}
	for _, e := range expose {
		covered := false
		for _, d := range done {
			if within(e.path, d) {
				covered = true
			}
		}
		if !covered {
			continue
		}
		if e.dir {
			err = os.MkdirAll(e.path, 0o755)
		} else if err = os.MkdirAll(filepath.Dir(e.path), 0o755); err == nil {
			var f *os.File
			if f, err = os.OpenFile(e.path, os.O_CREATE|os.O_WRONLY, 0o755); err == nil {
				f.Close()
			}
		}
		if err != nil {
			return fmt.Errorf("expose %s: %w", e.path, err)
		}
		if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", e.f.Fd()), e.path, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("expose %s: %w", e.path, err)
		}
		if err := syscall.Mount("", e.path, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
			return fmt.Errorf("expose %s read-only: %w", e.path, err)
		}
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	_ = syscall.Sethostname([]byte("nmp-job"))
	if !spec.Network {
		if err := loopbackUp(); err != nil {
			return fmt.Errorf("loopback: %w", err)
		}
	}
	return nil
}

// readOnlyMounts makes every mount of this mount namespace read-only, but
// for the kernel's own (/proc, /sys, /dev), which the supervisor still needs
// or which give the job nothing to fill. Mounts made afterwards (the job's
// directory, its temporary directories) are writable as they are made.
func readOnlyMounts() error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read-only mounts: %w", err)
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if within(mp, "/proc") || within(mp, "/sys") || within(mp, "/dev") {
			continue
		}
		points = append(points, mp)
	}
	// Parents first, so that the root is done whatever else fails.
	sort.SliceStable(points, func(i, j int) bool { return len(points[i]) < len(points[j]) })
	for _, mp := range points {
		var st syscall.Statfs_t
		if err := syscall.Statfs(mp, &st); err != nil {
			continue // covered by a later mount, or gone
		}
		flags := uintptr(syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_RDONLY)
		for _, f := range [][2]uintptr{{0x2, syscall.MS_NOSUID}, {0x4, syscall.MS_NODEV}, {0x8, syscall.MS_NOEXEC},
			{0x400, syscall.MS_NOATIME}, {0x800, syscall.MS_NODIRATIME}, {0x1000, syscall.MS_RELATIME}} { // ST_* → MS_*
			if uintptr(st.Flags)&f[0] != 0 {
				flags |= f[1]
			}
		}
		if err := syscall.Mount("", mp, "", flags, ""); err != nil && mp == "/" {
			return fmt.Errorf("read-only %s: %w", mp, err)
		}
	}
	return nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// within tells whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// loopbackUp sets the flags IFF_UP and IFF_RUNNING of "lo" (SIOCSIFFLAGS).
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr [40]byte
	copy(ifr[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return e
	}
	flags := *(*uint16)(unsafe.Pointer(&ifr[16]))
	*(*uint16)(unsafe.Pointer(&ifr[16])) = flags | syscall.IFF_UP | syscall.IFF_RUNNING
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return e
	}
	return nil
}

const (
	pr_SET_CHILD_SUBREAPER = 36
	rlimitNPROC            = 6
)

func prctl(option int, arg uintptr) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, uintptr(option), arg, 0); e != 0 {
		return e
	}
	return nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// lookPath finds the program of a command: a path with a slash is taken
// relative to the working directory, a bare name is looked up in the job's PATH.
func lookPath(name, dir string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("command %s: %v", name, errors.Unwrap(err))
		}
		return p, nil
	}
	path := "/usr/local/bin:/usr/bin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("command %s: not found in PATH (%s)", name, path)
}

// dirSize is the apparent size of every regular file below dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM", syscall.SIGSEGV: "SIGSEGV",
		syscall.SIGABRT: "SIGABRT", syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGBUS: "SIGBUS",
		syscall.SIGFPE: "SIGFPE", syscall.SIGILL: "SIGILL", syscall.SIGINT: "SIGINT", syscall.SIGPIPE: "SIGPIPE"}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
