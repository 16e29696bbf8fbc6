package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/nmpi"

	"github.com/nmp-platform/nmp/system/brainscales2"
	"github.com/nmp-platform/nmp/system/brainscales2/calib"
	"github.com/nmp-platform/nmp/worker"
)

const calibUsage = `
usage: nmp calib run [-chip NAME] [-preset spiking|spiking2] [-target FILE] [-seed N] [-o DIR] [-evaluate]
       nmp calib run -nightly [-chip NAME] [-reason TEXT] [-wait]     (on the server; administrators)
       nmp calib show FILE | ID | -chip NAME                         (a file, or the server's calibrations)
       nmp calib list [-chip NAME] [-status S] [-limit N] [-json]    (the server's calibrations)
       nmp calib list -store DIR [-chip NAME]                        (a local store)
       nmp calib nightly -store DIR [-chip NAME]                     (a local store, without a server)

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

The platform keeps nightly calibrations: the server asks, every night (nmp
serve -calibration-hour) and for a chip new to it, for the default
calibrations (spiking and spiking2) of every chip a worker serves; a worker
serving the chip makes them, and the server keeps each as a version, the
newest being the latest that jobs find (helper.nightly_calib_path(),
chip_from_nightly()). A failed calibration keeps the previous latest and is
shown as failed. run -nightly asks the server for one now (administrators;
-wait follows it to its end); list shows the versions, the latest marked,
and failures; show ID (or -chip NAME: its latest) prints one, with its
targets and failed neurons.

show FILE prints a calibration file's chip, targets, failed neurons and
timings. nightly and list -store work on a directory of the same layout
without a server (docs/calibration.md).

Examples:

	nmp calib run -chip nmp-virtual-hx-3 -o calib/
	nmp calib run -preset spiking2 -evaluate
	nmp calib show calib/spiking_cocolist.pbin
	nmp calib run -nightly -chip nmp-virtual-hx-0 -wait
	nmp calib list -chip nmp-virtual-hx-0
	nmp calib show -chip nmp-virtual-hx-0
` + clientHelp + "\n"

func runCalib(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("nmp calib: give a subcommand: run, show, nightly, list")
	}
	switch args[0] {
	case "run":
		return runCalibRun(ctx, env, args[1:])
	case "show":
		return runCalibShow(ctx, env, args[1:])
	case "nightly":
		return runCalibNightly(ctx, env, args[1:])
	case "list":
		return runCalibList(ctx, env, args[1:])
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
	onServer := fs.Bool("nightly", false, "ask the job queue server for the chip's nightly calibration now (administrators)")
	reason := fs.String("reason", "", "with -nightly: why, for the calibration's history")
	wait := fs.Bool("wait", false, "with -nightly: wait for the calibration to end")
	cf := addClientFlags(fs, env, true)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *onServer {
		return runCalibRequest(ctx, env, cf, *chip, *reason, *wait)
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
		cres, err := calib.EvaluateCOBA(h, r) // none without COBA
		if err != nil {
			return err
		}
		printResiduals(env.Stdout, append(res, cres...))
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
		accepts := fmt.Sprintf("< %.2f", x.CalixRatio)
		if x.CalixRatio == 0 {
			accepts = "(no figure)"
		}
		fmt.Fprintf(tw, "%s\t%.2f %s\t%.2f\t%.3f\t%.3f\t%.3f\t%s\n", x.Parameter, x.Target, x.Unit, x.MedianAfter, x.StdBefore, x.StdAfter, x.Ratio, accepts)
	}
	tw.Flush()
}

