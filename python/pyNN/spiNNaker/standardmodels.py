"""The models pyNN.spiNNaker offers: PyNN's standard ones that sPyNNaker
runs, with this backend's state behind the synapse types."""

from pyNN.nmp import standardmodels as _nmp
from pyNN.standardmodels import build_translations

from . import simulator


class _Initial(object):
    """sPyNNaker takes a cell's initial values (v, u, isyn_exc, ...) among its
    parameters, as PyNN 0.8 did; they become the population's initial
    values."""

    def __init__(self, **parameters):
        self._spinnaker_initial = {k: parameters.pop(k) for k in list(parameters)
                                   if k in self.default_initial_values and k not in self.default_parameters}
        super().__init__(**parameters)



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


class Izhikevich_cond(Izhikevich):
    """sPyNNaker's Izhikevich_cond (extra_models; IzkCondExp): the Izhikevich
    neuron with exponentially decaying synaptic conductances (tau_syn_E,
    tau_syn_I; weights in uS) and reversal potentials e_rev_E, e_rev_I."""
    nmp_name = "Izhikevich_cond"
    default_parameters = dict(Izhikevich.default_parameters, e_rev_E=0.0, e_rev_I=-70.0)
    translations = build_translations(*[(n, n) for n in default_parameters])
    units = dict(Izhikevich.units, gsyn_exc="uS", gsyn_inh="uS", e_rev_E="mV", e_rev_I="mV")
    conductance_based = True


SpikeSourcePoisson = _nmp.SpikeSourcePoisson
SpikeSourceArray = _nmp.SpikeSourceArray


class StaticSynapse(_nmp.StaticSynapse):
    __doc__ = _nmp.StaticSynapse.__doc__
    _simulator = simulator


class STDPMechanism(_nmp.STDPMechanism):
    """Spike-timing-dependent plasticity as sPyNNaker's cores compute it:
    16-bit plastic weights, traces in 16-bit fixed point with look-up-table
    decays, the last 15 postsynaptic spikes per neuron, updates when a
    presynaptic spike arrives (docs/spinnaker.md). Weights read back are
    the words the synaptic rows hold."""
    _simulator = simulator


SpikePairRule = _nmp.SpikePairRule
Vogels2011Rule = _nmp.Vogels2011Rule
AdditiveWeightDependence = _nmp.AdditiveWeightDependence
MultiplicativeWeightDependence = _nmp.MultiplicativeWeightDependence


class SpikeNearestPairRule(_nmp.SpikePairRule):
    """sPyNNaker's nearest-pair STDP: a postsynaptic spike is potentiated
    by the nearest presynaptic spike before it only (the first after it),
    a presynaptic spike depressed by the nearest postsynaptic spike before
    it; SpikePairRule's parameters (tau_plus, tau_minus, A_plus, A_minus)."""
    nmp_name = "SpikeNearestPairRule"
    __module__ = __name__


__all__ = ["IF_curr_exp", "IF_curr_alpha", "IF_cond_exp", "IF_curr_delta", "Izhikevich", "IF_curr_dual_exp", "SpikeSourcePoisson", "SpikeSourceArray", "StaticSynapse",
           "STDPMechanism", "SpikePairRule", "Vogels2011Rule", "AdditiveWeightDependence",
           "MultiplicativeWeightDependence", "SpikeNearestPairRule"]
