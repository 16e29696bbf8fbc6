package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCalibCommands: nmp calib run writes both files, show reads them,
// nightly keeps versions that list shows, exec answers a request; bad
// input gets errors that name what is wrong.
func TestCalibCommands(t *testing.T) {
	dir := t.TempDir()
	run := func(stdin string, args ...string) (string, error) {
		env, out, errb := testEnv(stdin, map[string]string{})
		err := Run(context.Background(), env, args)
		return out.String() + errb.String(), err
	}
	out, err := run("", "calib", "run", "-chip", "nmp-virtual-hx-5", "-o", dir)
	if err != nil || !strings.Contains(out, "chip nmp-virtual-hx-5") || !strings.Contains(out, "spiking_cocolist.pbin") {
		t.Fatalf("run: %v\n%s", err, out)
	}
	out, err = run("", "calib", "show", filepath.Join(dir, "spiking_cocolist.pbin"))
	if err != nil || !strings.Contains(out, "chip nmp-virtual-hx-5") || !strings.Contains(out, "tau_syn (excitatory)") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"neuron_target":{"leak":300}}`), 0o644)
	if _, err := run("", "calib", "run", "-target", filepath.Join(dir, "bad.json"), "-o", dir); err == nil || !strings.Contains(err.Error(), "leak: 300 is outside the feasible range 50 to 160") {
		t.Errorf("bad target: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad_cocolist.pbin")); err == nil {
		t.Error("a failed calibration wrote a file")
	}
	if _, err := run("", "calib", "run", "-preset", "hagen"); err == nil || !strings.Contains(err.Error(), `no preset "hagen"`) {
		t.Errorf("unknown preset: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "junk.pbin"), []byte("NMPCAL\x00\x01junk"), 0o644)
	if _, err := run("", "calib", "show", filepath.Join(dir, "junk.pbin")); err == nil || !strings.Contains(err.Error(), "junk.pbin") {
		t.Errorf("show of a damaged file: %v", err)
	}
	store := filepath.Join(dir, "store")
	if out, err := run("", "calib", "nightly", "-store", store, "-chip", "nmp-virtual-hx-5"); err != nil || !strings.Contains(out, "is the latest") {
		t.Fatalf("nightly: %v\n%s", err, out)
	}
	out, err = run("", "calib", "list", "-store", store)
	if err != nil || !strings.Contains(out, "nmp-virtual-hx-5") || !strings.Contains(out, "latest") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = run(`{"op":"cadc","chip":"nmp-virtual-hx-5","seed":2}`, "calib", "exec")
	if err != nil || !strings.Contains(out, `"v_ramp_offset"`) {
		t.Fatalf("exec: %v\n%s", err, out)
	}
	if _, err := run(`{"op":"neuron","chip":"nmp-virtual-hx-5"}`, "calib", "exec"); err == nil || !strings.Contains(err.Error(), "CADC is not calibrated") {
		t.Errorf("exec of a neuron calibration without the CADC's: %v", err)
	}
	if _, err := run(`{"op":"x","chip":"nmp-virtual-hx-5"}`, "calib", "exec"); err == nil || !strings.Contains(err.Error(), `unknown op "x"`) {
		t.Errorf("exec of an unknown op: %v", err)
	}
}
