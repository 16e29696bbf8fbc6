package calib

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// NeuronOptions are calix's NeuronCalibOptions, and nmp's seed of the
// noisy searches' start noise.
type NeuronOptions struct {
	Seed uint64 `json:"seed"`
	// Progress, when set, hears the name of each step as it starts.
	Progress func(step string) `json:"-"`
}

// NeuronResult is calix's NeuronCalibResult: the neurons' configuration
// (HXNeuron parameters, one value per circuit), the global settings it
// needs (synapse DAC bias per quadrant, refractory clock scales) and which
// neurons calibrated.
type NeuronResult struct {
	Target  NeuronTarget         `json:"target"`
	Neurons map[string][]float64 `json:"neurons"`
	Globals map[string][]float64 `json:"globals"`
	Success []bool               `json:"success"`
	// Failed lists, per step, the neurons whose parameter ended at a range
	// limit (calix's boundary check).
	Failed map[string][]int `json:"failed,omitempty"`
	// Steps are the steps run with their wall time in seconds, in order.
	Steps []StepTime `json:"steps"`
}

// StepTime is one step and how long it took.
type StepTime struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// FailedNeurons lists the neurons that did not calibrate.
func (r *NeuronResult) FailedNeurons() []int {
	var out []int
	for i, ok := range r.Success {
		if !ok {
			out = append(out, i)
		}
	}
	return out
}

// neuronCalib is one run of the neuron calibration.
type neuronCalib struct {
	c       Chip
	t       NeuronTarget
	cfg     map[string][]float64 // the configuration being built
	onChip  map[string][]float64 // what was last written
	res     *NeuronResult
	seed    uint64
	nsearch uint64
	opts    NeuronOptions
	// tmpTau are the synaptic time constants' biases during the synaptic
	// input calibration (1.5 µs).
	tmpTau [2][]float64
	// tauStep is the offset current step of the tau_mem measurement.
	tauStep []float64
}

// ErrNoCADCCalibration is returned by calibrations that read the CADC
// before it was calibrated.
var ErrNoCADCCalibration = errors.New("the CADC is not calibrated: calibrate it first (calix.common.cadc.calibrate; nmp: calib.CalibrateCADC), since the neuron calibration measures through it")

// CalibrateNeurons is calix.spiking.neuron.calibrate: it calibrates the
// neurons for spiking operation (LIF) to t, measuring through the CADC
// calibrated by cadc.
func CalibrateNeurons(c Chip, cadc *CADCResult, t NeuronTarget, o NeuronOptions) (*NeuronResult, error) {
	if cadc == nil {
		return nil, ErrNoCADCCalibration
	}
	t = t.withDefaults()
	if err := t.Check(); err != nil {
		return nil, err
	}
	if err := c.Configure(nil, cadc.Globals()); err != nil {
		return nil, err
	}
	n := &neuronCalib{c: c, t: t, cfg: map[string][]float64{}, onChip: map[string][]float64{}, seed: o.Seed, opts: o,
		res: &NeuronResult{Target: t, Globals: map[string][]float64{}, Success: make([]bool, NumNeurons), Failed: map[string][]int{}}}
	for i := range n.res.Success {
		n.res.Success[i] = true
	}
	if err := n.run(); err != nil {
		return nil, err
	}
	n.res.Neurons = n.cfg
	return n.res, nil
}

// write writes the configuration, overlaid with over, where it differs
// from what the chip holds.
func (n *neuronCalib) write(over map[string][]float64) error {
	w := map[string][]float64{}
	for k, v := range n.cfg {
		if _, o := over[k]; !o && !slices.Equal(n.onChip[k], v) {
			w[k] = v
		}
	}
	for k, v := range over {
		if !slices.Equal(n.onChip[k], v) {
			w[k] = v
		}
	}
	if len(w) == 0 {
		return nil
	}
	if err := n.c.Configure(w, nil); err != nil {
		return err
	}
	for k, v := range w {
		n.onChip[k] = slices.Clone(v)
	}
	return nil
}

func (n *neuronCalib) global(name string, xs []float64) error {
	n.res.Globals[name] = slices.Clone(xs)
	return n.c.Configure(nil, map[string][]float64{name: xs})
}

