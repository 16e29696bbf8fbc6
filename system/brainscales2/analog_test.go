package brainscales2

import (
	"math"
	"strings"
	"testing"
)

// physOf derives one circuit's parameters from a few settings (the rest
// at their defaults), without temporal noise.
func physOf(t *testing.T, c int, o Options, set map[string]float64) phys {
	t.Helper()
	get := func(name string) float64 {
		if v, ok := set[name]; ok {
			return v
		}
		p := userCatalog.Cells[hxNeuron].Param(name)
		if p == nil {
			t.Fatalf("no parameter %s", name)
		}
		return p.Default
	}
	return derive(get, c, quadrantOf(c), &o, mismatchOf(o.Chip, o.Mismatch), &jitter{})
}

func nominal() Options {
	o := defaultOptions()
	o.Mismatch = Mismatch{}
	return o
}

// The time constants reach the ranges calix calibrates to (the reference's
// §1.2): tau_mem 0.5-60 µs with the full capacitor, tau_syn 0.3-30 µs,
// refractory 0.04-32 µs, holdoff 0-4 µs; the capacitor is about 2.2 pF.
func TestSweepsCoverTheCalibratableRanges(t *testing.T) {
	o := nominal()
	tauM := func(code float64, div, mult bool) float64 {
		set := map[string]float64{"leak_i_bias": code, "membrane_capacitance_capacitance": 63}
		if div {
			set["leak_enable_division"] = 1
		}
		if mult {
			set["leak_enable_multiplication"] = 1
		}
		n := physOf(t, 0, o, set)
		return n.C / n.gL
	}
	if c := physOf(t, 0, o, map[string]float64{"membrane_capacitance_capacitance": 63}).C; math.Abs(c-2.2) > 0.15 {
		t.Errorf("capacitance at 63: %.2f pF, want about 2.2", c)
	}
	lo, hi := math.Inf(1), 0.0
	for code := 30.0; code <= capMemMax; code += 4 {
		for _, dm := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			tm := tauM(code, dm[0], dm[1])
			lo, hi = math.Min(lo, tm), math.Max(hi, tm)
		}
	}
	t.Logf("tau_mem over leak_i_bias 30..1022 and the divider/multiplier: %.2f to %.0f µs", lo, hi)
	if lo > 0.5 || hi < 60 {
		t.Errorf("tau_mem spans %.2f to %.0f µs, not 0.5 to 60", lo, hi)
	}
	// Without the switches, calix's "offset" method (tau >= 3 µs) works.
	if tm := tauM(capMemMax, false, false); tm < 2 || tm > 5 {
		t.Errorf("tau_mem at leak_i_bias 1022 without switches: %.2f µs, want 2 to 5", tm)
	}
	// The tutorial's leak_i_bias 200 gives microseconds, not milli- or nanoseconds.
	if tm := tauM(200, false, false); tm < 5 || tm > 40 {
		t.Errorf("tau_mem at leak_i_bias 200: %.1f µs", tm)
	}
	// tau_syn
	lo, hi = math.Inf(1), 0.0
	for code := 30.0; code <= capMemMax; code += 4 {
		for _, small := range []float64{0, 1} {
			for _, hr := range []float64{0, 1} {
				n := physOf(t, 0, o, map[string]float64{"excitatory_input_i_bias_tau": code, "excitatory_input_enable_small_capacitance": small, "excitatory_input_enable_high_resistance": hr})
				lo, hi = math.Min(lo, n.tauE), math.Max(hi, n.tauE)
			}
		}
	}
	t.Logf("tau_syn over i_bias_tau 30..1022, capacitance and resistance modes: %.2f to %.0f µs", lo, hi)
	if lo > 0.3 || hi < 30 {
		t.Errorf("tau_syn spans %.2f to %.0f µs, not 0.3 to 30", lo, hi)
	}
	// refractory and holdoff over the counter and the clock scales
	lo, hi = math.Inf(1), 0.0
	for scale := 0; scale <= 4; scale++ {
		o.ClockScaleFast = scale
		for rt := 31.0; rt <= 255; rt++ {
			n := physOf(t, 0, o, map[string]float64{"refractory_period_refractory_time": rt, "refractory_period_input_clock": 1})
			lo, hi = math.Min(lo, n.refrUs), math.Max(hi, n.refrUs)
		}
		n := physOf(t, 0, o, map[string]float64{"refractory_period_refractory_time": 255, "refractory_period_input_clock": 1, "refractory_period_reset_holdoff": 0})
		if hold := n.refrUs - n.rstUs; scale == 4 && math.Abs(hold-31*0.128) > 1e-9 {
			t.Errorf("holdoff 0 at clock scale 4: %.3f µs, want 31 cycles of 128 ns", hold)
		}
	}
	if lo > 0.04*31/5 || hi < 32 {
		t.Errorf("refractory spans %.3f to %.1f µs", lo, hi)
	}
}

