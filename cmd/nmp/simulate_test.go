package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/results"
)

// run calls the CLI as a user would and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := exitCode(env, Run(context.Background(), env, args))
	return out.String(), errb.String(), code
}

func TestSimulateCOBA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "coba.npz")
	stdout, stderr, code := run(t, "simulate", "../../examples/coba.json", "-o", out, "-threads", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"4000 neurons", "2 threads", "per simulated second", "exc", "inh", "rate (Hz)", "results: " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	a, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if a.Provenance.Seed != 42 || a.Provenance.Threads != 2 || a.Provenance.Simulated != 1000 || a.Provenance.Version == "" {
		t.Errorf("provenance %+v", a.Provenance)
	}
	seg := a.Segments[0]
	if len(seg.Spikes) != 2 || len(seg.Signals) != 1 {
		t.Fatalf("segment %+v", seg)
	}
	times := a.Array(seg.Spikes[0].Times).Float64s()
	rate := float64(len(times)) / 3200
	if rate < 10 || rate > 30 {
		t.Errorf("excitatory rate %g Hz is outside the COBA regime", rate)
	}
	if sig := seg.Signals[0]; sig.Samples != 1001 || a.Array(sig.Data).Shape[1] != 3 {
		t.Errorf("signal %+v", sig)
	}
}

func TestSimulateErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"format":"nmp-network","version":1,"simulation":{"timestep":0.1},
	  "populations":[{"label":"exc","size":10,"cell_type":"IF_cond_exp","parameters":{"tau_m":-5}}],"schedule":[{"run":10}]}`), 0o644)
	noSched := filepath.Join(dir, "nosched.json")
	os.WriteFile(noSched, []byte(`{"format":"nmp-network","version":1,"simulation":{"timestep":0.1},
	  "populations":[{"size":1,"cell_type":"IF_cond_exp"}]}`), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"simulate"}, 2, "needs exactly one description file"},
		{[]string{"simulate", filepath.Join(dir, "missing.json")}, 1, "no such file"},
		{[]string{"simulate", bad}, 1, `populations[0] "exc".parameters.tau_m: must be positive, got -5`},
		{[]string{"simulate", noSched}, 1, "has no schedule: give the run length with -duration MS"},
		{[]string{"simulate", "-threads"}, 2, "flag needs an argument"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		_, stderr, code := run(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
			t.Errorf("%v: a stack trace reached the user: %s", c.args, stderr)
		}
	}
	// -duration makes a description without a schedule runnable.
	if _, stderr, code := run(t, "simulate", noSched, "-duration", "5", "-o", filepath.Join(dir, "r.npz")); code != 0 {
		t.Errorf("-duration: exit %d: %s", code, stderr)
	}
}

func TestHelpTeaches(t *testing.T) {
	t.Parallel()
	stdout, _, code := run(t, "simulate", "-h")
	if code != 0 || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "-threads") {
		t.Errorf("simulate -h (exit %d):\n%s", code, stdout)
	}
	stdout, _, _ = run(t, "help")
	if !strings.Contains(stdout, "simulate") || strings.Contains(stdout, "engine ") {
		t.Errorf("help lists hidden commands or lacks simulate:\n%s", stdout)
	}
	stdout, _, code = run(t, "models", "IF_curr_alpha")
	if code != 0 || !strings.Contains(stdout, "tau_syn_E") || !strings.Contains(stdout, "weights in nA") {
		t.Errorf("models IF_curr_alpha:\n%s", stdout)
	}
	if _, stderr, code := run(t, "models", "IF_curr_beta"); code != 2 || !strings.Contains(stderr, "no model named") {
		t.Errorf("models of an unknown name: exit %d %s", code, stderr)
	}
}

func TestValidateOnly(t *testing.T) {
	t.Parallel()
	stdout, _, code := run(t, "simulate", "-validate", "../../examples/cuba.json")
	if code != 0 || !strings.Contains(stdout, "valid") || !strings.Contains(stdout, "about 320000 synapses") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

func TestModelsOfASystem(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := run(t, "models", "-system", "brainscales2", "HXNeuron")
	if code != 0 || !strings.Contains(stdout, "leak_v_leak") || !strings.Contains(stdout, "0..1022") {
		t.Errorf("exit %d, stderr %s:\n%s", code, stderr, stdout)
	}
	if _, stderr, code := run(t, "models", "-system", "truenorth"); code != 2 || !strings.Contains(stderr, `unknown system "truenorth"`) {
		t.Errorf("unknown system: exit %d, %s", code, stderr)
	}
}
