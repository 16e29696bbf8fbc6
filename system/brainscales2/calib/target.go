package calib

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Values is a target given for all neurons (one value) or per neuron (512
// values). In JSON it is a number or an array; null entries in an array
// are "not set" (NaN), e.g. the COBA reversal of neurons with CUBA inputs.
type Values []float64

// UnmarshalJSON reads a number, an array, or null (nil: the default).
func (v *Values) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*v = nil
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var xs []*float64
		if err := json.Unmarshal(b, &xs); err != nil {
			return err
		}
		out := make(Values, len(xs))
		for i, x := range xs {
			out[i] = math.NaN()
			if x != nil {
				out[i] = *x
			}
		}
		*v = out
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*v = Values{x}
	return nil
}

// MarshalJSON writes NaN as null.
func (v Values) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	if len(v) == 1 && !math.IsNaN(v[0]) {
		return json.Marshal(v[0])
	}
	xs := make([]*float64, len(v))
	for i := range v {
		if !math.IsNaN(v[i]) {
			xs[i] = &v[i]
		}
	}
	return json.Marshal(xs)
}

// at returns the value for neuron i.
func (v Values) at(i int) float64 {
	if len(v) == 1 {
		return v[0]
	}
	return v[i]
}

// expand returns 512 values.
func (v Values) expand() []float64 {
	out := make([]float64, NumNeurons)
	for i := range out {
		out[i] = v.at(i)
	}
	return out
}

// NeuronTarget is calix's NeuronCalibTarget for spiking neurons. Potentials
// are CADC reads, times µs of hardware time, currents CapMem LSB.
type NeuronTarget struct {
	Leak      Values `json:"leak"`
	Reset     Values `json:"reset"`
	Threshold Values `json:"threshold"`
	TauMemUs  Values `json:"tau_mem_us"`
	TauSynExc Values `json:"tau_syn_exc_us"`
	TauSynInh Values `json:"tau_syn_inh_us"`
	// SynInGmExc and SynInGmInh are the synaptic inputs' OTA bias at which
	// the median neuron's amplitude is the target for all; with
	// MatchSynIn (calix's CalibratedMatchingCubaSynapticInput, the
	// default) the inhibitory amplitude is matched to the excitatory one.
	SynInGmExc float64 `json:"i_synin_gm_exc"`
	SynInGmInh float64 `json:"i_synin_gm_inh"`
	MatchSynIn *bool   `json:"match_synin,omitempty"`
	// ECobaReversalExc/Inh are the COBA reversal potentials (CADC units,
	// may lie outside the CADC's range); NaN or absent: CUBA. ECobaReference
	// is where COBA equals CUBA strength (default: midway between leak and
	// threshold).
	ECobaReversalExc    Values  `json:"e_coba_reversal_exc,omitempty"`
	ECobaReversalInh    Values  `json:"e_coba_reversal_inh,omitempty"`
	ECobaReference      Values  `json:"e_coba_reference,omitempty"`
	MembraneCapacitance Values  `json:"membrane_capacitance"`
	RefractoryTimeUs    Values  `json:"refractory_time_us"`
	HoldoffTimeUs       Values  `json:"holdoff_time_us"`
	SynapseDACBias      float64 `json:"synapse_dac_bias"`
}

// DefaultNeuronTarget is calix's default target (pynn's CalibHXNeuronCuba
// defaults).
func DefaultNeuronTarget() NeuronTarget {
	return NeuronTarget{Leak: Values{80}, Reset: Values{70}, Threshold: Values{125}, TauMemUs: Values{10},
		TauSynExc: Values{10}, TauSynInh: Values{10}, SynInGmExc: 500, SynInGmInh: 500,
		MembraneCapacitance: Values{63}, RefractoryTimeUs: Values{2}, HoldoffTimeUs: Values{0}, SynapseDACBias: 600}
}

// withDefaults fills what t leaves unset from DefaultNeuronTarget.
func (t NeuronTarget) withDefaults() NeuronTarget {
	d := DefaultNeuronTarget()
	fill := func(v *Values, def Values) {
		if *v == nil {
			*v = def
		}
	}
	fill(&t.Leak, d.Leak)
	fill(&t.Reset, d.Reset)
	fill(&t.Threshold, d.Threshold)
	fill(&t.TauMemUs, d.TauMemUs)
	fill(&t.TauSynExc, d.TauSynExc)
	fill(&t.TauSynInh, d.TauSynInh)
	fill(&t.MembraneCapacitance, d.MembraneCapacitance)
	fill(&t.RefractoryTimeUs, d.RefractoryTimeUs)
	fill(&t.HoldoffTimeUs, d.HoldoffTimeUs)
	if t.SynInGmExc == 0 {
		t.SynInGmExc = d.SynInGmExc
	}
	if t.SynInGmInh == 0 {
		t.SynInGmInh = d.SynInGmInh
	}
	if t.SynapseDACBias == 0 {
		t.SynapseDACBias = d.SynapseDACBias
	}
	if t.MatchSynIn == nil {
		m := t.SynInGmExc == t.SynInGmInh
		t.MatchSynIn = &m
	}
	return t
}