// timed runs one named step.
func (n *neuronCalib) timed(name string, f func() error) error {
	if n.opts.Progress != nil {
		n.opts.Progress(name)
	}
	t0 := time.Now()
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	n.res.Steps = append(n.res.Steps, StepTime{name, time.Since(t0).Seconds()})
	return nil
}

// search calibrates param to target with over written around it: a noisy
// binary search by default. Only neurons where active (nil: all) take
// part; the others keep their value.
func (n *neuronCalib) search(name, param string, r Range, inverted bool, target []float64, over map[string][]float64, measure func() ([]float64, error), active []bool) error {
	return n.searchIn(name, param, r, inverted, target, over, measure, active, true)
}

// searchIn is search; record says whether neurons at a range limit count
// as failed (not for the sub-searches inside another search's measurement,
// whose intermediate states calix does not check either).
func (n *neuronCalib) searchIn(name, param string, r Range, inverted bool, target []float64, over map[string][]float64, measure func() ([]float64, error), active []bool, record bool) error {
	n.nsearch++
	keep := slices.Clone(n.cfg[param])
	eval := func(ps []float64) ([]float64, error) {
		o := map[string][]float64{}
		for k, v := range over {
			o[k] = v
		}
		xs := slices.Clone(ps)
		if active != nil {
			for i := range xs {
				if !active[i] {
					xs[i] = keep[i]
				}
			}
		}
		o[param] = xs
		if err := n.write(o); err != nil {
			return nil, err
		}
		return measure()
	}
	p, ok, err := step(NoisyBinarySearch{Seed: n.seed + n.nsearch}, r, inverted, target, eval)
	if err != nil {
		return err
	}
	var failed []int
	for i := range p {
		if active != nil && !active[i] {
			p[i] = keep[i]
			continue
		}
		if !ok[i] && record {
			failed = append(failed, i)
			n.res.Success[i] = false
		}
	}
	if len(failed) > 0 {
		n.res.Failed[name] = append(n.res.Failed[name], failed...)
	}
	n.cfg[param] = p
	return nil
}

