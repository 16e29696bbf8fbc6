"""Projections on the emulated SpiNNaker machine: pyNN.nmp's, on this
backend's state. Weights and delays read back (get, getWeights, save) are
those the machine holds: weights as their 16-bit words represent them (the
population's weight LSB, docs/spinnaker.md), delays in whole time steps."""

import copy

import numpy as np
from pyNN.nmp import projections as _nmp

from . import simulator
from .standardmodels import StaticSynapse


def _inhibitory_as_pynn(synapse_type, post, receptor_type):
    """sPyNNaker takes a weight's sign from its synapse type, so its users
    write inhibitory weights onto current-based cells positive; PyNN, and
    nmp, have them negative. A positive number or array of such weights is
    turned (they read back negative, as PyNN has them)."""
    if synapse_type is None or receptor_type != "inhibitory" or getattr(post, "conductance_based", None) is not False:
        return synapse_type
    ps = getattr(synapse_type, "parameter_space", None)
    if ps is None or "weight" not in ps.keys():
        return synapse_type
    w = ps["weight"].base_value
    if isinstance(w, (int, float, np.integer, np.floating)) and w > 0:
        neg = -float(w)
    elif isinstance(w, np.ndarray) and w.dtype.kind in "if" and (w >= 0).all() and (w > 0).any():
        neg = -w
    else:
        return synapse_type
    st = copy.copy(synapse_type)
    if hasattr(st, "timing_dependence"):
        # an STDPMechanism: its parameter space is built from its weight
        # and its rules each time it is asked for
        st.weight = neg
        return st
    st.parameter_space = copy.deepcopy(ps)
    st.parameter_space.update(weight=neg)
    return st


class Projection(_nmp.Projection):
    __doc__ = _nmp.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=None, label=None,
                 partition_id=None, **kwargs):
        kw = {}
        if space is not None:
            kw["space"] = space
        synapse_type = _inhibitory_as_pynn(synapse_type, postsynaptic_population, receptor_type)
        _nmp.Projection.__init__(self, presynaptic_population, postsynaptic_population, connector,
                                 synapse_type, source, receptor_type, label=label, **kw)

    def _engine_connector(self, connector):
        # sPyNNaker expands connectors on the host (or generates them on the
        # machine with the same statistics); here the engine's expansion is
        # the one the machine's mapping sees.
        return _nmp.Projection._engine_connector(self, connector)
