package network

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// ParamKind says what shape a parameter has.
type ParamKind int

const (
	// Number is one number per element.
	Number ParamKind = iota
	// Sequence is a sequence of numbers per element (spike_times, amplitudes, ...).
	Sequence
)

// Constraint is the range a parameter must lie in.
type Constraint int

const (
	Any         Constraint = iota // any finite number
	Positive                      // > 0
	NonNegative                   // >= 0
	Probability                   // in [0, 1]
	Whole                         // a whole number >= 0
	Boolean                       // 0 or 1
	NonNegativeOrInf
)

func (c Constraint) check(x float64) string {
	switch {
	case math.IsNaN(x):
		return "is not a number"
	case c == NonNegativeOrInf && math.IsInf(x, 1):
		return ""
	case math.IsInf(x, 0):
		return "is infinite"
	}
	switch c {
	case Positive:
		if x <= 0 {
			return "must be positive"
		}
	case NonNegative, NonNegativeOrInf:
		if x < 0 {
			return "must not be negative"
		}
	case Probability:
		if x < 0 || x > 1 {
			return "must be a probability, between 0 and 1"
		}
	case Whole:
		if x < 0 || x != math.Trunc(x) {
			return "must be a whole number, 0 or more"
		}
	case Boolean:
		if x != 0 && x != 1 {
			return "must be true or false (1 or 0)"
		}
	}
	return ""
}

// Param describes one parameter or state variable of a model.
type Param struct {
	Name       string
	Default    float64
	DefaultSeq []float64
	Units      string
	Kind       ParamKind
	Constraint Constraint
	// Min and Max, where both are set (Max > Min), bound the value
	// inclusively; systems use them for hardware ranges.
	Min, Max float64
}

// Check returns a reason why x is not a valid value, or "".
func (p *Param) Check(x float64) string {
	if r := p.Constraint.check(x); r != "" {
		return r
	}
	if p.Max > p.Min && (x < p.Min || x > p.Max) {
		return fmt.Sprintf("is outside the range %g to %g", p.Min, p.Max)
	}
	return ""
}

// CellType is a neuron model or spike source of the catalog.
type CellType struct {
	Name        string
	Description string
	Params      []Param
	// State lists the state variables with their default initial values.
	State       []Param
	Recordables []string
	Receptors   []string
	// Source is true for spike sources, which have no state and receive nothing.
	Source bool
	// ConductanceBased synapses take weights in uS; current-based in nA;
	// VoltageJump synapses in mV.
	ConductanceBased bool
	VoltageJump      bool
}

// Param returns the named parameter, or nil.
func (c *CellType) Param(name string) *Param { return findParam(c.Params, name) }

// StateVar returns the named state variable, or nil.
func (c *CellType) StateVar(name string) *Param { return findParam(c.State, name) }

// CanRecord reports whether variable can be recorded.
func (c *CellType) CanRecord(variable string) bool {
	for _, r := range c.Recordables {
		if r == variable {
			return true
		}
	}
	return false
}

// HasReceptor reports whether receptor is one of the model's receptor types.
func (c *CellType) HasReceptor(receptor string) bool {
	for _, r := range c.Receptors {
		if r == receptor {
			return true
		}
	}
	return false
}

func findParam(ps []Param, name string) *Param {
	for i := range ps {
		if ps[i].Name == name {
			return &ps[i]
		}
	}
	return nil
}

// SynapseType is a synapse model of the catalog.
type SynapseType struct {
	Name        string
	Description string
	// Params are per-connection parameters, weight and delay among them.
	Params []Param
	// Plastic synapse types change their weights as the simulation runs.
	Plastic bool
	// Composite types (STDPMechanism) take a timing and a weight dependence.
	Composite bool
	// Electrical synapses couple membrane potentials continuously instead
	// of delivering events.
	Electrical bool
	// State names those of Params that are the initial state of each
	// connection (PyNN's Projection.initialize) rather than parameters.
	State []string
}

