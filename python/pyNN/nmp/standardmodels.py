"""PyNN's standard cell and synapse types for nmp.

nmp uses PyNN's own names, units and defaults (`nmp models` lists them), so
every translation is the identity and these classes only add what the
backend needs: the engine's model name and the extra variables the engine
can record.
"""

import numpy as np
from pyNN import errors
from pyNN.standardmodels import cells, synapses, build_translations

from . import simulator


def _identity(names):
    return build_translations(*[(name, name) for name in names])


def _cell_type(base, extra_recordable=()):
    attrs = {
        "__doc__": base.__doc__,
        "__module__": __name__,
        "translations": _identity(base.default_parameters),
        "nmp_name": base.__name__,
    }
    if extra_recordable:
        attrs["recordable"] = list(base.recordable) + [v for v in extra_recordable
                                                       if v not in base.recordable]
    return type(base.__name__, (base,), attrs)


IF_curr_alpha = _cell_type(cells.IF_curr_alpha, ["isyn_exc", "isyn_inh"])
IF_curr_exp = _cell_type(cells.IF_curr_exp, ["isyn_exc", "isyn_inh"])
IF_curr_delta = _cell_type(cells.IF_curr_delta)
IF_cond_alpha = _cell_type(cells.IF_cond_alpha)
IF_cond_exp = _cell_type(cells.IF_cond_exp)
IF_cond_exp_gsfa_grr = _cell_type(cells.IF_cond_exp_gsfa_grr)
IF_facets_hardware1 = _cell_type(cells.IF_facets_hardware1)
HH_cond_exp = _cell_type(cells.HH_cond_exp, ["h", "m", "n"])
EIF_cond_alpha_isfa_ista = _cell_type(cells.EIF_cond_alpha_isfa_ista)
EIF_cond_exp_isfa_ista = _cell_type(cells.EIF_cond_exp_isfa_ista)
Izhikevich = _cell_type(cells.Izhikevich)
GIF_cond_exp = _cell_type(cells.GIF_cond_exp)
SpikeSourcePoisson = _cell_type(cells.SpikeSourcePoisson)
SpikeSourcePoissonRefractory = _cell_type(cells.SpikeSourcePoissonRefractory)
SpikeSourceGamma = _cell_type(cells.SpikeSourceGamma)
SpikeSourceInhGamma = _cell_type(cells.SpikeSourceInhGamma)


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity(["spike_times"])
    nmp_name = "SpikeSourceArray"

    @staticmethod
    def check_spike_times(values):
        """Raise InvalidParameterValueError unless every sequence of spike
        times is in non-decreasing order and not negative."""
        for seq in np.atleast_1d(values):
            t = np.asarray(getattr(seq, "value", seq), dtype=float)
            if t.size and (np.any(np.diff(t) < 0) or t[0] < 0):
                raise errors.InvalidParameterValueError(
                    "spike_times must be in increasing order and not negative, got %s" % t)


def _minimum_delay(self):
    # The default delay of a synapse: setup()'s min_delay, or the timestep
    # when that is "auto".
    state = self._simulator.state
    d = state._min_delay
    if d == "auto":
        d = state.dt
    return d


def _synapse_type(base, state=None):
    attrs = {
        "__doc__": base.__doc__,
        "__module__": __name__,
        # State variables too, so that Projection.get reads them.
        "translations": _identity(list(base.default_parameters) + list(state or {})),
        "nmp_name": base.__name__,
        "_get_minimum_delay": _minimum_delay,
        "_simulator": simulator,
        # The state variables Projection.initialize sets, with their values
        # at t = 0 when not set (None: a parameter's value, see below).
        "nmp_state": dict(state or {}),
    }
    if state:
        attrs["default_initial_values"] = {k: v for k, v in state.items() if v is not None}
    return type(base.__name__, (base,), attrs)


StaticSynapse = _synapse_type(synapses.StaticSynapse)
# PyNN's u, and NEST's x (the available resources of tsodyks_synapse).
TsodyksMarkramSynapse = _synapse_type(synapses.TsodyksMarkramSynapse, {"u": 0.0, "x": 1.0})
SimpleStochasticSynapse = _synapse_type(synapses.SimpleStochasticSynapse)
# The names of PyNN's stochastic_stp_synapse for NEST: the release
# probability u and R, 1 while the site is recovered, 0 when depleted.
StochasticTsodyksMarkramSynapse = _synapse_type(synapses.StochasticTsodyksMarkramSynapse, {"u": 0.0, "R": 1.0})
# NEST's quantal_stp_synapse: u (when not set, U) and the available sites a
# (when not set, n), as PyNN's multiquantal_synapses example sets them.
MultiQuantalSynapse = _synapse_type(synapses.MultiQuantalSynapse, {"u": None, "a": None})
ElectricalSynapse = _synapse_type(synapses.ElectricalSynapse)


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    nmp_name = "STDPMechanism"
    # The presynaptic trace, NEST's Kplus (stdp_synapse and
    # vogels_sprekeler_synapse take it by Projection.initialize).
    nmp_state = {"Kplus": 0.0}
    default_initial_values = {"Kplus": 0.0}
    base_translations = _identity(["weight", "delay", "dendritic_delay_fraction", "Kplus"])
    _get_minimum_delay = _minimum_delay
    _simulator = simulator

    def _build_translations(self):
        # PyNN's version updates the class attribute in place, so that the
        # components of one mechanism would leak into every other one.
        self.translations = dict(self.base_translations)
        for component in (self.timing_dependence, self.weight_dependence, self.voltage_dependence):
            if component:
                self.translations.update(component.translations)

    def component_names(self):
        """Names of the parameters of the timing and weight dependences."""
        names = []
        for component in (self.timing_dependence, self.weight_dependence):
            if component:
                names.extend(component.get_parameter_names())
        return names


def _component(base):
    return type(base.__name__, (base,), {
        "__doc__": base.__doc__,
        "__module__": __name__,
        "translations": _identity(base.default_parameters),
        "nmp_name": base.__name__,
        "possible_models": {"stdp"},
    })


AdditiveWeightDependence = _component(synapses.AdditiveWeightDependence)
MultiplicativeWeightDependence = _component(synapses.MultiplicativeWeightDependence)
AdditivePotentiationMultiplicativeDepression = _component(
    synapses.AdditivePotentiationMultiplicativeDepression)
GutigWeightDependence = _component(synapses.GutigWeightDependence)
SpikePairRule = _component(synapses.SpikePairRule)
Vogels2011Rule = _component(synapses.Vogels2011Rule)


__all__ = [
    "IF_curr_alpha", "IF_curr_exp", "IF_curr_delta", "IF_cond_alpha", "IF_cond_exp",
    "IF_cond_exp_gsfa_grr", "IF_facets_hardware1", "HH_cond_exp", "EIF_cond_alpha_isfa_ista",
    "EIF_cond_exp_isfa_ista", "Izhikevich", "GIF_cond_exp", "SpikeSourcePoisson",
    "SpikeSourcePoissonRefractory", "SpikeSourceGamma", "SpikeSourceInhGamma", "SpikeSourceArray",
    "StaticSynapse", "TsodyksMarkramSynapse", "SimpleStochasticSynapse",
    "StochasticTsodyksMarkramSynapse", "MultiQuantalSynapse", "ElectricalSynapse",
    "STDPMechanism", "AdditiveWeightDependence", "MultiplicativeWeightDependence",
    "AdditivePotentiationMultiplicativeDepression", "GutigWeightDependence", "SpikePairRule",
    "Vogels2011Rule",
]
