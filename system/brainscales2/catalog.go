package brainscales2

import "github.com/nmp-platform/nmp/network"

// The cell types a user writes for the chip. HXNeuron's parameters are the
// flattened fields of one neuron circuit's configuration (lola's
// AtomicNeuron for HX v3), named <member>_<field> as pynn-brainscales names
// them, with the hardware's ranges: CapMem cells 0..1022, the capacitor
// 0..63, the refractory counter 0..255, the reset holdoff 0..15, the event
// address 0..255, switches 0 or 1. Defaults are the hardware's: all CapMem
// cells 0 and most switches off, a "silent" neuron.

// Analog parameter kinds: a CapMem voltage cell, a CapMem current cell, or
// a digital setting.
const (
	capMemMax = 1022 // 1023 is the CapMem's "disable refresh" code, not a value
)

func analog(name string) network.Param {
	return network.Param{Name: name, Units: "CapMem LSB", Constraint: network.Whole, Min: 0, Max: capMemMax}
}

func flag(name string, def bool) network.Param {
	d := 0.0
	if def {
		d = 1
	}
	return network.Param{Name: name, Default: d, Units: "", Constraint: network.Boolean}
}

func digital(name string, def, max float64, units string) network.Param {
	return network.Param{Name: name, Default: def, Units: units, Constraint: network.Whole, Min: 0, Max: max}
}

// hxParams lists HXNeuron's parameters in pynn-brainscales' order (sorted
// by member, then field).
var hxParams = func() []network.Param {
	var ps []network.Param
	add := func(p ...network.Param) { ps = append(ps, p...) }
	add(flag("adaptation_enable", false), flag("adaptation_enable_pulse", false),
		analog("adaptation_i_bias_a"), analog("adaptation_i_bias_b"), analog("adaptation_i_bias_tau"),
		flag("adaptation_invert_a", false), flag("adaptation_invert_b", false),
		analog("adaptation_v_leak"), analog("adaptation_v_ref"))
	add(flag("bayesian_connect_fire_from_right", false), flag("bayesian_connect_fire_to_right", false),
		flag("bayesian_connect_fire_vertical", false), flag("bayesian_enable_master", false),
		flag("bayesian_enable_slave", false), digital("bayesian_operation", 0, 3, "local=0 AND=1 XNOR=2 MULLER_C=3"),
		flag("bayesian_to_post_pulse", true))
	add(flag("constant_current_enable", false), analog("constant_current_i_offset"),
		digital("constant_current_type", 0, 1, "source=0 sink=1"))
	add(digital("event_routing_address", 0, 255, ""), flag("event_routing_enable_bypass_excitatory", false),
		flag("event_routing_enable_bypass_inhibitory", false), flag("event_routing_enable_post_overwrite", false))
	for _, in := range []string{"excitatory_input", "inhibitory_input"} {
		if in == "inhibitory_input" {
			add(flag("exponential_enable", false), analog("exponential_i_bias"), analog("exponential_v_exp"))
		}
		add(flag(in+"_enable", false), flag(in+"_enable_coba_mode", false), flag(in+"_enable_high_resistance", false),
			flag(in+"_enable_small_capacitance", true), analog(in+"_i_bias_coba"), analog(in+"_i_bias_gm"),
			analog(in+"_i_bias_tau"), analog(in+"_i_shift_reference"), analog(in+"_v_rev_coba"))
	}
	add(flag("leak_enable_degeneration", false), flag("leak_enable_division", false), flag("leak_enable_multiplication", false),
		analog("leak_i_bias"), analog("leak_v_leak"))
	add(digital("membrane_capacitance_capacitance", 0, 63, "capacitor units (63 = about 2.2 pF)"))
	add(flag("multicompartment_connect_right", false), flag("multicompartment_connect_soma", false),
		flag("multicompartment_connect_soma_right", false), flag("multicompartment_connect_vertical", false),
		flag("multicompartment_enable_conductance", false), flag("multicompartment_enable_conductance_division", false),
		flag("multicompartment_enable_conductance_multiplication", false), analog("multicompartment_i_bias_nmda"))
	add(flag("readout_enable_unbuffered_access", false))
	add(flag("refractory_period_enable_pause", false), digital("refractory_period_input_clock", 0, 1, "slow=0 fast=1"),
		digital("refractory_period_refractory_time", 0, 255, "clock cycles"), digital("refractory_period_reset_holdoff", 15, 15, "clock cycles"))
	add(flag("reset_enable_degeneration", false), flag("reset_enable_division", false), flag("reset_enable_multiplication", false),
		analog("reset_i_bias"), analog("reset_v_reset"))
	add(flag("threshold_enable", false), analog("threshold_v_threshold"))
	// pynn-brainscales' NeuronCellType adds these two for its plasticity
	// processor; the emulation has no PPU and accepts them as they are.
	add(digital("plasticity_rule_readout_source", 0, 3, "membrane=0 exc_synin=1 inh_synin=2 adaptation=3"),
		flag("plasticity_rule_enable_readout_source", false))
	return ps
}()