// The tutorial's working ranges: a leak of 1000 lies above a threshold of
// 300, which lies above a reset of 400 (leak over threshold); a leak of 400
// lies below a threshold of 400 and, on nearly every circuit, above a
// reset of 300.
func TestPotentialsKeepTheTutorialsOrder(t *testing.T) {
	o := defaultOptions()
	below := 0
	for c := 0; c < numCircuits; c++ {
		n := physOf(t, c, o, map[string]float64{"leak_v_leak": 1000, "threshold_v_threshold": 300, "reset_v_reset": 400, "threshold_enable": 1, "leak_i_bias": 200})
		if !(n.eL > n.vTh && n.vTh > n.vR) {
			t.Fatalf("circuit %d: leak %.3f, threshold %.3f, reset %.3f V", c, n.eL, n.vTh, n.vR)
		}
		n = physOf(t, c, o, map[string]float64{"leak_v_leak": 400, "threshold_v_threshold": 400, "reset_v_reset": 300, "threshold_enable": 1})
		if !(n.eL < n.vTh) {
			t.Fatalf("circuit %d: leak %.3f above threshold %.3f V", c, n.eL, n.vTh)
		}
		if n.eL <= n.vR {
			below++
		}
	}
	if below > numCircuits/20 {
		t.Errorf("on %d of 512 circuits a leak of 400 lies at or below a reset of 300", below)
	}
}

func TestMismatchIsTheChips(t *testing.T) {
	o := defaultOptions()
	set := map[string]float64{"threshold_v_threshold": 300, "threshold_enable": 1, "leak_i_bias": 500}
	var th []float64
	for c := 0; c < numCircuits; c++ {
		th = append(th, physOf(t, c, o, set).vTh)
	}
	again := physOf(t, 17, o, set)
	if again.vTh != th[17] {
		t.Error("the same chip gave circuit 17 another threshold")
	}
	other := o
	other.Chip = "another chip"
	differ := 0
	for c := 0; c < numCircuits; c++ {
		if physOf(t, c, other, set).vTh != th[c] {
			differ++
		}
	}
	if differ < numCircuits-1 {
		t.Errorf("another chip has the same thresholds at %d circuits", numCircuits-differ)
	}
	mean, sd := meanSD(th)
	m := o.Mismatch
	want := math.Sqrt(sq(m.CapMemOffsetMV*1e-3) + sq(m.ComparatorMV*1e-3) + sq(m.CapMemGain*capV(300)))
	if math.Abs(sd-want) > 0.15*want {
		t.Errorf("threshold spread %.1f mV over the chip, want about %.1f mV (the configured mismatch)", sd*1e3, want*1e3)
	}
	t.Logf("threshold %.3f V ± %.1f mV over 512 circuits", mean, sd*1e3)
	// Without mismatch every circuit is nominal.
	flat := nominal()
	if a, b := physOf(t, 3, flat, set).vTh, physOf(t, 400, flat, set).vTh; a != b {
		t.Errorf("without mismatch, circuits differ: %g and %g", a, b)
	}
}

func meanSD(xs []float64) (float64, float64) {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)-1))
}

func sq(x float64) float64 { return x * x }

// Each hemisphere's neuron backend has its own refractory clocks: with
// neuron_backends, a top circuit counts on the top backend's clock and a
// bottom circuit on the bottom one's; an ill-formed list is refused by name.
func TestNeuronBackendsPerHemisphere(t *testing.T) {
	o := defaultOptions()
	o.ClockScaleFast = 5 // overridden by the backends
	o.NeuronBackends = []NeuronBackend{{ClockScaleSlow: 0, ClockScaleFast: 1}, {ClockScaleSlow: 0, ClockScaleFast: 3}}
	set := map[string]float64{"refractory_period_refractory_time": 200, "refractory_period_input_clock": 1}
	top, bottom := physOf(t, 3, o, set), physOf(t, 256+3, o, set)
	if want := 200 * refractoryBase * 2; math.Abs(top.refrUs-want) > 1e-9 {
		t.Errorf("top circuit: refractory %.4f µs, want %.4f (clock scale 1)", top.refrUs, want)
	}
	if want := 200 * refractoryBase * 8; math.Abs(bottom.refrUs-want) > 1e-9 {
		t.Errorf("bottom circuit: refractory %.4f µs, want %.4f (clock scale 3)", bottom.refrUs, want)
	}
	o.NeuronBackends = o.NeuronBackends[:1]
	if err := o.check(); err == nil || !strings.Contains(err.Error(), "neuron_backends") {
		t.Errorf("one backend: %v, want an error naming neuron_backends", err)
	}
	o.NeuronBackends = []NeuronBackend{{}, {ClockScaleSlow: 16}}
	if err := o.check(); err == nil || !strings.Contains(err.Error(), "neuron_backends[1].clock_scale_slow") {
		t.Errorf("scale 16: %v, want an error naming neuron_backends[1].clock_scale_slow", err)
	}
}
