package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/nmpi"
)

// TestCalibrations: a BrainScaleS-2 worker takes part in the platform's
// calibrations through a real server on SQLite: it makes its chip known,
// runs the calibrations an administrator asks for, uploads them, and keeps
// the latest for its jobs, which find it through $NMP_BSS2_CALIBRATION_DIR
// and have it in their provenance. A failed or crashed calibration is
// reported as failed and the chip keeps the previous one.
func TestCalibrations(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	const chip = "nmp-virtual-hx-5"
	var mode atomic.Int32 // 0 succeed, 1 fail, 2 panic
	var runs atomic.Int32
	calDir := filepath.Join(t.TempDir(), "cal")
	w := p.worker(func(c *Config) {
		c.Platforms, c.Chip = []string{"BrainScaleS-2"}, chip
		c.CalibrationSystem, c.CalibrationEnv, c.CalibrationDir, c.CalibrationPoll = "brainscales2", "NMP_BSS2_CALIBRATION_DIR", calDir, 50*time.Millisecond
		c.Calibrate = func(ctx context.Context, got string) (*CalibrationResult, error) {
			n := runs.Add(1)
			switch mode.Load() {
			case 1:
				return nil, errors.New("CADC: ramp offset at its limit in quadrant 2")
			case 2:
				panic("index out of range")
			}
			if got != chip {
				return nil, fmt.Errorf("asked for chip %s", got)
			}
			return &CalibrationResult{Files: map[string][]byte{
				"spiking_cocolist.pbin": []byte(fmt.Sprintf("NMPCAL\x00 run %d", n)),
				"spiking_cocolist.json": []byte(`{"format": "nmp-bss2-calibration", "chip": "` + chip + `"}`),
			}, Summary: []byte(`{"presets": {"spiking": {"failed_neurons": 1}}}`)}, nil
		}
	})
	p.start(w)

	// The worker's polls make the chip known; then an administrator can ask.
	ask := func() nmpi.Calibration {
		t.Helper()
		var c nmpi.Calibration
		deadline := time.Now().Add(30 * time.Second)
		for p.call("POST", "/calibrations", map[string]any{"chip": chip}, nil) != 201 {
			if time.Now().After(deadline) {
				t.Fatal("the server never learnt of the worker's chip")
			}
			time.Sleep(50 * time.Millisecond)
		}
		cs := []nmpi.Calibration{}
		p.call("GET", "/calibrations?chip="+chip+"&limit=1", nil, &cs)
		c = cs[0]
		for deadline := time.Now().Add(30 * time.Second); c.Status == "queued" || c.Status == "running"; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("calibration %d still %s", c.ID, c.Status)
			}
			p.call("GET", fmt.Sprintf("/calibrations/%d", c.ID), nil, &c)
		}
		return c
	}
	first := ask()
	if first.Status != "finished" || !first.Latest || len(first.Files) != 2 {
		t.Fatalf("first calibration: %+v", first)
	}
	latest := filepath.Join(calDir, chip, "stable", "latest")
	waitLatest := func(id int64) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if l, err := os.Readlink(latest); err == nil && filepath.Base(l) == fmt.Sprint(id) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the worker's copy does not become calibration %d", id)
			}
		}
	}
	waitLatest(first.ID)
	if b, err := os.ReadFile(filepath.Join(latest, "spiking_cocolist.pbin")); err != nil || string(b) != "NMPCAL\x00 run 1" {
		t.Fatalf("the worker's copy: %q %v", b, err)
	}

	// Failures: reported, nothing kept, the latest stays.
	mode.Store(1)
	failed := ask()
	if failed.Status != "failed" || !strings.Contains(failed.Error, "ramp offset") || len(failed.Files) != 0 {
		t.Fatalf("failed calibration: %+v", failed)
	}
	mode.Store(2)
	crashed := ask()
	if crashed.Status != "failed" || !strings.Contains(crashed.Error, "crashed: index out of range") {
		t.Fatalf("crashed calibration: %+v", crashed)
	}
	var about nmpi.About
	p.call("GET", "/", nil, &about)
	cs := about.Platforms["BrainScaleS-2"].Calibrations
	if len(cs) != 1 || cs[0].Latest == nil || cs[0].Latest.ID != first.ID || cs[0].LastFailure == nil || cs[0].LastFailure.ID != crashed.ID {
		t.Fatalf("platform status after the failures: %+v", cs)
	}
	time.Sleep(200 * time.Millisecond) // a few polls
	if l, _ := os.Readlink(latest); filepath.Base(l) != fmt.Sprint(first.ID) {
		t.Fatalf("the latest moved to %s after failures", l)
	}

	// A job sees the latest and its provenance names it.
	id := p.submit(map[string]any{"hardware_platform": "BrainScaleS-2", "command": "run.py {system}", "code": `import os
d = os.environ["NMP_BSS2_CALIBRATION_DIR"]
print("nightly:", open(os.path.join(d, "` + chip + `", "stable", "latest", "spiking_cocolist.pbin"), "rb").read()[7:].decode())
`})
	j := p.wait(id, "the job", nil)
	if j.Status != "finished" || j.Log == nil || !strings.Contains(*j.Log, "nightly:  run 1") {
		t.Fatalf("job: %s\n%v", j.Status, logOf(j))
	}
	nc, _ := j.Provenance["nightly_calibration"].(map[string]any)
	if nc == nil || nc["chip"] != chip || nc["id"] != float64(first.ID) || !strings.HasSuffix(fmt.Sprint(nc["path"]), filepath.Join("history", fmt.Sprint(first.ID))) {
		t.Fatalf("provenance nightly_calibration: %v", j.Provenance["nightly_calibration"])
	}

	// A new one becomes the latest for the next jobs.
	mode.Store(0)
	second := ask()
	if second.Status != "finished" || !second.Latest {
		t.Fatalf("second calibration: %+v", second)
	}
	waitLatest(second.ID)
	if b, _ := os.ReadFile(filepath.Join(latest, "spiking_cocolist.pbin")); !strings.HasSuffix(string(b), fmt.Sprint("run ", runs.Load())) {
		t.Fatalf("the latest after the second: %q", b)
	}
	if _, err := os.Stat(filepath.Join(calDir, chip, "history", fmt.Sprint(first.ID), "meta.json")); err != nil {
		t.Errorf("the history lost the first: %v", err)
	}
}
