package calib

import (
	"fmt"
	"math"
	"time"
)

// apply writes a neuron calibration result to the chip and returns the
// calibration state that continues from it.
func resume(c Chip, cadc *CADCResult, r *NeuronResult, seed uint64) (*neuronCalib, error) {
	if cadc == nil {
		return nil, ErrNoCADCCalibration
	}
	if err := c.Configure(nil, cadc.Globals()); err != nil {
		return nil, err
	}
	if err := c.Configure(nil, r.Globals); err != nil {
		return nil, err
	}
	n := &neuronCalib{c: c, t: r.Target.withDefaults(), cfg: r.Neurons, onChip: map[string][]float64{}, res: r, seed: seed}
	if n.res.Failed == nil {
		n.res.Failed = map[string][]int{}
	}
	return n, n.write(nil)
}

// CalibrateLeakOverThreshold is calix.spiking.neuron.calibrate_leak_over_threshold:
// with the leak above the threshold, each neuron fires regularly; its
// threshold is searched (binary search on spike rates) so that it fires at
// rateKHz (one value or 512; 0 leaves a neuron's threshold as it is). The
// leak and reset of r must leave room for a threshold between them.
func CalibrateLeakOverThreshold(c Chip, cadc *CADCResult, r *NeuronResult, rateKHz Values, seed uint64) error {
	if len(rateKHz) != 1 && len(rateKHz) != NumNeurons {
		return fmt.Errorf("leak_over_threshold_rate: give one value or one per neuron (512), got an array of shape (%d,)", len(rateKHz))
	}
	rates := rateKHz.expand()
	active := make([]bool, NumNeurons)
	slowest := math.Inf(1)
	any := false
	for i, x := range rates {
		if !(x >= 0 && x <= 1000) {
			return fmt.Errorf("leak_over_threshold_rate: %g kHz at neuron %d is outside 0 to 1000 kHz", x, i)
		}
		if x > 0 {
			active[i], any = true, true
			slowest = math.Min(slowest, x)
		}
	}
	if !any {
		return nil
	}
	n, err := resume(c, cadc, r, seed)
	if err != nil {
		return err
	}
	for i := range rates {
		if active[i] && r.Target.Leak.at(i) <= r.Target.Reset.at(i) {
			return fmt.Errorf("leak_over_threshold_rate: neuron %d: its leak (%g) must lie above its reset (%g) for a threshold between them", i, r.Target.Leak.at(i), r.Target.Reset.at(i))
		}
	}
	recUs := math.Min(math.Max(30*1000/slowest, 50), 1000)
	measure := func() ([]float64, error) {
		sp, err := c.SpikeTimes(5, recUs)
		if err != nil {
			return nil, err
		}
		out := make([]float64, NumNeurons)
		for i, ts := range sp {
			out[i] = rateOf(ts, recUs)
		}
		return out, nil
	}
	over := map[string][]float64{"threshold_enable": filled(1)}
	return n.timed("leak over threshold", func() error {
		return n.search("leak over threshold", "threshold_v_threshold", Range{0, CapMemMax}, true, rates, over, measure, active)
	})
}

// rateOf is a spike train's rate in kHz: from the first to the last spike
// when there are several, else the count over the recording.
func rateOf(ts []float64, recUs float64) float64 {
	if len(ts) >= 3 {
		return float64(len(ts)-1) / (ts[len(ts)-1] - ts[0]) * 1000
	}
	return float64(len(ts)) / recUs * 1000
}

// RefinePotentials is calix.spiking.neuron.refine_potentials: leak, reset
// and threshold calibrated again on a chip that holds r (after the CADC was
// calibrated again), to take out what the other parameters moved. t, when
// given, supplies new potential targets.
func RefinePotentials(c Chip, cadc *CADCResult, r *NeuronResult, t *NeuronTarget, seed uint64) error {
	n, err := resume(c, cadc, r, seed)
	if err != nil {
		return err
	}
	if t != nil {
		tt := t.withDefaults()
		if err := tt.Check(); err != nil {
			return err
		}
		r.Target.Leak, r.Target.Reset, r.Target.Threshold = tt.Leak, tt.Reset, tt.Threshold
		n.t = r.Target.withDefaults()
	}
	for _, s := range []struct {
		name string
		f    func() error
	}{
		{"refine leak", func() error { return n.leak(n.t.Leak.expand(), "leak") }},
		{"refine reset", func() error { return n.reset(n.t.Reset.expand()) }},
		{"refine threshold", func() error { return n.threshold(n.t.Threshold.expand()) }},
	} {
		if err := n.timed(s.name, s.f); err != nil {
			return err
		}
	}
	return n.write(nil)
}

// SpikingTarget is calix's SpikingCalibTarget (without the STP and
// correlation parts).
type SpikingTarget struct {
	CADC   CADCTarget   `json:"cadc_target"`
	Neuron NeuronTarget `json:"neuron_target"`
	// LeakOverThresholdKHz, when set, follows the neuron calibration with
	// calibrate_leak_over_threshold (an nmp extension of the top level).
	LeakOverThresholdKHz Values `json:"leak_over_threshold_rate_khz,omitempty"`
}

// SpikingOptions are calix's SpikingCalibOptions.
type SpikingOptions struct {
	CADC CADCOptions `json:"cadc_options"`
	// RefinePotentials: nil means calix's default (refine unless COBA is used).
	RefinePotentials *bool  `json:"refine_potentials"`
	Seed             uint64 `json:"seed"`
	// Progress, when set, hears each step's name.
	Progress func(step string) `json:"-"`
}

