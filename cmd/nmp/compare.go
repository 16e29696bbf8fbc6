package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/benchmark"
	"github.com/nmp-platform/nmp/benchmark/compare"
)

const compareUsage = `usage: nmp compare SCRIPT [-platforms A,B] [-out DIR] [-tau MS] [-timeout D] [-server URL [-collab C]] [-- ARGS]

Runs one PyNN script on nmp's reference system and on every emulated system
that accepts it (each platform nmp runs: the script gets the platform's PyNN
backend as its first argument, as {system} gives it, followed by ARGS), and
reports side by side:

  - whether each system accepted the script, and if not, why;
  - what each system changed: what its mapping reports (synapses lost, spikes
    dropped, parameters clipped or quantised, weights discretised, delays
    rounded, under the keys docs/benchmarks.md lists), and connections the
    reference made that the system did not;
  - per population: the firing rate, the coefficient of variation of the
    inter-spike intervals, and the neurons that fired;
  - against the reference: the rate difference, and the van Rossum distance
    (time constant -tau) between each neuron's spike trains, averaged.

Scripts pick their backend the guidebook's way (pyNN.utility.get_simulator(),
or sys.argv[1]); pynn_brainscales' brainscales2 is imported by that name.
The simulations are recorded from the simulation server (NMP_SIMSERVER_RECORD),
so the script needs no changes; the report, its JSON and a plot (with
matplotlib) go to -out.

With -server, the comparison runs through that server's job queue (its
compare API): the script's directory is uploaded as nmp submit DIR does, one
normal job per platform runs it (as you, charged to -collab), and once they
have ended the server compares their recorded simulations; the report, its
JSON, the server's page (report.html) and the plot go to -out as above.

Examples:

  nmp compare examples/benchmarks/run_synfire_chain.py -out compare-synfire
  nmp compare examples/benchmarks/run_synfire_chain.py -server http://localhost:8080 -collab demo
`

