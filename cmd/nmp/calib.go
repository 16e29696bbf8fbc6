package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nmp-platform/nmp/system/brainscales2"
	"github.com/nmp-platform/nmp/system/brainscales2/calib"
	"github.com/nmp-platform/nmp/system/brainscales2/nightly"
	"github.com/nmp-platform/nmp/worker"
)

const calibUsage = `
usage: nmp calib run [-chip NAME] [-preset spiking|spiking2] [-target FILE] [-seed N] [-o DIR] [-evaluate]
       nmp calib show FILE
       nmp calib nightly -store DIR [-chip NAME]
       nmp calib list -store DIR [-chip NAME]

Calibrates an emulated BrainScaleS-2 chip as calix calibrates a real one
(docs/calibration.md): the CADC, then the neurons for spiking operation
(synaptic time constants, synapse DAC bias, threshold, synaptic gains and
references, leak, membrane time constant, reset, refractory clocks), the
CADC again and refine_potentials. A full-chip calibration takes about two
seconds (calix on hardware: about five minutes).

run writes DIR/<preset>_cocolist.pbin (binary) and
DIR/<preset>_cocolist.json (readable), which pynn_brainscales reads with
helper.chip_from_file. -target takes a JSON SpikingTarget instead of a
preset. -evaluate measures the residual spread of each parameter before and
after, as calix's hardware tests do, and prints it.

show prints a calibration file's chip, targets, failed neurons and timings.

nightly makes a chip's default calibrations (spiking and spiking2) now, as
a new version in a calibration store, which becomes the latest that jobs
find (a worker started with -calibrations DIR does this every night and
gives its jobs DIR); a failed run keeps the previous latest. list shows a
chip's versions, the latest marked, and its failed runs.

Examples:

	nmp calib run -chip nmp-virtual-hx-3 -o calib/
	nmp calib run -preset spiking2 -evaluate
	nmp calib show calib/spiking_cocolist.pbin
	nmp calib nightly -store /var/lib/nmp/calibrations -chip nmp-virtual-hx-0
	nmp calib list -store /var/lib/nmp/calibrations
`

func runCalib(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("nmp calib: give a subcommand: run, show, nightly, list")
	}
	switch args[0] {
	case "run":
		return runCalibRun(ctx, env, args[1:])
	case "show":
		return runCalibShow(env, args[1:])
	case "nightly":
		return runCalibNightly(ctx, env, args[1:])
	case "list":
		return runCalibList(env, args[1:])
	case "exec":
		return runCalibExec(ctx, env)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, strings.TrimLeft(calibUsage, "\n"))
		return nil
	}
	return usagef("nmp calib: unknown subcommand %q (run, show, nightly, list)", args[0])
}

func defaultChip(env *Env) string {
	if c := env.Getenv("NMP_BSS2_CHIP"); c != "" {
		return c
	}
	return "nmp-virtual-hx-0"
}

func runCalibRun(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "calib run", calibUsage)
	chip := fs.String("chip", defaultChip(env), "the virtual chip (default $NMP_BSS2_CHIP, else nmp-virtual-hx-0)")
	preset := fs.String("preset", "spiking", "the default calibration: spiking or spiking2")
	targetFile := fs.String("target", "", "a JSON SpikingTarget instead of the preset")
	seed := fs.Uint64("seed", 1, "the seed of the measurements' temporal noise and the searches' start noise")
	out := fs.String("o", ".", "the directory to write the calibration files to")
	evaluate := fs.Bool("evaluate", false, "measure and print the residual spread before and after")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	t, err := calib.Preset(*preset)
	if err != nil {
		return usagef("%v", err)
	}
	if *targetFile != "" {
		b, err := os.ReadFile(*targetFile)
		if err != nil {
			return err
		}
		t = calib.SpikingTarget{}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return fmt.Errorf("%s: %w", *targetFile, err)
		}
	}
	h, err := brainscales2.OpenHardware(ctx, brainscales2.HardwareOptions{Chip: *chip, Seed: *seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "calibrating %s (%s)\n", *chip, *preset)
	r, err := calib.Calibrate(h, t, calib.SpikingOptions{Seed: *seed, Progress: func(s string) {
		if env.IsTerminal {
			fmt.Fprintf(env.Stderr, "  %s\n", s)
		}
	}})
	if err != nil {
		return err
	}
	name := *preset
	if *targetFile != "" {
		name = strings.TrimSuffix(filepath.Base(*targetFile), filepath.Ext(*targetFile))
	}
	paths, err := writeCalibration(r, *out, name)
	if err != nil {
		return err
	}
	printCalibSummary(env.Stdout, r)
	for _, p := range paths {
		fmt.Fprintf(env.Stdout, "wrote %s\n", p)
	}
	if *evaluate {
		res, err := calib.Evaluate(h, r)
		if err != nil {
			return err
		}
		printResiduals(env.Stdout, res)
	}
	return nil
}

