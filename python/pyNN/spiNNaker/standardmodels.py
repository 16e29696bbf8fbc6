"""The models pyNN.spiNNaker offers: PyNN's standard ones that sPyNNaker
runs, with this backend's state behind the synapse types."""

from pyNN.nmp import standardmodels as _nmp
from pyNN.standardmodels import build_translations, STDPTimingDependence, STDPWeightDependence

from . import simulator


class _Initial(object):
    """sPyNNaker takes a cell's initial values (v, u, isyn_exc, ...) among its
    parameters, as PyNN 0.8 did; they become the population's initial
    values."""

    def __init__(self, **parameters):
        self._spinnaker_initial = {k: parameters.pop(k) for k in list(parameters)
                                   if k in self.default_initial_values and k not in self.default_parameters}
        super().__init__(**parameters)

    # sPyNNaker's per-model settings, as its cell classes have them.
    @classmethod
    def set_model_max_atoms_per_dimension_per_core(cls, n_atoms=None):
        """At most n_atoms neurons of this model on a core (a number; a
        tuple per dimension is refused: populations here are flat)."""
        from . import set_number_of_neurons_per_core
        if n_atoms is None:
            from .simulator import state
            state.atoms_per_type.pop(cls.__name__, None)
            return
        if isinstance(n_atoms, (tuple, list)):
            if len(n_atoms) != 1:
                raise NotImplementedError("%s.set_model_max_atoms_per_dimension_per_core%r: neurons per core per "
                                          "dimension are not built; give one number" % (cls.__name__, tuple(n_atoms)))
            n_atoms = n_atoms[0]
        set_number_of_neurons_per_core(cls, n_atoms)

    @classmethod
    def set_model_n_synapse_cores(cls, n_synapse_cores):
        """As set_number_of_synapse_cores(cls, n): accepted, no effect."""
        from . import set_number_of_synapse_cores
        set_number_of_synapse_cores(cls, n_synapse_cores)



class IF_curr_exp(_Initial, _nmp.IF_curr_exp):
    __doc__ = _nmp.IF_curr_exp.__doc__
    nmp_name = "IF_curr_exp"
    # sPyNNaker records the synaptic input of every model as gsyn_exc and
    # gsyn_inh (nA for current-based models).
    recordable = list(_nmp.IF_curr_exp.recordable) + ["gsyn_exc", "gsyn_inh"]
    units = dict(getattr(_nmp.IF_curr_exp, "units", {}), gsyn_exc="nA", gsyn_inh="nA")




class IF_curr_alpha(_Initial, _nmp.IF_curr_alpha):
    """Leaky integrate-and-fire with alpha-shaped synaptic currents, as
    sPyNNaker computes them: a weight w gives the current w·(t/τ²)·e^(−t/τ)
    (nA), whose charge is w (pC), not PyNN's w·(t/τ)·e^(1−t/τ); sPyNNaker
    writes the weights unscaled (docs/spinnaker.md)."""
    nmp_name = "IF_curr_alpha"
    recordable = list(_nmp.IF_curr_alpha.recordable) + ["gsyn_exc", "gsyn_inh"]
    units = dict(getattr(_nmp.IF_curr_alpha, "units", {}), gsyn_exc="nA", gsyn_inh="nA")


class IF_cond_exp(_Initial, _nmp.IF_cond_exp):
    __doc__ = _nmp.IF_cond_exp.__doc__
    nmp_name = "IF_cond_exp"



class IF_curr_delta(_Initial, _nmp.IF_curr_delta):
    __doc__ = _nmp.IF_curr_delta.__doc__
    nmp_name = "IF_curr_delta"
    # sPyNNaker records a delta synapse's input of the tick as gsyn_*.
    recordable = list(_nmp.IF_curr_delta.recordable) + ["gsyn_exc", "gsyn_inh"]
    units = dict(getattr(_nmp.IF_curr_delta, "units", {}), gsyn_exc="mV", gsyn_inh="mV")


class Izhikevich(_Initial, _nmp.Izhikevich):
    """sPyNNaker's Izhikevich neuron (IzkCurrExp): PyNN's a, b, c, d, i_offset,
    with exponentially decaying synaptic currents (tau_syn_E, tau_syn_I;
    weights in nA) instead of PyNN's voltage steps."""
    nmp_name = "Izhikevich"
    default_parameters = dict(_nmp.Izhikevich.default_parameters, tau_syn_E=5.0, tau_syn_I=5.0)
    translations = build_translations(*[(n, n) for n in default_parameters])
    recordable = list(_nmp.Izhikevich.recordable) + ["gsyn_exc", "gsyn_inh"]
    units = dict(getattr(_nmp.Izhikevich, "units", {}), gsyn_exc="nA", gsyn_inh="nA", tau_syn_E="ms", tau_syn_I="ms")
    conductance_based = False


