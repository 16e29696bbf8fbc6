package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

// testPlatform is a real job queue server (the api package on a SQLite
// store, over HTTP) with the bootstrap defaults, for workers under test.
type testPlatform struct {
	t       *testing.T
	st      store.Store
	handler http.Handler
	url     string
	token   string
	key     string
}

func newTestPlatform(t *testing.T, lease time.Duration) *testPlatform {
	t.Helper()
	return newTestPlatformOf(t, lease, nil)
}

// newTestPlatformOf is newTestPlatform with a platform table of its own (nil: the default).
func newTestPlatformOf(t *testing.T, lease time.Duration, table platform.Table) *testPlatform {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: workers run jobs in the sandbox, which needs root; CI runs as root")
	}
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	b, err := queue.Bootstrap(ctx, st, queue.BootstrapParams{PasswordIterations: 1000, PlatformTable: table})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(ctx, api.Config{Store: st, DataDir: t.TempDir(), Lease: lease, Logger: testLogger(t), PlatformTable: table})
	if err != nil {
		t.Fatal(err)
	}
	p := &testPlatform{t: t, st: st, handler: a.Handler(), token: b.Token, key: b.APIKey}
	srv := httptest.NewServer(p.handler)
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// testLogger writes to the test's log when NMP_TEST_LOG is set.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("NMP_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (p *testPlatform) worker(mod func(*Config)) *Worker {
	p.t.Helper()
	h, env := helper()
	wd := p.t.TempDir()
	_ = os.Chmod(wd, 0o711)
	_ = os.Chmod(filepath.Dir(wd), 0o711)
	cfg := Config{Server: p.url, APIKey: p.key, Platforms: []string{"Demo"}, WorkDir: wd, Helper: h, HelperEnv: env,
		Poll: 50 * time.Millisecond, StatusEvery: 200 * time.Millisecond, LogFlush: 100 * time.Millisecond, Grace: 500 * time.Millisecond,
		Backoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, AllowPrivateURLs: true, Logger: testLogger(p.t),
		Limits: Limits{WallClock: 2 * time.Minute, CPUTime: 2 * time.Minute, Memory: 1 << 30, Output: 64 << 20, Processes: 256}}
	if mod != nil {
		mod(&cfg)
	}
	w, err := New(cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	return w
}

func (p *testPlatform) start(w *Worker) {
	p.t.Helper()
	if err := w.Start(context.Background()); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(w.Stop)
}