func runCompare(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "compare", compareUsage)
	platforms := fs.String("platforms", "", "platforms to run on, comma-separated (default: every platform nmp runs, the reference first)")
	out := fs.String("out", "", "directory for the report, its JSON and the plot (default: a new directory compare-SCRIPT)")
	tau := fs.Float64("tau", 5, "time constant of the van Rossum distance, in ms")
	timeout := fs.Duration("timeout", 30*time.Minute, "the longest one system's run may take (with -server: how long to wait for the whole comparison)")
	python := fs.String("python", "/usr/bin/python3", "the Python interpreter with PyNN")
	server := fs.String("server", "", "run through this job queue server's compare API instead of here: one job per platform, charged to -collab")
	collab := fs.String("collab", "", "with -server: the collab the jobs belong to (default $NMP_COLLAB, else the only one you may submit to)")
	user := fs.String("user", env.Getenv("NMP_USER"), "with -server: whose token to take from the token file")
	tokenFile := fs.String("token-file", "", "with -server: file of saved tokens (default ~/.hbptoken)")
	var scriptArgs []string
	for i, a := range args {
		if a == "--" {
			args, scriptArgs = args[:i], args[i+1:]
			break
		}
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("compare: needs one SCRIPT")
	}
	script, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if *out == "" {
		*out = "compare-" + strings.TrimSuffix(filepath.Base(script), filepath.Ext(script))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if *server != "" {
		var plats []string
		for _, p := range strings.Split(*platforms, ",") {
			if p = strings.TrimSpace(p); p != "" {
				plats = append(plats, p)
			}
		}
		cf := &clientFlags{server: server, user: user, tokenFile: tokenFile}
		return compareRemote(ctx, env, cf, remoteCompare{script: script, collab: *collab, platforms: plats, args: scriptArgs,
			out: *out, tau: *tau, timeout: *timeout, python: *python})
	}
	// The scripts run elsewhere: the recordings need an absolute path.
	if *out, err = filepath.Abs(*out); err != nil {
		return err
	}
	var rows []string
	if *platforms != "" {
		for _, p := range strings.Split(*platforms, ",") {
			p = strings.TrimSpace(p)
			row, ok := platformTable.Lookup(p)
			if !ok || row.System == "" || row.Unavailable != "" {
				return usagef("compare: -platforms: %q is not a platform nmp runs (%s)", p, strings.Join(platformTable.Emulated(), ", "))
			}
			rows = append(rows, p)
		}
	} else {
		rows = platformTable.Emulated()
	}
	// The reference first: the others are compared with it.
	sort.SliceStable(rows, func(i, j int) bool { return isReference(rows[i]) && !isReference(rows[j]) })
	var runs []*compare.Run
	for _, name := range rows {
		row, _ := platformTable.Lookup(name)
		fmt.Fprintf(env.Stderr, "compare: running %s on %s (backend %s)...\n", filepath.Base(script), name, row.Backend)
		r := &compare.Run{Platform: name, System: row.System, Backend: row.Backend}
		rec := filepath.Join(*out, "record-"+row.System)
		os.RemoveAll(rec)
		if err := os.MkdirAll(rec, 0o755); err != nil {
			return err
		}
		// The script runs in a copy of its directory, as a job would, so
		// that it finds its files and what it writes stays apart per system.
		work, err := os.MkdirTemp("", "nmp-compare-")
		if err != nil {
			return err
		}
		if err := copyTopFiles(filepath.Dir(script), work); err != nil {
			os.RemoveAll(work)
			return fmt.Errorf("compare: %w", err)
		}
		cctx, cancel := context.WithTimeout(ctx, *timeout)
		cmd := exec.CommandContext(cctx, *python, append([]string{filepath.Join(work, filepath.Base(script)), row.Backend}, scriptArgs...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "NMP_BINARY="+self, "NMP_SIMSERVER_RECORD="+rec, "MPLBACKEND=Agg",
			"PYTHONPATH="+filepath.Dir(script)+string(os.PathListSeparator)+os.Getenv("PYTHONPATH"))
		if row.ChipEnv != "" && os.Getenv(row.ChipEnv) == "" {
			cmd.Env = append(cmd.Env, row.ChipEnv+"="+row.DefaultChip)
		}
		var output bytes.Buffer
		cmd.Stdout, cmd.Stderr = &output, &output
		t0 := time.Now()
		runErr := cmd.Run()
		cancel()
		os.RemoveAll(work)
		r.WallSeconds = time.Since(t0).Seconds()
		_ = os.WriteFile(filepath.Join(*out, "output-"+row.System+".txt"), output.Bytes(), 0o644)
		if runErr != nil {
			r.Refused = refusal(output.String(), runErr)
		}
		if err := readRecording(rec, r); err != nil && r.Refused == "" {
			r.Refused = "its simulations could not be read: " + err.Error()
		}
		runs = append(runs, r)
	}
	rep := compare.Compare(runs, *tau)
	text := rep.Text()
	fmt.Fprint(env.Stdout, text)
	if err := os.WriteFile(filepath.Join(*out, "report.txt"), []byte(text), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("compare: report.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "report.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	if err := plotComparison(ctx, *python, *out, benchmark.SpikesOf(runs)); err != nil {
		fmt.Fprintf(env.Stderr, "compare: no plot: %v\n", err)
	} else {
		fmt.Fprintf(env.Stdout, "\nplot: %s\n", filepath.Join(*out, "compare.png"))
	}
	fmt.Fprintf(env.Stdout, "report: %s, %s\n", filepath.Join(*out, "report.txt"), filepath.Join(*out, "report.json"))
	return nil
}

func isReference(platform string) bool {
	row, _ := platformTable.Lookup(platform)
	return row.System == "reference"
}

// refusal is why a system did not run the script: the last line of what
// Python printed (its exception), or how the process ended.
func refusal(output string, err error) string {
	lines := strings.Split(strings.TrimSpace(output), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return err.Error()
}

// readRecording reads the simulation server sessions recorded in dir into r.
func readRecording(dir string, r *compare.Run) error {
	ins, _ := filepath.Glob(filepath.Join(dir, "*.in"))
	sort.Strings(ins)
	if len(ins) == 0 {
		return errors.New("the script ran no simulation through nmp")
	}
	for _, in := range ins {
		out := strings.TrimSuffix(in, ".in") + ".out"
		if err := readSession(in, out, r); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(in), err)
		}
	}
	return nil
}

// readSession reads one recorded session's pair of files into r.
func readSession(inPath, outPath string, r *compare.Run) error {
	fi, err := os.Open(inPath)
	if err != nil {
		return err
	}
	defer fi.Close()
	fo, err := os.Open(outPath)
	if err != nil {
		return err
	}
	defer fo.Close()
	return r.ReadSession(fi, fo)
}

// recordStreams makes nmp simserver copy what it reads and writes to a new
// pair of files in dir (NMP_SIMSERVER_RECORD, set by nmp compare).
func recordStreams(dir string, in io.Reader, out io.Writer) (io.Reader, io.Writer, func(), error) {
	base := filepath.Join(dir, fmt.Sprintf("session-%d-%d", time.Now().UnixNano(), os.Getpid()))
	fi, err := os.Create(base + ".in")
	if err != nil {
		return nil, nil, nil, err
	}
	fo, err := os.Create(base + ".out")
	if err != nil {
		fi.Close()
		return nil, nil, nil, err
	}
	return io.TeeReader(in, fi), io.MultiWriter(out, fo), func() { fi.Close(); fo.Close() }, nil
}

// plotComparison draws each population's spikes on every system, one row
// of panels per population, with matplotlib.
func plotComparison(ctx context.Context, python, dir string, data []compare.Spikes) error {
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "spikes.json"), js, 0o644); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, python, "-c", plotScript, filepath.Join(dir, "spikes.json"), filepath.Join(dir, "compare.png"))
	cmd.Env = append(os.Environ(), "MPLBACKEND=Agg")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(b)))
	}
	return nil
}

const plotScript = `
import json, sys
import matplotlib.pyplot as plt
data = json.load(open(sys.argv[1]))
labels = []
for s in data:
    for p in s["pops"] or []:
        if p["label"] not in labels:
            labels.append(p["label"])
rows, cols = max(len(labels), 1), len(data)
fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 1.6 * rows + 0.8), squeeze=False, sharex=True)
for c, s in enumerate(data):
    axes[0][c].set_title(s["platform"] + (" (refused)" if s["refused"] else ""), fontsize=10)
    pops = {p["label"]: p for p in s["pops"] or []}
    for r, label in enumerate(labels):
        ax = axes[r][c]
        p = pops.get(label)
        if p:
            for i, t in enumerate(p["trains"] or []):
                t = t or []
                ax.plot(t, [i] * len(t), "|", color="k", markersize=3)
            ax.set_ylim(-1, p["size"])
        if c == 0:
            ax.set_ylabel(label, fontsize=8)
for ax in axes[-1]:
    ax.set_xlabel("time (ms)")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=90)
`

// copyTopFiles copies the regular files at the top of dir (at most 64 MiB
// in all) into to.
func copyTopFiles(dir, to string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var total int64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if total += int64(len(b)); total > 64<<20 {
			return fmt.Errorf("the files next to the script are larger than 64 MiB: put it in a directory of its own")
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