func runCalibShow(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "calib show", calibUsage)
	chip := fs.String("chip", "", "the server's latest calibration of this chip")
	cf := addClientFlags(fs, env, true)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || (len(pos) == 0) == (*chip == "") {
		return usagef("nmp calib show: give one calibration file, a calibration id of the server, or -chip NAME")
	}
	if *chip != "" || isCalibrationID(pos[0]) {
		return runCalibShowServer(ctx, env, cf, *chip, pos)
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

// calibrationWorker makes a worker keep its chips' latest calibrations in
// dir (default WORK-DIR/calibrations) for its jobs
// ($NMP_BSS2_CALIBRATION_DIR, read by pynn_brainscales'
// helper.nightly_calib_path) and, with calibrate, run the calibrations the
// server asks for of its BrainScaleS-2 chips.
func calibrationWorker(cfg *worker.Config, dir string, calibrate bool) error {
	if dir == "" {
		dir = filepath.Join(cfg.WorkDir, "calibrations")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	cfg.CalibrationSystem = "brainscales2"
	cfg.CalibrationEnv = "NMP_BSS2_CALIBRATION_DIR"
	cfg.CalibrationDir = abs
	if calibrate {
		cfg.Calibrate = nightlyCalibration
	}
	return nil
}

// nightlyCalibration makes a chip's default calibrations (calib.Presets),
// each in both file formats, with a summary: what the platform keeps as
// one version of the chip's nightly calibration.
func nightlyCalibration(ctx context.Context, chip string) (*worker.CalibrationResult, error) {
	t0 := time.Now()
	seed := uint64(t0.UnixNano())
	out := &worker.CalibrationResult{Files: map[string][]byte{}}
	type presetSummary struct {
		FailedNeurons   int              `json:"failed_neurons"`
		Failed          map[string][]int `json:"failed,omitempty"`
		Seconds         float64          `json:"seconds"`
		HardwareSeconds float64          `json:"hardware_seconds"`
		CADCStd         float64          `json:"cadc_std_after"`
		Seed            uint64           `json:"seed"`
	}
	summary := struct {
		Algorithm string                   `json:"algorithm"`
		Presets   map[string]presetSummary `json:"presets"`
		Seconds   float64                  `json:"seconds"`
	}{Presets: map[string]presetSummary{}}
	for i, preset := range calib.Presets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t, err := calib.Preset(preset)
		if err != nil {
			return nil, err
		}
		s := seed + uint64(i)
		h, err := brainscales2.OpenHardware(ctx, brainscales2.HardwareOptions{Chip: chip, Seed: s})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", preset, err)
		}
		r, err := calib.Calibrate(h, t, calib.SpikingOptions{Seed: s})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", preset, err)
		}
		if r.Chip != chip {
			return nil, fmt.Errorf("%s: the calibration is of chip %q, not %q", preset, r.Chip, chip)
		}
		var js, bin bytes.Buffer
		if err := calib.WriteJSON(&js, r); err != nil {
			return nil, err
		}
		if err := calib.WriteBinary(&bin, r); err != nil {
			return nil, err
		}
		out.Files[preset+"_cocolist.json"], out.Files[preset+"_cocolist.pbin"] = js.Bytes(), bin.Bytes()
		ps := presetSummary{Seconds: r.Seconds, HardwareSeconds: r.HardwareSeconds, Seed: s}
		if r.Neuron != nil {
			ps.FailedNeurons, ps.Failed = len(r.Neuron.FailedNeurons()), r.Neuron.Failed
		}
		if r.CADC != nil {
			ps.CADCStd = r.CADC.After.Std
		}
		summary.Presets[preset] = ps
		summary.Algorithm = r.Algorithm
	}
	summary.Seconds = time.Since(t0).Seconds()
	b, err := json.Marshal(summary)
	if err != nil {
		return nil, err
	}
	out.Summary = b
	return out, nil
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
	s := &calibStore{Dir: *store}
	v, err := s.Run(ctx, *chip)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: version %s is the latest (%s, %.1f s)\n", v.Chip, v.Version, v.Path, v.Seconds)
	return nil
}

func runCalibList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "calib list", calibUsage)
	store := fs.String("store", "", "a local calibration store instead of the server")
	chip := fs.String("chip", "", "one chip (default: all)")
	var status listFlag
	fs.Var(&status, "status", "only calibrations with this status: queued, running, finished, failed (repeatable)")
	limit := fs.Int("limit", 20, "at most this many calibrations")
	cf := addClientFlags(fs, env, true)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("nmp calib list: unexpected argument %q", pos[0])
	}
	if *store == "" {
		return runCalibListServer(ctx, env, cf, *chip, status, *limit)
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
	s := &calibStore{Dir: *store}
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

// isCalibrationID tells whether s is a calibration id of the server rather
// than a file name (a file of that name wins).
func isCalibrationID(s string) bool {
	if _, err := os.Stat(s); err == nil {
		return false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// runCalibRequest asks the server for a calibration of the chip now.
func runCalibRequest(ctx context.Context, env *Env, cf *clientFlags, chip, reason string, wait bool) error {
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("calib run: %w", err)
	}
	cal, err := c.RequestCalibration(ctx, chip, reason)
	if err != nil {
		return fmt.Errorf("calib run: %w", err)
	}
	if cal.Status == nmpi.CalibrationQueued || cal.Status == nmpi.CalibrationRunning {
		fmt.Fprintf(env.Stderr, "calibration %d of %s is %s (%s)\n", cal.ID, cal.Chip, cal.Status, cal.Reason)
	}
	for wait && (cal.Status == nmpi.CalibrationQueued || cal.Status == nmpi.CalibrationRunning) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if cal, err = c.Calibration(ctx, cal.ID); err != nil {
			return fmt.Errorf("calib run: %w", err)
		}
	}
	if cf.json() {
		return printJSON(env, cal)
	}
	printServerCalibration(env.Stdout, cal)
	if cal.Status == nmpi.CalibrationFailed {
		return fmt.Errorf("calibration %d of %s failed: %s (the chip keeps its previous calibration)", cal.ID, cal.Chip, cal.Error)
	}
	return nil
}

func printServerCalibration(w io.Writer, c *client.Calibration) {
	latest := ""
	if c.Latest {
		latest = ", the chip's latest"
	}
	fmt.Fprintf(w, "calibration %d of %s (%s): %s%s\n", c.ID, c.Chip, c.Reason, c.Status, latest)
	if c.Started != nil {
		fmt.Fprintf(w, "  asked for %s, started %s by %s (attempt %d)", shortTime(c.Created), shortTime(*c.Started), c.Worker, c.Attempts)
		if c.Completed != nil {
			fmt.Fprintf(w, ", ended %s", shortTime(*c.Completed))
		}
		fmt.Fprintln(w)
	}
	if c.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", c.Error)
	}
	for _, f := range c.Files {
		fmt.Fprintf(w, "  %s (%d bytes, sha256 %.12s…)\n", f.Name, f.Size, f.Hash)
	}
}

