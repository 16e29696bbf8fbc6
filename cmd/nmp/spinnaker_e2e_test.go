package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/client"
)

// TestEndToEndSpiNNaker submits the platform guidebook's first example
// (§1.2, unchanged) to "SpiNNaker" on the local platform, as the guidebook
// does: the job runs on the emulated machine, gives the rate figure and the
// placement picture, and is charged in core-hours.
func TestEndToEndSpiNNaker(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import pyNN.spiNNaker").Run(); err != nil {
		t.Skip("SKIPPED: pyNN.spiNNaker is not importable (python/install installs it)")
	}
	p := newLocalPlatform(t)
	if out := p.serve.out.String(); !strings.Contains(out, `runs        SpiNNaker: nmp's spinnaker system (PyNN backend "spiNNaker")`) {
		t.Fatalf("SpiNNaker does not run here:\n%s", out)
	}
	cli := p.cli
	results := t.TempDir()
	// The guidebook's job: the script as the code, no command (run.py {system}).
	out, err := cli("submit", filepath.Join("..", "..", "examples", "spinnaker", "simple_example.py"), "-platform", "SpiNNaker",
		"-wait", "-download", results)
	if err != nil {
		t.Fatalf("the guidebook's example: %v\n%s", err, out)
	}
	id := regexp.MustCompile(`(?m)^job (\d+) finished`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("the job did not finish:\n%s", out)
	}
	for _, f := range []string{"simple_example.png", "spinnaker_placement.png"} {
		if fi, err := os.Stat(filepath.Join(results, "job_"+id[1], f)); err != nil || fi.Size() < 1000 {
			t.Fatalf("no %s among the outputs: %v\n%s", f, err, out)
		}
	}
	b, err := cli("job", id[1], "-json")
	var j client.Job
	if err != nil || json.Unmarshal([]byte(b), &j) != nil || j.ResourceUsage == nil || j.ResourceUsage.Units != "core-hours" || j.ResourceUsage.Value <= 0 {
		t.Fatalf("the job's usage: %v\n%s", err, b)
	}
	// Charged as the cores its mapping used (the run report's) times the
	// command's wall clock.
	var pv struct {
		Resources struct {
			WallClock float64 `json:"wall_clock_s"`
		} `json:"resources"`
		Runs []struct {
			Cores int `json:"cores"`
		} `json:"runs"`
	}
	if raw, _ := json.Marshal(j.Provenance); json.Unmarshal(raw, &pv) != nil || len(pv.Runs) != 1 || pv.Runs[0].Cores < 2 || pv.Resources.WallClock <= 0 {
		t.Fatalf("the job's provenance: %s", b)
	}
	if want := float64(pv.Runs[0].Cores) * pv.Resources.WallClock / 3600; math.Abs(j.ResourceUsage.Value-want) > 1e-9*want {
		t.Fatalf("charged %v core-hours, want %d cores x %v s = %v", j.ResourceUsage.Value, pv.Runs[0].Cores, pv.Resources.WallClock, want)
	}
	t.Logf("charged %.3g core-hours: %d cores x %.1f s", j.ResourceUsage.Value, pv.Runs[0].Cores, pv.Resources.WallClock)
	log, err := cli("log", id[1])
	if err != nil {
		t.Fatal(err)
	}
	// The spike counts the script prints rise to the refractory limit.
	counts := regexp.MustCompile(`(\d+): (\d+)`).FindAllStringSubmatch(log, -1)
	if len(counts) < 100 || counts[0][2] != "0" {
		t.Fatalf("the script's spike counts:\n%s", log)
	}
	p.serve.stop(t)
	if p.serve.err != nil {
		t.Fatalf("nmp serve exited with %v:\n%s", p.serve.err, p.serve.out.String())
	}
}