func (p *testPlatform) call(method, path string, body any, out any) int {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			p.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		p.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

type jobJSON struct {
	ID            int64
	Status        string
	Log           *string
	Provenance    map[string]any
	ResourceUsage *struct {
		Value float64
		Units string
	} `json:"resource_usage"`
	OutputData *struct {
		Files []struct {
			URL, Path   string
			Size        *int64
			Hash        *string
			ContentType *string `json:"content_type"`
		}
	} `json:"output_data"`
}

func (p *testPlatform) submit(job map[string]any) int64 {
	p.t.Helper()
	if job["collab"] == nil {
		job["collab"] = "demo"
	}
	if job["hardware_platform"] == nil {
		job["hardware_platform"] = "Demo"
	}
	var j jobJSON
	p.call("POST", "/jobs/", job, &j)
	return j.ID
}

func (p *testPlatform) job(id int64) jobJSON {
	p.t.Helper()
	var j jobJSON
	p.call("GET", fmt.Sprintf("/jobs/%d?with_log=true", id), nil, &j)
	return j
}

// wait polls the job until cond holds (default: it ended).
func (p *testPlatform) wait(id int64, what string, cond func(jobJSON) bool) jobJSON {
	p.t.Helper()
	if cond == nil {
		cond = func(j jobJSON) bool { return j.Status == "finished" || j.Status == "error" }
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		j := p.job(id)
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			log := ""
			if j.Log != nil {
				log = *j.Log
			}
			p.t.Fatalf("job %d: %s did not happen; status %s, log:\n%s", id, what, j.Status, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func logOf(j jobJSON) string {
	if j.Log == nil {
		return ""
	}
	return *j.Log
}

const scriptOK = `import json, os, sys
print("backend", sys.argv[1])
os.makedirs("results", exist_ok=True)
with open("results/values.csv", "w") as f:
    f.write("t,v\n0,1\n")
with open("summary.json", "w") as f:
    json.dump({"ok": True}, f)
with open(os.path.join(os.environ["NMP_JOB_REPORT"], "runs.jsonl"), "a") as f:
    f.write(json.dumps({"system": "reference", "seed": 42, "biological_time_ms": 100.0}) + "\n")
print("done")
`

func TestWorkerRunsAScript(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	p.start(p.worker(nil))
	id := p.submit(map[string]any{"code": scriptOK, "command": "run.py {system}"})
	j := p.wait(id, "end", nil)
	log := logOf(j)
	t.Logf("log:\n%s", log)
	if j.Status != "finished" || !strings.Contains(log, "backend nmp\n") || !strings.Contains(log, "done\n") || !strings.Contains(log, "[nmp worker] running: /usr/bin/python3 run.py nmp") {
		t.Fatalf("status %s, log:\n%s", j.Status, log)
	}
	if j.OutputData == nil || len(j.OutputData.Files) != 2 {
		t.Fatalf("output files: %+v", j.OutputData)
	}
	byPath := map[string]string{}
	for _, f := range j.OutputData.Files {
		resp, err := http.Get(f.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		byPath[f.Path] = string(b)
		if f.Size == nil || *f.Size != int64(len(b)) || f.Hash == nil || len(*f.Hash) != 40 {
			t.Fatalf("file %s: size %v hash %v, %d bytes", f.Path, f.Size, f.Hash, len(b))
		}
	}
	if byPath["results/values.csv"] != "t,v\n0,1\n" || byPath["summary.json"] != `{"ok": true}` {
		t.Fatalf("files: %q", byPath)
	}
	if j.ResourceUsage == nil || j.ResourceUsage.Units != "hours" || j.ResourceUsage.Value <= 0 || j.ResourceUsage.Value > 0.1 {
		t.Fatalf("usage %+v", j.ResourceUsage)
	}
	pv := j.Provenance
	if pv["system"] != "reference" || pv["backend"] != "nmp" || fmt.Sprint(pv["seeds"]) != "[42]" || pv["nmp_version"] == "" {
		t.Fatalf("provenance %v", pv)
	}
	if code, _ := pv["code"].(map[string]any); code["kind"] != "script" || code["file"] != "run.py" {
		t.Fatalf("provenance code %v", pv["code"])
	}
	// The usage is charged to the demo collab's quota, once.
	var projects []struct {
		Quotas []struct {
			Platform string
			Usage    float64
		}
	}
	p.call("GET", "/projects/?collab=demo&status=accepted", nil, &projects)
	used := 0.0
	for _, pr := range projects {
		for _, q := range pr.Quotas {
			if q.Platform == "Demo" {
				used += q.Usage
			}
		}
	}
	if diff := used - j.ResourceUsage.Value; diff > 1e-9 || diff < -1e-9 {
		t.Fatalf("quota usage %v, job usage %v", used, j.ResourceUsage.Value)
	}
}

func TestWorkerJobErrors(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	p.start(p.worker(nil))
	for name, c := range map[string]struct {
		job  map[string]any
		kind string
		want []string
	}{
		"exit status": {map[string]any{"code": "import sys\nprint('about to fail')\nsys.exit(3)\n"}, "user",
			[]string{"about to fail", "error: the job's command exited with status 3"}},
		"exception": {map[string]any{"code": "raise ValueError('bad parameter tau_m')\n"}, "user",
			[]string{"ValueError: bad parameter tau_m", "exited with status 1"}},
		"backend restriction": {map[string]any{"code": "print(1)", "command": "run.py {system=spiNNaker,nest}"}, "user",
			[]string{"restricts the job to the backends spiNNaker, nest, and Demo's backend is nmp"}},
		"bad limits": {map[string]any{"code": "print(1)", "hardware_config": map[string]any{"limits": map[string]any{"memory_mib": -5}}}, "user",
			[]string{"hardware_config.limits.memory_mib: -5 is not a positive number"}},
		"crash": {map[string]any{"code": "import os, signal\nprint('crashing', flush=True)\nos.kill(os.getpid(), signal.SIGSEGV)\n"}, "user",
			[]string{"crashing", "error: the job's command was killed by SIGSEGV"}},
		"no such program": {map[string]any{"code": "print(1)", "command": "analyse-it {system}"}, "user", []string{"command analyse-it: not found in PATH"}},
		"wall clock": {map[string]any{"code": "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n", "hardware_config": map[string]any{"limits": map[string]any{"wall_clock_s": 1}}}, "limit",
			[]string{"sleeping", "exceeded its wall-clock limit of 1s"}},
	} {
		t.Run(name, func(t *testing.T) {
			id := p.submit(c.job)
			j := p.wait(id, "end", nil)
			log := logOf(j)
			if j.Status != "error" {
				t.Fatalf("status %s, log:\n%s", j.Status, log)
			}
			for _, w := range c.want {
				if !strings.Contains(log, w) {
					t.Fatalf("log lacks %q:\n%s", w, log)
				}
			}
			e, _ := j.Provenance["error"].(map[string]any)
			if e["kind"] != c.kind || e["reason"] == "" || e["log_tail"] == "" {
				t.Fatalf("provenance error %v", j.Provenance["error"])
			}
		})
	}
}

// A job its owner removes while it runs is stopped, and the worker goes on.
func TestWorkerRemovedJob(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	w := p.worker(nil)
	p.start(w)
	id := p.submit(map[string]any{"code": "import time\nprint('started', flush=True)\ntime.sleep(120)\n"})
	p.wait(id, "start", func(j jobJSON) bool { return strings.Contains(logOf(j), "started") })
	if code := p.call("DELETE", fmt.Sprintf("/jobs/%d", id), nil, nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	deadline := time.Now().Add(time.Minute)
	for len(w.Running()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker still runs the removed job")
		}
		time.Sleep(50 * time.Millisecond)
	}
	next := p.submit(map[string]any{"code": "print('next')"})
	if j := p.wait(next, "end", nil); j.Status != "finished" {
		t.Fatalf("the next job: %s\n%s", j.Status, logOf(j))
	}
}

// A stopping worker gives its job back; another worker runs it.
func TestWorkerStopGivesJobBack(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	w1 := p.worker(nil)
	if err := w1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := p.submit(map[string]any{"code": "import os, time\nprint('attempt', flush=True)\nif os.environ['NMP_JOB_ATTEMPT'] == '1':\n    time.sleep(120)\nprint('done')\n"})
	p.wait(id, "start", func(j jobJSON) bool { return strings.Contains(logOf(j), "attempt") })
	w1.Stop()
	j := p.job(id)
	if j.Status != "submitted" || !strings.Contains(logOf(j), "the worker is stopping") {
		t.Fatalf("after stop: %s\n%s", j.Status, logOf(j))
	}
	p.start(p.worker(nil))
	j = p.wait(id, "end", nil)
	if j.Status != "finished" || fmt.Sprint(j.Provenance["attempt"]) != "2" {
		t.Fatalf("second run: %s attempt %v\n%s", j.Status, j.Provenance["attempt"], logOf(j))
	}
}

// A worker started while the server is away waits for it with backoff.
func TestWorkerWaitsForServer(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var buf syncBuffer
	w := p.worker(func(c *Config) {
		c.Server = "http://" + addr
		c.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	})
	p.start(w)
	for deadline := time.Now().Add(time.Minute); !strings.Contains(buf.String(), "server unreachable"); {
		if time.Now().After(deadline) {
			t.Fatalf("no backoff logged:\n%s", buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("SKIPPED: the port was taken meanwhile: %v", err)
	}
	srv := &http.Server{Handler: p.handler}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	p.url = "http://" + addr
	id := p.submit(map[string]any{"code": "print('hello')"})
	if j := p.wait(id, "end", nil); j.Status != "finished" {
		t.Fatalf("%s\n%s", j.Status, logOf(j))
	}
}

// Where the kernel gives no namespaces or cgroups, jobs still run as users
// of their own, with limits by sampling, and the log says so.
func TestWorkerWithoutNamespacesOrCgroups(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	w := p.worker(func(c *Config) { c.NoNamespaces, c.NoCgroups = true, true })
	p.start(w)
	if iso := w.Isolation(); !strings.Contains(iso, "no namespaces") || !strings.Contains(iso, "sampling") {
		t.Fatalf("isolation %q", iso)
	}
	id := p.submit(map[string]any{"code": scriptOK})
	j := p.wait(id, "end", nil)
	if j.Status != "finished" || j.OutputData == nil || len(j.OutputData.Files) != 2 || !strings.Contains(logOf(j), "measured by process scan") {
		t.Fatalf("status %s, files %+v, log:\n%s", j.Status, j.OutputData, logOf(j))
	}
	id = p.submit(map[string]any{"code": "b = bytearray(600 << 20)\nimport time\ntime.sleep(5)\n", "hardware_config": map[string]any{"limits": map[string]any{"memory_mib": 200}}})
	if j := p.wait(id, "end", nil); j.Status != "error" || !strings.Contains(logOf(j), "exceeded its memory limit of 200 MiB") {
		t.Fatalf("status %s, log:\n%s", j.Status, logOf(j))
	}
}

// A worker whose lease is lost (the server gave the job to another run)
// stops the job and sends nothing more; the job's next run ends it once.
func TestWorkerLeaseLost(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	p.start(p.worker(nil))
	id := p.submit(map[string]any{"code": "import os, time\nprint('run started', flush=True)\nif os.environ['NMP_JOB_ATTEMPT'] == '1':\n    time.sleep(120)\nprint('run done')\n"})
	p.wait(id, "start", func(j jobJSON) bool { return strings.Contains(logOf(j), "run started") })
	// As if the lease had expired: the rescuer gives the job back to the queue.
	rs, err := p.st.JobRescue(context.Background(), &store.JobRescueParams{Now: time.Now().Add(10 * time.Minute), MaxAttempts: 3})
	if err != nil || len(rs) != 1 {
		t.Fatalf("rescue: %v %v", rs, err)
	}
	j := p.wait(id, "end", nil)
	l := logOf(j)
	if j.Status != "finished" || strings.Count(l, "run started") != 2 || strings.Count(l, "run done") != 1 || strings.Count(l, "[nmp worker] finished") != 1 ||
		fmt.Sprint(j.Provenance["attempt"]) != "2" || !strings.Contains(l, "back in the queue") {
		t.Fatalf("status %s, attempt %v, log:\n%s", j.Status, j.Provenance["attempt"], l)
	}
}

// A platform the server refuses to this worker's provider does not hold up
// the others.
func TestWorkerRefusedPlatform(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	ctx := context.Background()
	if err := p.st.ProviderCreate(ctx, &store.Provider{Name: "demo-only", Platforms: []string{"Demo"}}); err != nil {
		t.Fatal(err)
	}
	key, _, err := identity.IssueAPIKey(ctx, p.st, "demo-only", "test", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var buf syncBuffer
	p.start(p.worker(func(c *Config) {
		c.APIKey, c.Platforms, c.MaxBackoff = key, []string{"BrainScaleS-2", "Demo"}, time.Hour
		c.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	}))
	start := time.Now()
	for i := 0; i < 3; i++ {
		id := p.submit(map[string]any{"code": "print('ok')"})
		if j := p.wait(id, "end", nil); j.Status != "finished" {
			t.Fatalf("%s\n%s", j.Status, logOf(j))
		}
	}
	if time.Since(start) > time.Minute || !strings.Contains(buf.String(), "refuses to give jobs of a platform") || !strings.Contains(buf.String(), "BrainScaleS-2") {
		t.Fatalf("after %s, log:\n%s", time.Since(start), buf.String())
	}
}

// TestWorkerBadOutputName: a file the server would refuse for its name loses
// only that file, with a line in the log saying why (issue 10, item 12).
func TestWorkerBadOutputName(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	p.start(p.worker(nil))
	id := p.submit(map[string]any{"code": "open('back\\\\slash.txt', 'w').write('x')\nopen('good.txt', 'w').write('y')\n"})
	j := p.wait(id, "end", nil)
	log := logOf(j)
	if j.Status != "finished" || j.OutputData == nil || len(j.OutputData.Files) != 1 || j.OutputData.Files[0].Path != "good.txt" ||
		!strings.Contains(log, `output file "back\\slash.txt" not uploaded: its name has a backslash`) {
		t.Fatalf("status %s, files %+v, log:\n%s", j.Status, j.OutputData, log)
	}
}

// TestWorkerHiddenBinary: jobs run the worker's nmp binary even when it lies
// in a directory their users cannot enter, as a binary built in a 0700 home
// does (issue 10, item 14).
func TestWorkerHiddenBinary(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	home := filepath.Join(t.TempDir(), "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(home, "nmp")
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	w := p.worker(func(c *Config) { c.NMPBinary = bin })
	p.start(w)
	if !strings.Contains(w.Isolation(), "mount, PID") {
		// Without namespaces the worker must refuse to start instead.
		t.Skip("SKIPPED: no namespaces here")
	}
	id := p.submit(map[string]any{"code": "import os, subprocess\nprint('binary at', os.environ['NMP_BINARY'])\nsubprocess.run([os.environ['NMP_BINARY']], check=True)\nprint('ran it')\n"})
	j := p.wait(id, "end", nil)
	if j.Status != "finished" || !strings.Contains(logOf(j), "ran it") {
		t.Fatalf("status %s, log:\n%s", j.Status, logOf(j))
	}
	// Without namespaces, the worker says at start that jobs could not run it.
	w2 := p.worker(func(c *Config) { c.NMPBinary, c.NoNamespaces = bin, true })
	if err := w2.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot run the nmp binary") {
		if err == nil {
			w2.Stop()
		}
		t.Fatalf("a worker without namespaces started with an unreachable binary: %v", err)
	}
}

// TestWorkerGitDumbHTTPAndSubmodules: a repository on a plain ("dumb") HTTP
// server, which cannot clone shallowly, is cloned whole, with its submodules,
// as the reference does with --recursive (issue 10, item 15).
func TestWorkerGitDumbHTTPAndSubmodules(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: no git")
	}
	p := newTestPlatform(t, time.Minute)
	root := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	defer srv.Close()
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	mk := func(name string, files map[string]string, sub string) {
		src := filepath.Join(root, "src-"+name)
		noErr := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		noErr(os.MkdirAll(src, 0o755))
		for f, c := range files {
			noErr(os.WriteFile(filepath.Join(src, f), []byte(c), 0o644))
		}
		git(src, "init", "-q")
		if sub != "" {
			git(src, "submodule", "--quiet", "add", srv.URL+"/"+sub+".git", "lib")
		}
		git(src, "add", ".")
		git(src, "commit", "-q", "-m", name)
		bare := filepath.Join(root, name+".git")
		git(root, "clone", "-q", "--bare", src, bare)
		git(bare, "update-server-info") // what a plain HTTP server needs
	}
	mk("helper", map[string]string{"helper.py": "VALUE = 'from the submodule'\n"}, "")
	mk("model", map[string]string{"run.py": "import sys\nsys.path.insert(0, 'lib')\nimport helper\nprint(helper.VALUE)\n"}, "helper")
	p.start(p.worker(nil))
	id := p.submit(map[string]any{"code": srv.URL + "/model.git", "command": "run.py {system}"})
	j := p.wait(id, "end", nil)
	log := logOf(j)
	if j.Status != "finished" || !strings.Contains(log, "from the submodule") || !strings.Contains(log, "cloning the whole repository") {
		t.Fatalf("status %s, log:\n%s", j.Status, log)
	}
}

// TestWorkerZeroOverspend: jobs submitted at once against a small quota,
// each wanting more time than the quota has, together use no more than the
// quota (issue 10, item 9: 0.5 h each was charged against 0.01 h).
func TestWorkerZeroOverspend(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	ctx := context.Background()
	const limit = 0.0045 // hours: 16 s for all the jobs together
	ps, err := p.st.ProjectList(ctx, &store.ProjectListParams{Collab: []string{"demo"}, Status: "accepted"})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range ps {
		for _, q := range pr.Quotas {
			if q.Platform == "Demo" {
				l := limit
				if _, err := p.st.QuotaUpdate(ctx, &store.QuotaUpdateParams{ID: q.ID, Limit: &l}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Admitted together (each holds the platform's small reservation), then run.
	var wg sync.WaitGroup
	ids := make([]int64, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = p.submit(map[string]any{"code": "import time\nprint('start', flush=True)\ntime.sleep(120)\n"})
		}()
	}
	wg.Wait()
	p.start(p.worker(func(c *Config) { c.Slots = 4 }))
	total := 0.0
	for _, id := range ids {
		if id == 0 {
			t.Fatal("a submission was refused")
		}
		j := p.wait(id, "end", nil)
		if j.Status != "error" || j.ResourceUsage == nil {
			t.Fatalf("job %d: status %s, usage %+v, log:\n%s", id, j.Status, j.ResourceUsage, logOf(j))
		}
		total += j.ResourceUsage.Value
		t.Logf("job %d used %.5f h: %s", id, j.ResourceUsage.Value, lastLine(logOf(j)))
	}
	used := 0.0
	ps, _ = p.st.ProjectList(ctx, &store.ProjectListParams{Collab: []string{"demo"}, Status: "accepted"})
	for _, pr := range ps {
		for _, q := range pr.Quotas {
			if q.Platform == "Demo" {
				used += q.Usage
				if q.Reserved > 1e-9 {
					t.Errorf("%v still reserved after every job ended", q.Reserved)
				}
			}
		}
	}
	if total > limit || used > limit || math.Abs(used-total) > 1e-9 {
		t.Fatalf("the jobs used %.5f h, charged %.5f h, of a quota of %v h", total, used, limit)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}