// writeCalibration writes a result's two files into dir; nothing is left
// half-written on failure.
func writeCalibration(r *calib.SpikingResult, dir, name string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var js, bin bytes.Buffer
	if err := calib.WriteJSON(&js, r); err != nil {
		return nil, err
	}
	if err := calib.WriteBinary(&bin, r); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range []struct {
		ext  string
		data []byte
	}{{".pbin", bin.Bytes()}, {".json", js.Bytes()}} {
		p := filepath.Join(dir, name+"_cocolist"+f.ext)
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, f.data, 0o644); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, p); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func printCalibSummary(w io.Writer, r *calib.SpikingResult) {
	fmt.Fprintf(w, "chip %s, calibrated %s by %s in %.2f s (on the real chip the measurements would take about %.0f s)\n",
		r.Chip, r.Created, r.Algorithm, r.Seconds, r.HardwareSeconds)
	if r.CADC != nil {
		fmt.Fprintf(w, "CADC: reads at one voltage, std %.2f -> %.2f LSB\n", r.CADC.Before.Std, r.CADC.After.Std)
	}
	if r.Neuron == nil {
		return
	}
	failed := r.Neuron.FailedNeurons()
	fmt.Fprintf(w, "neurons: %d of 512 calibrated", 512-len(failed))
	if len(failed) > 0 {
		fmt.Fprintf(w, "; failed (a parameter at its range limit):")
		for step, ns := range r.Neuron.Failed {
			fmt.Fprintf(w, " %s %v", step, ns)
		}
	}
	fmt.Fprintln(w)
}

func printResiduals(w io.Writer, res []calib.Residual) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "parameter\ttarget\tmedian\tstd before\tstd after\tratio\tcalix accepts")
	for _, x := range res {
		fmt.Fprintf(tw, "%s\t%.2f %s\t%.2f\t%.3f\t%.3f\t%.3f\t< %.2f\n", x.Parameter, x.Target, x.Unit, x.MedianAfter, x.StdBefore, x.StdAfter, x.Ratio, x.CalixRatio)
	}
	tw.Flush()
}

func runCalibShow(env *Env, args []string) error {
	fs := newFlagSet(env, "calib show", calibUsage)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("nmp calib show: give one calibration file")
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	r, err := calib.Read(b)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	printCalibSummary(env.Stdout, r)
	t, _ := json.Marshal(r.Target)
	fmt.Fprintf(env.Stdout, "target: %s\n", t)
	for _, s := range r.Neuron.Steps {
		fmt.Fprintf(env.Stdout, "  %-28s %.3f s\n", s.Name, s.Seconds)
	}
	return nil
}

// calibRequest is what nmp's Python calix asks of `nmp calib exec` on
// stdin: one calix function on a chip that holds the state given.
type calibRequest struct {
	Op            string               `json:"op"`
	Chip          string               `json:"chip"`
	Seed          uint64               `json:"seed"`
	SystemOptions json.RawMessage      `json:"system_options,omitempty"`
	CADCTarget    *calib.CADCTarget    `json:"cadc_target,omitempty"`
	CADCOptions   calib.CADCOptions    `json:"cadc_options"`
	CADC          *calib.CADCResult    `json:"cadc,omitempty"`
	Neuron        *calib.NeuronResult  `json:"neuron,omitempty"`
	Target        *calib.NeuronTarget  `json:"target,omitempty"`
	Spiking       *calib.SpikingTarget `json:"spiking_target,omitempty"`
	Refine        *bool                `json:"refine_potentials,omitempty"`
	RateKHz       calib.Values         `json:"rate_khz,omitempty"`
}

type calibReply struct {
	CADC    *calib.CADCResult    `json:"cadc,omitempty"`
	Neuron  *calib.NeuronResult  `json:"neuron,omitempty"`
	Spiking *calib.SpikingResult `json:"spiking,omitempty"`
	Seconds float64              `json:"seconds"`
}

