package main

// End-to-end tests of the platform as people run it: a real 'nmp serve' and
// real 'nmp worker' processes (the nmp binary built from this tree), driven
// with the nmp command line, the HTTP API and the nmpi client's calls.
// Workers run their jobs in the sandbox, which needs root; CI runs as root.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/worker"
)

func TestMain(m *testing.M) {
	// In-process workers of 'nmp serve' (TestServeAndLogin) start this test
	// binary as their job supervisor, as they start 'nmp sandbox'.
	if len(os.Args) > 1 && os.Args[1] == "sandbox" {
		os.Exit(worker.SandboxMain(os.Stdin, os.Stdout))
	}
	// The jobs of TestFakePlatform run this test binary as their nmp.
	if filepath.Base(os.Args[0]) == fakeNMP {
		registerFakeSystem()
		main()
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	nmpBin    string
	buildErr  error
)

// nmpBinary builds the nmp binary once (with the race detector when the
// tests have it), in a directory job users can reach.
func nmpBinary(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: the end-to-end tests run jobs in the worker's sandbox, which needs root; CI runs as root")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "nmp-e2e-bin-")
		if buildErr != nil {
			return
		}
		_ = os.Chmod(binDir, 0o755)
		nmpBin = filepath.Join(binDir, "nmp")
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = "/usr/local/go/bin/go"
		}
		args := []string{"build", "-o", nmpBin}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command(goCmd, append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return nmpBin
}

// reachableTempDir is a temporary directory the jobs' users can pass
// through (needed where namespaces are not available and jobs see the real paths).
func reachableTempDir(t *testing.T) string {
	d := t.TempDir()
	_ = os.Chmod(d, 0o711)
	_ = os.Chmod(filepath.Dir(d), 0o711)
	return d
}

// proc is a running nmp process.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the process to exit.
func (p *proc) stop(t *testing.T) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("nmp %s did not stop on SIGTERM:\n%s", p.cmd.Args[1], p.out.String())
	}
}

// localServer is a running 'nmp serve' with its bootstrap credentials.
type localServer struct {
	t        *testing.T
	bin      string
	dir      string
	home     string
	data     string
	workRoot string
	addr     string
	url      string
	token    string
	key      string
	serve    *proc
	args     []string
}

func (p *localServer) env(extra ...string) []string {
	return append([]string{"PATH=/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin", "HOME=" + p.home}, extra...)
}

func (p *localServer) start(args ...string) *proc {
	p.t.Helper()
	return p.startEnv(nil, args...)
}

