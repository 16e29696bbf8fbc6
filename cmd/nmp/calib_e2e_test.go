package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestEndToEndCalibration runs the seed's calibration usage through the
// queue on BrainScaleS-2: examples/brainscales2/calibration.py, unchanged
// (CalibHXNeuronCoba populations recording spikes and v, calibrated on run;
// setup(initial_config=chip_from_nightly()); chip_from_file of a file calix
// wrote), on the local platform: the server asks for the nightly
// calibration of the chip new to it, its BrainScaleS-2 worker makes it and
// keeps a copy in -calibrations for its jobs.
func TestEndToEndCalibration(t *testing.T) {
	probe := "import calix, pynn_brainscales.brainscales2.standardmodels.cells as c; c.CalibHXNeuronCoba"
	if err := exec.Command("/usr/bin/python3", "-c", probe).Run(); err != nil {
		t.Skip("SKIPPED: the installed pynn_brainscales has no calix or CalibHXNeuronCoba (python/install installs this tree's)")
	}
	cals := filepath.Join(reachableTempDir(t), "calibrations")
	p := newLocalPlatform(t, "-calibrations", cals)
	// The chip is new to the server: it is calibrated at once.
	latest := filepath.Join(cals, "nmp-virtual-hx-0", "stable", "latest", "spiking_cocolist.pbin")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(latest); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no nightly calibration at %s:\n%s", latest, p.serve.out.String())
		}
	}
	cli := p.cli
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
		NightlyCalibration struct {
			Chip string
			ID   int64
			Path string
		} `json:"nightly_calibration"`
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
	// The job's provenance names the server's calibration the job could see.
	if nc := prov.NightlyCalibration; nc.Chip != "nmp-virtual-hx-0" || nc.ID <= 0 || nc.Path != filepath.Join(cals, "nmp-virtual-hx-0", "history", fmt.Sprint(nc.ID)) {
		t.Errorf("the job's nightly_calibration provenance: %+v", nc)
	}
	p.serve.stop(t)
}