// analogVars are what the membrane ADC and the CADC can read from a
// circuit (its readout multiplexer's sources, in the mux's order).
var analogVars = []string{"v", "exc_synin", "inh_synin", "adaptation"}

// cadcSuffix marks a variable recorded through the CADC instead of the MADC
// ("v@cadc"): the network description has no device field, so the device
// travels in the variable's name.
const cadcSuffix = "@cadc"

func hxState() []network.Param {
	var st []network.Param
	for _, dev := range []string{"", cadcSuffix} {
		for _, v := range analogVars {
			st = append(st, network.Param{Name: v + dev, Units: "V", Constraint: network.Any})
		}
	}
	return st
}

func hxRecordables() []string {
	rs := []string{"spikes"}
	for _, s := range hxState() {
		rs = append(rs, s.Name)
	}
	return rs
}

// Catalog names of the chip's cell types.
const (
	hxNeuron         = "HXNeuron"
	sourceArray      = "SpikeSourceArray"
	sourcePoisson    = "SpikeSourcePoisson"
	sourceOnChip     = "SpikeSourcePoissonOnChip"
	engineSourceType = "HXSpikeSource"
)

// userCatalog is what a description for the chip may use.
var userCatalog = func() *network.Catalog {
	std := network.Standard
	c := &network.Catalog{Cells: map[string]*network.CellType{}, Synapses: map[string]*network.SynapseType{},
		TimingRules: map[string]*network.ComponentType{}, WeightRules: map[string]*network.ComponentType{},
		CurrentSources: map[string]*network.CurrentSourceType{}}
	c.Cells[hxNeuron] = &network.CellType{Name: hxNeuron,
		Description: "one neuron circuit of the chip (AdEx, reducible to LIF) with its raw hardware parameters; defaults to a silent neuron",
		Params:      hxParams, State: hxState(), Recordables: hxRecordables(), Receptors: []string{"excitatory", "inhibitory"}}
	c.Cells[sourceArray] = std.Cells[sourceArray]
	c.Cells[sourcePoisson] = std.Cells[sourcePoisson]
	c.Cells[sourceOnChip] = &network.CellType{Name: sourceOnChip,
		Description: "Poisson spikes from the chip's background spike generators; all neurons of the population share rate and seed",
		Params: []network.Param{{Name: "rate", Default: 1, Units: "Hz", Constraint: network.NonNegative},
			{Name: "seed", Default: 0, Constraint: network.Whole, Min: 0, Max: 1<<32 - 1}},
		Recordables: []string{"spikes"}, Source: true}
	c.Synapses["StaticSynapse"] = &network.SynapseType{Name: "StaticSynapse",
		Description: "a 6-bit hardware synapse; integer weights, |w| > 63 spread over parallel synapses, delay 0",
		Params:      []network.Param{{Name: "weight", Units: "6-bit LSB", Constraint: network.Any}, {Name: "delay", Units: "ms", Constraint: network.NonNegative}}}
	return c
}()

// engineCatalog is what the plan's description uses: HXNeuron as it is,
// and every source as a player of precomputed arrival times.
var engineCatalog = func() *network.Catalog {
	c := userCatalog.Clone()
	c.Cells[engineSourceType] = &network.CellType{Name: engineSourceType,
		Description: "external or background events as they arrive at the synapse drivers", Recordables: []string{"spikes"}, Source: true}
	c.Synapses["StaticSynapse"] = network.Standard.Synapses["StaticSynapse"]
	// The engine's weights are synaptic charges, positive for both
	// receptors (the row mode gives the sign): PyNN's sign rule for
	// conductance-based cells is the one that holds for them.
	hx := *c.Cells[hxNeuron]
	hx.ConductanceBased = true
	c.Cells[hxNeuron] = &hx
	return c
}()
