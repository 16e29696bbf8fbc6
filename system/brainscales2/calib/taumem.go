package calib

import (
	"math"
	"slices"

	"github.com/nmp-platform/nmp/internal/rng"
)

// The reset method of the membrane time constant (calix's
// MembraneTimeConstCalibReset), which calix uses when a target is below
// 3 µs: the membrane, held at a low reset potential, is released towards
// a high leak potential; the MADC records its return and an exponential
// fit from half-way on gives the time constant.

// tauMemResetBelowUs: with any target below this, tau_mem is calibrated
// by the reset method (calix's choice), else by the offset method.
const tauMemResetBelowUs = 3.0

func resetMethod(target []float64) bool { return slices.Min(target) < tauMemResetBelowUs }

// Reset method settings: calix's potentials (a large, well-measurable
// return) and a reset of about 1 µs.
const (
	resetMethodReset  = 520
	resetMethodLeak   = 880
	resetMethodHoldUs = 1.0
)

// resetMethodOver holds the neurons in reset during the settling: the
// threshold below everything makes them fire as soon as a refractory
// period ends. The measurement's step switches the comparator off, and
// each neuron returns to its leak potential when its reset ends (the
// chip's NeuronReset, through the comparator, since Chip writes no
// per-neuron reset).
func (n *neuronCalib) resetMethodOver() map[string][]float64 {
	scale := 0.0
	if g := n.res.Globals["clock_scale_fast"]; len(g) == 1 {
		scale = g[0]
	}
	cnt := math.Min(math.Max(math.Round(resetMethodHoldUs/(refractoryBaseUs*math.Exp2(scale))), 2), 255)
	return merge(quiet, map[string][]float64{
		"threshold_enable": filled(1), "threshold_v_threshold": filled(0),
		"reset_i_bias": n.cfg["reset_i_bias"], "reset_v_reset": filled(resetMethodReset), "leak_v_leak": filled(resetMethodLeak),
		"refractory_period_input_clock": filled(1), "refractory_period_refractory_time": filled(cnt),
		"refractory_period_reset_holdoff": filled(15), "constant_current_enable": filled(0)})
}

// tauMemReset calibrates tau_mem by the reset method. As calix does, it
// first measures each neuron at a low and a high leak bias without
// division or multiplication, and switches division on where even the low
// bias is too fast, multiplication where even the high bias is too slow.
func (n *neuronCalib) tauMemReset(target []float64) error {
	over := n.resetMethodOver()
	n.cfg["leak_enable_division"], n.cfg["leak_enable_multiplication"] = filled(0), filled(0)
	noise := rng.New(rng.Derive(n.seed, 0x7a0e))
	at := func(code float64) ([]float64, error) {
		xs := make([]float64, NumNeurons)
		for i := range xs {
			xs[i] = code + float64(noise.Intn(11)) - 5
		}
		if err := n.write(merge(over, map[string][]float64{"leak_i_bias": xs})); err != nil {
			return nil, err
		}
		return n.measureTauMemReset(target)
	}
	slowest, err := at(63)
	if err != nil {
		return err
	}
	fastest, err := at(CapMemMax - 63)
	if err != nil {
		return err
	}
	div, mult := make([]float64, NumNeurons), make([]float64, NumNeurons)
	for i := range target {
		switch {
		case slowest[i] < target[i]:
			div[i] = 1
		case fastest[i] > target[i]:
			mult[i] = 1
		}
	}
	n.cfg["leak_enable_division"], n.cfg["leak_enable_multiplication"] = div, mult
	return n.search("tau_mem", "leak_i_bias", Range{0, CapMemMax}, true, target, over,
		func() ([]float64, error) { return n.measureTauMemReset(target) }, nil)
}

// measureTauMemReset records the return from reset of every neuron and
// fits its time constant from the last sample below half-way between the
// reset and the leak potential on.
func (n *neuronCalib) measureTauMemReset(target []float64) ([]float64, error) {
	rec := math.Min(math.Max(resetMethodHoldUs+6*slices.Max(target), 5), 300)
	traces, err := n.c.RecordMADC("v", 3, rec, nil, nil, map[string][]float64{"threshold_enable": filled(0)})
	if err != nil {
		return nil, err
	}
	// the comparator stays off: the next write must know it
	n.onChip["threshold_enable"] = filled(0)
	out := make([]float64, NumNeurons)
	for i, tr := range traces {
		tail := tr[len(tr)*9/10:]
		leak, low := mean(tail), minOf(tr)
		start := 0
		for k, v := range tr {
			if leak-v > (leak-low)/2 {
				start = k
			}
		}
		out[i] = fitTau(tr, start, madcPeriodUs, target[i])
	}
	return out, nil
}
