package spinnaker

import "github.com/nmp-platform/nmp/network"

// The models sPyNNaker runs, by PyNN name, with PyNN's parameters, units
// and defaults (the engine's standard catalog entries).
var neuronModels = []string{"IF_curr_exp", "IF_cond_exp", "IF_curr_delta", "Izhikevich", "IF_curr_dual_exp", "IF_curr_alpha", "Izhikevich_cond", "IF_curr_exp_ca2_adaptive"}

var sourceModels = []string{"SpikeSourceArray", "SpikeSourcePoisson"}

// enginePrefix names the engine-level models of the plan.
const enginePrefix = "SpiNNaker_"

// userCatalog is what a description for SpiNNaker may use.
var userCatalog = func() *network.Catalog {
	std := network.Standard
	c := &network.Catalog{Cells: map[string]*network.CellType{}, Synapses: map[string]*network.SynapseType{},
		TimingRules: map[string]*network.ComponentType{}, WeightRules: map[string]*network.ComponentType{},
		CurrentSources: map[string]*network.CurrentSourceType{}}
	for _, n := range append(append([]string{}, neuronModels...), sourceModels...) {
		c.Cells[n] = std.Cells[n]
	}
	// sPyNNaker records every model's synaptic input as gsyn_exc and
	// gsyn_inh, the current of current-based models among them: they are
	// IF_curr_exp's isyn_exc and isyn_inh under sPyNNaker's names.
	for _, n := range []string{"IF_curr_exp", "IF_curr_delta", "IF_curr_alpha"} {
		ce := *std.Cells[n]
		ce.State = append(append([]network.Param{}, ce.State...),
			network.Param{Name: "gsyn_exc", Units: "nA", Constraint: network.Any}, network.Param{Name: "gsyn_inh", Units: "nA", Constraint: network.Any})
		ce.Recordables = append(append([]string{}, ce.Recordables...), "gsyn_exc", "gsyn_inh")
		c.Cells[n] = &ce
	}
	// sPyNNaker's Izhikevich is IzkCurrExp: exponential current synapses
	// (weights in nA) and their time constants, not PyNN's voltage steps.
	izh := *std.Cells["Izhikevich"]
	izh.Description = "Izhikevich (2003) quadratic model with exponentially decaying synaptic currents, as sPyNNaker's IzkCurrExp"
	izh.Params = append(append([]network.Param{}, izh.Params...),
		network.Param{Name: "tau_syn_E", Default: 5, Units: "ms", Constraint: network.Positive},
		network.Param{Name: "tau_syn_I", Default: 5, Units: "ms", Constraint: network.Positive})
	izh.State = append(append([]network.Param{}, izh.State...),
		network.Param{Name: "gsyn_exc", Units: "nA", Constraint: network.Any}, network.Param{Name: "gsyn_inh", Units: "nA", Constraint: network.Any})
	izh.Recordables = append(append([]string{}, izh.Recordables...), "gsyn_exc", "gsyn_inh")
	izh.VoltageJump = false
	c.Cells["Izhikevich"] = &izh
	// sPyNNaker's Izhikevich_cond (IzkCondExpBase): the same neuron with
	// exponential conductance synapses (weights in µS) and reversal
	// potentials.
	izc := izh
	izc.Name = "Izhikevich_cond"
	izc.Description = "Izhikevich (2003) quadratic model with exponentially decaying synaptic conductances, as sPyNNaker's IzkCondExp"
	izc.Params = append(append([]network.Param{}, izh.Params...),
		network.Param{Name: "e_rev_E", Default: 0, Units: "mV", Constraint: network.Any},
		network.Param{Name: "e_rev_I", Default: -70, Units: "mV", Constraint: network.Any})
	izc.State = append([]network.Param{}, izh.State...)
	for k := range izc.State {
		if izc.State[k].Name == "gsyn_exc" || izc.State[k].Name == "gsyn_inh" {
			izc.State[k].Units = "uS"
		}
	}
	izc.ConductanceBased = true
	c.Cells[izc.Name] = &izc
	// sPyNNaker's IF_curr_dual_exp: IF_curr_exp with a second excitatory
	// exponential synapse (receptor "excitatory2", tau_syn_E2).
	dual := *c.Cells["IF_curr_exp"]
	dual.Name = "IF_curr_dual_exp"
	dual.Description = "leaky integrate-and-fire with two excitatory and one inhibitory exponentially decaying synaptic current (sPyNNaker's IFCurrDualExpBase)"
	dual.Params = append(append([]network.Param{}, dual.Params...), network.Param{Name: "tau_syn_E2", Default: 5, Units: "ms", Constraint: network.Positive})
	dual.Receptors = []string{"excitatory", "inhibitory", "excitatory2"}
	c.Cells["IF_curr_dual_exp"] = &dual
	// sPyNNaker's IF_curr_exp_ca2_adaptive (extra_models; Liu & Wang
	// 2001): IF_curr_exp with a calcium current that every spike raises
	// by i_alpha and that decays with tau_ca2, subtracted from the input.
	ca2 := *c.Cells["IF_curr_exp"]
	ca2.Name = "IF_curr_exp_ca2_adaptive"
	ca2.Description = "leaky integrate-and-fire with exponential current synapses and a spike-triggered adapting calcium current (sPyNNaker's IFCurrExpCa2Adaptive)"
	ca2.Params = append(append([]network.Param{}, ca2.Params...),
		network.Param{Name: "tau_ca2", Default: 50, Units: "ms", Constraint: network.Positive},
		network.Param{Name: "i_alpha", Default: 0.1, Units: "nA", Constraint: network.Any})
	ca2.State = append(append([]network.Param{}, ca2.State...), network.Param{Name: "i_ca2", Default: 0, Units: "nA", Constraint: network.Any})
	c.Cells[ca2.Name] = &ca2
	c.Synapses["StaticSynapse"] = std.Synapses["StaticSynapse"]
	// Plasticity in sPyNNaker's fixed point (stdp.go): its rules, PyNN's
	// parameters; SpikeNearestPairRule is sPyNNaker's, with SpikePairRule's.
	c.Synapses["STDPMechanism"] = std.Synapses["STDPMechanism"]
	for _, n := range []string{"SpikePairRule", "Vogels2011Rule"} {
		c.TimingRules[n] = std.TimingRules[n]
	}
	nearest := *std.TimingRules["SpikePairRule"]
	nearest.Name = "SpikeNearestPairRule"
	c.TimingRules[nearest.Name] = &nearest
	for _, n := range []string{"AdditiveWeightDependence", "MultiplicativeWeightDependence"} {
		c.WeightRules[n] = std.WeightRules[n]
	}
	// sPyNNaker's triplet rule (extra_models): Pfister & Gerstner (2006)
	// with its second traces x (presynaptic) and y (postsynaptic); the
	// defaults are that paper's visual-cortex all-to-all fit (sPyNNaker
	// has none for the time constants).
	p := func(name string, def float64, units string, c network.Constraint) network.Param {
		return network.Param{Name: name, Default: def, Units: units, Constraint: c}
	}
	c.TimingRules["PfisterSpikeTripletRule"] = &network.ComponentType{Name: "PfisterSpikeTripletRule", Params: []network.Param{
		p("tau_plus", 16.8, "ms", network.Positive), p("tau_minus", 33.7, "ms", network.Positive),
		p("tau_x", 101, "ms", network.Positive), p("tau_y", 125, "ms", network.Positive),
		p("A_plus", 0.01, "", network.NonNegative), p("A_minus", 0.01, "", network.NonNegative)}}
	c.WeightRules["WeightDependenceAdditiveTriplet"] = &network.ComponentType{Name: "WeightDependenceAdditiveTriplet", Params: []network.Param{
		p("w_min", 0, "", network.Any), p("w_max", 1, "", network.Any),
		p("A3_plus", 0.01, "", network.NonNegative), p("A3_minus", 0.01, "", network.NonNegative)}}
	for n, cs := range std.CurrentSources {
		c.CurrentSources[n] = cs
	}
	return c
}()

// engineCatalog holds the plan's models: the same parameters under the
// engine-level names.
var engineCatalog = func() *network.Catalog {
	c := userCatalog.Clone()
	for _, n := range append(append([]string{}, neuronModels...), sourceModels...) {
		ct := *userCatalog.Cells[n]
		ct.Name = enginePrefix + n
		c.Cells[ct.Name] = &ct
	}
	// Plastic projections carry their target's ring-buffer shift, which
	// their 16-bit weights are in.
	st := *userCatalog.Synapses["STDPMechanism"]
	st.Name = stdpSynapse
	st.Params = append(append([]network.Param{}, st.Params...), network.Param{Name: "ring_buffer_shift", Units: "", Constraint: network.NonNegative},
		network.Param{Name: "weight_scale", Default: 1, Units: "", Constraint: network.Positive})
	c.Synapses[st.Name] = &st
	return c
}()
