package brainscales2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// Hardware is one virtual chip as a calibration sees silicon: a
// configuration memory to write (the neuron circuits' CapMem cells and
// switches, the synapse DAC biases, the CADC's ramps and channel offsets,
// the refractory clocks) and the chip's instruments to read (the CADC on
// all channels at once, the MADC, spike times). It runs on the engine
// through one system.Run that it keeps for all its measurements: all 512
// circuits as one HXNeuron population, stimulated through one excitatory
// and one inhibitory synapse row, each measurement a reset (new temporal
// noise), parameter changes and a run.
//
// Its methods take and return only numbers, names and strings: nothing of
// the chip's fixed-pattern noise leaves the package through it (package
// calib holds this with a test).
//
// The MADC reads one neuron at a time on the chip; calix records the
// neurons one after another in one long experiment. Hardware records them
// "at once" (each trace through its MADC channel with its own noise), which
// gives the same traces because the circuits do not interact: the time the
// real chip would need is counted in HardwareTimeUs.
type Hardware struct {
	id   string
	run  *system.Run
	pl   *plan
	ctx  context.Context
	cfg  CADCConfig
	rec  string // the recorded variable, with its device suffix ("" none)
	spk  bool   // spikes recorded
	time float64
	// pending CapMem and switch writes, applied before the next measurement
	pending map[string][]float64
	global  bool // global settings changed
	debug   []float64
}

// HardwareOptions select the virtual chip and its noise.
type HardwareOptions struct {
	// Chip is the chip's name (its fixed-pattern noise).
	Chip string
	// Seed is the seed of the temporal noise of all measurements.
	Seed uint64
	// SystemOptions are further system options (JSON object, as in a
	// description: mismatch, noise, timestep_us); nil: the defaults.
	SystemOptions json.RawMessage
}

const (
	hwPop    = 0
	hwExc    = 1
	hwInh    = 2
	hwWeight = 63
)

// OpenHardware builds the chip for measurements.
func OpenHardware(ctx context.Context, o HardwareOptions) (*Hardware, error) {
	opts := map[string]any{}
	if len(o.SystemOptions) > 0 {
		if err := json.Unmarshal(o.SystemOptions, &opts); err != nil {
			return nil, fmt.Errorf("system options: %w", err)
		}
	}
	if o.Chip != "" {
		opts["chip"] = o.Chip
	}
	def := DefaultCADCConfig()
	if _, ok := opts["cadc"]; !ok {
		opts["cadc"] = def
	}
	ob, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	js := fmt.Sprintf(`{"format":"nmp-network","version":1,"simulation":{"timestep":0.0002,"seed":%d,"threads":1},
	 "system":{"name":"brainscales2","options":%s},
	 "populations":[{"label":"circuits","size":%d,"cell_type":"HXNeuron"},
	   {"label":"excitatory stimulus","size":1,"cell_type":"SpikeSourceArray"},
	   {"label":"inhibitory stimulus","size":1,"cell_type":"SpikeSourceArray"}],
	 "projections":[
	   {"label":"excitatory row","pre":[{"population":1}],"post":[{"population":0}],"receptor_type":"excitatory","synapse":{"type":"StaticSynapse","parameters":{"weight":%d}},"connector":{"type":"AllToAllConnector"}},
	   {"label":"inhibitory row","pre":[{"population":2}],"post":[{"population":0}],"receptor_type":"inhibitory","synapse":{"type":"StaticSynapse","parameters":{"weight":%d}},"connector":{"type":"AllToAllConnector"}}]}`,
		o.Seed, ob, numCircuits, hwWeight, -hwWeight)
	d, err := network.DecodeJSON([]byte(js), nil)
	if err != nil {
		return nil, err
	}
	h := &Hardware{ctx: ctx, pending: map[string][]float64{}}
	r, err := system.NewRun(ctx, System{onPrepare: func(p *plan) { h.pl = p }}, d, system.RunOptions{Threads: 1})
	if err != nil {
		return nil, err
	}
	h.run, h.id = r, h.pl.opts.Chip
	h.pl.sweep = true
	h.cfg = *h.pl.opts.CADC
	h.pl.opts.CADC = &h.cfg
	return h, nil
}

// ID is the chip's identity (the real chip's unique id).
func (h *Hardware) ID() string { return h.id }

// HardwareTimeUs is the time the measurements would have taken on the chip,
// in µs: every run, the MADC's one-neuron-at-a-time recording and calix's
// wait for the CapMem to settle after every configuration (20 ms).
func (h *Hardware) HardwareTimeUs() float64 { return h.time }

const capMemSettleUs = 20000

