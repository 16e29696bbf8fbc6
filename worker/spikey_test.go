package worker

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/platform"
)

// TestWorkerSpikey runs a Spikey school lesson, a Python 2 script for
// pyNN.hardware.spikey, through the queue on the Spikey platform, on the
// station its hardware_config names, with this tree's nmp and Python front
// end (a wrapper interpreter puts python/ first on the path, as python/install
// does for the installed copy).
func TestWorkerSpikey(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("SKIPPED: needs the go command to build nmp")
	}
	tab := platform.Default()
	p := newTestPlatformOf(t, time.Minute, tab)
	// Jobs have a /tmp (and /var/tmp) of their own, and the tree may lie
	// there (CI clones it anywhere): the binary, a copy of python/ and the
	// wrapper live in a directory outside them.
	dir := ""
	for _, parent := range []string{"/run", "/var/lib"} {
		if d, err := os.MkdirTemp(parent, "nmp-spikey-test-"); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Fatal("no directory for the job's nmp and Python outside /tmp (tried /run and /var/lib)")
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "nmp")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/nmp").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pydir := filepath.Join(dir, "python")
	if out, err := exec.Command("cp", "-r", "../python", pydir).CombinedOutput(); err != nil {
		t.Fatalf("copy python/: %v\n%s", err, out)
	}
	_ = exec.Command("chmod", "-R", "a+rX", pydir).Run()
	wrapper := filepath.Join(dir, "python3")
	script := fmt.Sprintf(`#!/bin/sh
export PYTHONPATH=%s
case "$1" in
*.py) exec /usr/bin/python3 -c 'import sys, runpy, _nmp_pynn_finder; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")' "$@" ;;
*) exec /usr/bin/python3 "$@" ;;
esac
`, pydir)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p.start(p.worker(func(c *Config) {
		c.PlatformTable, c.Platforms, c.Python, c.NMPBinary = tab, []string{"Spikey"}, wrapper, bin
	}))
	code, err := os.ReadFile("../examples/spikey/lesson1_rate_over_gleak.py")
	if err != nil {
		t.Fatal(err)
	}
	id := p.submit(map[string]any{"code": string(code), "hardware_platform": "Spikey",
		"hardware_config": map[string]any{"STATION": "station500"}})
	j := p.wait(id, "end", nil)
	log := logOf(j)
	t.Logf("log:\n%s", log)
	if j.Status != "finished" {
		t.Fatalf("status %s", j.Status)
	}
	for _, want := range []string{"converted to Python 3 with lib2to3", "RESULT g_leak 2 nS", "RESULT falls True"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if j.Provenance["chip"] != "station500" {
		t.Errorf("provenance chip %v, want station500", j.Provenance["chip"])
	}
	if j.ResourceUsage == nil || j.ResourceUsage.Units != "hours" || j.ResourceUsage.Value <= 0 {
		t.Errorf("usage %+v", j.ResourceUsage)
	}
	var files []string
	if j.OutputData != nil {
		for _, f := range j.OutputData.Files {
			files = append(files, filepath.Base(f.Path))
		}
	}
	if s := strings.Join(files, " "); !strings.Contains(s, "spikeyconfig.png") || !strings.Contains(s, "spikeyconfig.out") {
		t.Errorf("output files %v lack spikeyconfig.out and .png", files)
	}

	// The Spikey school's own scripts (spikey_demo's networks/*.py, not part
	// of this repository), when $NMP_SPIKEY_SCHOOL names a directory of
	// them: each runs unchanged and finishes.
	school := os.Getenv("NMP_SPIKEY_SCHOOL")
	if school == "" {
		return
	}
	scripts, _ := filepath.Glob(filepath.Join(school, "*.py"))
	ids := map[string]int64{}
	for _, s := range scripts {
		code, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		ids[filepath.Base(s)] = p.submit(map[string]any{"code": string(code), "hardware_platform": "Spikey"})
	}
	for name, id := range ids {
		j := p.wait(id, "end", nil)
		var files []string
		if j.OutputData != nil {
			for _, f := range j.OutputData.Files {
				files = append(files, filepath.Base(f.Path))
			}
		}
		t.Logf("%s: %s, outputs %v, log:\n%s", name, j.Status, files, logOf(j))
		if j.Status != "finished" {
			t.Errorf("%s: %s", name, j.Status)
		}
	}
}