func merge(ms ...map[string][]float64) map[string][]float64 {
	out := map[string][]float64{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Measurement settings.
const (
	cadcPeriodUs = 0.6
	stimUs       = 3.0 // stimulus time after the settling in PSP measurements
)

// quiet is the configuration of measurements without spikes: threshold
// off, reset OTA off (the execution's forced reset before each run then
// leaves the membrane at rest, so nothing has to settle).
var quiet = map[string][]float64{"threshold_enable": filled(0), "reset_i_bias": filled(0)}

func (n *neuronCalib) run() error {
	t := &n.t
	cfg := n.cfg
	cfg["membrane_capacitance_capacitance"] = t.MembraneCapacitance.expand()
	cfg["leak_v_leak"], cfg["leak_i_bias"] = filled(700), filled(400)
	cfg["leak_enable_multiplication"], cfg["leak_enable_division"] = filled(0), filled(0)
	cfg["reset_v_reset"], cfg["reset_i_bias"], cfg["reset_enable_multiplication"] = filled(600), filled(1022), filled(1)
	cfg["threshold_enable"], cfg["threshold_v_threshold"] = filled(1), filled(400)
	cfg["constant_current_enable"], cfg["constant_current_i_offset"] = filled(0), filled(0)
	for s, side := range []string{"excitatory_input", "inhibitory_input"} {
		coba := make([]float64, NumNeurons)
		for i := range coba {
			if t.coba(s, i) {
				coba[i] = 1
			}
		}
		gm := t.SynInGmExc
		if s == 1 {
			gm = t.SynInGmInh
		}
		cfg[side+"_enable"], cfg[side+"_i_bias_tau"], cfg[side+"_i_bias_gm"] = filled(0), filled(100), filled(gm)
		cfg[side+"_i_shift_reference"], cfg[side+"_enable_small_capacitance"] = filled(300), filled(1)
		// COBA on where a reversal is given, as calix's default
		// configuration does: with its bias at 0 it leaves the input CUBA
		// until the COBA step.
		cfg[side+"_enable_coba_mode"], cfg[side+"_v_rev_coba"], cfg[side+"_i_bias_coba"] = coba, filled(0), filled(0)
	}
	if err := n.refractory(); err != nil {
		return err
	}
	if err := n.global("synapse_dac_bias", []float64{t.SynapseDACBias, t.SynapseDACBias, t.SynapseDACBias, t.SynapseDACBias}); err != nil {
		return err
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"tau_syn (excitatory)", func() error { return n.tauSyn(0) }},
		{"tau_syn (inhibitory)", func() error { return n.tauSyn(1) }},
		{"synapse DAC bias", n.dacBias},
		{"threshold", func() error { return n.threshold(t.Threshold.expand()) }},
		{"synaptic input preparation", n.prepareSynin},
		{"i_synin_gm", n.synGm},
		{"synaptic reference", n.synReference},
		{"COBA", n.coba},
		{"leak", func() error { return n.leak(t.Leak.expand(), "leak") }},
		{"tau_mem", n.tauMem},
		{"reset", func() error { return n.reset(t.Reset.expand()) }},
		{"leak (again)", func() error { return n.leak(t.Leak.expand(), "leak") }},
	}
	for _, s := range steps {
		if err := n.timed(s.name, s.f); err != nil {
			return err
		}
	}
	return n.write(nil)
}

// refractory sets the refractory clocks and counters as calix does: the
// neurons with the shorter refractory times (up to the mean) on the fast
// clock, the others on the slow one, each clock as fine as the longest of
// its neurons allows within the counter's 255 cycles.
func (n *neuronCalib) refractory() error {
	tr := n.t.RefractoryTimeUs.expand()
	th := n.t.HoldoffTimeUs.expand()
	m := mean(tr)
	scaleFor := func(longest float64) int {
		for s := 0; s < 16; s++ {
			if longest/(refractoryBaseUs*math.Exp2(float64(s))) <= 255 {
				return s
			}
		}
		return 15
	}
	var fastMax, slowMax float64
	for _, x := range tr {
		if x <= m {
			fastMax = math.Max(fastMax, x)
		} else {
			slowMax = math.Max(slowMax, x)
		}
	}
	fast, slow := scaleFor(fastMax), scaleFor(math.Max(slowMax, fastMax))
	clk, cnt, hold := make([]float64, NumNeurons), make([]float64, NumNeurons), make([]float64, NumNeurons)
	for i, x := range tr {
		s := slow
		if x <= m {
			s, clk[i] = fast, 1
		}
		cyc := refractoryBaseUs * math.Exp2(float64(s))
		cnt[i] = math.Min(math.Max(math.Round(x/cyc), 1), 255)
		hold[i] = math.Min(math.Max(math.Round((31-th[i]/cyc)/2), 0), 15)
	}
	n.cfg["refractory_period_input_clock"], n.cfg["refractory_period_refractory_time"], n.cfg["refractory_period_reset_holdoff"] = clk, cnt, hold
	if err := n.global("clock_scale_fast", []float64{float64(fast)}); err != nil {
		return err
	}
	return n.global("clock_scale_slow", []float64{float64(slow)})
}

var sideNames = [2]string{"excitatory_input", "inhibitory_input"}
var lineNames = [2]string{"exc_synin", "inh_synin"}

// stim returns stimulus times for the side.
func stim(side int, ts ...float64) (exc, inh []float64) {
	if side == 0 {
		return ts, nil
	}
	return nil, ts
}

// tauSyn calibrates a synaptic input's time constant: an event's
// deflection of the input line decays with it; the MADC records the line
// and an exponential fit gives the time constant (a higher bias is a
// shorter one).
func (n *neuronCalib) tauSyn(side int) error {
	target := n.t.TauSynExc.expand()
	if side == 1 {
		target = n.t.TauSynInh.expand()
	}
	return n.search("tau_syn", sideNames[side]+"_i_bias_tau", Range{0, CapMemMax}, true, target, quiet,
		func() ([]float64, error) { return n.measureTauSyn(side, target) }, nil)
}

// measureTauSyn records each neuron's input line after an event and fits
// its decay.
func (n *neuronCalib) measureTauSyn(side int, target []float64) ([]float64, error) {
	rec := math.Min(math.Max(4*slices.Max(target)+1, 6), 200)
	exc, inh := stim(side, 1)
	traces, err := n.c.RecordMADC(lineNames[side], 2, rec, exc, inh, nil)
	if err != nil {
		return nil, err
	}
	out := make([]float64, NumNeurons)
	for i, tr := range traces {
		lo := 0
		for k := range tr {
			if tr[k] < tr[lo] {
				lo = k
			}
		}
		out[i] = fitTau(tr, min(lo+3, len(tr)-1), madcPeriodUs, target[i])
	}
	return out, nil
}

// dacBias matches the quadrants' synapse DAC bias currents: each
// quadrant's mean amplitude of an excitatory event on the input line is
// searched to the smallest quadrant's at the target bias.
func (n *neuronCalib) dacBias() error {
	amp := func() ([]float64, error) {
		if err := n.write(quiet); err != nil {
			return nil, err
		}
		traces, err := n.c.RecordMADC(lineNames[0], 2, 3, []float64{1}, nil, nil)
		if err != nil {
			return nil, err
		}
		out := make([]float64, NumQuadrants)
		for i, tr := range traces {
			base := mean(tr[:25])
			out[quadrant(i)] += (base - minOf(tr)) / 128
		}
		return out, nil
	}
	at, err := amp()
	if err != nil {
		return err
	}
	tgt := slices.Min(at)
	target := []float64{tgt, tgt, tgt, tgt}
	p, ok, err := step(BinarySearch{}, Range{0, CapMemMax}, false, target, func(ps []float64) ([]float64, error) {
		if err := n.c.Configure(nil, map[string][]float64{"synapse_dac_bias": ps}); err != nil {
			return nil, err
		}
		return amp()
	})
	if err != nil {
		return err
	}
	for q := range ok {
		if !ok[q] {
			for i := 0; i < NumNeurons; i++ {
				if quadrant(i) == q {
					n.res.Success[i] = false
					n.res.Failed["synapse DAC bias"] = append(n.res.Failed["synapse DAC bias"], i)
				}
			}
		}
	}
	return n.global("synapse_dac_bias", p)
}

// thresholdOver makes the neurons fire regularly: the leak far above any
// threshold, the reset low.
var thresholdOver = map[string][]float64{"threshold_enable": filled(1), "leak_v_leak": filled(1000), "leak_i_bias": filled(400),
	"leak_enable_multiplication": filled(0), "leak_enable_division": filled(0),
	"reset_v_reset": filled(400), "excitatory_input_enable": filled(0), "inhibitory_input_enable": filled(0),
	"constant_current_enable": filled(0)}

// threshold calibrates the spike threshold: a neuron that fires regularly
// reaches its threshold before every spike, so the largest of many CADC
// reads is the threshold (calix's ThresholdCalibCADC).
func (n *neuronCalib) threshold(target []float64) error {
	return n.search("threshold", "threshold_v_threshold", Range{0, CapMemMax}, false, target, thresholdOver, n.measureThreshold, nil)
}

func (n *neuronCalib) measureThreshold() ([]float64, error) {
	reads, err := n.c.RecordCADC("v", 10, 200, cadcPeriodUs, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	return perNeuron(reads, 200, 0, 200, maxOf), nil
}

// rest measures each neuron's resting potential (CADC mean of 8 reads).
func (n *neuronCalib) rest() ([]float64, error) {
	reads, err := n.c.RecordCADC("v", 3, 8, cadcPeriodUs, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	return perNeuron(reads, 8, 0, 8, mean), nil
}

// leak calibrates the resting potential (calix's LeakPotentialCalib).
func (n *neuronCalib) leak(target []float64, name string) error {
	return n.search(name, "leak_v_leak", Range{0, CapMemMax}, false, target, quiet, n.rest, nil)
}

// reset calibrates the reset potential: with the threshold below
// everything and the longest refractory time, the neurons sit in reset;
// the median CADC read is the reset potential.
func (n *neuronCalib) reset(target []float64) error {
	return n.search("reset", "reset_v_reset", Range{0, CapMemMax}, false, target, resetOver, n.measureReset, nil)
}

var resetOver = map[string][]float64{"threshold_enable": filled(1), "threshold_v_threshold": filled(0),
	"refractory_period_refractory_time": filled(255), "refractory_period_input_clock": filled(0)}

func (n *neuronCalib) measureReset() ([]float64, error) {
	// The slow clock at a large scale for the measurement: 255 cycles of
	// 0.5 µs keep the neurons in reset for the whole recording. (With the
	// calibrated clocks the refractory period may be as short as the
	// reset's own settling, and the reads would catch the membrane on its
	// way back from the spike.)
	if err := n.c.Configure(nil, map[string][]float64{"clock_scale_slow": {resetClockScale}}); err != nil {
		return nil, err
	}
	reads, err := n.c.RecordCADC("v", 5, 20, cadcPeriodUs, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := n.c.Configure(nil, map[string][]float64{"clock_scale_slow": n.res.Globals["clock_scale_slow"]}); err != nil {
		return nil, err
	}
	return perNeuron(reads, 20, 0, 20, median), nil
}

// resetClockScale is the slow clock's scale while the reset is measured.
const resetClockScale = 6

// synin is the state of the synaptic input calibration: the temporary
// configuration it runs in.
func (n *neuronCalib) syninOver() map[string][]float64 {
	return merge(quiet, map[string][]float64{
		"excitatory_input_i_bias_tau": n.tmpTau[0], "inhibitory_input_i_bias_tau": n.tmpTau[1],
		"leak_i_bias": filled(60)})
}

// prepareSynin prepares the synaptic input calibration as calix does: the
// leak at 120, a temporary synaptic time constant of 1.5 µs (from the
// calibrated bias: the time constant goes as its inverse), a membrane time
// constant of about 60 µs, and the leak at 120 again.
func (n *neuronCalib) prepareSynin() error {
	if err := n.leak(filled(120), "synaptic input preparation"); err != nil {
		return err
	}
	n.setTmpTau()
	over := n.syninOver()
	return n.search("synaptic input preparation", "leak_v_leak", Range{0, CapMemMax}, false, filled(120), over, n.rest, nil)
}

// setTmpTau sets the synaptic time constants' biases for the synaptic
// input calibration: 1.5 µs, from the calibrated ones.
func (n *neuronCalib) setTmpTau() {
	for s, side := range sideNames {
		tgt := n.t.TauSynExc
		if s == 1 {
			tgt = n.t.TauSynInh
		}
		tmp := make([]float64, NumNeurons)
		for i, c := range n.cfg[side+"_i_bias_tau"] {
			tmp[i] = math.Min(math.Max(math.Round(c*tgt.at(i)/1.5), 1), CapMemMax)
		}
		n.tmpTau[s] = tmp
	}
}

// psp measures each neuron's summed response to four events on one input:
// the largest excursion from the baseline before them (CADC).
func (n *neuronCalib) psp(side int) ([]float64, error) {
	exc, inh := stim(side, stimUs, stimUs+0.5, stimUs+1, stimUs+1.5)
	const samples = 30
	reads, err := n.c.RecordCADC("v", 2, samples, cadcPeriodUs, exc, inh, nil)
	if err != nil {
		return nil, err
	}
	pre := int(stimUs / cadcPeriodUs)
	base := perNeuron(reads, samples, 0, pre, mean)
	ext := maxOf
	if side == 1 {
		ext = minOf
	}
	peak := perNeuron(reads, samples, pre, samples, ext)
	for i := range peak {
		peak[i] = math.Abs(peak[i] - base[i])
	}
	return peak, nil
}

// synGm calibrates the synaptic inputs' OTA bias (calix's SynBiasCalib):
// the target amplitude is the median neuron's at the requested bias; with
// matching, the inhibitory target is the excitatory one.
func (n *neuronCalib) synGm() error {
	var excTarget float64
	for s, side := range sideNames {
		gm := n.t.SynInGmExc
		if s == 1 {
			gm = n.t.SynInGmInh
		}
		over := merge(n.syninOver(), map[string][]float64{"excitatory_input_enable": filled(1)})
		if s == 1 {
			over["inhibitory_input_enable"] = filled(1)
		}
		if err := n.write(merge(over, map[string][]float64{side + "_i_bias_gm": filled(gm)})); err != nil {
			return err
		}
		amp, err := n.psp(s)
		if err != nil {
			return err
		}
		tgt := median(amp)
		if s == 0 {
			excTarget = tgt
		} else if *n.t.MatchSynIn {
			tgt = excTarget
		}
		hi := math.Min(math.Round(1.8*gm+100), CapMemMax)
		if err := n.search("i_synin_gm", side+"_i_bias_gm", Range{0, hi}, false, filled(tgt), over,
			func() ([]float64, error) { return n.psp(s) }, nil); err != nil {
			return err
		}
	}
	return nil
}

// synReference calibrates each input OTA's reference so that enabling it
// leaves the resting potential where it is without it.
func (n *neuronCalib) synReference() error {
	off := merge(n.syninOver(), map[string][]float64{"excitatory_input_enable": filled(0), "inhibitory_input_enable": filled(0)})
	if err := n.write(off); err != nil {
		return err
	}
	ref, err := n.rest()
	if err != nil {
		return err
	}
	over := merge(off, map[string][]float64{"excitatory_input_enable": filled(1)})
	if err := n.search("synaptic reference", "excitatory_input_i_shift_reference", Range{0, CapMemMax}, false, ref, over, n.rest, nil); err != nil {
		return err
	}
	over["inhibitory_input_enable"] = filled(1)
	if err := n.search("synaptic reference", "inhibitory_input_i_shift_reference", Range{0, CapMemMax}, true, ref, over, n.rest, nil); err != nil {
		return err
	}
	n.cfg["excitatory_input_enable"], n.cfg["inhibitory_input_enable"] = filled(1), filled(1)
	return nil
}

// tauMem calibrates the membrane time constant, by the reset method when
// a target is below 3 µs (as calix chooses), else by the offset method
// (calix's MembraneTimeConstCalibOffset): a step of the offset current
// moves the membrane to a new level with the membrane time constant,
// which the MADC records and an exponential fit gives. The leak OTA's
// multiplication (x8) is switched on for targets below 6 µs. The step
// is about 0.1 V where the offset current allows.
func (n *neuronCalib) tauMem() error {
	target := n.t.TauMemUs.expand()
	if resetMethod(target) {
		return n.tauMemReset(target)
	}
	mult := make([]float64, NumNeurons)
	step := make([]float64, NumNeurons)
	for i, x := range target {
		if x < 6 {
			mult[i] = 1
		}
		step[i] = math.Min(math.Round(CapMemMax*2.2/x), CapMemMax)
	}
	n.cfg["leak_enable_multiplication"] = mult
	n.tauStep = step
	return n.search("tau_mem", "leak_i_bias", Range{0, CapMemMax}, true, target, tauMemOver,
		func() ([]float64, error) { return n.measureTauMem(target) }, nil)
}

var tauMemOver = merge(quiet, map[string][]float64{"constant_current_enable": filled(1), "constant_current_i_offset": filled(0)})

func (n *neuronCalib) measureTauMem(target []float64) ([]float64, error) {
	rec := math.Min(math.Max(4*slices.Max(target), 5), 300)
	traces, err := n.c.RecordMADC("v", 3, rec, nil, nil, map[string][]float64{"constant_current_i_offset": n.tauStep})
	if err != nil {
		return nil, err
	}
	out := make([]float64, NumNeurons)
	for i, tr := range traces {
		out[i] = fitTau(tr, 0, madcPeriodUs, target[i])
	}
	// the step stays written: the next write must know it
	n.onChip["constant_current_i_offset"] = n.tauStep
	return out, nil
}

// sortedInts is a helper for reports.
func sortedInts(xs []int) []int {
	out := slices.Clone(xs)
	sort.Ints(out)
	return slices.Compact(out)
}