// Check validates t against calix's ranges (check_target); errors name the
// field, the neuron and the range.
func (t NeuronTarget) Check() error {
	t = t.withDefaults()
	type field struct {
		name   string
		v      Values
		lo, hi float64
		unit   string
		nanOK  bool
	}
	fs := []field{
		{"leak", t.Leak, 50, 160, "CADC reads", false},
		{"reset", t.Reset, 50, 160, "CADC reads", false},
		{"threshold", t.Threshold, 50, 220, "CADC reads", false},
		{"tau_mem", t.TauMemUs, 0.5, 60, "µs", false},
		{"tau_syn (excitatory)", t.TauSynExc, 0.3, 30, "µs", false},
		{"tau_syn (inhibitory)", t.TauSynInh, 0.3, 30, "µs", false},
		{"membrane_capacitance", t.MembraneCapacitance, 0, 63, "capacitor units", false},
		{"refractory_time", t.RefractoryTimeUs, 0.04, 32, "µs", false},
		{"holdoff_time", t.HoldoffTimeUs, 0, 4, "µs", false},
		{"e_coba_reversal (excitatory)", t.ECobaReversalExc, math.Inf(-1), math.Inf(1), "CADC reads", true},
		{"e_coba_reversal (inhibitory)", t.ECobaReversalInh, math.Inf(-1), math.Inf(1), "CADC reads", true},
		{"e_coba_reference", t.ECobaReference, 60, 160, "CADC reads", true},
	}
	for _, f := range fs {
		if f.v == nil {
			continue
		}
		if len(f.v) != 1 && len(f.v) != NumNeurons {
			return fmt.Errorf("%s: give one value or one per neuron (512), got an array of shape (%d,)", f.name, len(f.v))
		}
		for i, x := range f.v {
			if math.IsNaN(x) && f.nanOK {
				continue
			}
			if !(x >= f.lo && x <= f.hi) {
				where := ""
				if len(f.v) > 1 {
					where = fmt.Sprintf(" at neuron %d", i)
				}
				return fmt.Errorf("%s: %g%s is outside the feasible range %g to %g %s", f.name, x, where, f.lo, f.hi, f.unit)
			}
		}
	}
	for _, g := range []struct {
		name string
		x    float64
	}{{"i_synin_gm (excitatory)", t.SynInGmExc}, {"i_synin_gm (inhibitory)", t.SynInGmInh}} {
		if !(g.x >= 30 && g.x <= 800) {
			return fmt.Errorf("%s: %g is outside the feasible range 30 to 800 CapMem LSB", g.name, g.x)
		}
	}
	if !(t.SynapseDACBias >= 30 && t.SynapseDACBias <= CapMemMax) {
		return fmt.Errorf("synapse_dac_bias: %g is outside the feasible range 30 to 1022 CapMem LSB", t.SynapseDACBias)
	}
	for i := 0; i < NumNeurons; i++ {
		if t.HoldoffTimeUs.at(i) > t.RefractoryTimeUs.at(i) {
			return fmt.Errorf("holdoff_time: %g µs at neuron %d is longer than its refractory_time, %g µs (the holdoff is part of the refractory time)", t.HoldoffTimeUs.at(i), i, t.RefractoryTimeUs.at(i))
		}
	}
	for s := range sideNames {
		if _, err := t.cobaPoints(s); err != nil {
			return err
		}
	}
	return nil
}

// coba reports whether neuron i has a COBA input of the side (0 exc, 1 inh).
func (t *NeuronTarget) coba(side, i int) bool {
	v := t.ECobaReversalExc
	if side == 1 {
		v = t.ECobaReversalInh
	}
	return v != nil && !math.IsNaN(v.at(i))
}

// anyCOBA reports whether any neuron uses COBA inputs.
func (t *NeuronTarget) anyCOBA() bool {
	for i := 0; i < NumNeurons; i++ {
		if t.coba(0, i) || t.coba(1, i) {
			return true
		}
	}
	return false
}