// Configure writes neuron parameters (HXNeuron names, 512 values each) and
// global settings: synapse_dac_bias (4), cadc_ramp_offset (4),
// cadc_ramp_slope (4), cadc_channel_offset (1024), clock_scale_slow (1),
// clock_scale_fast (1).
func (h *Hardware) Configure(neurons map[string][]float64, globals map[string][]float64) error {
	ct := userCatalog.Cells[hxNeuron]
	for name, xs := range neurons {
		pd := ct.Param(name)
		if pd == nil {
			return fmt.Errorf("neuron parameter %q: HXNeuron has no such parameter", name)
		}
		if len(xs) != numCircuits {
			return fmt.Errorf("neuron parameter %s: %d values, want one per circuit (512)", name, len(xs))
		}
		for i, x := range xs {
			if r := pd.Check(x); r != "" {
				return fmt.Errorf("neuron parameter %s: %s, got %g at circuit %d", name, r, x, i)
			}
		}
		if err := checkEmulated("circuits", map[string]network.Value{name: network.Floats(xs)}); err != nil {
			return err
		}
		h.pending[name] = append([]float64(nil), xs...)
	}
	names := make([]string, 0, len(globals))
	for k := range globals {
		names = append(names, k)
	}
	sort.Strings(names)
	o := &h.pl.opts
	for _, name := range names {
		xs := globals[name]
		want := map[string]int{"synapse_dac_bias": numQuadrants, "cadc_ramp_offset": numQuadrants, "cadc_ramp_slope": numQuadrants,
			"cadc_channel_offset": numCADCChannels, "clock_scale_slow": 1, "clock_scale_fast": 1}[name]
		if want == 0 {
			return fmt.Errorf("global setting %q: the chip has no such setting", name)
		}
		if len(xs) != want {
			return fmt.Errorf("global setting %s: %d values, want %d", name, len(xs), want)
		}
		lo, hi := 0.0, float64(capMemMax)
		switch name {
		case "cadc_channel_offset":
			lo, hi = -128, 127
		case "clock_scale_slow", "clock_scale_fast":
			hi = 15
		}
		for i, x := range xs {
			if !(x >= lo && x <= hi) || x != math.Trunc(x) {
				return fmt.Errorf("global setting %s: value %g at index %d is outside %g to %g", name, x, i, lo, hi)
			}
		}
		switch name {
		case "synapse_dac_bias":
			o.SynapseDACBias = append([]float64(nil), xs...)
		case "cadc_ramp_offset":
			copy(h.cfg.RampOffset, xs)
		case "cadc_ramp_slope":
			copy(h.cfg.RampSlope, xs)
		case "cadc_channel_offset":
			copy(h.cfg.ChannelOffset, xs)
		case "clock_scale_slow":
			o.ClockScaleSlow = int(xs[0])
		case "clock_scale_fast":
			o.ClockScaleFast = int(xs[0])
		}
		h.global = true
	}
	return nil
}

// ReadCADCDebug connects the CapMem debug cell (at code) to every CADC
// channel and returns each channel's mean over samples reads (1024
// channels: causal 0..511, acausal 512..1023).
func (h *Hardware) ReadCADCDebug(code float64, samples int) ([]float64, error) {
	if !(code >= 0 && code <= capMemMax) {
		return nil, fmt.Errorf("debug cell code %g is outside 0 to 1022", code)
	}
	if samples < 1 {
		return nil, errors.New("samples: at least one read")
	}
	x := h.pl.cadcMismatch()
	if h.debug == nil {
		h.debug = make([]float64, numCADCChannels)
	}
	h.pl.actions++
	r := newNoise(h.pl.user.Simulation.Seed, domCADC, 1<<40+h.pl.actions)
	sigma := h.pl.opts.Noise.CADCLSB
	cm := h.pl.opts.Noise.CapMemMV * 1e-3
	var vq [numQuadrants]float64
	for q := range vq {
		vq[q] = capV(code) + x.debugOff[q] + cm*r.Normal()
	}
	for ch := range h.debug {
		v := vq[cadcQuadrant(ch)]
		s := 0.0
		for k := 0; k < samples; k++ {
			s += clampLSB(cadcRead(v, ch, &h.cfg, x)+sigma*r.Normal(), cadcFullScale)
		}
		h.debug[ch] = s / float64(samples)
	}
	h.time += capMemSettleUs + float64(samples)*2
	return append([]float64(nil), h.debug...), nil
}

