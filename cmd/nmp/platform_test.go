package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store/sqlite"
	"github.com/nmp-platform/nmp/system"
	"github.com/nmp-platform/nmp/worker"
)

// checkPlatforms tells where a platform table and the registered systems
// disagree: a system no row runs, a row naming a system nmp does not have
// (unless the row is unavailable), and what Table.Check finds.
func checkPlatforms(tab platform.Table, systems []string) error {
	errs := []error{tab.Check()}
	runs := map[string]bool{}
	for _, p := range tab {
		runs[p.System] = true
		registered := false
		for _, s := range systems {
			registered = registered || s == p.System
		}
		if p.System != "" && p.Unavailable == "" && !registered {
			errs = append(errs, fmt.Errorf("platform %s: its system %q is not registered (import its package in cmd/nmp/systems.go)", p.Name, p.System))
		}
	}
	for _, s := range systems {
		if !runs[s] {
			errs = append(errs, fmt.Errorf("system %s: no platform row runs it (add one to package platform)", s))
		}
	}
	return errors.Join(errs...)
}

// TestPlatformTable holds nmp's platform table and the systems this binary
// registers to each other.
func TestPlatformTable(t *testing.T) {
	if err := checkPlatforms(platformTable, system.Names()); err != nil {
		t.Fatal(err)
	}
	// The check finds each kind of disagreement.
	for want, c := range map[string]struct {
		extra   platform.Platform
		systems []string
	}{
		"system lone: no platform row": {systems: []string{"lone"}},
		`its system "ghost" is not registered`: {extra: platform.Platform{Name: "Ghost", Units: "hours", Backend: "nmp",
			System: "ghost", Usage: platform.WallClockHours}},
		"no usage rule": {extra: platform.Platform{Name: "Free", Units: "hours", Backend: "nmp", System: "reference"}},
		"no units":      {extra: platform.Platform{Name: "Unitless", Backend: "nmp", System: "reference", Usage: platform.WallClockHours}},
		"no PyNN backend": {extra: platform.Platform{Name: "Headless", Units: "hours", System: "reference",
			Usage: platform.WallClockHours}},
	} {
		tab := platform.Default()
		if c.extra.Name != "" {
			tab = append(tab, c.extra)
		}
		err := checkPlatforms(tab, append(system.Names(), c.systems...))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	// An unavailable row may name a system still to come.
	later := platform.Platform{Name: "Later", Units: "hours", Backend: "nmp", System: "later", Usage: platform.ExternalUsage, Unavailable: "not yet"}
	if err := checkPlatforms(append(platform.Default(), later), system.Names()); err != nil {
		t.Error(err)
	}
}

// fakeNMP is the name under which this test binary acts as nmp with the
// fake system registered (TestMain), for the jobs of TestFakePlatform.
const fakeNMP = "nmp-with-fake-system"

// fakeSystem is the reference under another name: a system nmp's table
// does not know.
type fakeSystem struct{ system.System }

func (fakeSystem) Name() string { return "fake" }

func registerFakeSystem() {
	ref, err := system.Lookup("reference")
	if err != nil {
		panic(err)
	}
	system.Register(fakeSystem{ref})
}

// fakeJob writes a small network description and runs it with the nmp the
// worker gives the job, on the system the platform's row names.
const fakeJob = `import json, os, subprocess, sys
print("backend", sys.argv[1], "chip", os.environ.get("NMP_FAKE_CHIP"), flush=True)
desc = {"format": "nmp-network", "version": 1, "simulation": {"timestep": 0.1, "seed": 7},
        "populations": [{"label": "driven", "size": 4, "cell_type": "IF_curr_exp", "parameters": {"i_offset": 1.0}}],
        "recordings": [{"selection": [{"population": 0}], "variables": ["spikes"]}],
        "schedule": [{"run": 100}]}
with open("tiny.json", "w") as f:
    json.dump(desc, f)
subprocess.run([os.environ["NMP_BINARY"], "simulate", "-system", os.environ["NMP_SYSTEM"], "-threads", "1", "tiny.json"], check=True)
`

// TestFakePlatform adds a platform with one row and one registered system
// and runs a job on it end to end: a real server (in this process, with the
// extended table), a real worker and its sandbox, and the system in the nmp
// the job runs.
func TestFakePlatform(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: workers run jobs in the sandbox, which needs root; CI runs as root")
	}
	ctx := context.Background()
	dir := reachableTempDir(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, fakeNMP)
	exe, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}

	tab := append(platform.Default(), platform.Platform{Name: "FakeChip", Units: "fake-hours", TestGrant: 1, Reservation: 0.001,
		Backend: "nmp", System: "fake", ChipEnv: "NMP_FAKE_CHIP", DefaultChip: "fake-0",
		Usage: func(u platform.Used) (float64, string) {
			return u.WallClock / 60, "the wall-clock minutes of the command (fake)"
		}})
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nmp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := queue.Bootstrap(ctx, st, queue.BootstrapParams{PasswordIterations: 1000, PlatformTable: tab})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(ctx, api.Config{Store: st, DataDir: t.TempDir(), PlatformTable: tab, Unavailable: tab.Unavailable(nil)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	w, err := worker.New(worker.Config{Server: srv.URL, APIKey: b.APIKey, Platforms: []string{"FakeChip"}, PlatformTable: tab,
		WorkDir: filepath.Join(dir, "jobs"), Helper: []string{self, "sandbox"}, NMPBinary: bin, AllowPrivateURLs: true,
		Poll: 50 * time.Millisecond, LogFlush: 100 * time.Millisecond,
		Limits: worker.Limits{WallClock: 2 * time.Minute, CPUTime: 2 * time.Minute, Memory: 2 << 30, Output: 64 << 20, Processes: 256}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	call := func(method, path string, body, out any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			rd = bytes.NewReader(data)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+b.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 || json.Unmarshal(data, out) != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	var about struct {
		Platforms map[string]struct{ Status string }
	}
	call("GET", "/", nil, &about)
	if about.Platforms["FakeChip"].Status != "ok" {
		t.Fatalf("GET /: platforms %+v", about.Platforms)
	}
	var job struct {
		ID            int64
		Status        string
		Log           *string
		Provenance    map[string]any
		ResourceUsage *struct {
			Value float64
			Units string
		} `json:"resource_usage"`
		OutputData *struct{ Files []struct{ Path string } } `json:"output_data"`
	}
	call("POST", "/jobs/", map[string]any{"code": fakeJob, "command": "run.py {system}", "collab": "demo", "hardware_platform": "FakeChip"}, &job)
	deadline := time.Now().Add(3 * time.Minute)
	for job.Status != "finished" && job.Status != "error" {
		if time.Now().After(deadline) {
			t.Fatalf("job %d did not end: %s", job.ID, job.Status)
		}
		time.Sleep(100 * time.Millisecond)
		call("GET", fmt.Sprintf("/jobs/%d?with_log=true", job.ID), nil, &job)
	}
	log := ""
	if job.Log != nil {
		log = *job.Log
	}
	t.Logf("log:\n%s", log)
	for _, want := range []string{"on FakeChip (nmp fake system, PyNN backend \"nmp\", chip fake-0)", "backend nmp chip fake-0\n",
		"nmp simulate tiny.json on fake: 4 neurons"} {
		if !strings.Contains(log, want) {
			t.Fatalf("status %s; the log lacks %q", job.Status, want)
		}
	}
	if job.Status != "finished" {
		t.Fatalf("status %s", job.Status)
	}
	if u := job.ResourceUsage; u == nil || u.Units != "fake-hours" || u.Value <= 0 {
		t.Fatalf("usage %+v", u)
	}
	ru, _ := job.Provenance["resource_usage"].(map[string]any)
	if job.Provenance["system"] != "fake" || job.Provenance["chip"] != "fake-0" || ru["rule"] != "the wall-clock minutes of the command (fake)" {
		t.Fatalf("provenance %v", job.Provenance)
	}
	var files []string
	if job.OutputData != nil {
		for _, f := range job.OutputData.Files {
			files = append(files, f.Path)
		}
	}
	if !strings.Contains(strings.Join(files, ","), "tiny.results.npz") {
		t.Fatalf("output files %v", files)
	}
	// The usage is charged to the fake platform's quota.
	var projects []struct {
		Quotas []struct {
			Platform string
			Usage    float64
		}
	}
	call("GET", "/projects/?collab=demo&status=accepted", nil, &projects)
	charged := 0.0
	for _, pr := range projects {
		for _, q := range pr.Quotas {
			if q.Platform == "FakeChip" {
				charged += q.Usage
			}
		}
	}
	if d := charged - job.ResourceUsage.Value; d > 1e-9 || d < -1e-9 {
		t.Fatalf("FakeChip quota usage %v, the job's %v", charged, job.ResourceUsage.Value)
	}
}
