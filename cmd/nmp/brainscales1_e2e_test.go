package main

// End-to-end tests of BrainScaleS-1 through the job queue: the seed
// documents' and guidebook's four scripts (examples/brainscales1, Python 2
// as written) submitted unchanged with 'nmp submit' to a real 'nmp serve'
// on the platforms BrainScaleS and BrainScaleS-ESS, run by a worker in its
// sandbox (converted to Python 3 by the worker, as the rows ask), and their
// outputs checked for what issue 13's "Done when" says each shows.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/worker"
)

// treePython installs this tree's Python front end (python/install, into a
// private prefix the jobs' users can read) and returns a Python command that
// puts it before whatever front end the machine has installed: the jobs of
// these tests run the tree's pyhmf, not an older installed one.
func treePython(t *testing.T, dir string) string {
	t.Helper()
	prefix, site, hook := filepath.Join(dir, "prefix"), filepath.Join(dir, "site"), filepath.Join(dir, "hook")
	cmd := exec.Command("bash", filepath.Join("..", "..", "python", "install"))
	cmd.Env = append(os.Environ(), "NMP_PYTHON_PREFIX="+prefix, "NMP_PYTHON_SITE="+site, "NMP_SKIP_APT=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python/install into %s: %v\n%s", prefix, err, out)
	}
	// Python imports sitecustomize after the site directories' .pth files
	// (which may have registered the installed finder): it registers the
	// tree's finder in its place.
	writeFiles(t, hook, map[string]string{"sitecustomize.py": fmt.Sprintf(`import sys
sys.path.insert(0, %q)
sys.modules.pop("_nmp_pynn_finder", None)
import _nmp_pynn_finder
`, prefix)})
	py := filepath.Join(dir, "python3")
	// -I (the worker's Python 2 converter) ignores PYTHONPATH, as it should.
	if err := os.WriteFile(py, []byte("#!/bin/sh\nPYTHONPATH="+hook+" exec /usr/bin/python3 \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, prefix, site, hook} {
		_ = os.Chmod(d, 0o755)
	}
	return py
}

// unmaskedTempDir is a temporary directory outside those the sandbox covers
// with its own (/tmp, /var/tmp): what jobs run from must lie there.
func unmaskedTempDir(t *testing.T) string {
	t.Helper()
	for _, parent := range []string{"/run", "/var/lib"} {
		d, err := os.MkdirTemp(parent, "nmp-e2e-python-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		_ = os.Chmod(d, 0o755)
		return d
	}
	t.Fatal("no directory for the jobs' Python outside /tmp (tried /run and /var/lib)")
	return ""
}

// bss1Platform is a running 'nmp serve' with a worker for BrainScaleS and
// BrainScaleS-ESS whose jobs use the tree's front end.
func bss1Platform(t *testing.T) *localServer {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatal("Debian's /usr/bin/python3 with python3-numpy and python3-matplotlib is needed (scripts/setup installs them)")
	}
	p := newPlatform(t)
	dir := reachableTempDir(t)
	py := treePython(t, unmaskedTempDir(t))
	w, err := worker.New(worker.Config{Server: p.url, APIKey: p.key, Platforms: []string{"BrainScaleS", "BrainScaleS-ESS"},
		PlatformTable: platformTable, Slots: 2, WorkDir: filepath.Join(dir, "jobs"), Helper: []string{p.bin, "sandbox"},
		NMPBinary: p.bin, Python: py, AllowPrivateURLs: true, Poll: 100 * time.Millisecond, LogFlush: 200 * time.Millisecond,
		Grace: time.Second, Limits: worker.Limits{WallClock: 5 * time.Minute, CPUTime: 5 * time.Minute, Memory: 4 << 30,
			Output: 256 << 20, Processes: 512}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return p
}

// bss1Submit submits with nmp submit -wait -json and returns the ended
// job, failing t (the subtest's, not the platform's) when there is none.
func bss1Submit(t *testing.T, p *localServer, args ...string) client.Job {
	t.Helper()
	out, errOut, err := p.nmp(append([]string{"submit", "-collab", "demo", "-wait", "-json"}, args...)...)
	var j client.Job
	if jerr := json.Unmarshal([]byte(out), &j); jerr != nil {
		t.Fatalf("nmp submit %s: %v; no job in the answer (%v):\n%s%s", strings.Join(args, " "), err, jerr, out, errOut)
	}
	return j
}

// jobFile downloads one of a job's output files.
func jobFile(t *testing.T, j client.Job, name string) string {
	t.Helper()
	for _, f := range j.Files() {
		if f.Path == name {
			return get(t, f.URL)
		}
	}
	t.Fatalf("job %d has no output %s; it has %v\nlog:\n%s", j.ID, name, fileNames(j), jobLog(j))
	return ""
}

func hasFiles(t *testing.T, j client.Job, names ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, f := range fileNames(j) {
		have[f] = true
	}
	for _, n := range names {
		if !have[n] {
			t.Fatalf("job %d: no output %s among %v\nlog:\n%s", j.ID, n, fileNames(j), jobLog(j))
		}
	}
}

// membrane reads np.savetxt's rows [neuron, t (ms), v (mV)].
func membrane(t *testing.T, text string) (ts, vs []float64) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("membrane row %q: want neuron, time, voltage", sc.Text())
		}
		tt, err1 := strconv.ParseFloat(f[1], 64)
		v, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("membrane row %q", sc.Text())
		}
		ts, vs = append(ts, tt), append(vs, v)
	}
	return ts, vs
}

