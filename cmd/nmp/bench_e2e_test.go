package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/benchmark"
)

// gitRepo makes a git repository in dir from the files of src and commits them.
func gitCommit(t *testing.T, dir, msg string) string {
	t.Helper()
	for _, args := range [][]string{{"add", "-A"}, {"-c", "user.email=bench@example.org", "-c", "user.name=bench", "commit", "-q", "-m", msg}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, b)
		}
	}
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// benchRuns lists the runs of the benchmark service through nmp bench.
func (p *localServer) benchRuns() []benchmark.RunDoc {
	p.t.Helper()
	var runs []benchmark.RunDoc
	out := p.nmpOK("bench", "runs", "-limit", "1000", "-json")
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		p.t.Fatalf("nmp bench runs -json: %v\n%s", err, out)
	}
	return runs
}

// benchSettle waits until no run is queued or submitted, and returns the runs.
func (p *localServer) benchSettle(timeout time.Duration) []benchmark.RunDoc {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		runs := p.benchRuns()
		pending := 0
		for _, r := range runs {
			if r.Status == "queued" || r.Status == "submitted" {
				pending++
			}
		}
		if pending == 0 {
			return runs
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%d benchmark runs still pending after %v:\n%s", pending, timeout, p.nmpOK("bench", "runs"))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestEndToEndBenchmarks registers a benchmark repository in the layout of
// the guidebook's public hardware-benchmarks repository (a local git
// repository made from testdata) with a real nmp serve and its in-process
// workers, and follows it: its tasks run as jobs on Demo and on the
// emulated BrainScaleS-2 chip, their results are harvested and shown; a
// [skip ci] commit does not run, a plain commit does; a changed chip runs
// everything again on BrainScaleS-2 only.
func TestEndToEndBenchmarks(t *testing.T) {
	bin := nmpBinary(t)
	for _, m := range []string{"pyNN.nmp", "pynn_brainscales.brainscales2", "scipy.stats"} {
		if err := exec.Command("/usr/bin/python3", "-c", "import "+m).Run(); err != nil {
			t.Skipf("SKIPPED: %s is not importable (scripts/setup installs it); the benchmark tasks need it", m)
		}
	}
	p := &localServer{t: t, bin: bin, dir: reachableTempDir(t)}
	p.home = filepath.Join(p.dir, "home")
	p.data = filepath.Join(p.dir, "data")
	_ = os.Mkdir(p.home, 0o700)
	repo := filepath.Join(p.dir, "hardware-benchmarks")
	copyDir(t, filepath.Join("..", "..", "examples", "benchmarks"), repo)
	if b, err := exec.Command("git", "init", "-q", "-b", "main", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, b)
	}
	first := gitCommit(t, repo, "an I-f curve, spike-train statistics and a synfire chain")
	p.args = []string{"serve", "-data-dir", p.data, "-work-dir", filepath.Join(p.dir, "jobs"), "-allow-private-urls", "-poll", "100ms",
		"-bench-local-repos", "-bench-interval", "300ms", "-bench-poll", "1h", "-memory", "2GiB",
		"-calibration-hour", "-1"} // no calibrations: a finished one would rerun BrainScaleS-2's benchmarks (TestCalibrationTriggers)
	p.launch("127.0.0.1:0")
	p.token = readBootstrapToken(t, p.data)

	// Benchmarks run on every platform nmp runs (more as systems land).
	var platforms []benchmark.Platform
	if err := json.Unmarshal([]byte(get(t, p.url+"/benchmarks/platforms")), &platforms); err != nil || len(platforms) < 2 {
		t.Fatalf("platforms: %v %+v", err, platforms)
	}

	var added benchmark.AddResponse
	out := p.nmpOK("bench", "add", "hw", "file://"+repo, "-json")
	if err := json.Unmarshal([]byte(out), &added); err != nil {
		t.Fatalf("nmp bench add: %v\n%s", err, out)
	}
	// The tasks expand by their {system=...} lists: PyNN 0.10 scripts on
	// the 0.10 systems, the old-API variants on BrainScaleS-1, the ESS
	// (pyhmf, PyNN 0.7) and Spikey (PyNN 0.6).
	wantPairs := map[string]bool{
		"I_f_curve@Demo": true, "I_f_curve@SpiNNaker": true,
		"spike_train_statistics@Demo": true, "spike_train_statistics@SpiNNaker": true, "spike_train_statistics@BrainScaleS-2": true,
		"spike_train_statistics_old_pynn@BrainScaleS": true, "spike_train_statistics_old_pynn@BrainScaleS-ESS": true,
		"propagation@Demo": true, "propagation@SpiNNaker": true,
		"propagation_old_pynn@BrainScaleS": true, "propagation_old_pynn@BrainScaleS-ESS": true, "propagation_old_pynn@Spikey": true,
	}
	perCommit := len(added.Runs)
	onChips := 0 // runs on platforms whose fingerprint names a chip
	for _, r := range added.Runs {
		if !wantPairs[r.Task+"@"+r.Platform] {
			t.Errorf("run %s on %s was not expected", r.Task, r.Platform)
		}
		if row, _ := platformTable.Lookup(r.Platform); row.ChipEnv != "" {
			onChips++
		}
	}
	if added.Source.Commit != first || perCommit != len(wantPairs) {
		t.Fatalf("registered at %s (want %s) with %d runs (want %d):\n%s", added.Source.Commit, first, perCommit, len(wantPairs), out)
	}
	runs := p.benchSettle(5 * time.Minute)
	byKey := map[string]benchmark.RunDoc{}
	for _, r := range runs {
		byKey[r.Task+"@"+r.Platform] = r
	}
	// Every (task, platform) pair finishes with its measurements.
	for key := range wantPairs {
		r := byKey[key]
		if r.Status != "finished" || r.Measurements < 4 || r.JobID == nil {
			t.Errorf("%s: %s with %d measurements, want finished (%s)", key, r.Status, r.Measurements, r.Error)
		}
	}
	var matrix strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&matrix, "  %-32s %-16s %-9s %2d measurements %s\n", r.Model+"/"+r.Task, r.Platform, r.Status, r.Measurements, r.Error)
	}
	t.Logf("(task, platform) pairs after registration:\n%s", matrix.String())

	var ms []benchmark.MeasurementDoc
	out = p.nmpOK("bench", "measurements", "-json", "-name", "kolmogorov_smirnov")
	if err := json.Unmarshal([]byte(out), &ms); err != nil || len(ms) != 5 {
		t.Fatalf("measurements: %v\n%s", err, out)
	}
	for _, m := range ms {
		if m.Commit != first || m.NMPVersion == "" || m.Machine == "" || m.JobID == 0 || !strings.HasPrefix(m.File, "results/") ||
			m.Value < 0 || m.Value > 1 || m.Measure != "min-p-value" || len(m.Configuration) == 0 {
			t.Errorf("measurement %+v", m)
		}
	}
	table := p.nmpOK("bench", "results")
	for _, want := range []string{"IF_cond_exp/I_f_curve", "norm_diff_frequency", "kolmogorov_smirnov", "BrainScaleS-2", "Demo", "Spikey", "BrainScaleS-ESS", "groups_reached"} {
		if !strings.Contains(table, want) {
			t.Errorf("nmp bench results lacks %q:\n%s", want, table)
		}
	}
	page := get(t, p.url+"/benchmarks/")
	for _, want := range []string{"<svg", "norm_diff_frequency", "an I-f curve, spike-train statistics and a synfire chain"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	t.Logf("after registration:\n%s\n%s", p.nmpOK("bench", "runs"), table)

	// Only an administrator registers and runs.
	if resp, err := http.Post(p.url+"/benchmarks/runs", "application/json", strings.NewReader(`{"source": "hw"}`)); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a run without a token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A commit that says [skip ci] is seen and not run.
	if err := os.WriteFile(filepath.Join(repo, "README.md"), []byte("documentation only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	skipped := gitCommit(t, repo, "README [skip ci]")
	out = p.nmpOK("bench", "poll", "hw")
	if !strings.Contains(out, short12(skipped)) || !strings.Contains(out, "not run") {
		t.Fatalf("poll after [skip ci]: %s", out)
	}
	time.Sleep(time.Second)
	if n := len(p.benchRuns()); n != perCommit {
		t.Fatalf("%d runs after a [skip ci] commit, want %d", n, perCommit)
	}

	// A plain commit runs on every platform.
	cfg := filepath.Join(repo, "spike_train_statistics.json")
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), `"seed": 12345`, `"seed": 54321`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	second := gitCommit(t, repo, "another seed")
	p.nmpOK("bench", "poll", "hw")
	runs = p.benchSettle(5 * time.Minute)
	n := 0
	for _, r := range runs {
		if r.Commit == second {
			n++
			if !strings.HasPrefix(r.Trigger, "commit "+short12(second)) {
				t.Errorf("run %d: trigger %q", r.ID, r.Trigger)
			}
		}
	}
	if n != perCommit || len(runs) != 2*perCommit {
		t.Fatalf("%d runs of the new commit (want %d), %d in all (want %d)", n, perCommit, len(runs), 2*perCommit)
	}

	// A restart with the same configuration triggers nothing; a changed
	// chip (-chip: every platform with chips) runs everything again on
	// those platforms, and nothing on Demo.
	p.serve.stop(t)
	p.launch("127.0.0.1:0")
	time.Sleep(2 * time.Second)
	if n := len(p.benchSettle(time.Minute)); n != 2*perCommit {
		t.Fatalf("%d runs after a restart without changes, want %d", n, 2*perCommit)
	}
	p.serve.stop(t)
	p.args = append(p.args, "-chip", "nmp-virtual-hx-7")
	p.launch("127.0.0.1:0")
	deadline := time.Now().Add(time.Minute)
	for len(p.benchRuns()) == 2*perCommit && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
	}
	runs = p.benchSettle(5 * time.Minute)
	var changed []benchmark.RunDoc
	for _, r := range runs {
		if strings.HasPrefix(r.Trigger, "system ") {
			changed = append(changed, r)
		}
	}
	if len(changed) != onChips || len(runs) != 2*perCommit+onChips {
		t.Fatalf("%d runs for the changed systems (want %d), %d in all (want %d):\n%s", len(changed), onChips, len(runs), 2*perCommit+onChips, p.nmpOK("bench", "runs"))
	}
	for _, r := range changed {
		row, _ := platformTable.Lookup(r.Platform)
		if r.Platform == "Demo" || !strings.Contains(r.Trigger, "chip "+row.DefaultChip+" -> nmp-virtual-hx-7") || r.Commit != second {
			t.Errorf("run %d on %s at %s: trigger %q", r.ID, r.Platform, short12(r.Commit), r.Trigger)
		}
	}
	ms = nil
	out = p.nmpOK("bench", "measurements", "-json", "-name", "kolmogorov_smirnov", "-platform", "BrainScaleS-2")
	if err := json.Unmarshal([]byte(out), &ms); err != nil || len(ms) != 3 || !strings.Contains(ms[2].Machine, "nmp-virtual-hx-7") {
		t.Fatalf("BrainScaleS-2's measurements after the chip changed: %v\n%s", err, out)
	}
	t.Logf("in the end:\n%s\n%s", p.nmpOK("bench", "runs"), p.nmpOK("bench", "results"))
}

