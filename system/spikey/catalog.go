package spikey

import (
	"fmt"

	"github.com/nmp-platform/nmp/network"
)

// Catalog names.
const (
	cellName     = "IF_facets_hardware1"
	engineCell   = "SpikeyNeuron"
	sourceArray  = "SpikeSourceArray"
	sourcePois   = "SpikeSourcePoisson"
	staticSyn    = "StaticSynapse"
	tmSyn        = "TsodyksMarkramSynapse"
	stdpSyn      = "STDPMechanism"
	pairRule     = "SpikePairRule"
	additiveRule = "AdditiveWeightDependence"
)

// userCatalog is what a description for the chip may use: PyNN 0.6's
// IF_facets_hardware1 with its defaults (pyNN cells.py), the two spike
// sources, and the synapse types the chip has.
var userCatalog = func() *network.Catalog {
	std := network.Standard
	c := &network.Catalog{Cells: map[string]*network.CellType{}, Synapses: map[string]*network.SynapseType{},
		TimingRules: map[string]*network.ComponentType{}, WeightRules: map[string]*network.ComponentType{},
		CurrentSources: map[string]*network.CurrentSourceType{}}
	c.Cells[cellName] = &network.CellType{Name: cellName,
		Description: "a Spikey neuron: conductance-based LIF with fixed threshold; g_leak and tau_refrac per neuron, v_rest, v_reset, v_thresh, e_rev_I shared per block (and neuron parity), e_rev_E clamped to 0 mV, cm 0.2 nF",
		Params: []network.Param{
			{Name: "g_leak", Default: 20, Units: "nS", Constraint: network.Positive},
			{Name: "tau_refrac", Default: 1, Units: "ms", Constraint: network.NonNegative},
			{Name: "v_rest", Default: -75, Units: "mV", Constraint: network.Any},
			{Name: "v_reset", Default: -80, Units: "mV", Constraint: network.Any},
			{Name: "v_thresh", Default: -55, Units: "mV", Constraint: network.Any},
			{Name: "e_rev_I", Default: -80, Units: "mV", Constraint: network.Any},
		},
		State:       []network.Param{{Name: "v", Default: -75, Units: "mV"}},
		Recordables: []string{"spikes", "v"}, Receptors: []string{"excitatory", "inhibitory"}, ConductanceBased: true}
	c.Cells[sourceArray] = std.Cells[sourceArray]
	c.Cells[sourcePois] = std.Cells[sourcePois]
	w := network.Param{Name: "weight", Units: "uS", Constraint: network.NonNegative}
	d := network.Param{Name: "delay", Units: "ms", Constraint: network.NonNegative}
	c.Synapses[staticSyn] = &network.SynapseType{Name: staticSyn, Description: "a 4-bit Spikey synapse", Params: []network.Param{w, d}}
	// Spikey's line drivers cannot be started from a given state.
	tm := *std.Synapses[tmSyn].WithoutState()
	tm.Description = "short-term plasticity in the line driver: depression or facilitation, not both"
	tm.Params = append([]network.Param{w, d}, tm.Params[2:]...)
	for i := range tm.Params {
		if tm.Params[i].Name == "tau_rec" {
			tm.Params[i].Constraint = network.NonNegative // 0: facilitation only
		}
	}
	c.Synapses[tmSyn] = &tm
	c.Synapses[stdpSyn] = &network.SynapseType{Name: stdpSyn, Description: "STDP through correlation capacitors and the controller's look-up table",
		Params: []network.Param{w, d, {Name: "dendritic_delay_fraction", Default: 0, Constraint: network.Probability}}, Plastic: true, Composite: true}
	c.TimingRules[pairRule] = &network.ComponentType{Name: pairRule, Params: []network.Param{
		{Name: "tau_plus", Default: stdpTau, Units: "ms", Constraint: network.Positive},
		{Name: "tau_minus", Default: stdpTau, Units: "ms", Constraint: network.Positive},
		{Name: "A_plus", Default: 1.0 / 16, Constraint: network.NonNegative},
		{Name: "A_minus", Default: 1.0 / 16, Constraint: network.NonNegative}}}
	c.WeightRules[additiveRule] = &network.ComponentType{Name: additiveRule, Params: []network.Param{
		{Name: "w_min", Default: 0, Units: "uS", Constraint: network.NonNegative},
		{Name: "w_max", Default: 1, Units: "uS", Constraint: network.NonNegative}}}
	// Named so that a description asking for them gets the chip's answer
	// rather than "unknown".
	for _, name := range []string{"MultiplicativeWeightDependence", "GutigWeightDependence", "AdditivePotentiationMultiplicativeDepression"} {
		c.WeightRules[name] = &network.ComponentType{Name: name, Params: c.WeightRules[additiveRule].Params}
	}
	return c
}()

// engineCatalog returns the catalog of a plan's engine description: the
// sources as they are, and SpikeyNeuron with one receptor per driver time
// course (c0, c1, ...) and per plastic row (p0, p1, ...), whose digital
// weights it exposes as state variables w_p0, w_p1, ...
func engineCatalog(shapes, plastic int) *network.Catalog {
	c := &network.Catalog{Cells: map[string]*network.CellType{}, Synapses: map[string]*network.SynapseType{},
		TimingRules: map[string]*network.ComponentType{}, WeightRules: map[string]*network.ComponentType{},
		CurrentSources: map[string]*network.CurrentSourceType{}}
	std := network.Standard
	c.Cells[sourceArray] = std.Cells[sourceArray]
	c.Cells[sourcePois] = std.Cells[sourcePois]
	c.Synapses[staticSyn] = std.Synapses[staticSyn]
	c.Synapses[tmSyn] = std.Synapses[tmSyn]
	ct := &network.CellType{Name: engineCell, Description: "a Spikey neuron as mapped", ConductanceBased: true,
		State: []network.Param{{Name: "v", Default: -75, Units: "mV"}}, Recordables: []string{"spikes", "v"}}
	for k := 0; k < shapes; k++ {
		ct.Receptors = append(ct.Receptors, fmt.Sprintf("c%d", k))
	}
	for m := 0; m < plastic; m++ {
		ct.Receptors = append(ct.Receptors, fmt.Sprintf("p%d", m))
		ct.State = append(ct.State, network.Param{Name: fmt.Sprintf("w_p%d", m), Units: "4-bit LSB"})
	}
	if len(ct.Receptors) == 0 {
		ct.Receptors = []string{"c0"}
	}
	c.Cells[engineCell] = ct
	return c
}
