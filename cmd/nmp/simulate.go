package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/results"
	"github.com/nmp-platform/nmp/system"
)

const simulateUsage = `
usage: nmp simulate [flags] FILE

Runs the network description FILE (a JSON document or an .npz archive, see
docs/network-description.md) on the system it names (the ideal reference if
it names none, or the one given with -system) and writes what it
recorded to a results archive (docs/results.md) that numpy reads directly:

	r = numpy.load("net.results.npz")
	meta = json.loads(r["results.json"])

The run follows the description's schedule (runs, resets, changes between
runs). A description without a schedule needs -duration. At the end, nmp
prints the mean rate and ISI CV of every population whose spikes were
recorded. On a terminal, long runs show a progress bar; interrupt with
Ctrl-C to stop and keep what was recorded so far.

Examples:

	nmp simulate examples/coba.json
	nmp simulate -threads 1 -o out.npz -duration 500 net.npz
	nmp simulate -validate big.npz
`

func runSimulate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "simulate", simulateUsage)
	out := fs.String("o", "", "results file (default: FILE with .results.npz in place of its extension)")
	threads := fs.Int("threads", 0, "threads to use (0: all cores)")
	duration := fs.Float64("duration", 0, "run this many ms (for descriptions without a schedule)")
	seed := fs.Int64("seed", -1, "override the description's seed")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	sysName := fs.String("system", "", "run on this system instead of the one the description names: "+strings.Join(system.Names(), ", "))
	validateOnly := fs.Bool("validate", false, "check the description and print what it holds, without running it")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("simulate needs exactly one description file, got %d arguments", len(pos))
	}
	path := pos[0]
	stdout := env.Stdout
	if *quiet {
		stdout = io.Discard
	}
	t0 := time.Now()
	d, err := network.ReadFile(path, network.DecodeOptions{})
	if err != nil {
		return err
	}
	if *seed >= 0 {
		d.Simulation.Seed = uint64(*seed)
	}
	if len(d.Schedule) == 0 {
		if *duration <= 0 {
			return fmt.Errorf("%s has no schedule: give the run length with -duration MS", path)
		}
		dur := *duration
		d.Schedule = []network.Action{{Run: &dur}}
	} else if *duration > 0 {
		return usagef("%s has its own schedule; -duration applies only to descriptions without one", path)
	}
	sys, err := system.For(d, *sysName)
	if err != nil {
		return err
	}
	if *validateOnly {
		if err := network.Validate(d, sys.Catalog(), network.Limits{}); err != nil {
			return err
		}
		return describe(stdout, path, d)
	}
	loaded := time.Since(t0)
	var bar *progressBar
	var progress engine.Progress
	if env.IsTerminal && !*quiet {
		progress = func(done, total int64) {
			if time.Since(bar.start) > 500*time.Millisecond {
				bar.update(done, total)
			}
		}
	}
	t1 := time.Now()
	run, err := system.NewRun(ctx, sys, d, system.RunOptions{Threads: *threads, Progress: progress})
	if err != nil {
		return err
	}
	built := time.Since(t1)
	sim := run.Simulator()
	fmt.Fprintf(stdout, "nmp simulate %s on %s: %d neurons, %d synapses, %d threads\n", path, sys.Name(), sim.Neurons(), sim.Synapses(), sim.Threads())
	if progress != nil {
		bar = newProgressBar(env.Stderr, "running", sim.Timestep())
	}

	t2 := time.Now()
	var runErr error
	for i := range d.Schedule {
		if d.Schedule[i].Run != nil && bar != nil {
			bar.start = time.Now()
		}
		if runErr = run.Do(ctx, i); runErr != nil {
			break
		}
	}
	if bar != nil {
		bar.done()
	}
	ran := time.Since(t2)
	if *out == "" {
		*out = defaultResultsPath(path)
	}
	t3 := time.Now()
	prov := run.Provenance()
	prov.Started, prov.Source = t0.UTC().Format(time.RFC3339), path
	prov.Timings = map[string]float64{"load": loaded.Seconds(), "build": built.Seconds(), "run": ran.Seconds()}
	simulated := prov.Simulated
	segs, err := run.Data(false)
	if err != nil {
		return errors.Join(runErr, fmt.Errorf("reading out: %w", err))
	}
	if err := results.WriteFile(*out, d, segs, prov); err != nil {
		return errors.Join(runErr, fmt.Errorf("writing results: %w", err))
	}
	written := time.Since(t3)
	rtf := 0.0
	if simulated > 0 {
		rtf = ran.Seconds() / (simulated / 1000)
	}
	fmt.Fprintf(stdout, "  load %.3f s, build %.3f s, run %.0f ms in %.3f s (%.3g s per simulated second), write %.3f s\n",
		loaded.Seconds(), built.Seconds(), simulated, ran.Seconds(), rtf, written.Seconds())
	summarize(stdout, d, segs)
	fmt.Fprintf(stdout, "results: %s\n", *out)
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			fmt.Fprintf(env.Stderr, "nmp: interrupted at %.1f ms; what was recorded until then is in %s\n", sim.Now(), *out)
		}
		return runErr
	}
	return nil
}

