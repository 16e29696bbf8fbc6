package worker

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A job's cgroup bounds its memory (the kernel kills a process of the job
// when the job as a whole goes over) and its number of processes, and
// counts its CPU time. Both cgroup versions are supported: v2 (the unified
// hierarchy, Debian 12's default) and v1 (the memory, pids and cpuacct
// controllers, as on hosts that still mount them). Without either, the
// supervisor samples /proc instead.

type jobCgroup interface {
	name() string
	setup(l Limits) error
	cpuTime() (float64, bool)
	memory() int64
	peakMemory() int64
	oomKills() int
	procs() []int
	kill()
}

// cloneInto is a cgroup processes can be started in directly (clone3 with CLONE_INTO_CGROUP).
type cloneInto interface {
	open() (*os.File, error)
}

// memorySlack is added to the memory limit of a v1 cgroup, which also holds the supervisor.
const memorySlack = 32 << 20

type cgroupV2 struct{ dir string }

func (c *cgroupV2) name() string { return "cgroup v2" }

func (c *cgroupV2) setup(l Limits) error {
	if l.Memory > 0 {
		if err := writeFile(filepath.Join(c.dir, "memory.max"), strconv.FormatInt(l.Memory, 10)); err != nil {
			return err
		}
		// No swap: the limit is on memory, not on memory plus swap.
		_ = writeFile(filepath.Join(c.dir, "memory.swap.max"), "0")
	}
	if l.Processes > 0 {
		if err := writeFile(filepath.Join(c.dir, "pids.max"), strconv.Itoa(l.Processes)); err != nil {
			return err
		}
	}
	return nil
}

func (c *cgroupV2) open() (*os.File, error) {
	return os.OpenFile(c.dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
}

func (c *cgroupV2) cpuTime() (float64, bool) {
	v, ok := keyedValue(filepath.Join(c.dir, "cpu.stat"), "usage_usec")
	return float64(v) / 1e6, ok
}

func (c *cgroupV2) memory() int64 { return readInt(filepath.Join(c.dir, "memory.current")) }

func (c *cgroupV2) peakMemory() int64 { return readInt(filepath.Join(c.dir, "memory.peak")) }

func (c *cgroupV2) oomKills() int {
	v, _ := keyedValue(filepath.Join(c.dir, "memory.events"), "oom_kill")
	return int(v)
}

func (c *cgroupV2) procs() []int { return readPids(filepath.Join(c.dir, "cgroup.procs")) }

func (c *cgroupV2) kill() {
	if writeFile(filepath.Join(c.dir, "cgroup.kill"), "1") == nil {
		return
	}
	for _, p := range c.procs() {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// cgroupV1 has one directory per controller ("memory", "pids", "cpuacct").
// The supervisor moves itself in before it starts the command, so that every
// process of the job is born inside.
type cgroupV1 struct{ dirs map[string]string }

func (c *cgroupV1) name() string { return "cgroup v1" }

func (c *cgroupV1) setup(l Limits) error {
	if d, ok := c.dirs["memory"]; ok && l.Memory > 0 {
		limit := strconv.FormatInt(l.Memory+memorySlack, 10)
		if err := writeFile(filepath.Join(d, "memory.limit_in_bytes"), limit); err != nil {
			return err
		}
		// Memory plus swap gets the same limit, so the job cannot swap past it.
		_ = writeFile(filepath.Join(d, "memory.memsw.limit_in_bytes"), limit)
	}
	if d, ok := c.dirs["pids"]; ok && l.Processes > 0 {
		if err := writeFile(filepath.Join(d, "pids.max"), strconv.Itoa(l.Processes+64)); err != nil {
			return err
		}
	}
	for ctl, d := range c.dirs {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), "0"); err != nil {
			return fmt.Errorf("enter %s cgroup: %w", ctl, err)
		}
	}
	return nil
}

func (c *cgroupV1) cpuTime() (float64, bool) {
	d, ok := c.dirs["cpuacct"]
	if !ok {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(d, "cpuacct.usage"))
	if err != nil {
		return 0, false
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return float64(ns) / 1e9, err == nil
}

func (c *cgroupV1) memory() int64 {
	if d, ok := c.dirs["memory"]; ok {
		return readInt(filepath.Join(d, "memory.usage_in_bytes"))
	}
	return 0
}

func (c *cgroupV1) peakMemory() int64 {
	if d, ok := c.dirs["memory"]; ok {
		return readInt(filepath.Join(d, "memory.max_usage_in_bytes"))
	}
	return 0
}

func (c *cgroupV1) oomKills() int {
	if d, ok := c.dirs["memory"]; ok {
		v, _ := keyedValue(filepath.Join(d, "memory.oom_control"), "oom_kill")
		return int(v)
	}
	return 0
}

func (c *cgroupV1) procs() []int {
	for _, ctl := range []string{"memory", "pids", "cpuacct"} {
		if d, ok := c.dirs[ctl]; ok {
			return readPids(filepath.Join(d, "cgroup.procs"))
		}
	}
	return nil
}

func (c *cgroupV1) kill() {
	self := os.Getpid()
	for _, p := range c.procs() {
		if p != self {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
}

// cgroupSetup describes where the worker makes its jobs' cgroups.
type cgroupSetup struct {
	Version string            // "v1", "v2" or "" (none)
	Parents map[string]string // v2: "unified" → parent dir; v1: controller → parent dir
}

// detectCgroups finds a cgroup hierarchy the worker can delegate to its jobs,
// and creates its parent directory (named base) in it. It needs root.
func detectCgroups(base string) (cgroupSetup, error) {
	const root = "/sys/fs/cgroup"
	if os.Geteuid() != 0 {
		return cgroupSetup{}, errors.New("not running as root")
	}
	if ctl, err := os.ReadFile(filepath.Join(root, "cgroup.controllers")); err == nil {
		have := strings.Fields(string(ctl))
		if !contains(have, "memory") || !contains(have, "pids") {
			return cgroupSetup{}, fmt.Errorf("the cgroup v2 hierarchy offers %q, not memory and pids", strings.Join(have, " "))
		}
		_ = writeFile(filepath.Join(root, "cgroup.subtree_control"), "+memory +pids")
		dir := filepath.Join(root, base)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return cgroupSetup{}, err
		}
		if err := writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+memory +pids"); err != nil {
			return cgroupSetup{}, fmt.Errorf("enable memory and pids controllers in %s: %w", dir, err)
		}
		return cgroupSetup{Version: "v2", Parents: map[string]string{"unified": dir}}, nil
	}
	// v1: one hierarchy per controller; nest below our own cgroup in each.
	own, err := ownCgroupsV1()
	if err != nil {
		return cgroupSetup{}, err
	}
	parents := map[string]string{}
	for _, ctl := range []string{"memory", "pids", "cpuacct"} {
		mnt := filepath.Join(root, ctl)
		if _, err := os.Stat(filepath.Join(mnt, "cgroup.procs")); err != nil {
			continue
		}
		dir := filepath.Join(mnt, own[ctl], base)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return cgroupSetup{}, err
		}
		parents[ctl] = dir
	}
	if _, ok := parents["memory"]; !ok {
		return cgroupSetup{}, errors.New("no cgroup v2 hierarchy and no v1 memory controller")
	}
	return cgroupSetup{Version: "v1", Parents: parents}, nil
}

// ownCgroupsV1 maps each v1 controller to this process's cgroup path.
func ownCgroupsV1() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			out[ctl] = parts[2]
		}
	}
	return out, nil
}