// Param returns the named parameter, or nil.
func (s *SynapseType) Param(name string) *Param { return findParam(s.Params, name) }

// WithoutState returns a copy of s without its state variables, for a
// system whose circuits cannot be started from a given state: there an
// initial value is refused as an unknown parameter rather than ignored.
func (s *SynapseType) WithoutState() *SynapseType {
	c := *s
	c.Params = nil
	for _, p := range s.Params {
		if !slices.Contains(s.State, p.Name) {
			c.Params = append(c.Params, p)
		}
	}
	c.State = nil
	return &c
}

// ComponentType is a timing or weight dependence of STDPMechanism.
type ComponentType struct {
	Name   string
	Params []Param
	// PerConnection parameters may differ between connections.
	PerConnection bool
}

// CurrentSourceType is a current source model.
type CurrentSourceType struct {
	Name        string
	Description string
	Params      []Param
}

// Catalog is the set of models a system offers. Standard is PyNN's standard
// library; systems extend a copy with their own models.
type Catalog struct {
	Cells          map[string]*CellType
	Synapses       map[string]*SynapseType
	TimingRules    map[string]*ComponentType
	WeightRules    map[string]*ComponentType
	CurrentSources map[string]*CurrentSourceType
	MaxDelayMs     float64 // 0: no limit beyond the engine's
}

// Clone returns a copy that can be extended without changing c.
func (c *Catalog) Clone() *Catalog {
	out := &Catalog{
		Cells:          map[string]*CellType{},
		Synapses:       map[string]*SynapseType{},
		TimingRules:    map[string]*ComponentType{},
		WeightRules:    map[string]*ComponentType{},
		CurrentSources: map[string]*CurrentSourceType{},
		MaxDelayMs:     c.MaxDelayMs,
	}
	for k, v := range c.Cells {
		out.Cells[k] = v
	}
	for k, v := range c.Synapses {
		out.Synapses[k] = v
	}
	for k, v := range c.TimingRules {
		out.TimingRules[k] = v
	}
	for k, v := range c.WeightRules {
		out.WeightRules[k] = v
	}
	for k, v := range c.CurrentSources {
		out.CurrentSources[k] = v
	}
	return out
}

// CellNames returns the cell type names in order.
func (c *Catalog) CellNames() []string { return sortedKeys(c.Cells) }

func p(name string, def float64, units string, c Constraint) Param {
	return Param{Name: name, Default: def, Units: units, Constraint: c}
}

func seq(name string, def []float64, units string, c Constraint) Param {
	return Param{Name: name, DefaultSeq: def, Units: units, Kind: Sequence, Constraint: c}
}

var (
	exc        = []string{"excitatory", "inhibitory"}
	lifParams  = []Param{p("v_rest", -65, "mV", Any), p("cm", 1, "nF", Positive), p("tau_m", 20, "ms", Positive), p("tau_refrac", 0.1, "ms", NonNegative), p("i_offset", 0, "nA", Any), p("v_reset", -65, "mV", Any), p("v_thresh", -50, "mV", Any)}
	condSyn    = []Param{p("e_rev_E", 0, "mV", Any), p("e_rev_I", -70, "mV", Any)}
	adexParams = []Param{p("cm", 0.281, "nF", Positive), p("tau_refrac", 0.1, "ms", NonNegative), p("v_spike", -40, "mV", Any), p("v_reset", -70.6, "mV", Any), p("v_rest", -70.6, "mV", Any), p("tau_m", 9.3667, "ms", Positive), p("i_offset", 0, "nA", Any), p("a", 4, "nS", Any), p("b", 0.0805, "nA", Any), p("delta_T", 2, "mV", NonNegative), p("tau_w", 144, "ms", Positive), p("v_thresh", -50.4, "mV", Any), p("e_rev_E", 0, "mV", Any), p("tau_syn_E", 5, "ms", Positive), p("e_rev_I", -80, "mV", Any), p("tau_syn_I", 5, "ms", Positive)}
	sourceTime = []Param{p("start", 0, "ms", NonNegative), p("duration", 1e10, "ms", NonNegativeOrInf)}
)