// prepare applies pending writes and the recording, then resets (a new
// experiment with new temporal noise) and sets the stimulus.
func (h *Hardware) prepare(rec string, spikes bool, excUs, inhUs []float64, offsetUs float64) error {
	ctx := h.ctx
	if len(h.pending) > 0 || h.global {
		ps := map[string]network.Value{}
		for k, v := range h.pending {
			ps[k] = network.Floats(v)
		}
		if len(ps) == 0 {
			// a global change: rewrite one parameter so that the circuits
			// are derived anew
			ps["leak_v_leak"] = network.Floats(h.currentParam("leak_v_leak"))
		}
		if err := h.run.Apply(ctx, &network.Action{Set: &network.SetAction{Selection: network.Selection{{Population: hwPop}}, Parameters: ps}}); err != nil {
			return err
		}
		clear(h.pending)
		h.global = false
		h.time += capMemSettleUs
	}
	if rec != h.rec || spikes != h.spk {
		vars := []string{}
		if spikes {
			vars = append(vars, "spikes")
		}
		if rec != "" {
			vars = append(vars, rec)
		}
		if err := h.run.Apply(ctx, &network.Action{Record: &network.Recording{Selection: network.Selection{{Population: hwPop}}, Variables: vars}}); err != nil {
			return err
		}
		h.rec, h.spk = rec, spikes
	}
	if err := h.run.Apply(ctx, &network.Action{Reset: true}); err != nil {
		return err
	}
	for i, ts := range [][]float64{excUs, inhUs} {
		ms := make([]float64, len(ts))
		for k, t := range ts {
			ms[k] = (t + offsetUs) * 1e-3
		}
		if err := h.run.Apply(ctx, &network.Action{Set: &network.SetAction{Selection: network.Selection{{Population: hwExc + i}},
			Parameters: map[string]network.Value{"spike_times": network.Ragged([][]float64{ms})}}}); err != nil {
			return err
		}
	}
	return nil
}

// currentParam returns the circuits' present value of a parameter.
func (h *Hardware) currentParam(name string) []float64 {
	if m := h.pl.rt.neurons[hwPop]; m != nil {
		if xs, ok := m.pop.Params[name]; ok {
			return append([]float64(nil), xs...)
		}
	}
	return make([]float64, numCircuits)
}

// runFor runs settleUs, applies step (parameter writes at the end of the
// settling, no reset), then runs recordUs more.
func (h *Hardware) runFor(settleUs, recordUs float64, step map[string][]float64) error {
	ms := func(us float64) *float64 { x := us * 1e-3; return &x }
	if len(step) == 0 {
		return h.run.Apply(h.ctx, &network.Action{Run: ms(settleUs + recordUs)})
	}
	if err := h.run.Apply(h.ctx, &network.Action{Run: ms(settleUs)}); err != nil {
		return err
	}
	ps := map[string]network.Value{}
	for k, v := range step {
		if len(v) != numCircuits {
			return fmt.Errorf("step %s: %d values, want 512", k, len(v))
		}
		ps[k] = network.Floats(v)
	}
	if err := h.run.Apply(h.ctx, &network.Action{Set: &network.SetAction{Selection: network.Selection{{Population: hwPop}}, Parameters: ps}}); err != nil {
		return err
	}
	return h.run.Apply(h.ctx, &network.Action{Run: ms(recordUs)})
}

func checkSource(source string) error {
	for _, v := range analogVars {
		if v == source {
			return nil
		}
	}
	return fmt.Errorf("readout source %q: the multiplexer selects one of %v", source, analogVars)
}