func readBootstrapToken(t *testing.T, data string) string {
	t.Helper()
	var boot struct {
		Token string `json:"token"`
	}
	b, err := os.ReadFile(filepath.Join(data, "bootstrap.json"))
	if err != nil || json.Unmarshal(b, &boot) != nil {
		t.Fatalf("bootstrap.json: %v %s", err, b)
	}
	return boot.Token
}

// TestEndToEndCompare runs nmp compare on the synfire chain: the reference
// runs it, and each emulated system runs it or says why not.
func TestEndToEndCompare(t *testing.T) {
	bin := nmpBinary(t)
	if err := exec.Command("/usr/bin/python3", "-c", "import pyNN.nmp, pynn_brainscales.brainscales2").Run(); err != nil {
		t.Skip("SKIPPED: pyNN.nmp or pynn_brainscales is not importable (scripts/setup installs them)")
	}
	out := filepath.Join(t.TempDir(), "cmp")
	cmd := exec.Command(bin, "compare", filepath.Join("..", "..", "examples", "benchmarks", "run_synfire_chain.py"), "-out", out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nmp compare: %v\n%s", err, b)
	}
	text := string(b)
	t.Logf("%s", text)
	var rep struct {
		Reference string `json:"reference"`
		Systems   []struct {
			Platform    string   `json:"platform"`
			Refused     string   `json:"refused"`
			Changes     []string `json:"changes"`
			Populations []struct {
				Label     string   `json:"label"`
				Active    int      `json:"active"`
				RateHz    float64  `json:"rate_hz"`
				VanRossum *float64 `json:"van_rossum"`
			} `json:"populations"`
		} `json:"systems"`
	}
	js, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil || json.Unmarshal(js, &rep) != nil {
		t.Fatalf("report.json: %v\n%s", err, js)
	}
	if rep.Reference != "Demo" || rep.Systems[0].Platform != "Demo" || rep.Systems[0].Refused != "" {
		t.Fatalf("the reference did not run: %+v", rep.Systems[0])
	}
	groups := 0
	for _, p := range rep.Systems[0].Populations {
		if strings.HasPrefix(p.Label, "group") && p.Active == 20 {
			groups++
		}
	}
	if groups != 8 {
		t.Errorf("the volley reached %d of 8 groups on the reference", groups)
	}
	for _, s := range rep.Systems[1:] {
		// Today's emulated systems either run the script (and are compared)
		// or refuse it with the reason.
		if s.Refused == "" && len(s.Populations) == 0 {
			t.Errorf("%s neither ran the script nor said why", s.Platform)
		}
		if s.Platform == "BrainScaleS-2" && !strings.Contains(s.Refused, "IF_cond_exp") {
			t.Errorf("BrainScaleS-2: %q, want the reason (no IF_cond_exp on the chip)", s.Refused)
		}
		// PyNN 0.7 on BrainScaleS-1: the wafer loses synapses, and the
		// report says so once per projection, not once per lost synapse.
		if s.Platform == "BrainScaleS" {
			lost := 0
			for _, c := range s.Changes {
				if strings.Contains(c, ".lost_indices: ") && strings.HasSuffix(c, "items (the system's mapping report)") {
					lost++
				}
			}
			if s.Refused != "" || lost == 0 || len(s.Changes) > 100 {
				t.Errorf("BrainScaleS: refused %q, %d changes, %d naming lost synapses", s.Refused, len(s.Changes), lost)
			}
		}
		// The example speaks PyNN 0.6 for Spikey: it runs there, and diverges.
		if s.Platform == "Spikey" {
			if s.Refused != "" || len(s.Changes) == 0 || !strings.Contains(s.Changes[0], "IF_facets_hardware1 instead of the reference's IF_cond_exp") {
				t.Errorf("Spikey: refused %q, changes %q", s.Refused, s.Changes)
			}
			// Its 4-bit weights are named as a cause (the mapping report's changes).
			quantised := 0
			for _, c := range s.Changes {
				if strings.HasPrefix(c, "weights: ") && strings.Contains(c, "4-bit") {
					quantised++
				}
			}
			if quantised == 0 {
				t.Errorf("Spikey: no change names its 4-bit weights: %q", s.Changes)
			}
			far := 0
			for _, p := range s.Populations {
				if p.VanRossum != nil && *p.VanRossum > 0 {
					far++
				}
			}
			if far == 0 {
				t.Errorf("Spikey's spikes are the reference's: %+v", s.Populations)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, "compare.png")); err != nil {
		t.Errorf("no plot: %v", err)
	}
}