func runCalibExec(ctx context.Context, env *Env) error {
	t0 := time.Now()
	var req calibRequest
	dec := json.NewDecoder(env.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("calibration request: %w", err)
	}
	if req.Chip == "" {
		req.Chip = defaultChip(env)
	}
	h, err := brainscales2.OpenHardware(ctx, brainscales2.HardwareOptions{Chip: req.Chip, Seed: req.Seed, SystemOptions: req.SystemOptions})
	if err != nil {
		return err
	}
	var rep calibReply
	switch req.Op {
	case "cadc":
		t := calib.DefaultCADCTarget()
		if req.CADCTarget != nil {
			t = *req.CADCTarget
		}
		rep.CADC, err = calib.CalibrateCADC(h, t, req.CADCOptions)
	case "neuron":
		t := calib.NeuronTarget{}
		if req.Target != nil {
			t = *req.Target
		}
		rep.Neuron, err = calib.CalibrateNeurons(h, req.CADC, t, calib.NeuronOptions{Seed: req.Seed})
	case "leak_over_threshold", "refine":
		if req.Neuron == nil {
			return fmt.Errorf("calibration request: %s needs the neuron calibration's result", req.Op)
		}
		if req.Op == "refine" {
			err = calib.RefinePotentials(h, req.CADC, req.Neuron, req.Target, req.Seed)
		} else {
			err = calib.CalibrateLeakOverThreshold(h, req.CADC, req.Neuron, req.RateKHz, req.Seed)
		}
		rep.Neuron = req.Neuron
	case "spiking":
		t := calib.SpikingTarget{}
		if req.Spiking != nil {
			t = *req.Spiking
		}
		rep.Spiking, err = calib.Calibrate(h, t, calib.SpikingOptions{CADC: req.CADCOptions, RefinePotentials: req.Refine, Seed: req.Seed})
	default:
		return fmt.Errorf("calibration request: unknown op %q (cadc, neuron, leak_over_threshold, refine, spiking)", req.Op)
	}
	if err != nil {
		return err
	}
	rep.Seconds = time.Since(t0).Seconds()
	return json.NewEncoder(env.Stdout).Encode(&rep)
}

// nightlyCalibrations makes a worker keep its chips' nightly calibrations
// in dir (at hour, and at start for a chip that has none) and tell its jobs
// where they are ($NMP_BSS2_CALIBRATION_DIR, read by
// pynn_brainscales.helper.nightly_calib_path).
func nightlyCalibrations(cfg *worker.Config, dir string, hour int) error {
	if hour < 0 || hour > 23 {
		return usagef("-calibration-hour: %d is not an hour of the day (0 to 23)", hour)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("-calibrations: %w", err)
	}
	store := &nightly.Store{Dir: abs}
	cfg.JobEnv = append(cfg.JobEnv, "NMP_BSS2_CALIBRATION_DIR="+abs)
	cfg.Expose = append(cfg.Expose, abs)
	cfg.Nightly = &worker.Nightly{System: "brainscales2", Hour: hour,
		Due: func(chip string) bool {
			v, err := store.Latest(chip)
			return err == nil && v == nil
		},
		Run: func(ctx context.Context, chip string) error {
			_, err := store.Run(ctx, chip)
			return err
		}}
	return nil
}

func runCalibNightly(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "calib nightly", calibUsage)
	store := fs.String("store", "", "the calibration store (a worker's -calibrations directory)")
	chip := fs.String("chip", defaultChip(env), "the virtual chip")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *store == "" {
		return usagef("nmp calib nightly: give -store DIR")
	}
	s := &nightly.Store{Dir: *store}
	v, err := s.Run(ctx, *chip)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: version %s is the latest (%s, %.1f s)\n", v.Chip, v.Version, v.Path, v.Seconds)
	return nil
}

func runCalibList(env *Env, args []string) error {
	fs := newFlagSet(env, "calib list", calibUsage)
	store := fs.String("store", "", "the calibration store")
	chip := fs.String("chip", "", "one chip (default: all in the store)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *store == "" {
		return usagef("nmp calib list: give -store DIR")
	}
	chips := []string{*chip}
	if *chip == "" {
		entries, err := os.ReadDir(*store)
		if err != nil {
			return err
		}
		chips = nil
		for _, e := range entries {
			if e.IsDir() {
				chips = append(chips, e.Name())
			}
		}
	}
	s := &nightly.Store{Dir: *store}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "chip\tversion\tcreated\tfailed neurons (spiking, spiking2)\tseconds\t")
	for _, c := range chips {
		vs, fails, err := s.List(c)
		if err != nil {
			return err
		}
		for _, v := range vs {
			mark := ""
			if v.Latest {
				mark = "latest"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d, %d\t%.1f\t%s\n", c, v.Version, v.Created, v.Presets["spiking"].Failed, v.Presets["spiking2"].Failed, v.Seconds, mark)
		}
		for _, f := range fails {
			fmt.Fprintf(tw, "%s\tfailed\t%s\t%s\t\t\n", c, f.Time, f.Error)
		}
	}
	return tw.Flush()
}