func join(parts ...[]Param) []Param {
	var out []Param
	for _, ps := range parts {
		out = append(out, ps...)
	}
	return out
}

func tauSyn(e, i float64) []Param {
	return []Param{p("tau_syn_E", e, "ms", Positive), p("tau_syn_I", i, "ms", Positive)}
}

// Standard is PyNN 0.10's standard model library with its names,
// parameters, units and defaults.
var Standard = func() *Catalog {
	c := &Catalog{Cells: map[string]*CellType{}, Synapses: map[string]*SynapseType{}, TimingRules: map[string]*ComponentType{}, WeightRules: map[string]*ComponentType{}, CurrentSources: map[string]*CurrentSourceType{}}
	add := func(t *CellType) { c.Cells[t.Name] = t }
	vState := func(v float64, extra ...Param) []Param {
		return append([]Param{p("v", v, "mV", Any)}, extra...)
	}
	gState := []Param{p("gsyn_exc", 0, "uS", NonNegative), p("gsyn_inh", 0, "uS", NonNegative)}
	iState := []Param{p("isyn_exc", 0, "nA", Any), p("isyn_inh", 0, "nA", Any)}

	add(&CellType{Name: "IF_curr_exp", Description: "leaky integrate-and-fire, fixed threshold, exponentially decaying post-synaptic current",
		Params: join(lifParams, tauSyn(5, 5)), State: vState(-65, iState...), Recordables: []string{"spikes", "v", "isyn_exc", "isyn_inh"}, Receptors: exc})
	add(&CellType{Name: "IF_curr_alpha", Description: "leaky integrate-and-fire, fixed threshold, alpha-function post-synaptic current",
		Params: join(lifParams, tauSyn(0.5, 0.5)), State: vState(-65, iState...), Recordables: []string{"spikes", "v", "isyn_exc", "isyn_inh"}, Receptors: exc})
	add(&CellType{Name: "IF_curr_delta", Description: "leaky integrate-and-fire, fixed threshold, synaptic input as voltage steps (weights in mV)",
		Params: lifParams, State: vState(-65), Recordables: []string{"spikes", "v"}, Receptors: exc, VoltageJump: true})
	add(&CellType{Name: "IF_cond_exp", Description: "leaky integrate-and-fire, fixed threshold, exponentially decaying post-synaptic conductance",
		Params: join(lifParams, tauSyn(5, 5), condSyn), State: vState(-65, gState...), Recordables: []string{"spikes", "v", "gsyn_exc", "gsyn_inh"}, Receptors: exc, ConductanceBased: true})
	add(&CellType{Name: "IF_cond_alpha", Description: "leaky integrate-and-fire, fixed threshold, alpha-function post-synaptic conductance",
		Params: join(lifParams, tauSyn(0.3, 0.5), condSyn), State: vState(-65, gState...), Recordables: []string{"spikes", "v", "gsyn_exc", "gsyn_inh"}, Receptors: exc, ConductanceBased: true})
	add(&CellType{Name: "IF_cond_exp_gsfa_grr", Description: "conductance-based leaky integrate-and-fire with spike-frequency adaptation and relative refractoriness",
		Params: join(lifParams, tauSyn(5, 5), condSyn, []Param{p("tau_sfa", 100, "ms", Positive), p("e_rev_sfa", -75, "mV", Any), p("q_sfa", 15, "nS", NonNegative), p("tau_rr", 2, "ms", Positive), p("e_rev_rr", -75, "mV", Any), p("q_rr", 3000, "nS", NonNegative)}),
		State:  vState(-65, append([]Param{p("g_r", 0, "nS", NonNegative), p("g_s", 0, "nS", NonNegative)}, gState...)...), Recordables: []string{"spikes", "v", "g_r", "g_s", "gsyn_exc", "gsyn_inh"}, Receptors: exc, ConductanceBased: true})
	add(&CellType{Name: "IF_facets_hardware1", Description: "conductance-based leaky integrate-and-fire as on the FACETS stage-1 hardware (cm 0.2 nF, tau_refrac 1 ms, e_rev_E 0 mV fixed)",
		Params: []Param{p("g_leak", 40, "nS", Positive), p("tau_syn_E", 30, "ms", Positive), p("tau_syn_I", 30, "ms", Positive), p("v_reset", -80, "mV", Any), p("e_rev_I", -80, "mV", Any), p("v_rest", -65, "mV", Any), p("v_thresh", -55, "mV", Any)},
		State:  vState(-65, gState...), Recordables: []string{"spikes", "v", "gsyn_exc", "gsyn_inh"}, Receptors: exc, ConductanceBased: true})
	add(&CellType{Name: "HH_cond_exp", Description: "single-compartment Hodgkin-Huxley (Traub and Miles) with exponentially decaying conductances",
		Params: []Param{p("gbar_Na", 20, "uS", NonNegative), p("gbar_K", 6, "uS", NonNegative), p("g_leak", 0.01, "uS", NonNegative), p("cm", 0.2, "nF", Positive), p("v_offset", -63, "mV", Any), p("e_rev_Na", 50, "mV", Any), p("e_rev_K", -90, "mV", Any), p("e_rev_leak", -65, "mV", Any), p("e_rev_E", 0, "mV", Any), p("e_rev_I", -80, "mV", Any), p("tau_syn_E", 0.2, "ms", Positive), p("tau_syn_I", 2, "ms", Positive), p("i_offset", 0, "nA", Any)},
		State:  vState(-65, append(append([]Param{}, gState...), p("h", 1, "", Probability), p("m", 0, "", Probability), p("n", 0, "", Probability))...), Recordables: []string{"spikes", "v", "gsyn_exc", "gsyn_inh", "h", "m", "n"}, Receptors: exc, ConductanceBased: true})
	add(&CellType{Name: "EIF_cond_exp_isfa_ista", Description: "adaptive exponential integrate-and-fire (AdEx, Brette and Gerstner 2005), exponential conductances",
		Params: adexParams, State: vState(-70.6, append([]Param{p("w", 0, "nA", Any)}, gState...)...), Recordables: []string{"spikes", "v", "w", "gsyn_exc", "gsyn_inh"}, Receptors: exc, ConductanceBased: true})
	add(&CellType{Name: "EIF_cond_alpha_isfa_ista", Description: "adaptive exponential integrate-and-fire (AdEx, Brette and Gerstner 2005), alpha conductances",
		Params: adexParams, State: vState(-70.6, append([]Param{p("w", 0, "nA", Any)}, gState...)...), Recordables: []string{"spikes", "v", "w", "gsyn_exc", "gsyn_inh"}, Receptors: exc, ConductanceBased: true})
	add(&CellType{Name: "Izhikevich", Description: "Izhikevich (2003) quadratic model; synaptic input as voltage steps (weights in mV)",
		Params: []Param{p("a", 0.02, "/ms", Any), p("b", 0.2, "/ms", Any), p("c", -65, "mV", Any), p("d", 2, "mV/ms", Any), p("i_offset", 0, "nA", Any)},
		State:  []Param{p("v", -70, "mV", Any), p("u", -14, "mV/ms", Any)}, Recordables: []string{"spikes", "v", "u"}, Receptors: exc, VoltageJump: true})
	add(&CellType{Name: "GIF_cond_exp", Description: "generalised integrate-and-fire with spike-triggered current, moving threshold and stochastic spike emission (Mensi et al. 2012)",
		Params: join([]Param{p("v_rest", -65, "mV", Any), p("cm", 1, "nF", Positive), p("tau_m", 20, "ms", Positive), p("tau_refrac", 4, "ms", NonNegative)}, tauSyn(5, 5), []Param{p("e_rev_E", 0, "mV", Any), p("e_rev_I", -70, "mV", Any), p("v_reset", -65, "mV", Any), p("i_offset", 0, "nA", Any), p("delta_v", 0.5, "mV", Positive), p("v_t_star", -48, "mV", Any), p("lambda0", 1, "Hz", NonNegative),
			seq("tau_eta", []float64{1, 10, 100}, "ms", Positive), seq("tau_gamma", []float64{1, 10, 100}, "ms", Positive), seq("a_eta", []float64{1, 1, 1}, "nA", Any), seq("a_gamma", []float64{1, 1, 1}, "mV", Any)}),
		State: vState(-65, append([]Param{p("v_t", -48, "mV", Any), p("i_eta", 0, "nA", Any)}, gState...)...), Recordables: []string{"spikes", "v", "gsyn_exc", "gsyn_inh", "i_eta", "v_t"}, Receptors: exc, ConductanceBased: true})

	src := func(name, desc string, params ...Param) {
		add(&CellType{Name: name, Description: desc, Params: params, Recordables: []string{"spikes"}, Source: true})
	}
	src("SpikeSourceArray", "emits spikes at the given times", seq("spike_times", nil, "ms", NonNegative))
	src("SpikeSourcePoisson", "Poisson process", join([]Param{p("rate", 1, "Hz", NonNegative)}, sourceTime)...)
	src("SpikeSourcePoissonRefractory", "Poisson process with dead time", join([]Param{p("rate", 1, "Hz", NonNegative), p("tau_refrac", 0, "ms", NonNegative)}, sourceTime)...)
	src("SpikeSourceGamma", "gamma renewal process: shape alpha, rate beta (mean rate beta/alpha)", join([]Param{p("alpha", 2, "dimensionless", Positive), p("beta", 1, "Hz", NonNegative)}, sourceTime)...)
	src("SpikeSourceInhGamma", "inhomogeneous gamma process by thinning: a(t) and b(t) given per time bin", join([]Param{seq("a", []float64{1}, "dimensionless", Positive), seq("b", []float64{1}, "s", NonNegative), seq("tbins", []float64{0}, "ms", NonNegative)}, sourceTime)...)

	w := p("weight", 0, "", Any)
	d := p("delay", 0, "ms", NonNegative)
	syn := func(t *SynapseType) { c.Synapses[t.Name] = t }
	syn(&SynapseType{Name: "StaticSynapse", Description: "fixed weight and delay", Params: []Param{w, d}})
	syn(&SynapseType{Name: "TsodyksMarkramSynapse", Description: "short-term depression and facilitation (Tsodyks and Markram)", Params: []Param{w, d, p("U", 0.5, "", Probability), p("tau_rec", 100, "ms", Positive), p("tau_facil", 0, "ms", NonNegative),
		// Initial state (Projection.initialize), PyNN's u and NEST's x (tsodyks_synapse).
		p("u", 0, "", Probability), p("x", 1, "", Probability)}, State: []string{"u", "x"}})
	syn(&SynapseType{Name: "SimpleStochasticSynapse", Description: "transmits each spike with probability p", Params: []Param{w, d, p("p", 0.5, "", Probability)}})
	syn(&SynapseType{Name: "StochasticTsodyksMarkramSynapse", Description: "Tsodyks-Markram dynamics with stochastic release of a single vesicle", Params: []Param{w, d, p("U", 0.5, "", Probability), p("tau_rec", 100, "ms", Positive), p("tau_facil", 0, "ms", NonNegative),
		// Initial state, under the names of PyNN's stochastic_stp_synapse for NEST: the
		// release probability u and R, 1 when the site is recovered, 0 when depleted.
		p("u", 0, "", Probability), p("R", 1, "", Boolean)}, State: []string{"u", "R"}})
	syn(&SynapseType{Name: "MultiQuantalSynapse", Description: "n release sites with Tsodyks-Markram dynamics and stochastic release", Params: []Param{w, d, p("U", 0.5, "", Probability), p("n", 1, "", Whole), p("tau_rec", 800, "ms", Positive), p("tau_facil", 0, "ms", NonNegative),
		// Initial state, under NEST's names (quantal_stp_synapse), which PyNN's
		// multiquantal_synapses example sets with Projection.initialize: the
		// release probability u (when not given: U) and the available sites a
		// (when not given: n).
		p("u", 0, "", Probability), p("a", 0, "", Whole)}, State: []string{"u", "a"}})
	syn(&SynapseType{Name: "ElectricalSynapse", Description: "gap junction: a current weight*(v_pre - v_post), weight in uS", Params: []Param{p("weight", 0, "uS", NonNegative)}, Electrical: true})
	syn(&SynapseType{Name: "STDPMechanism", Description: "spike-timing-dependent plasticity: a timing rule and a weight dependence", Params: []Param{w, d, p("dendritic_delay_fraction", 1, "", Probability),
		// Initial state: the presynaptic trace, NEST's Kplus (stdp_synapse, vogels_sprekeler_synapse).
		p("Kplus", 0, "", NonNegative)}, State: []string{"Kplus"}, Plastic: true, Composite: true})

	c.TimingRules["SpikePairRule"] = &ComponentType{Name: "SpikePairRule", Params: []Param{p("tau_plus", 20, "ms", Positive), p("tau_minus", 20, "ms", Positive), p("A_plus", 0.01, "", NonNegative), p("A_minus", 0.01, "", NonNegative)}, PerConnection: true}
	c.TimingRules["Vogels2011Rule"] = &ComponentType{Name: "Vogels2011Rule", Params: []Param{p("tau", 20, "ms", Positive), p("eta", 1e-10, "", Any), p("rho", 3, "Hz", NonNegative)}, PerConnection: true}
	bounds := []Param{p("w_min", 0, "", Any), p("w_max", 1, "", Any)}
	c.WeightRules["AdditiveWeightDependence"] = &ComponentType{Name: "AdditiveWeightDependence", Params: bounds}
	c.WeightRules["MultiplicativeWeightDependence"] = &ComponentType{Name: "MultiplicativeWeightDependence", Params: bounds}
	c.WeightRules["AdditivePotentiationMultiplicativeDepression"] = &ComponentType{Name: "AdditivePotentiationMultiplicativeDepression", Params: bounds}
	c.WeightRules["GutigWeightDependence"] = &ComponentType{Name: "GutigWeightDependence", Params: join(bounds, []Param{p("mu_plus", 0.5, "", NonNegative), p("mu_minus", 0.5, "", NonNegative)})}

	cs := func(t *CurrentSourceType) { c.CurrentSources[t.Name] = t }
	window := []Param{p("start", 0, "ms", NonNegative), p("stop", 1e12, "ms", NonNegativeOrInf)}
	cs(&CurrentSourceType{Name: "DCSource", Description: "constant current between start and stop", Params: join([]Param{p("amplitude", 1, "nA", Any)}, window)})
	cs(&CurrentSourceType{Name: "ACSource", Description: "sinusoidal current offset + amplitude*sin(2*pi*frequency*(t - start) + phase) between start and stop; phase in degrees, at start", Params: join([]Param{p("amplitude", 1, "nA", Any)}, window, []Param{p("frequency", 10, "Hz", NonNegative), p("offset", 0, "nA", Any), p("phase", 0, "deg", Any)})})
	cs(&CurrentSourceType{Name: "StepCurrentSource", Description: "piecewise-constant current: amplitudes[k] from times[k] on", Params: []Param{seq("amplitudes", nil, "nA", Any), seq("times", nil, "ms", NonNegative)}})
	cs(&CurrentSourceType{Name: "NoisyCurrentSource", Description: "Gaussian white noise current, a new value every dt, independent for each target", Params: join([]Param{p("mean", 0, "nA", Any), p("stdev", 1, "nA", NonNegative)}, window, []Param{p("dt", 0.1, "ms", Positive)})})
	return c
}()

// SynapseNames returns the synapse type names in order.
func (c *Catalog) SynapseNames() []string {
	names := sortedKeys(c.Synapses)
	sort.Strings(names)
	return names
}