class IF_curr_dual_exp(_Initial, _nmp.IF_curr_exp):
    """sPyNNaker's IF_curr_dual_exp (an extra model): IF_curr_exp with a
    second excitatory exponential synapse, receptor type "excitatory2", time
    constant tau_syn_E2."""
    nmp_name = "IF_curr_dual_exp"
    default_parameters = dict(_nmp.IF_curr_exp.default_parameters, tau_syn_E2=5.0)
    translations = build_translations(*[(n, n) for n in default_parameters])
    receptor_types = ("excitatory", "excitatory2", "inhibitory")
    recordable = ["spikes", "v", "gsyn_exc", "gsyn_inh"]
    units = dict(getattr(_nmp.IF_curr_exp, "units", {}), gsyn_exc="nA", gsyn_inh="nA", tau_syn_E2="ms")


class IF_curr_exp_ca2_adaptive(_Initial, _nmp.IF_curr_exp):
    """sPyNNaker's IF_curr_exp_ca2_adaptive (extra_models; Liu & Wang 2001):
    IF_curr_exp with a calcium current i_ca2 (an initial value, nA) that
    each spike raises by i_alpha (nA) and that decays with tau_ca2 (ms),
    subtracted from the input: spike-frequency adaptation."""
    nmp_name = "IF_curr_exp_ca2_adaptive"
    default_parameters = dict(_nmp.IF_curr_exp.default_parameters, tau_ca2=50.0, i_alpha=0.1)
    default_initial_values = dict(_nmp.IF_curr_exp.default_initial_values, i_ca2=0.0)
    translations = build_translations(*[(n, n) for n in default_parameters])
    recordable = ["spikes", "v", "gsyn_exc", "gsyn_inh"]
    units = dict(getattr(_nmp.IF_curr_exp, "units", {}), gsyn_exc="nA", gsyn_inh="nA", tau_ca2="ms", i_alpha="nA", i_ca2="nA")


class Izhikevich_cond(Izhikevich):
    """sPyNNaker's Izhikevich_cond (extra_models; IzkCondExp): the Izhikevich
    neuron with exponentially decaying synaptic conductances (tau_syn_E,
    tau_syn_I; weights in uS) and reversal potentials e_rev_E, e_rev_I."""
    nmp_name = "Izhikevich_cond"
    default_parameters = dict(Izhikevich.default_parameters, e_rev_E=0.0, e_rev_I=-70.0)
    translations = build_translations(*[(n, n) for n in default_parameters])
    units = dict(Izhikevich.units, gsyn_exc="uS", gsyn_inh="uS", e_rev_E="mV", e_rev_I="mV")
    conductance_based = True


class SpikeSourcePoisson(_nmp.SpikeSourcePoisson):
    """PyNN's, taking sPyNNaker's positional arguments too
    (SpikeSourcePoisson(rate, start, duration), as its users write
    SpikeSourcePoisson(10.0))."""

    def __init__(self, rate=None, start=None, duration=None, **parameters):
        for name, value in (("rate", rate), ("start", start), ("duration", duration)):
            if value is not None:
                parameters[name] = value
        super().__init__(**parameters)


class SpikeSourceArray(_nmp.SpikeSourceArray):
    """PyNN's, taking sPyNNaker's positional spike_times too
    (SpikeSourceArray([0, 10]))."""

    def __init__(self, spike_times=None, **parameters):
        if spike_times is not None:
            parameters["spike_times"] = spike_times
        super().__init__(**parameters)


class StaticSynapse(_nmp.StaticSynapse):
    __doc__ = _nmp.StaticSynapse.__doc__
    _simulator = simulator


class Vogels2011Rule(_nmp.Vogels2011Rule):
    """Vogels et al. (2011) inhibitory plasticity, in PyNN's spelling
    (tau, eta, rho) or in today's sPyNNaker's (alpha, tau, A_plus,
    A_minus): alpha is the depression per presynaptic spike in trace
    units (2·rho·tau), the learning rate is A_plus·w_max of the weight
    dependence (eta); sPyNNaker's rule does not use A_minus. Giving both
    spellings of one quantity is an error."""
    nmp_name = "Vogels2011Rule"
    __module__ = __name__

    def __init__(self, alpha=None, tau=None, A_plus=None, A_minus=None, **parameters):
        for mine, pynn in (("alpha", "rho"), ("A_plus", "eta")):
            if locals()[mine] is not None and pynn in parameters:
                raise ValueError("Vogels2011Rule: give %s (sPyNNaker) or %s (PyNN), not both" % (mine, pynn))
        if tau is not None:
            parameters["tau"] = tau
        if alpha is not None:
            tau_ms = parameters.get("tau", self.default_parameters["tau"])
            parameters["rho"] = alpha / (2.0 * tau_ms / 1000.0)
        self._spinnaker_A_plus = A_plus
        self._spinnaker_A_minus = A_minus
        super().__init__(**parameters)