// SpikingResult is calix's SpikingCalibResult.
type SpikingResult struct {
	// Format and Version identify the file format (docs/calibration.md).
	Format  string        `json:"format"`
	Version int           `json:"version"`
	Chip    string        `json:"chip"`
	Target  SpikingTarget `json:"target"`
	// Algorithm identifies the calibration code (part of the cache key).
	Algorithm string        `json:"algorithm"`
	CADC      *CADCResult   `json:"cadc"`
	Neuron    *NeuronResult `json:"neuron"`
	// Seconds is the wall time; HardwareSeconds, when the chip reports it,
	// what the measurements would take on the real chip.
	Seconds         float64 `json:"seconds"`
	HardwareSeconds float64 `json:"hardware_seconds,omitempty"`
	Created         string  `json:"created"`
}

// FileFormat and FileVersion identify calibration files.
const (
	FileFormat  = "nmp-bss2-calibration"
	FileVersion = 1
	// AlgorithmVersion changes whenever the calibration's results would.
	AlgorithmVersion = "nmp-calix-2"
)

// Calibrate is calix.spiking.calibrate: CADC, neurons, and (unless COBA is
// used or options say otherwise) the CADC again and refine_potentials.
func Calibrate(c Chip, t SpikingTarget, o SpikingOptions) (*SpikingResult, error) {
	t0 := time.Now()
	if t.CADC == (CADCTarget{}) {
		t.CADC = DefaultCADCTarget()
	}
	t.Neuron = t.Neuron.withDefaults()
	if err := t.Neuron.Check(); err != nil {
		return nil, err
	}
	prog := func(s string) {
		if o.Progress != nil {
			o.Progress(s)
		}
	}
	prog("CADC")
	cadc, err := CalibrateCADC(c, t.CADC, o.CADC)
	if err != nil {
		return nil, fmt.Errorf("CADC: %w", err)
	}
	nr, err := CalibrateNeurons(c, cadc, t.Neuron, NeuronOptions{Seed: o.Seed, Progress: o.Progress})
	if err != nil {
		return nil, err
	}
	refine := !t.Neuron.anyCOBA()
	if o.RefinePotentials != nil {
		refine = *o.RefinePotentials
	}
	if refine {
		prog("CADC (again)")
		first := cadc.Before
		cadc, err = CalibrateCADC(c, t.CADC, o.CADC)
		if err != nil {
			return nil, fmt.Errorf("CADC (again): %w", err)
		}
		// "before" is the uncalibrated chip's
		cadc.Before = first
		if err := RefinePotentials(c, cadc, nr, nil, o.Seed+1); err != nil {
			return nil, err
		}
	}
	if t.LeakOverThresholdKHz != nil {
		if err := CalibrateLeakOverThreshold(c, cadc, nr, t.LeakOverThresholdKHz, o.Seed+2); err != nil {
			return nil, err
		}
	}
	for k := range nr.Failed {
		nr.Failed[k] = sortedInts(nr.Failed[k])
	}
	res := &SpikingResult{Format: FileFormat, Version: FileVersion, Chip: c.ID(), Target: t, Algorithm: AlgorithmVersion,
		CADC: cadc, Neuron: nr, Seconds: time.Since(t0).Seconds(), Created: time.Now().UTC().Format(time.RFC3339)}
	if h, ok := c.(interface{ HardwareTimeUs() float64 }); ok {
		res.HardwareSeconds = h.HardwareTimeUs() * 1e-6
	}
	return res, nil
}

// Globals are the chip-wide settings of the result.
func (r *SpikingResult) Globals() map[string][]float64 {
	g := map[string][]float64{}
	if r.CADC != nil {
		for k, v := range r.CADC.Globals() {
			g[k] = v
		}
	}
	if r.Neuron != nil {
		for k, v := range r.Neuron.Globals {
			g[k] = v
		}
	}
	return g
}

// Apply writes the result to a chip.
func (r *SpikingResult) Apply(c Chip) error {
	if err := c.Configure(nil, r.Globals()); err != nil {
		return err
	}
	if r.Neuron != nil {
		return c.Configure(r.Neuron.Neurons, nil)
	}
	return nil
}

// Presets are the default calibrations calix's nightly script generates
// for spiking operation: "spiking" (calix's defaults) and "spiking2".
var Presets = []string{"spiking", "spiking2"}

// Preset returns a named default calibration target.
func Preset(name string) (SpikingTarget, error) {
	switch name {
	case "spiking":
		return SpikingTarget{CADC: DefaultCADCTarget(), Neuron: DefaultNeuronTarget()}, nil
	case "spiking2":
		t := DefaultNeuronTarget()
		t.Leak, t.Reset, t.Threshold = Values{80}, Values{80}, Values{150}
		t.TauMemUs, t.TauSynExc, t.TauSynInh = Values{6}, Values{6}, Values{6}
		t.SynInGmExc, t.SynInGmInh, t.SynapseDACBias = 500, 500, 1000
		return SpikingTarget{CADC: DefaultCADCTarget(), Neuron: t}, nil
	}
	return SpikingTarget{}, fmt.Errorf("no preset %q (presets: %v)", name, Presets)
}