// TestNightlyCalibrationsOnThePlatform runs the platform's calibrations
// with real processes, on SQLite and on PostgreSQL: a server and two
// BrainScaleS-2 workers serving two chips; each chip, new to the server,
// is calibrated by its worker at once; an administrator asks for another
// with nmp calib run -nightly -wait; nmp calib list and show read them; a
// job finds its chip's latest through $NMP_BSS2_CALIBRATION_DIR and its
// provenance names it. On PostgreSQL a second server (a replica, on the
// same database and data directory) serves the same calibrations.
func TestNightlyCalibrationsOnThePlatform(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			var args []string
			if db == "postgres" {
				args = append(args, "-db", storetest.PostgresSchemaURL(t))
			}
			p := newPlatform(t, append(args, "-calibration-hour", "3")...)
			chips := []string{"nmp-virtual-hx-1", "nmp-virtual-hx-2"}
			dirs := map[string]string{}
			for _, c := range chips {
				dirs[c] = filepath.Join(p.dir, "cal-"+c)
				p.worker("-platforms", "BrainScaleS-2", "-chip", c, "-calibrations", dirs[c])
			}
			list := func() []client.Calibration {
				var cs []client.Calibration
				out := p.nmpOK("calib", "list", "-json", "-limit", "100")
				if err := json.Unmarshal([]byte(out), &cs); err != nil {
					t.Fatalf("nmp calib list -json: %v\n%s", err, out)
				}
				return cs
			}
			latestOf := func(chip string) *client.Calibration {
				for _, c := range list() {
					if c.Chip == chip && c.Latest {
						return &c
					}
				}
				return nil
			}
			for deadline := time.Now().Add(3 * time.Minute); latestOf(chips[0]) == nil || latestOf(chips[1]) == nil; time.Sleep(200 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the chips were not calibrated:\n%s", p.nmpOK("calib", "list"))
				}
			}
			first := latestOf(chips[1])
			if first.Reason != "first calibration of a chip new to the server" || len(first.Files) != 4 {
				t.Fatalf("first calibration of %s: %+v", chips[1], first)
			}

			// An administrator asks for one now.
			out, errOut, err := p.nmp("calib", "run", "-nightly", "-chip", chips[1], "-reason", "after maintenance", "-wait")
			if err != nil || !strings.Contains(out, "finished, the chip's latest") || !strings.Contains(out, "spiking2_cocolist.pbin") {
				t.Fatalf("nmp calib run -nightly: %v\n%s%s", err, out, errOut)
			}
			second := latestOf(chips[1])
			if second.ID == first.ID || second.Reason != "after maintenance" || second.RequestedBy != "admin" {
				t.Fatalf("second calibration: %+v", second)
			}
			out = p.nmpOK("calib", "list", "-chip", chips[1])
			if !strings.Contains(out, "finished (latest)") || !regexp.MustCompile(`spiking \d+, spiking2 \d+`).MatchString(out) || strings.Count(out, "\n") != 3 {
				t.Errorf("nmp calib list -chip:\n%s", out)
			}
			out = p.nmpOK("calib", "show", "-chip", chips[1])
			for _, want := range []string{"spiking:", "spiking2:", "chip " + chips[1], "neurons: ", `"leak":80`} {
				if !strings.Contains(out, want) {
					t.Errorf("nmp calib show -chip lacks %q:\n%s", want, out)
				}
			}
			if _, errOut, err := p.nmp("calib", "run", "-nightly", "-chip", "nmp-virtual-hx-9"); err == nil || !strings.Contains(errOut, "no worker serves") {
				t.Errorf("a chip no worker serves: %v %s", err, errOut)
			}

			// The worker's copy follows; a job sees it and names it.
			link := filepath.Join(dirs[chips[1]], chips[1], "stable", "latest")
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
				if l, err := os.Readlink(link); err == nil && filepath.Base(l) == fmt.Sprint(second.ID) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the worker's copy of %s is not calibration %d", chips[1], second.ID)
				}
			}
			script := filepath.Join(p.dir, "nightly.py")
			if err := os.WriteFile(script, []byte(`import os, json
chip = os.environ["NMP_BSS2_CHIP"]
d = os.path.join(os.environ["NMP_BSS2_CALIBRATION_DIR"], chip, "stable", "latest")
print("nightly", chip, json.load(open(os.path.join(d, "spiking_cocolist.json")))["chip"], os.path.getsize(os.path.join(d, "spiking_cocolist.pbin")))
`), 0o644); err != nil {
				t.Fatal(err)
			}
			// Both workers serve BrainScaleS-2: the job runs on either chip.
			j, errOut := p.submitWait(script, "-platform", "BrainScaleS-2")
			var prov struct {
				Chip               string
				NightlyCalibration struct {
					Chip string
					ID   int64
				} `json:"nightly_calibration"`
			}
			if json.Unmarshal(j.Provenance, &prov) != nil || prov.NightlyCalibration.Chip != prov.Chip || latestOf(prov.Chip) == nil ||
				prov.NightlyCalibration.ID != latestOf(prov.Chip).ID {
				t.Errorf("the job's provenance: %s\n%s", j.Provenance, errOut)
			}
			wantStatus(t, j, "finished", "nightly "+prov.Chip+" "+prov.Chip+" ")

			if db == "postgres" {
				// A replica on the same database and data directory serves the same.
				r := &localServer{t: t, bin: p.bin, dir: p.dir, home: p.home, data: p.data}
				r.args = []string{"serve", "-data-dir", p.data, "-workers", "0", "-bootstrap=false", "-calibration-hour", "3", "-db", args[1]}
				r.launch("127.0.0.1:0")
				r.token = p.token
				out := r.nmpOK("calib", "show", fmt.Sprint(second.ID))
				if !strings.Contains(out, fmt.Sprintf("calibration %d of %s (after maintenance): finished, the chip's latest", second.ID, chips[1])) || !strings.Contains(out, "spiking2:") {
					t.Errorf("the replica's nmp calib show:\n%s", out)
				}
			}
		})
	}
}