class STDPMechanism(_nmp.STDPMechanism):
    """Spike-timing-dependent plasticity as sPyNNaker's cores compute it:
    16-bit plastic weights, traces in 16-bit fixed point with look-up-table
    decays, the last 15 postsynaptic spikes per neuron, updates when a
    presynaptic spike arrives (docs/spinnaker.md). Weights read back are
    the words the synaptic rows hold."""
    _simulator = simulator

    def __init__(self, timing_dependence=None, weight_dependence=None, *args, **kwargs):
        a_plus = getattr(timing_dependence, "_spinnaker_A_plus", None)
        if a_plus is not None and weight_dependence is not None:
            # sPyNNaker's Vogels2011Rule: its learning rate is A_plus·w_max
            w_max = weight_dependence.parameter_space["w_max"].base_value
            timing_dependence.parameter_space.update(eta=a_plus * w_max)
        super().__init__(timing_dependence, weight_dependence, *args, **kwargs)


SpikePairRule = _nmp.SpikePairRule
AdditiveWeightDependence = _nmp.AdditiveWeightDependence
MultiplicativeWeightDependence = _nmp.MultiplicativeWeightDependence


class SpikeNearestPairRule(_nmp.SpikePairRule):
    """sPyNNaker's nearest-pair STDP: a postsynaptic spike is potentiated
    by the nearest presynaptic spike before it only (the first after it),
    a presynaptic spike depressed by the nearest postsynaptic spike before
    it; SpikePairRule's parameters (tau_plus, tau_minus, A_plus, A_minus)."""
    nmp_name = "SpikeNearestPairRule"
    __module__ = __name__


class PfisterSpikeTripletRule(STDPTimingDependence):
    """sPyNNaker's triplet rule (extra_models; Pfister & Gerstner 2006,
    all-to-all): pair terms A_plus, A_minus with traces of tau_plus and
    tau_minus, triplet terms with a second presynaptic trace (tau_x) and a
    second postsynaptic one (tau_y); the triplet amplitudes are
    WeightDependenceAdditiveTriplet's A3_plus and A3_minus."""
    nmp_name = "PfisterSpikeTripletRule"
    possible_models = {"stdp"}
    default_parameters = {"tau_plus": 16.8, "tau_minus": 33.7, "tau_x": 101.0, "tau_y": 125.0,
                          "A_plus": 0.01, "A_minus": 0.01}
    translations = build_translations(*[(n, n) for n in default_parameters])
    units = {"tau_plus": "ms", "tau_minus": "ms", "tau_x": "ms", "tau_y": "ms", "A_plus": "", "A_minus": ""}

    def __init__(self, tau_plus, tau_minus, tau_x, tau_y, A_plus=0.01, A_minus=0.01):
        super().__init__(tau_plus=tau_plus, tau_minus=tau_minus, tau_x=tau_x, tau_y=tau_y,
                         A_plus=A_plus, A_minus=A_minus)


class WeightDependenceAdditiveTriplet(STDPWeightDependence):
    """sPyNNaker's additive weight dependence of the triplet rule
    (extra_models): bounds w_min and w_max and the triplet amplitudes
    A3_plus and A3_minus (each times w_max on the machine, as A_plus and
    A_minus are)."""
    nmp_name = "WeightDependenceAdditiveTriplet"
    possible_models = {"stdp"}
    default_parameters = {"w_min": 0.0, "w_max": 1.0, "A3_plus": 0.01, "A3_minus": 0.01}
    translations = build_translations(*[(n, n) for n in default_parameters])

    def __init__(self, w_min=0.0, w_max=1.0, A3_plus=0.01, A3_minus=0.01):
        super().__init__(w_min=w_min, w_max=w_max, A3_plus=A3_plus, A3_minus=A3_minus)


__all__ = ["IF_curr_exp", "IF_curr_alpha", "IF_cond_exp", "IF_curr_delta", "Izhikevich", "IF_curr_dual_exp", "IF_curr_exp_ca2_adaptive", "SpikeSourcePoisson", "SpikeSourceArray", "StaticSynapse",
           "STDPMechanism", "SpikePairRule", "Vogels2011Rule", "AdditiveWeightDependence",
           "MultiplicativeWeightDependence", "SpikeNearestPairRule", "PfisterSpikeTripletRule",
           "WeightDependenceAdditiveTriplet"]