// create makes the cgroup directories of one job.
func (s cgroupSetup) create(name string) (map[string]string, error) {
	dirs := map[string]string{}
	for k, parent := range s.Parents {
		d := filepath.Join(parent, name)
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			s.remove(dirs)
			return nil, err
		}
		dirs[k] = d
	}
	return dirs, nil
}

// remove deletes a job's cgroup directories once their processes are gone.
func (s cgroupSetup) remove(dirs map[string]string) {
	for _, d := range dirs {
		for i := 0; i < 50; i++ {
			if err := syscall.Rmdir(d); err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return v
}

// keyedValue reads "key value" lines (cpu.stat, memory.events, memory.oom_control).
func keyedValue(path, key string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == key {
			v, err := strconv.ParseInt(f[1], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

func readPids(path string) []int {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// proc is one process as /proc shows it.
type proc struct {
	pid, ppid, uid int
	cpu            float64 // seconds: own and reaped children's user and system time
	rss            int64   // bytes
}

// scanProcs reads every process of /proc.
func scanProcs() []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	page := int64(os.Getpagesize())
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces or parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		// f[0] is the state (field 3): ppid is field 4, utime..cstime 14..17, rss 24.
		if len(f) < 22 {
			continue
		}
		p := proc{pid: pid}
		p.ppid, _ = strconv.Atoi(f[1])
		var ticks int64
		for _, k := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseInt(f[k], 10, 64)
			ticks += v
		}
		p.cpu = float64(ticks) / 100 // USER_HZ is 100 on Linux
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		p.rss = rss * page
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name(), &st) == nil {
			p.uid = int(st.Uid)
		}
		out = append(out, p)
	}
	return out
}

// descendants returns the processes below pid.
func descendants(procs []proc, pid int) []proc {
	children := map[int][]int{}
	byPid := map[int]proc{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
		byPid[p.pid] = p
	}
	var out []proc
	stack := []int{pid}
	seen := map[int]bool{pid: true}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range children[n] {
			if !seen[c] {
				seen[c] = true
				out = append(out, byPid[c])
				stack = append(stack, c)
			}
		}
	}
	return out
}