// presetSummaries reads the presets of a calibration's summary.
func presetSummaries(c *client.Calibration) (string, map[string]struct {
	FailedNeurons int     `json:"failed_neurons"`
	Seconds       float64 `json:"seconds"`
}) {
	var s struct {
		Algorithm string `json:"algorithm"`
		Presets   map[string]struct {
			FailedNeurons int     `json:"failed_neurons"`
			Seconds       float64 `json:"seconds"`
		} `json:"presets"`
	}
	_ = json.Unmarshal(c.Summary, &s)
	return s.Algorithm, s.Presets
}

func runCalibListServer(ctx context.Context, env *Env, cf *clientFlags, chip string, status []string, limit int) error {
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("calib list: %w", err)
	}
	q := client.CalibrationQuery{Status: status, Limit: limit}
	if chip != "" {
		q.Chip = []string{chip}
	}
	cs, err := c.Calibrations(ctx, q)
	if err != nil {
		return fmt.Errorf("calib list: %w", err)
	}
	if cf.json() {
		if cs == nil {
			cs = []client.Calibration{}
		}
		return printJSON(env, cs)
	}
	if len(cs) == 0 {
		fmt.Fprintln(env.Stdout, "no calibrations")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCHIP\tSTATUS\tASKED FOR\tENDED\tFAILED NEURONS\tREASON\t")
	for i := range cs {
		x := &cs[i]
		ended, failed := "", ""
		if x.Completed != nil {
			ended = shortTime(*x.Completed)
		}
		if _, ps := presetSummaries(x); len(ps) > 0 {
			var parts []string
			for _, p := range calib.Presets {
				if s, ok := ps[p]; ok {
					parts = append(parts, fmt.Sprintf("%s %d", p, s.FailedNeurons))
				}
			}
			failed = strings.Join(parts, ", ")
		}
		st := x.Status
		if x.Latest {
			st += " (latest)"
		}
		reason := x.Reason
		if x.Error != "" {
			reason += ": " + x.Error
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", x.ID, x.Chip, st, shortTime(x.Created), ended, failed, reason)
	}
	return tw.Flush()
}

func runCalibShowServer(ctx context.Context, env *Env, cf *clientFlags, chip string, pos []string) error {
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("calib show: %w", err)
	}
	var cal *client.Calibration
	if chip != "" {
		cs, err := c.Calibrations(ctx, client.CalibrationQuery{Chip: []string{chip}, Status: []string{nmpi.CalibrationFinished}, Limit: 1})
		if err != nil {
			return fmt.Errorf("calib show: %w", err)
		}
		if len(cs) == 0 {
			return fmt.Errorf("calib show: chip %s has no calibration on the server yet", chip)
		}
		cal = &cs[0]
	} else {
		id, _ := strconv.ParseInt(pos[0], 10, 64)
		if cal, err = c.Calibration(ctx, id); err != nil {
			return fmt.Errorf("calib show: %w", err)
		}
	}
	if cf.json() {
		return printJSON(env, cal)
	}
	printServerCalibration(env.Stdout, cal)
	for _, p := range calib.Presets {
		name := p + "_cocolist.json"
		found := false
		for _, f := range cal.Files {
			found = found || f.Name == name
		}
		if !found {
			continue
		}
		b, err := c.CalibrationFile(ctx, cal.ID, name)
		if err != nil {
			return fmt.Errorf("calib show: %w", err)
		}
		r, err := calib.Read(b)
		if err != nil {
			return fmt.Errorf("calib show: %s of calibration %d: %w", name, cal.ID, err)
		}
		t, _ := json.Marshal(r.Target)
		var buf bytes.Buffer
		printCalibSummary(&buf, r)
		fmt.Fprintf(env.Stdout, "%s:\n", p)
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			fmt.Fprintf(env.Stdout, "  %s\n", line)
		}
		fmt.Fprintf(env.Stdout, "  target: %s\n", t)
	}
	return nil
}