// psp is the rise of the membrane within 100 ms after t0 over its mean in
// the 50 ms before.
func psp(ts, vs []float64, t0 float64) float64 {
	base, n, peak := 0.0, 0, math.Inf(-1)
	for i, tt := range ts {
		switch {
		case tt >= t0-50 && tt < t0:
			base += vs[i]
			n++
		case tt >= t0 && tt < t0+100:
			peak = math.Max(peak, vs[i])
		}
	}
	return peak - base/float64(max(n, 1))
}

var (
	statLine = func(name string) *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*` + name + `:\s*(\d+)`) }
	denmems  = regexp.MustCompile(`(?m)^NeuronOnWafer\(NeuronOnHICANN\(X\(\d+\), (top|bottom)\), HICANNOnWafer\(X\(5\), Y\(5\)\)\)$`)
)

func TestBrainScaleS1Examples(t *testing.T) {
	p := bss1Platform(t)
	examples := filepath.Join("..", "..", "examples", "brainscales1")
	for _, platform := range []string{"BrainScaleS", "BrainScaleS-ESS"} {
		t.Run(platform, func(t *testing.T) {
			submit := func(t *testing.T, name string) client.Job {
				t.Helper()
				j := bss1Submit(t, p, filepath.Join(examples, name), "-platform", platform)
				wantStatus(t, j, "finished", "python 2: converted to Python 3 with lib2to3", "on "+platform+" (nmp brainscales1 system")
				return j
			}
			t.Run("marocco intro", func(t *testing.T) {
				j := submit(t, "marocco_intro.py")
				got := denmems.FindAllString(jobLog(j), -1)
				want := []string{"NeuronOnWafer(NeuronOnHICANN(X(0), top), HICANNOnWafer(X(5), Y(5)))",
					"NeuronOnWafer(NeuronOnHICANN(X(1), top), HICANNOnWafer(X(5), Y(5)))",
					"NeuronOnWafer(NeuronOnHICANN(X(0), bottom), HICANNOnWafer(X(5), Y(5)))",
					"NeuronOnWafer(NeuronOnHICANN(X(1), bottom), HICANNOnWafer(X(5), Y(5)))"}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("denmems printed:\n%s\nwant:\n%s\nlog:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), jobLog(j))
				}
				hasFiles(t, j, "results.bin", "mapping_wafer.png")
			})
			t.Run("single neuron weight sweep", func(t *testing.T) {
				j := submit(t, "nmpm1_single_neuron.py")
				var peaks []float64
				for _, w := range []int{5, 10, 15} {
					ts, vs := membrane(t, jobFile(t, j, fmt.Sprintf("membrane_w%d.txt", w)))
					if len(ts) < 10000 {
						t.Fatalf("weight %d: %d membrane samples over 1500 ms; log:\n%s", w, len(ts), jobLog(j))
					}
					peaks = append(peaks, psp(ts, vs, 250))
					hasFiles(t, j, fmt.Sprintf("spikes_w%d.txt", w))
				}
				t.Logf("PSP at 250 ms for digital weights 5, 10, 15: %.2f, %.2f, %.2f mV", peaks[0], peaks[1], peaks[2])
				if !(peaks[0] > 0.5 && peaks[0] < peaks[1] && peaks[1] < peaks[2]) {
					t.Fatalf("PSPs %.3v for digital weights 5, 10, 15: want them to grow with the weight; log:\n%s", peaks, jobLog(j))
				}
				hasFiles(t, j, "mapping_wafer.png", "mapping_synapses.png")
			})
			t.Run("synapse loss", func(t *testing.T) {
				j := submit(t, "synapse_loss.py")
				l := jobLog(j)
				mn, ml := statLine("synapses").FindStringSubmatch(l), statLine("synapse_loss").FindStringSubmatch(l)
				if mn == nil || ml == nil {
					t.Fatalf("no MappingStats in the log:\n%s", l)
				}
				n, _ := strconv.Atoi(mn[1])
				lost, _ := strconv.Atoi(ml[1])
				t.Logf("MappingStats: %d synapses, %d lost (%.1f%%)", n, lost, 100*float64(lost)/float64(n))
				if n < 2237 || n > 2735 || float64(lost)/float64(n) < 0.18 || float64(lost)/float64(n) > 0.28 {
					t.Fatalf("%d synapses, %d lost; the guidebook's example has 2486 +- 10%% and 23 +- 5%% lost", n, lost)
				}
				if c := strings.Count(l, "Projection-Wise Synapse Loss"); c != 2 {
					t.Fatalf("%d per-projection lines; want 2 (the script asserts their sum):\n%s", c, l)
				}
				if png := jobFile(t, j, "synapse_loss.png"); !strings.HasPrefix(png, "\x89PNG") || len(png) < 1000 {
					t.Fatalf("synapse_loss.png: %d bytes, not a picture", len(png))
				}
				hasFiles(t, j, "mapping_wafer.png", "mapping_synapses.png")
			})
			t.Run("guidebook's import of {system}", func(t *testing.T) {
				dir := t.TempDir()
				writeFiles(t, dir, map[string]string{"guidebook.py": guidebookScript})
				j := bss1Submit(t, p, filepath.Join(dir, "guidebook.py"), "-platform", platform)
				backend := map[string]string{"BrainScaleS": "hardware.hbp_pm", "BrainScaleS-ESS": "hardware.brainscales"}[platform]
				wantStatus(t, j, "finished", "python 2: converted", "pyNN."+backend+" is pyhmf: True")
				if !regexp.MustCompile(`spikes: [1-9]`).MatchString(jobLog(j)) {
					t.Fatalf("no spikes:\n%s", jobLog(j))
				}
			})
			t.Run("wafer from hardware_config", func(t *testing.T) {
				j := bss1Submit(t, p, filepath.Join(examples, "marocco_intro.py"), "-platform", platform, "-config", `{"WAFER_MODULE": 5}`)
				wantStatus(t, j, "finished", `(nmp brainscales1 system, PyNN backend "hardware.`, `chip 5)`)
				var prov struct{ Chip string }
				if err := json.Unmarshal(j.Provenance, &prov); err != nil || prov.Chip != "5" {
					t.Fatalf("provenance chip %q (%v); want 5", prov.Chip, err)
				}
			})
			t.Run("ESS AdEx", func(t *testing.T) {
				j := submit(t, "nmpm1_adex_neuron_ess.py")
				ps := jobFile(t, j, "pulse_stats.py")
				for _, k := range []string{"l2_down_before_sim", "l2_down_dropped_before_sim", "l2_down_sent", "l2_down_lost",
					"l2_up_sent", "l2_up_lost", "l1_neuron_sent", "l1_neuron_lost"} {
					if !regexp.MustCompile(`'` + k + `': \d+`).MatchString(ps) {
						t.Fatalf("pulse_stats.py lacks %s:\n%s", k, ps)
					}
				}
				// nine stimulus spikes go down, none dropped at these rates
				if !strings.Contains(ps, "'l2_down_before_sim': 9,") || !strings.Contains(ps, "'l2_down_sent': 9,") {
					t.Fatalf("pulse_stats.py:\n%s", ps)
				}
				if lf := jobFile(t, j, "logfile.txt"); !strings.Contains(lf, "Layer 2 events dropped before sim : 0/9 (0 %)") {
					t.Fatalf("logfile.txt lacks the ESS's summary:\n%s", lf)
				}
				if !regexp.MustCompile(`Neuron\s+0\s+spiked at`).MatchString(jobLog(j)) {
					t.Fatalf("the AdEx neuron did not spike:\n%s", jobLog(j))
				}
				hasFiles(t, j, "nmpm1_adex_neuron_ess.bin", "mapping_wafer.png", "mapping_synapses.png")
			})
		})
	}
}

// guidebookScript imports the backend as the guidebook's scripts do, from
// the name the platform gives as the command's argument ({system}).
const guidebookScript = `import sys
exec("import pyNN.%s as sim" % sys.argv[1])
import pyhmf
from pymarocco import PyMarocco
marocco = PyMarocco()
marocco.backend = PyMarocco.ESS
sim.setup(marocco=marocco)
pop = sim.Population(1, sim.IF_cond_exp, {'v_thresh': -60.0})
stim = sim.Population(1, sim.SpikeSourceArray, {'spike_times': [10.0, 12.0, 14.0, 50.0, 52.0, 54.0]})
sim.Projection(stim, pop, sim.AllToAllConnector(weights=0.01), target='excitatory')
pop.record()
sim.run(100.0)
print "pyNN.%s is pyhmf: %s" % (sys.argv[1], sim is pyhmf)
print "spikes: %d" % len(pop.getSpikes())
sim.end()
`
