package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary is its own job supervisor: run with NMP_SANDBOX_HELPER=1
// it does what 'nmp sandbox' does.
func TestMain(m *testing.M) {
	if os.Getenv("NMP_SANDBOX_HELPER") == "1" {
		os.Exit(SandboxMain(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

func helper() ([]string, []string) {
	return []string{os.Args[0]}, []string{"NMP_SANDBOX_HELPER=1"}
}

const python = "/usr/bin/python3"

// sandboxCase is a sandbox set up as a worker sets it up, in one of the
// isolation modes this machine offers.
type sandboxCase struct {
	name    string
	runner  *sandboxRunner
	cgroups cgroupSetup
	uid     int
}

// sandboxModes returns the isolation modes to test: the full one (namespaces,
// cgroups, a user of its own) and the fallback without namespaces and cgroups.
// Both need root; a machine that offers neither namespaces nor cgroups runs
// only the fallback, and says so.
func sandboxModes(t *testing.T) []sandboxCase {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: the job sandbox needs root (to switch users, set up namespaces and cgroups); CI runs as root")
	}
	h, env := helper()
	full := sandboxCase{name: "full", runner: &sandboxRunner{Helper: h, HelperEnv: env,
		NamespaceFlags: nsFlags(false)}, uid: 1900000900}
	cg, err := detectCgroups("nmp-jobs-test")
	if err != nil {
		t.Logf("no cgroups on this machine (%v): the full mode uses process sampling", err)
	}
	full.cgroups = cg
	fallback := sandboxCase{name: "fallback", runner: &sandboxRunner{Helper: h, HelperEnv: env}, uid: 1900000901}
	return []sandboxCase{full, fallback}
}

// run runs argv in a fresh job directory.
func (c sandboxCase) run(t *testing.T, argv []string, limits Limits) (*sandboxResult, string, string) {
	t.Helper()
	root := t.TempDir()
	jobDir := filepath.Join(root, "job")
	work := filepath.Join(jobDir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chownTree(jobDir, c.uid, 65534); err != nil {
		t.Fatal(err)
	}
	if c.runner.NamespaceFlags == 0 {
		// Without namespaces the job user must be able to reach its directory.
		for d := jobDir; d != "/"; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, fi.Mode().Perm()|0o011)
			}
		}
	}
	spec := &sandboxSpec{Argv: argv, Env: []string{"PATH=/usr/bin:/bin", "HOME=" + jobDir, "LANG=C.UTF-8"}, Dir: work, JobDir: jobDir,
		WorkRoot: root, UID: c.uid, GID: 65534, Limits: limits, Grace: time.Second}
	if c.cgroups.Version != "" {
		dirs, err := c.cgroups.create(fmt.Sprintf("test-%d", time.Now().UnixNano()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.cgroups.remove(dirs)
		spec.Cgroup, spec.CgroupDirs = c.cgroups.Version, dirs
	}
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := c.runner.run(ctx, spec, &out)
	if err != nil {
		t.Fatalf("%s: %v (output %s)", c.name, err, out.String())
	}
	return res, out.String(), work
}

func nsFlags(network bool) uintptr {
	f := uintptr(0x00020000 | 0x20000000 | 0x08000000 | 0x04000000) // NEWNS, NEWPID, NEWIPC, NEWUTS
	if !network {
		f |= 0x40000000 // NEWNET
	}
	return f
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSandboxUserAndView(t *testing.T) {
	for _, c := range sandboxModes(t) {
		t.Run(c.name, func(t *testing.T) {
			res, out, work := c.run(t, []string{"/bin/sh", "-c", "id -u; id -G; echo hi > out.txt; ls -A /tmp | wc -l; hostname"}, Limits{WallClock: time.Minute})
			if res.ExitCode != 0 || res.Reason != "" {
				t.Fatalf("result %+v, output %s", res, out)
			}
			lines := strings.Fields(out)
			if len(lines) < 4 || lines[0] != fmt.Sprint(c.uid) || lines[1] != "65534" {
				t.Fatalf("the job ran as %q, want uid %d with only group 65534", out, c.uid)
			}
			// The job directory lies below /tmp here: /tmp shows the way to it, nothing else.
			if c.runner.NamespaceFlags != 0 && (lines[2] != "1" || lines[3] != "nmp-job") {
				t.Fatalf("with namespaces /tmp must hold only the way to the job's directory and the host name be nmp-job: %q", out)
			}
			b, err := os.ReadFile(filepath.Join(work, "out.txt"))
			if err != nil || string(b) != "hi\n" {
				t.Fatalf("out.txt: %q, %v", b, err)
			}
		})
	}
}

func TestSandboxHidesAndIsolates(t *testing.T) {
	c := sandboxModes(t)[0]
	if c.runner.NamespaceFlags == 0 {
		t.Skip("SKIPPED: no namespaces here")
	}
	secret := t.TempDir()
	if err := os.WriteFile(filepath.Join(secret, "nmp.db"), []byte("TOPSECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	other := filepath.Join(root, "other-job")
	_ = os.MkdirAll(other, 0o755)
	_ = os.WriteFile(filepath.Join(other, "data"), []byte("OTHERDATA"), 0o644)
	jobDir := filepath.Join(root, "job")
	_ = os.MkdirAll(jobDir, 0o755)
	_ = chownTree(jobDir, c.uid, 65534)
	script := fmt.Sprintf(`ls -A %s; cat %s/nmp.db; cat %s/data; ls /proc | grep -c '^[0-9]'; (exec 3<>/dev/tcp/1.1.1.1/80) 2>/dev/null && echo net-open || echo net-closed`, root, secret, other)
	spec := &sandboxSpec{Argv: []string{"/bin/bash", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}, Dir: jobDir, JobDir: jobDir,
		WorkRoot: root, Hide: []string{secret}, UID: c.uid, GID: 65534, Limits: Limits{WallClock: time.Minute}, Grace: time.Second}
	var out syncBuffer
	res, err := c.runner.run(context.Background(), spec, &out)
	if err != nil {
		t.Fatal(err)
	}
	o := out.String()
	t.Logf("result %+v\n%s", res, o)
	if strings.Contains(o, "TOPSECRET") || strings.Contains(o, "OTHERDATA") || strings.HasPrefix(o, "other-job") || strings.Contains(o, "\nother-job") {
		t.Fatalf("the job saw another job's directory or the hidden directory:\n%s", o)
	}
	if !strings.Contains(o, "net-closed") {
		t.Fatalf("the job reached the network:\n%s", o)
	}
	f := strings.Fields(o)
	// job (its own dir), then the process count: bash, ls|grep pipeline members and the supervisor.
	if len(f) < 2 || f[0] != "job" {
		t.Fatalf("the work root should show only the job's own directory:\n%s", o)
	}
}

func TestSandboxLimits(t *testing.T) {
	for _, c := range sandboxModes(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Run("wall-clock", func(t *testing.T) {
				start := time.Now()
				res, out, _ := c.run(t, []string{"/bin/sleep", "60"}, Limits{WallClock: time.Second})
				if res.Reason != reasonWallClock || time.Since(start) > 30*time.Second {
					t.Fatalf("result %+v after %s, output %s", res, time.Since(start), out)
				}
			})
			t.Run("cpu-time", func(t *testing.T) {
				res, out, _ := c.run(t, []string{python, "-c", "while True: pass"}, Limits{WallClock: time.Minute, CPUTime: time.Second})
				if res.Reason != reasonCPU || res.CPUTime < 1 {
					t.Fatalf("result %+v, output %s", res, out)
				}
			})
			t.Run("memory", func(t *testing.T) {
				res, out, _ := c.run(t, []string{python, "-c", "import time\nb = []\nfor i in range(100):\n    b.append(bytearray(20 << 20))\n    time.sleep(0.05)\n"},
					Limits{WallClock: time.Minute, Memory: 128 << 20})
				if res.Reason != reasonMemory {
					t.Fatalf("result %+v, output %s", res, out)
				}
			})
			t.Run("output", func(t *testing.T) {
				res, out, _ := c.run(t, []string{python, "-c", "open('big', 'wb').write(b'x' * (20 << 20))"}, Limits{WallClock: time.Minute, Output: 4 << 20})
				if res.Reason != reasonOutput {
					t.Fatalf("result %+v, output %s", res, out)
				}
			})
			t.Run("processes", func(t *testing.T) {
				res, out, _ := c.run(t, []string{"/bin/sh", "-c", "for i in $(seq 40); do sleep 30 & done; wait"}, Limits{WallClock: 20 * time.Second, Processes: 10})
				if !strings.Contains(out, "fork") && !strings.Contains(out, "Resource temporarily unavailable") {
					t.Fatalf("40 processes started under a limit of 10: %+v %s", res, out)
				}
			})
		})
	}
}

// Processes a job leaves behind die with it.
func TestSandboxKillsLeftovers(t *testing.T) {
	for _, c := range sandboxModes(t) {
		t.Run(c.name, func(t *testing.T) {
			res, out, _ := c.run(t, []string{"/bin/sh", "-c", "setsid sleep 300 & sleep 300 & echo started"}, Limits{WallClock: time.Minute})
			if res.ExitCode != 0 || !strings.Contains(out, "started") {
				t.Fatalf("result %+v, output %s", res, out)
			}
			for _, p := range scanProcs() {
				if p.uid == c.uid {
					t.Fatalf("process %d of the job's user outlived the job", p.pid)
				}
			}
		})
	}
}

func TestSandboxCancel(t *testing.T) {
	c := sandboxModes(t)[0]
	root := t.TempDir()
	spec := &sandboxSpec{Argv: []string{"/bin/sleep", "300"}, Env: []string{"PATH=/usr/bin:/bin"}, Dir: root, JobDir: root,
		WorkRoot: filepath.Dir(root), UID: c.uid, GID: 65534, Limits: Limits{WallClock: time.Hour}, Grace: time.Second}
	_ = chownTree(root, c.uid, 65534)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(500 * time.Millisecond); cancel() }()
	start := time.Now()
	res, err := c.runner.run(ctx, spec, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != reasonCancelled || time.Since(start) > 30*time.Second {
		t.Fatalf("result %+v after %s", res, time.Since(start))
	}
}

func TestSandboxStartFailure(t *testing.T) {
	c := sandboxModes(t)[1]
	res, err := c.runner.run(context.Background(), &sandboxSpec{Argv: []string{"no-such-program"}, Dir: "/", JobDir: t.TempDir(), UID: -1, GID: -1}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "not found") || res.Started || !errors.Is(err, errUser) {
		t.Fatalf("got %+v, %v", res, err)
	}
}

// TestSandboxWritesOnlyItsOwn: with namespaces, a job cannot write where it
// is not counted: /run/lock is a world-writable directory on the host's disk
// (issue 10, item 7: a job left 300 MB there).
func TestSandboxWritesOnlyItsOwn(t *testing.T) {
	c := sandboxModes(t)[0]
	if c.runner.NamespaceFlags == 0 {
		t.Skip("SKIPPED: no namespaces here")
	}
	var dirs []string
	for _, d := range []string{"/run/lock", "/var/lock", "/var/crash", "/var/spool/cron/crontabs"} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			dirs = append(dirs, d)
		}
	}
	script := "for d in " + strings.Join(dirs, " ") + "; do (echo x > $d/nmp-job-wrote-here) 2>/dev/null && echo WROTE $d; done; echo x > $HOME/mine && echo home-ok; echo x > /tmp/t && echo tmp-ok"
	res, out, _ := c.run(t, []string{"/bin/sh", "-c", script}, Limits{WallClock: time.Minute})
	for _, d := range dirs {
		_ = os.Remove(filepath.Join(d, "nmp-job-wrote-here"))
	}
	if res.ExitCode != 0 || strings.Contains(out, "WROTE") || !strings.Contains(out, "home-ok") || !strings.Contains(out, "tmp-ok") {
		t.Fatalf("result %+v, output:\n%s", res, out)
	}
}

// TestSandboxSeccomp: jobs cannot make namespaces (issue 10, item 8: unshare
// -Ur worked inside jobs), in every isolation mode; ordinary programs run.
func TestSandboxSeccomp(t *testing.T) {
	if _, err := os.Stat("/usr/bin/unshare"); err != nil {
		t.Skip("SKIPPED: no /usr/bin/unshare (util-linux) to try")
	}
	for _, c := range sandboxModes(t) {
		t.Run(c.name, func(t *testing.T) {
			script := "unshare -Ur true 2>&1 && echo UNSHARED; unshare -U true 2>&1 && echo UNSHARED; " +
				python + " -c 'import os, subprocess; print(subprocess.run([\"echo\", \"child-ok\"], capture_output=True, text=True).stdout.strip()); os.unshare(os.CLONE_NEWUSER)' 2>&1 | tail -2"
			res, out, _ := c.run(t, []string{"/bin/sh", "-c", script}, Limits{WallClock: time.Minute})
			if strings.Contains(out, "UNSHARED") || !strings.Contains(out, "child-ok") || !strings.Contains(out, "Operation not permitted") {
				t.Fatalf("result %+v, output:\n%s", res, out)
			}
		})
	}
}