func (p *localServer) startEnv(env []string, args ...string) *proc {
	p.t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Env = p.env(env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	pr := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { pr.err = cmd.Wait(); close(pr.done) }()
	p.t.Cleanup(func() {
		pr.stop(p.t)
		if p.t.Failed() {
			p.t.Logf("output of nmp %s:\n%s", args[0], out.String())
		}
	})
	return pr
}

// newPlatform starts 'nmp serve' (without in-process workers unless asked)
// with short leases, so that vanished workers are noticed within seconds.
func newPlatform(t *testing.T, serveArgs ...string) *localServer {
	t.Helper()
	p := &localServer{t: t, bin: nmpBinary(t), dir: reachableTempDir(t)}
	p.home = filepath.Join(p.dir, "home")
	p.data = filepath.Join(p.dir, "data")
	p.workRoot = filepath.Join(p.dir, "jobs")
	_ = os.Mkdir(p.home, 0o700)
	p.args = append([]string{"serve", "-data-dir", p.data, "-workers", "0", "-lease", "4s", "-rescue-interval", "500ms", "-work-dir", p.workRoot + "-serve", "-allow-private-urls", "-poll", "100ms",
		"-calibration-hour", "-1"}, serveArgs...) // no calibrations unless a test asks
	p.launch("127.0.0.1:0")
	var boot struct {
		Token  string `json:"token"`
		APIKey string `json:"api_key"`
	}
	data, err := os.ReadFile(filepath.Join(p.data, "bootstrap.json"))
	if err != nil || json.Unmarshal(data, &boot) != nil {
		t.Fatalf("bootstrap.json: %v %s", err, data)
	}
	p.token, p.key = boot.Token, boot.APIKey
	return p
}

var urlLine = regexp.MustCompile(`url=http://(\S+)`)

func (p *localServer) launch(addr string) {
	p.t.Helper()
	args := append(append([]string(nil), p.args...), "-addr", addr)
	p.serve = p.start(args...)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := urlLine.FindStringSubmatch(p.serve.out.String()); m != nil {
			p.addr = m[1]
			p.url = "http://" + m[1]
			return
		}
		if p.serve.exited() || time.Now().After(deadline) {
			p.t.Fatalf("nmp serve did not start:\n%s", p.serve.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// worker starts an 'nmp worker' process.
func (p *localServer) worker(args ...string) *proc {
	p.t.Helper()
	a := append([]string{"worker", "-server", p.url, "-work-dir", p.workRoot, "-poll", "100ms", "-allow-private-urls", "-grace", "1s",
		"-memory", "2GiB", "-wall-clock", "3m"}, args...)
	return p.startEnv([]string{"NMP_API_KEY=" + p.key}, a...)
}

// nmp runs the nmp command line as the administrator and returns its
// output and whether it succeeded.
func (p *localServer) nmp(args ...string) (string, string, error) {
	p.t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Env = p.env("NMP_SERVER="+p.url, "NMP_TOKEN="+p.token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func (p *localServer) nmpOK(args ...string) string {
	p.t.Helper()
	out, errOut, err := p.nmp(args...)
	if err != nil {
		p.t.Fatalf("nmp %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// submitWait submits with nmp submit -wait -json and returns the ended job.
func (p *localServer) submitWait(args ...string) (client.Job, string) {
	p.t.Helper()
	out, errOut, _ := p.nmp(append([]string{"submit", "-collab", "demo", "-wait", "-json"}, args...)...)
	var j client.Job
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		p.t.Fatalf("nmp submit %s: no job in the answer (%v):\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return j, errOut
}

func jobLog(j client.Job) string {
	if j.Log == nil {
		return ""
	}
	return *j.Log
}

func wantStatus(t *testing.T, j client.Job, status string, logHas ...string) {
	t.Helper()
	l := jobLog(j)
	if j.Status != status {
		t.Fatalf("job %d: status %s, want %s; log:\n%s", j.ID, j.Status, status, l)
	}
	for _, s := range logHas {
		if !strings.Contains(l, s) {
			t.Fatalf("job %d: log lacks %q:\n%s", j.ID, s, l)
		}
	}
}

func fileNames(j client.Job) []string {
	var out []string
	for _, f := range j.Files() {
		out = append(out, f.Path)
	}
	return out
}

// get downloads a URL.
func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", u, resp.Status, b)
	}
	return string(b)
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The model every code form carries: it reads a parameter file of its own
// code, takes the backend as its last argument, and writes its result.
var modelFiles = map[string]string{
	"main.py": `import json, sys
params = json.load(open("params/model.json"))
backend = sys.argv[-1]
print("model", params["name"], "on", backend)
with open("result.txt", "w") as f:
    f.write("%s %s %s\n" % (params["name"], backend, " ".join(sys.argv[1:-1])))
`,
	"params/model.json": `{"name": "I_f_curve"}`,
}

// codeServer serves a git repository (through git's own http-backend, as
// smart HTTP, so that shallow clones work) and archives of the model.
func codeServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(root, "src")
	writeFiles(t, src, modelFiles)
	git := func(dir string, args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + root, "GIT_CONFIG_NOSYSTEM=1"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(src, "init", "-q")
	git(src, "add", ".")
	git(src, "commit", "-q", "-m", "model")
	commit := git(src, "rev-parse", "HEAD")
	git(root, "clone", "-q", "--bare", src, filepath.Join(root, "git", "model.git"))
	// Archives with a top directory, as GitHub makes them.
	var entries []tarEntryE2E
	for name, body := range modelFiles {
		entries = append(entries, tarEntryE2E{"model-main/" + name, body, ""})
	}
	writeArchive(t, filepath.Join(root, "files", "model.tar.gz"), entries)
	writeZip(t, filepath.Join(root, "files", "model.zip"), entries)
	writeFiles(t, filepath.Join(root, "files"), map[string]string{"a.txt": "20\n", "b.txt": "22\n"})
	// An archive that tries to write outside its directory and link to secrets.
	writeArchive(t, filepath.Join(root, "files", "evil.tar.gz"), []tarEntryE2E{
		{"run.py", "print('should not run')\n", ""},
		{"../../escaped.txt", "escaped\n", ""},
	})
	writeArchive(t, filepath.Join(root, "files", "evil-link.tar.gz"), []tarEntryE2E{
		{"run.py", "print(open('secret').read())\n", ""},
		{"secret", "", "/etc/shadow"},
	})
	mux := http.NewServeMux()
	mux.Handle("/git/", &cgi.Handler{Path: "/usr/lib/git-core/git-http-backend", Root: "/git",
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Join(root, "git"), "GIT_HTTP_EXPORT_ALL=1"}})
	mux.Handle("/files/", http.StripPrefix("/files/", http.FileServer(http.Dir(filepath.Join(root, "files")))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, commit
}

type tarEntryE2E struct{ name, body, link string }

func writeArchive(t *testing.T, path string, entries []tarEntryE2E) {
	t.Helper()
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(e.body))
	}
	_ = tw.Close()
	_ = zw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeZip(t *testing.T, path string, entries []tarEntryE2E) {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(e.body))
	}
	_ = zw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEnd runs every code form, input data, failures and limits, and
// the command line's reading commands, against one server and one worker.
func TestEndToEnd(t *testing.T) {
	p := newPlatform(t)
	p.worker("-slots", "2")
	code, commit := codeServer(t)
	dir := t.TempDir()

	t.Run("script", func(t *testing.T) {
		script := filepath.Join(dir, "experiment.py")
		writeFiles(t, dir, map[string]string{"experiment.py": `import os, sys
print("running", os.path.basename(sys.argv[0]), "on", sys.argv[1], flush=True)
os.makedirs("out", exist_ok=True)
open("out/result.txt", "w").write("42\n")
`})
		j, _ := p.submitWait(script)
		wantStatus(t, j, "finished", "running experiment.py on nmp", "[nmp worker] running: /usr/bin/python3 experiment.py nmp")
		if f := fileNames(j); len(f) != 1 || f[0] != "out/result.txt" || get(t, j.Files()[0].URL) != "42\n" {
			t.Fatalf("files %v", f)
		}
		id := fmt.Sprint(j.ID)
		dl := t.TempDir()
		if out := p.nmpOK("download", id, "-dir", dl); !strings.Contains(out, filepath.Join("job_"+id, "out", "result.txt")) {
			t.Fatalf("download printed %q", out)
		}
		if b, err := os.ReadFile(filepath.Join(dl, "job_"+id, "out", "result.txt")); err != nil || string(b) != "42\n" {
			t.Fatalf("downloaded file: %q %v", b, err)
		}
		if out := p.nmpOK("log", id); !strings.Contains(out, "running experiment.py on nmp") {
			t.Fatalf("nmp log: %q", out)
		}
		if out := p.nmpOK("job", id); !strings.Contains(out, "job "+id+": finished") || !strings.Contains(out, "out/result.txt") || !strings.Contains(out, "usage:") {
			t.Fatalf("nmp job: %q", out)
		}
		if out := p.nmpOK("jobs"); !regexp.MustCompile(`(?m)^` + id + `\s+finished\s+Demo\s+demo`).MatchString(out) {
			t.Fatalf("nmp jobs: %q", out)
		}
		var jobs []client.Job
		if err := json.Unmarshal([]byte(p.nmpOK("jobs", "-json", "-status", "finished")), &jobs); err != nil || len(jobs) == 0 {
			t.Fatalf("nmp jobs -json: %v %v", jobs, err)
		}
		if out := p.nmpOK("requests"); !strings.Contains(out, "accepted") {
			t.Fatalf("nmp requests: %q", out)
		}
	})

	t.Run("git", func(t *testing.T) {
		j, _ := p.submitWait(code.URL+"/git/model.git", "-command", "main.py --plot-figure {system}")
		wantStatus(t, j, "finished", "cloning the git repository", "commit "+commit, "model I_f_curve on nmp")
		if get(t, j.Files()[0].URL) != "I_f_curve nmp --plot-figure\n" {
			t.Fatalf("result: %v", fileNames(j))
		}
	})
	for _, name := range []string{"model.tar.gz", "model.zip"} {
		t.Run(name, func(t *testing.T) {
			j, _ := p.submitWait(code.URL+"/files/"+name, "-command", "main.py {system}")
			wantStatus(t, j, "finished", "archive, 2 files", "from its top directory model-main/", "model I_f_curve on nmp")
			if f := fileNames(j); len(f) != 1 || f[0] != "result.txt" {
				t.Fatalf("files %v (only what the job wrote is output)", f)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		src := filepath.Join(dir, "model")
		writeFiles(t, src, modelFiles)
		j, errOut := p.submitWait(src, "-command", "main.py {system}")
		wantStatus(t, j, "finished", "model I_f_curve on nmp")
		if !strings.Contains(errOut, "uploaded "+src+" (2 files)") || !strings.Contains(j.Code, "/code/") {
			t.Fatalf("upload: %q, code %q", errOut, j.Code)
		}
	})
	t.Run("inputs", func(t *testing.T) {
		script := filepath.Join(dir, "sum.py")
		writeFiles(t, dir, map[string]string{"sum.py": "print('sum', int(open('a.txt').read()) + int(open('b.txt').read()))\n"})
		j, _ := p.submitWait(script, "-input", code.URL+"/files/a.txt", "-input", code.URL+"/files/b.txt")
		wantStatus(t, j, "finished", "input: 2 files", "sum 42")
		if len(j.Files()) != 0 {
			t.Fatalf("inputs were uploaded as outputs: %v", fileNames(j))
		}
	})
	t.Run("failure", func(t *testing.T) {
		writeFiles(t, dir, map[string]string{"fail.py": "import sys\nprint('bad parameter', file=sys.stderr)\nsys.exit(2)\n"})
		out, errOut, err := p.nmp("submit", filepath.Join(dir, "fail.py"), "-collab", "demo", "-wait")
		if err == nil || !strings.Contains(out, "error") || !strings.Contains(out, "exited with status 2") || !strings.Contains(out, "bad parameter") {
			t.Fatalf("nmp submit of a failing job: %v\n%s%s", err, out, errOut)
		}
	})
	t.Run("wall-clock limit", func(t *testing.T) {
		writeFiles(t, dir, map[string]string{"slow.py": "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n"})
		start := time.Now()
		j, _ := p.submitWait(filepath.Join(dir, "slow.py"), "-config", `{"limits": {"wall_clock_s": 2}}`)
		wantStatus(t, j, "error", "sleeping", "exceeded its wall-clock limit of 2s")
		if time.Since(start) > time.Minute {
			t.Fatalf("the job took %s", time.Since(start))
		}
	})
	t.Run("memory limit", func(t *testing.T) {
		writeFiles(t, dir, map[string]string{"hog.py": "import time\nb = []\nfor i in range(100):\n    b.append(bytearray(16 << 20))\n    time.sleep(0.02)\nprint('not reached')\n"})
		j, _ := p.submitWait(filepath.Join(dir, "hog.py"), "-config", `{"limits": {"memory_mib": 100}}`)
		wantStatus(t, j, "error", "exceeded its memory limit of 100 MiB")
		if strings.Contains(jobLog(j), "not reached") {
			t.Fatal("the job went past its memory limit")
		}
	})
	t.Run("malicious archives", func(t *testing.T) {
		j, _ := p.submitWait(code.URL + "/files/evil.tar.gz")
		wantStatus(t, j, "error", "unsafe archive", `goes outside the code directory`)
		j, _ = p.submitWait(code.URL + "/files/evil-link.tar.gz")
		wantStatus(t, j, "error", "unsafe archive", "points to the absolute path /etc/shadow")
		for _, d := range []string{p.dir, p.workRoot, filepath.Dir(p.dir)} {
			if _, err := os.Stat(filepath.Join(d, "escaped.txt")); err == nil {
				t.Fatalf("the archive wrote %s", filepath.Join(d, "escaped.txt"))
			}
		}
	})
	t.Run("unavailable platform", func(t *testing.T) {
		_, errOut, err := p.nmp("submit", filepath.Join(dir, "experiment.py"), "-collab", "demo", "-platform", "TestPlatform")
		if err == nil || !strings.Contains(errOut, "TestPlatform is not available on this server") || !strings.Contains(errOut, "test platform of the EBRAINS reference server") {
			t.Fatalf("submission to TestPlatform: %v %s", err, errOut)
		}
		var about client.About
		if err := json.Unmarshal([]byte(get(t, p.url+"/")), &about); err != nil || about.Platforms["TestPlatform"].Status != "unavailable" ||
			about.Platforms["Demo"].Status != "ok" || about.Platforms["BrainScaleS-2"].Status != "ok" {
			t.Fatalf("about: %+v %v", about.Platforms, err)
		}
	})
	t.Run("nmpi client", func(t *testing.T) {
		python := "/usr/bin/python3"
		if err := exec.Command(python, "-c", "import requests").Run(); err != nil {
			t.Fatal("Debian's python3 with python3-requests is needed (scripts/setup installs it)")
		}
		out := t.TempDir()
		cmd := exec.Command(python, "-s", "testdata/nmpi_worker.py")
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + p.home, "NMP_URL=" + p.url, "NMP_TOKEN=" + p.token, "OUT_DIR=" + out}
		b, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(b), "nmpi submit, wait and download_data passed") {
			t.Fatalf("testdata/nmpi_worker.py: %v\n%s", err, b)
		}
	})
	t.Run("quota", func(t *testing.T) {
		// Every job's usage was charged to the demo collab once.
		var quotas []client.Quota
		if err := json.Unmarshal([]byte(p.nmpOK("quotas", "-json")), &quotas); err != nil {
			t.Fatal(err)
		}
		var jobs []client.Job
		if err := json.Unmarshal([]byte(p.nmpOK("jobs", "-json", "-collab", "demo", "-limit", "1000")), &jobs); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, j := range jobs {
			if j.ResourceUsage != nil && j.HardwarePlatform == "Demo" {
				sum += j.ResourceUsage.Value
			}
		}
		for _, q := range quotas {
			if q.Platform == "Demo" && (q.Usage-sum > 1e-9 || sum-q.Usage > 1e-9 || sum <= 0) {
				t.Fatalf("Demo quota usage %v, jobs' usage %v", q.Usage, sum)
			}
		}
		if out := p.nmpOK("quotas"); !regexp.MustCompile(`Demo\s+\S+\s+1\s+hours`).MatchString(out) {
			t.Fatalf("nmp quotas: %q", out)
		}
	})
}

// processesWith lists processes whose command line holds s.
func processesWith(s string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(s)) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// A worker killed in the middle of a job loses it to no one: its lease
// expires, the server gives the job back to the queue, another worker runs
// it to the end once, and the collab is charged once.
func TestEndToEndWorkerKilled(t *testing.T) {
	p := newPlatform(t)
	marker := fmt.Sprintf("marker-%d", rand.Int64())
	dir := t.TempDir()
	// The first run would take two minutes: it must be the killed worker's.
	writeFiles(t, dir, map[string]string{"run.py": "import os, time\nprint('run started', flush=True)\nif os.environ['NMP_JOB_ATTEMPT'] == '1':\n    time.sleep(120)\nopen('done.txt', 'w').write('done')\nprint('run done')\n"})
	a := p.worker()
	out := p.nmpOK("submit", filepath.Join(dir, "run.py"), "-collab", "demo", "-command", "run.py {system} "+marker)
	id := regexp.MustCompile(`submitted job (\d+)`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("submit: %q", out)
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.nmpOK("log", id[1]), "run started") {
		if time.Now().After(deadline) {
			t.Fatal("the job did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = a.cmd.Process.Kill()
	<-a.done
	// The job's processes die with the worker.
	for deadline = time.Now().Add(30 * time.Second); len(processesWith(marker)) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the job outlived its killed worker: %v", processesWith(marker))
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.worker()
	jid, _ := parseJobID(id[1])
	c := client.New(p.url, p.token)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jp, err := c.Wait(ctx, jid, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := jobLog(*jp)
	wantStatus(t, *jp, "finished", "the job is back in the queue (attempt 1 of 3 failed)", "run done")
	if n := strings.Count(l, "[nmp worker] finished"); n != 1 || strings.Count(l, "run started") != 2 {
		t.Fatalf("the job should have started twice and finished once:\n%s", l)
	}
	var prov map[string]any
	_ = json.Unmarshal(jp.Provenance, &prov)
	if fmt.Sprint(prov["attempt"]) != "2" {
		t.Fatalf("provenance attempt %v", prov["attempt"])
	}
	var quotas []client.Quota
	if err := json.Unmarshal([]byte(p.nmpOK("quotas", "-json")), &quotas); err != nil {
		t.Fatal(err)
	}
	for _, q := range quotas {
		if q.Platform == "Demo" && (jp.ResourceUsage == nil || q.Usage != jp.ResourceUsage.Value) {
			t.Fatalf("Demo quota usage %v, the job's usage %+v: charged other than once", q.Usage, jp.ResourceUsage)
		}
	}
}

// A server that goes away while a job runs is waited for: the worker retries
// with backoff and ends the job once the server is back.
func TestEndToEndServerAway(t *testing.T) {
	p := newPlatform(t, "-lease", "20s")
	w := p.worker()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"run.py": "import time\nprint('started', flush=True)\ntime.sleep(3)\nprint('ended', flush=True)\nopen('out.txt', 'w').write('x')\n"})
	out := p.nmpOK("submit", filepath.Join(dir, "run.py"), "-collab", "demo")
	id := regexp.MustCompile(`submitted job (\d+)`).FindStringSubmatch(out)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.nmpOK("log", id[1]), "started") {
		if time.Now().After(deadline) {
			t.Fatal("the job did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.serve.stop(t)
	// The job ends while the server is away; the worker keeps trying to end it.
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(w.out.String(), "server unreachable; retrying"); {
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not notice the server was away:\n%s", w.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.launch(p.addr)
	jid, _ := parseJobID(id[1])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	j, err := client.New(p.url, p.token).Wait(ctx, jid, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, *j, "finished", "started", "ended")
	if len(j.Files()) != 1 {
		t.Fatalf("files %v", fileNames(*j))
	}
}

// newLocalPlatform starts 'nmp serve' as a newcomer does (no configuration,
// in-process workers, the token saved in the home directory), with extra
// serve flags, and waits for its instructions.
func newLocalPlatform(t *testing.T, extra ...string) *localServer {
	t.Helper()
	p := &localServer{t: t, bin: nmpBinary(t), dir: reachableTempDir(t)}
	p.home = filepath.Join(p.dir, "home")
	p.data = filepath.Join(p.dir, "nmp-data")
	_ = os.Mkdir(p.home, 0o700)
	p.args = append([]string{"serve", "-data-dir", p.data, "-work-dir", filepath.Join(p.dir, "jobs")}, extra...)
	p.launch("127.0.0.1:0")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.serve.out.String(), "submit a job from another terminal") {
		if time.Now().After(deadline) {
			t.Fatalf("no instructions:\n%s", p.serve.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// cli runs the nmp command line as the newcomer does, with the token 'nmp
// serve' saved, and returns its combined output.
func (p *localServer) cli(args ...string) (string, error) {
	cmd := exec.Command(p.bin, args...)
	cmd.Env = p.env("NMP_SERVER=" + p.url)
	b, err := cmd.CombinedOutput()
	return string(b), err
}

// TestEndToEndLocalPlatform runs 'nmp serve' as a newcomer does: no
// configuration, in-process workers, instructions printed, the token saved
// for nmp submit; and the README's main job when the PyNN backend is there.
func TestEndToEndLocalPlatform(t *testing.T) {
	p := newLocalPlatform(t)
	out := p.serve.out.String()
	for _, want := range []string{"runs        Demo: nmp's reference system (PyNN backend \"nmp\")",
		"runs        BrainScaleS-2: nmp's brainscales2 system (PyNN backend \"brainscales2\", chip nmp-virtual-hx-0)", "runs        SpiNNaker: nmp's spinnaker system", "unavailable Test, TestPlatform",
		"nmp submit examples/brainscales2/second_experiment.py -platform BrainScaleS-2 -command run.py -server " + p.url, "saved in " + filepath.Join(p.home, ".hbptoken")} {
		if !strings.Contains(out, want) {
			t.Fatalf("serve output lacks %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(p.data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory %v %v: jobs must not reach it", fi.Mode(), err)
	}
	// nmp submit finds the saved token and the only collab by itself.
	cli := p.cli
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"hello.py": "import sys\nprint('hello from', sys.argv[1])\n"})
	if out, err := cli("submit", filepath.Join(dir, "hello.py"), "-wait"); err != nil || !strings.Contains(out, "finished") {
		t.Fatalf("nmp submit: %v\n%s", err, out)
	}

	t.Run("main job", func(t *testing.T) {
		if err := exec.Command("/usr/bin/python3", "-c", "import pynn_brainscales.brainscales2").Run(); err != nil {
			t.Skip("SKIPPED: pynn_brainscales is not importable (python/install installs it); the main job needs it")
		}
		// The seed tutorial's second BrainScaleS-2 experiment, submitted as the tutorial does (command run.py).
		results := t.TempDir()
		out, err := cli("submit", filepath.Join("..", "..", "examples", "brainscales2", "second_experiment.py"), "-platform", "BrainScaleS-2",
			"-command", "run.py", "-follow", "-download", results)
		if err != nil || !strings.Contains(out, "second_experiment.dat") {
			t.Fatalf("the main job: %v\n%s", err, out)
		}
		id := regexp.MustCompile(`(?m)^job (\d+) finished`).FindStringSubmatch(out)
		if id == nil {
			t.Fatalf("the main job did not finish:\n%s", out)
		}
		dat := filepath.Join(results, "job_"+id[1], "second_experiment.dat")
		png := filepath.Join(results, "job_"+id[1], "second_experiment.png")
		plot := exec.Command("/usr/bin/python3", filepath.Join("..", "..", "examples", "brainscales2", "plot_membrane_dynamics.py"), dat, png)
		if b, err := plot.CombinedOutput(); err != nil || !regexp.MustCompile(`plotted [1-9]\d* spikes`).Match(b) {
			t.Fatalf("plot: %v\n%s", err, b)
		}
		b, err := cli("job", id[1], "-json")
		var j client.Job
		var prov struct{ Chip string }
		if err != nil || json.Unmarshal([]byte(b), &j) != nil || j.ResourceUsage == nil || j.ResourceUsage.Units != "chip-hours" || j.ResourceUsage.Value <= 0 ||
			json.Unmarshal(j.Provenance, &prov) != nil || prov.Chip != "nmp-virtual-hx-0" {
			t.Fatalf("the main job: %v\n%s", err, b)
		}
		t.Logf("%s", out)
	})

	t.Run("reference example", func(t *testing.T) {
		if err := exec.Command("/usr/bin/python3", "-c", "import pyNN.nmp").Run(); err != nil {
			t.Skip("SKIPPED: pyNN.nmp is not importable (python/install installs it)")
		}
		results := t.TempDir()
		out, err := cli("submit", filepath.Join("..", "..", "examples", "leak_over_threshold", "run.py"), "-platform", "Demo", "-wait", "-download", results)
		if err != nil {
			t.Fatalf("the reference example: %v\n%s", err, out)
		}
		for _, f := range []string{"leak_over_threshold.png", "leak_over_threshold.dat"} {
			if !strings.Contains(out, f) {
				t.Fatalf("the reference example did not give %s:\n%s", f, out)
			}
		}
	})
	p.serve.stop(t)
	if p.serve.err != nil {
		t.Fatalf("nmp serve exited with %v:\n%s", p.serve.err, p.serve.out.String())
	}
}
