package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/client"
)

// TestEndToEndCalibration runs the seed's calibration usage through the
// queue on BrainScaleS-2: examples/brainscales2/calibration.py, unchanged
// (CalibHXNeuronCoba populations recording spikes and v, calibrated on run;
// setup(initial_config=chip_from_nightly()); chip_from_file of a file calix
// wrote), on the local platform started with -calibrations, whose
// BrainScaleS-2 worker makes the chip's nightly calibration.
func TestEndToEndCalibration(t *testing.T) {
	bin := nmpBinary(t)
	probe := "import calix, pynn_brainscales.brainscales2.standardmodels.cells as c; c.CalibHXNeuronCoba"
	if err := exec.Command("/usr/bin/python3", "-c", probe).Run(); err != nil {
		t.Skip("SKIPPED: the installed pynn_brainscales has no calix or CalibHXNeuronCoba (python/install installs this tree's)")
	}
	p := &localServer{t: t, bin: bin, dir: reachableTempDir(t)}
	p.home = filepath.Join(p.dir, "home")
	p.data = filepath.Join(p.dir, "nmp-data")
	_ = os.Mkdir(p.home, 0o700)
	cals := filepath.Join(p.dir, "calibrations")
	p.args = []string{"serve", "-data-dir", p.data, "-work-dir", filepath.Join(p.dir, "jobs"), "-calibrations", cals}
	p.launch("127.0.0.1:0")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.serve.out.String(), "submit a job from another terminal") {
		if time.Now().After(deadline) {
			t.Fatalf("no instructions:\n%s", p.serve.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The worker calibrates its chip at start, as it has no calibration yet.
	latest := filepath.Join(cals, "nmp-virtual-hx-0", "stable", "latest", "spiking_cocolist.pbin")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(latest); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no nightly calibration at %s:\n%s", latest, p.serve.out.String())
		}
	}
	cli := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = p.env("NMP_SERVER=" + p.url)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	results := t.TempDir()
	out, err := cli("submit", filepath.Join("..", "..", "examples", "brainscales2", "calibration.py"), "-platform", "BrainScaleS-2",
		"-follow", "-download", results)
	id := regexp.MustCompile(`(?m)^job (\d+) finished`).FindStringSubmatch(out)
	if err != nil || id == nil {
		t.Fatalf("the calibration job: %v\n%s", err, out)
	}
	for _, re := range []string{`calibrated on run: [1-9]\d* spikes of 8 neurons`, `calib_target leak of the populations: 120.0 and 110.0`,
		`nightly: resting potentials \(target 80 CADC\): \[\s*(7[7-9]|8[0-3])\.\d?`, `from my_calibration.pbin: resting potentials \(target 100 CADC\): \[\s*(9[7-9]|10[0-3])\.\d?`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the job's output does not match %s:\n%s", re, out)
		}
	}
	if _, err := os.Stat(filepath.Join(results, "job_"+id[1], "calibration.dat")); err != nil {
		t.Errorf("calibration.dat not downloaded: %v", err)
	}
	b, err := cli("job", id[1], "-json")
	var j client.Job
	var prov struct {
		Chip string
		Runs []struct {
			Calibration map[string]any
		}
	}
	if err != nil || json.Unmarshal([]byte(b), &j) != nil || json.Unmarshal(j.Provenance, &prov) != nil || prov.Chip != "nmp-virtual-hx-0" {
		t.Fatalf("the job's provenance: %v\n%s", err, b)
	}
	// The runs name their calibrations: the one made on run, the
	// platform's nightly one (a version in the store's history) and the file.
	nightlyUsed := false
	for _, r := range prov.Runs {
		if f, _ := r.Calibration["file"].(string); strings.HasPrefix(f, filepath.Join(cals, "nmp-virtual-hx-0", "history")) {
			nightlyUsed = true
		}
	}
	if !nightlyUsed {
		t.Errorf("no run of the job names the platform's nightly calibration:\n%s", b)
	}
	p.serve.stop(t)
}
