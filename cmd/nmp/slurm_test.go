package main

// End-to-end tests of 'nmp worker -executor slurm' against a real SLURM
// cluster: the one-node cluster scripts/slurm-throwaway starts (scripts/test
// does, and exports $NMP_TEST_SLURM and $SLURM_CONF).

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/client"
)

// slurmCluster returns the throwaway cluster's directory, or skips.
func slurmCluster(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("NMP_TEST_SLURM")
	if dir == "" {
		msg := "no SLURM cluster: the SLURM executor's tests are NOT RUN (scripts/test starts one with scripts/slurm-throwaway and sets $NMP_TEST_SLURM)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI must run them")
		}
		t.Skip("SKIPPED: " + msg)
	}
	return dir
}

// slurmPlatform is a server and a SLURM worker config for it.
type slurmPlatform struct {
	*localServer
	shared, config, conf string
}

func newSlurmPlatform(t *testing.T) *slurmPlatform {
	cluster := slurmCluster(t)
	p := newPlatform(t)
	shared := filepath.Join(cluster, "shared", fmt.Sprintf("t%d", rand.Int64()))
	if err := os.Mkdir(shared, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	conf := filepath.Join(cluster, "slurm.conf")
	cfg := fmt.Sprintf(`{"poll": "300ms", "cluster": "nmptest", "env": ["SLURM_CONF=%s"],
	  "platforms": {"Demo": {"partition": "demo", "max_cpus_per_task": 2},
	                "BrainScaleS-2": {"partition": "brainscales2", "gres": "chip:1", "allowed_gres": ["chip:2"]}}}`, conf)
	path := filepath.Join(p.dir, "slurm.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &slurmPlatform{localServer: p, shared: shared, config: path, conf: conf}
}

func (p *slurmPlatform) slurmWorker(args ...string) *proc {
	p.t.Helper()
	return p.worker(append([]string{"-executor", "slurm", "-slurm-config", p.config, "-work-dir", p.shared, "-name", "slurm-worker-1", "-platforms", "Demo,BrainScaleS-2"}, args...)...)
}

// scontrol asks the cluster about a SLURM job.
func (p *slurmPlatform) scontrol(id string) string {
	cmd := exec.Command("scontrol", "show", "job", "-o", id)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+p.conf)
	b, _ := cmd.CombinedOutput()
	return string(b)
}

func (p *slurmPlatform) submit(args ...string) int64 {
	p.t.Helper()
	out := p.nmpOK(append([]string{"submit", "-collab", "demo"}, args...)...)
	m := regexp.MustCompile(`submitted job (\d+)`).FindStringSubmatch(out)
	if m == nil {
		p.t.Fatalf("submit: %q", out)
	}
	id, _ := parseJobID(m[1])
	return id
}

func (p *slurmPlatform) wait(id int64) client.Job {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	j, err := client.New(p.url, p.token).Wait(ctx, id, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	return *j
}

func (p *slurmPlatform) waitLog(id int64, s string) string {
	p.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		l := p.nmpOK("log", fmt.Sprint(id))
		if strings.Contains(l, s) {
			return l
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("job %d: the log never showed %q:\n%s", id, s, l)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var slurmJobLine = regexp.MustCompile(`submitted batch job (\d+)`)

func slurmProvenance(t *testing.T, j client.Job) map[string]any {
	t.Helper()
	var prov map[string]any
	if err := json.Unmarshal(j.Provenance, &prov); err != nil {
		t.Fatalf("provenance: %v", err)
	}
	s, _ := prov["slurm"].(map[string]any)
	if s == nil {
		t.Fatalf("job %d: no slurm provenance: %s", j.ID, j.Provenance)
	}
	return s
}

func TestSlurmExecutor(t *testing.T) {
	p := newSlurmPlatform(t)
	p.slurmWorker("-slots", "2")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"hello.py": "import os, sys\nprint('hello from SLURM job', os.environ['NMP_SLURM_JOB_ID'], 'as uid', os.getuid(), flush=True)\nopen('out.txt', 'w').write(sys.argv[1])\n",
		"slow.py":  "import time\nprint('started', flush=True)\nfor i in range(600):\n    print('tick', i, flush=True)\n    time.sleep(0.5)\n",
	})

	t.Run("script", func(t *testing.T) {
		j := p.wait(p.submit(filepath.Join(dir, "hello.py")))
		wantStatus(t, j, "finished", "hello from SLURM job", "slurm: submitted batch job", "ended: COMPLETED")
		if got := fileNames(j); len(got) != 1 || got[0] != "out.txt" {
			t.Fatalf("output files %v", got)
		}
		s := slurmProvenance(t, j)
		if s["partition"] != "demo" || s["cluster"] != "nmptest" {
			t.Fatalf("slurm provenance %v", s)
		}
		m := slurmJobLine.FindStringSubmatch(jobLog(j))
		if st := p.scontrol(m[1]); !strings.Contains(st, "JobState=COMPLETED") || !strings.Contains(st, "Partition=demo") {
			t.Fatalf("scontrol: %s", st)
		}
	})

	t.Run("PyNN on Demo", func(t *testing.T) {
		if err := exec.Command("/usr/bin/python3", "-c", "import pyNN.nmp").Run(); err != nil {
			t.Skip("SKIPPED: pyNN.nmp is not importable (python/install installs it)")
		}
		j := p.wait(p.submit(filepath.Join("..", "..", "examples", "leak_over_threshold", "run.py"), "-command", "run.py {system}"))
		wantStatus(t, j, "finished", "ended: COMPLETED")
		if len(j.Files()) == 0 {
			t.Fatalf("no output files:\n%s", jobLog(j))
		}
	})

	t.Run("BrainScaleS-2", func(t *testing.T) {
		if err := exec.Command("/usr/bin/python3", "-c", "import pynn_brainscales.brainscales2").Run(); err != nil {
			t.Skip("SKIPPED: pynn_brainscales is not importable (python/install installs it)")
		}
		j := p.wait(p.submit(filepath.Join("..", "..", "examples", "brainscales2", "second_experiment.py"), "-platform", "BrainScaleS-2",
			"-command", "run.py", "-config", `{"slurm": {"gres": "chip:2"}}`))
		wantStatus(t, j, "finished", "partition brainscales2, gres chip:2")
		found := false
		for _, f := range fileNames(j) {
			found = found || f == "second_experiment.dat"
		}
		if !found {
			t.Fatalf("no second_experiment.dat in %v", fileNames(j))
		}
		m := slurmJobLine.FindStringSubmatch(jobLog(j))
		if st := p.scontrol(m[1]); !strings.Contains(st, "gres/chip:2") && !strings.Contains(st, "gres:chip:2") {
			t.Fatalf("the SLURM job did not get two chips: %s", st)
		}
	})

	t.Run("gres not allowed", func(t *testing.T) {
		j := p.wait(p.submit(filepath.Join(dir, "hello.py"), "-platform", "BrainScaleS-2", "-config", `{"slurm": {"gres": "chip:4"}}`))
		wantStatus(t, j, "error", `hardware_config.slurm.gres: "chip:4" is not allowed on this platform (allowed: "chip:1", "chip:2")`)
	})

	t.Run("time limit", func(t *testing.T) {
		start := time.Now()
		j := p.wait(p.submit(filepath.Join(dir, "slow.py"), "-config", `{"limits": {"wall_clock_s": 3}}`))
		wantStatus(t, j, "error", "the job exceeded its wall-clock limit of 3s and was stopped", "tick 1")
		if took := time.Since(start); took > 45*time.Second {
			t.Fatalf("a 3 s limit stopped the job after %s", took)
		}
	})

	t.Run("memory limit", func(t *testing.T) {
		writeFiles(t, dir, map[string]string{"hog.py": "import time\nprint('allocating', flush=True)\nb = []\nfor i in range(60):\n    b.append(bytearray(20 << 20))\n    time.sleep(0.1)\nprint('survived')\n"})
		j := p.wait(p.submit(filepath.Join(dir, "hog.py"), "-config", `{"limits": {"memory_mib": 200}}`))
		wantStatus(t, j, "error", "allocating", "the job exceeded its memory limit of 200 MiB and was killed")
		if strings.Contains(jobLog(j), "survived") {
			t.Fatalf("the job outgrew its memory limit:\n%s", jobLog(j))
		}
	})

	t.Run("node failure", func(t *testing.T) {
		// The node goes down under a running job: SLURM ends it with
		// NODE_FAIL, not the job's fault, and the job runs again.
		writeFiles(t, dir, map[string]string{"twice.py": "import os, time\nprint('run of attempt', os.environ['NMP_JOB_ATTEMPT'], flush=True)\nif os.environ['NMP_JOB_ATTEMPT'] == '1':\n    time.sleep(300)\nopen('done.txt', 'w').write('done')\n"})
		id := p.submit(filepath.Join(dir, "twice.py"))
		p.waitLog(id, "run of attempt 1")
		host, _ := os.Hostname()
		host, _, _ = strings.Cut(host, ".")
		scontrol := func(args ...string) error {
			cmd := exec.Command("scontrol", args...)
			cmd.Env = append(os.Environ(), "SLURM_CONF="+p.conf)
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("scontrol %v: %v\n%s", args, err, out)
			}
			return nil
		}
		if err := scontrol("update", "nodename="+host, "state=down", "reason=nmp test: node failure"); err != nil {
			t.Fatal(err)
		}
		// The node comes back by itself (ReturnToService=2, its slurmd
		// answers); resume it in case it has not yet.
		defer func() { _ = scontrol("update", "nodename="+host, "state=resume") }()
		p.waitLog(id, "the job goes back to the queue for another attempt")
		_ = scontrol("update", "nodename="+host, "state=resume")
		j := p.wait(id)
		wantStatus(t, j, "finished", "ended with NODE_FAIL (its node failed), not for a fault of the job", "run of attempt 2")
	})

	t.Run("removed", func(t *testing.T) {
		id := p.submit(filepath.Join(dir, "slow.py"))
		l := p.waitLog(id, "tick 2")
		sid := slurmJobLine.FindStringSubmatch(l)[1]
		req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/jobs/%d", p.url, id), nil)
		req.Header.Set("Authorization", "Bearer "+p.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("DELETE job: %s", resp.Status)
		}
		deadline := time.Now().Add(30 * time.Second)
		for st := p.scontrol(sid); !strings.Contains(st, "JobState=CANCELLED"); st = p.scontrol(sid) {
			if time.Now().After(deadline) {
				t.Fatalf("the removed job's SLURM job %s was not cancelled: %s", sid, st)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	// Last: it lowers the collab's quota. The job's SLURM job is cancelled, and
	// the job ends as an error charged for the time it ran (issue 10, item 9).
	t.Run("quota lowered", func(t *testing.T) {
		id := p.submit(filepath.Join(dir, "slow.py"))
		l := p.waitLog(id, "tick 2")
		sid := slurmJobLine.FindStringSubmatch(l)[1]
		ps, err := client.New(p.url, p.token).Projects(context.Background(), "demo", "accepted")
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range ps {
			for _, q := range pr.Quotas {
				if q.Platform != "Demo" {
					continue
				}
				req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/projects/%s/quotas/%d", p.url, pr.ID, q.ID), strings.NewReader(`{"limit": 0.0001}`))
				req.Header.Set("Authorization", "Bearer "+p.token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("lower the quota: %s", resp.Status)
				}
			}
		}
		j := p.wait(id)
		wantStatus(t, j, "error", "nmp: the quota of collab demo on Demo was lowered", "slurm: the server asked to stop the job; cancelling batch job "+sid,
			"the job was stopped: its collab's quota was lowered or used up while it ran")
		if st := p.scontrol(sid); !strings.Contains(st, "JobState=CANCELLED") {
			t.Fatalf("SLURM job %s: %s", sid, st)
		}
		if j.ResourceUsage == nil || j.ResourceUsage.Value <= 0 {
			t.Fatalf("usage %+v", j.ResourceUsage)
		}
	})
}

// A SLURM worker killed while its job runs leaves the SLURM job running;
// started again, it re-attaches to it: the job runs once, and its log goes on.
func TestSlurmWorkerRestart(t *testing.T) {
	p := newSlurmPlatform(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"run.py": "import time\nprint('run started', flush=True)\nfor i in range(16):\n    print('step', i, flush=True)\n    time.sleep(0.5)\nopen('done.txt', 'w').write('done')\nprint('run done', flush=True)\n"})
	w := p.slurmWorker()
	id := p.submit(filepath.Join(dir, "run.py"))
	l := p.waitLog(id, "step 1")
	sid := slurmJobLine.FindStringSubmatch(l)[1]
	_ = w.cmd.Process.Kill()
	<-w.done
	if st := p.scontrol(sid); !strings.Contains(st, "JobState=RUNNING") {
		t.Fatalf("the SLURM job should run on without its worker: %s", st)
	}
	p.slurmWorker()
	j := p.wait(id)
	wantStatus(t, j, "finished", "re-attached to batch job "+sid, "run done")
	log := jobLog(j)
	if n := strings.Count(log, "run started"); n != 1 {
		t.Fatalf("the job started %d times:\n%s", n, log)
	}
	if n := strings.Count(log, "submitted batch job"); n != 1 {
		t.Fatalf("%d SLURM jobs were submitted:\n%s", n, log)
	}
	for i := 0; i < 16; i++ {
		if !strings.Contains(log, fmt.Sprintf("step %d\n", i)) {
			t.Fatalf("the log lost step %d:\n%s", i, log)
		}
	}
	if got := fileNames(j); len(got) != 1 || got[0] != "done.txt" {
		t.Fatalf("output files %v", got)
	}
	var prov map[string]any
	_ = json.Unmarshal(j.Provenance, &prov)
	if fmt.Sprint(prov["attempt"]) != "1" {
		t.Fatalf("attempt %v: the job ran again", prov["attempt"])
	}
}

// A SLURM worker that stays away longer than the lease: the job goes back to
// the queue, and the worker that claims it next finds the SLURM job still
// running and re-attaches to it instead of running the job again.
func TestSlurmLeaseExpired(t *testing.T) {
	p := newSlurmPlatform(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"run.py": "import time\nprint('run started', flush=True)\nfor i in range(40):\n    print('step', i, flush=True)\n    time.sleep(0.5)\nopen('done.txt', 'w').write('done')\nprint('run done', flush=True)\n"})
	w := p.slurmWorker()
	id := p.submit(filepath.Join(dir, "run.py"))
	l := p.waitLog(id, "step 1")
	sid := slurmJobLine.FindStringSubmatch(l)[1]
	_ = w.cmd.Process.Kill()
	<-w.done
	// The lease (4 s) expires; the rescuer puts the job back in the queue.
	p.waitLog(id, "the job is back in the queue")
	if st := p.scontrol(sid); !strings.Contains(st, "JobState=RUNNING") {
		t.Fatalf("the SLURM job should run on: %s", st)
	}
	// Another worker of the cluster claims it.
	p.worker("-executor", "slurm", "-slurm-config", p.config, "-work-dir", p.shared, "-name", "slurm-worker-2", "-platforms", "Demo,BrainScaleS-2")
	j := p.wait(id)
	wantStatus(t, j, "finished", "re-attached to batch job "+sid+", submitted by attempt 1 of worker slurm-worker-1", "run done")
	log := jobLog(j)
	if n := strings.Count(log, "run started"); n != 1 {
		t.Fatalf("the job started %d times:\n%s", n, log)
	}
	if n := strings.Count(log, "submitted batch job"); n != 1 {
		t.Fatalf("%d SLURM jobs were submitted:\n%s", n, log)
	}
	for i := 0; i < 40; i++ {
		if strings.Count(log, fmt.Sprintf("step %d\n", i)) != 1 {
			t.Fatalf("the log has step %d %d times:\n%s", i, strings.Count(log, fmt.Sprintf("step %d\n", i)), log)
		}
	}
	if got := fileNames(j); len(got) != 1 || got[0] != "done.txt" {
		t.Fatalf("output files %v", got)
	}
}