func defaultResultsPath(path string) string {
	base := path
	for _, ext := range []string{".npz", ".json"} {
		if strings.HasSuffix(base, ext) {
			base = strings.TrimSuffix(base, ext)
			break
		}
	}
	return base + ".results.npz"
}

// describe prints what a description holds.
func describe(w io.Writer, path string, d *network.Description) error {
	fmt.Fprintf(w, "%s: valid (format %s version %d)\n", path, d.Format, d.Version)
	fmt.Fprintf(w, "  timestep %g ms, seed %d\n", d.Simulation.Timestep, d.Simulation.Seed)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  population\tsize\tcell type")
	neurons := 0
	for i, p := range d.Populations {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", popLabel(d, i), p.Size, p.CellType)
		neurons += p.Size
	}
	tw.Flush()
	syn := 0.0
	for i := range d.Projections {
		syn += d.EstimateSynapses(i)
	}
	fmt.Fprintf(w, "  %d neurons, %d projections with about %.0f synapses, %d current sources, %d schedule actions\n",
		neurons, len(d.Projections), syn, len(d.CurrentSources), len(d.Schedule))
	return nil
}

func popLabel(d *network.Description, i int) string {
	if l := d.Populations[i].Label; l != "" {
		return l
	}
	return fmt.Sprintf("population %d", i)
}

// summarize prints the mean rate and ISI CV of each population with
// recorded spikes, over all segments.
func summarize(w io.Writer, d *network.Description, segs []*engine.Segment) {
	type acc struct {
		recorded int
		spikes   int
		ms       float64
		cvSum    float64
		cvN      int
	}
	accs := make([]acc, len(d.Populations))
	for _, seg := range segs {
		dur := 0.0
		for _, r := range seg.Runs {
			dur += r
		}
		for pi, ps := range seg.Spikes {
			if len(ps.Recorded) == 0 {
				continue
			}
			a := &accs[pi]
			a.recorded = max(a.recorded, len(ps.Recorded))
			a.spikes += len(ps.IDs)
			a.ms += dur * float64(len(ps.Recorded))
			byNeuron := map[int32][]float64{}
			for k, id := range ps.IDs {
				byNeuron[id] = append(byNeuron[id], ps.Times[k])
			}
			for _, ts := range byNeuron {
				if cv, ok := isiCV(ts); ok {
					a.cvSum += cv
					a.cvN++
				}
			}
		}
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	header := false
	for pi, a := range accs {
		if a.recorded == 0 {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "  population\tsize\trecorded\tspikes\trate (Hz)\tISI CV\t")
			header = true
		}
		rate := 0.0
		if a.ms > 0 {
			rate = float64(a.spikes) / (a.ms / 1000)
		}
		cv := "-"
		if a.cvN > 0 {
			cv = fmt.Sprintf("%.2f", a.cvSum/float64(a.cvN))
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%.2f\t%s\t\n", popLabel(d, pi), d.Populations[pi].Size, a.recorded, a.spikes, rate, cv)
	}
	tw.Flush()
}

// isiCV returns the coefficient of variation of the intervals between the
// sorted spike times ts, when there are at least two intervals.
func isiCV(ts []float64) (float64, bool) {
	if len(ts) < 3 {
		return 0, false
	}
	sort.Float64s(ts)
	n := float64(len(ts) - 1)
	mean := (ts[len(ts)-1] - ts[0]) / n
	if mean <= 0 {
		return 0, false
	}
	ss := 0.0
	for i := 1; i < len(ts); i++ {
		d := ts[i] - ts[i-1] - mean
		ss += d * d
	}
	return math.Sqrt(ss/n) / mean, true
}