// signalOf returns the one signal of the circuits in the segments taken.
func (h *Hardware) signalOf(segs []*engine.Segment, variable string) (*engine.Signal, error) {
	// The last segment is the measurement's (the one before ended with the
	// previous measurement's reset).
	for k := len(segs) - 1; k >= 0; k-- {
		for _, s := range segs[k].Signals {
			if s.Population == hwPop && s.Variable == variable && len(s.Indices) == numCircuits && s.Samples() > 0 {
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("internal: no %s signal recorded", variable)
}

// RecordCADC samples source (v, exc_synin, inh_synin, adaptation) of all
// 512 circuits through the CADC: after settleUs (and the step writes), samples
// reads periodUs apart (at least 0.54 µs, the CADC's rate). Stimulus events
// (µs after the settling) reach all circuits' inputs through one synapse of
// weight 63 each. It returns the reads, sample-major (sample*512+circuit).
func (h *Hardware) RecordCADC(source string, settleUs float64, samples int, periodUs float64, excUs, inhUs []float64, step map[string][]float64) ([]float64, error) {
	if err := checkSource(source); err != nil {
		return nil, err
	}
	if samples < 1 || !(periodUs >= 0.54) {
		return nil, fmt.Errorf("CADC reads: %d samples %g µs apart (at least 1 sample, at least 0.54 µs apart)", samples, periodUs)
	}
	dt := h.pl.opts.TimestepUs
	every := math.Max(1, math.Round(periodUs/dt))
	h.pl.opts.CADCPeriodUs = every * dt
	if err := h.prepare(source+cadcSuffix, false, excUs, inhUs, settleUs); err != nil {
		return nil, err
	}
	recordUs := float64(samples) * every * dt
	if err := h.runFor(settleUs, recordUs, step); err != nil {
		return nil, err
	}
	segs := h.run.Simulator().TakeSegments()
	sig, err := h.signalOf(segs, source+cadcSuffix)
	if err != nil {
		return nil, err
	}
	h.time += settleUs + recordUs
	n := sig.Samples()
	first := n - samples
	if first < 0 {
		return nil, fmt.Errorf("internal: %d CADC samples recorded, %d wanted", n, samples)
	}
	out := make([]float64, samples*numCircuits)
	x := h.pl.cadcMismatch()
	r := newNoise(h.pl.user.Simulation.Seed, domCADC, 1<<41+uint64(segs[len(segs)-1].Index))
	sigma := h.pl.opts.Noise.CADCLSB
	circ := h.pl.mp.circuits[hwPop]
	for s := 0; s < samples; s++ {
		row := sig.Data[(first+s)*len(sig.Indices):]
		for j, idx := range sig.Indices {
			c := circ[idx]
			out[s*numCircuits+c] = clampLSB(cadcRead(row[j], c, &h.cfg, x)+sigma*r.Normal(), cadcFullScale)
		}
	}
	return out, nil
}

// MADCPeriodUs is the time between two MADC samples, in µs.
const MADCPeriodUs = madcPeriodNs * 1e-3

// RecordMADC records source of every circuit through the MADC for recordUs
// after settleUs (and the step writes), as calix's recorder does: one
// circuit after another, each with the same stimulus (µs after the
// settling). It returns one trace per circuit, samples MADCPeriodUs apart
// from the end of the settling.
func (h *Hardware) RecordMADC(source string, settleUs, recordUs float64, excUs, inhUs []float64, step map[string][]float64) ([][]float64, error) {
	if err := checkSource(source); err != nil {
		return nil, err
	}
	if !(recordUs > 0 && recordUs <= 2200) {
		return nil, fmt.Errorf("MADC recording of %g µs: give 0 to 2200 µs (65535 samples)", recordUs)
	}
	if err := h.prepare(source, false, excUs, inhUs, settleUs); err != nil {
		return nil, err
	}
	if err := h.runFor(settleUs, recordUs, step); err != nil {
		return nil, err
	}
	segs := h.run.Simulator().TakeSegments()
	sig, err := h.signalOf(segs, source)
	if err != nil {
		return nil, err
	}
	// One circuit after another, with calix's pause of ten recordings
	// between them.
	h.time += float64(numCircuits) * (settleUs + 11*recordUs)
	dtMs := sig.Interval
	from := int(math.Round(settleUs * 1e-3 / dtMs))
	n := sig.Samples()
	if from >= n {
		return nil, fmt.Errorf("internal: nothing recorded after the settling (%d samples, from %d, interval %g, segments %d, signals %d)", n, from, dtMs, len(segs), len(segs[0].Signals))
	}
	ncol := len(sig.Indices)
	sub := &engine.Signal{Population: sig.Population, Variable: sig.Variable, Indices: sig.Indices,
		TStart: sig.TStart + float64(from)*dtMs, Interval: dtMs, Data: sig.Data[from*ncol:]}
	out := make([][]float64, numCircuits)
	circ := h.pl.mp.circuits[hwPop]
	for j, idx := range sig.Indices {
		conv := h.pl.convert(segs[len(segs)-1].Index, 0, sub, j, int(idx))
		out[circ[idx]] = conv.Data
	}
	return out, nil
}

// SpikeTimes runs the circuits for recordUs after settleUs and returns each
// circuit's spike times in µs from the end of the settling, as the FPGA
// stamps them.
func (h *Hardware) SpikeTimes(settleUs, recordUs float64) ([][]float64, error) {
	if !(recordUs > 0) {
		return nil, fmt.Errorf("spike recording of %g µs", recordUs)
	}
	if err := h.prepare("", true, nil, nil, settleUs); err != nil {
		return nil, err
	}
	if err := h.runFor(settleUs, recordUs, nil); err != nil {
		return nil, err
	}
	segs, err := h.run.Data(true)
	if err != nil {
		return nil, err
	}
	h.time += settleUs + recordUs
	out := make([][]float64, numCircuits)
	circ := h.pl.mp.circuits[hwPop]
	for _, seg := range segs {
		if hwPop >= len(seg.Spikes) {
			continue
		}
		ps := seg.Spikes[hwPop]
		for k, id := range ps.IDs {
			t := ps.Times[k]*1e3 - settleUs
			if t >= 0 {
				c := circ[id]
				out[c] = append(out[c], t)
			}
		}
	}
	return out, nil
}

func newNoise(seed uint64, keys ...uint64) *rng.Stream {
	r := rng.New(rng.Derive(seed, keys...))
	return &r
}
