"""The models pyNN.spiNNaker offers: PyNN's standard ones that sPyNNaker
runs, with this backend's state behind the synapse types."""

from pyNN.nmp import standardmodels as _nmp

from . import simulator



class IF_curr_exp(_nmp.IF_curr_exp):
    __doc__ = _nmp.IF_curr_exp.__doc__
    nmp_name = "IF_curr_exp"
    # sPyNNaker records the synaptic input of every model as gsyn_exc and
    # gsyn_inh (nA for current-based models).
    recordable = list(_nmp.IF_curr_exp.recordable) + ["gsyn_exc", "gsyn_inh"]
    units = dict(getattr(_nmp.IF_curr_exp, "units", {}), gsyn_exc="nA", gsyn_inh="nA")


IF_cond_exp = _nmp.IF_cond_exp


class IF_curr_delta(_nmp.IF_curr_delta):
    __doc__ = _nmp.IF_curr_delta.__doc__
    nmp_name = "IF_curr_delta"
    # sPyNNaker records a delta synapse's input of the tick as gsyn_*.
    recordable = list(_nmp.IF_curr_delta.recordable) + ["gsyn_exc", "gsyn_inh"]
    units = dict(getattr(_nmp.IF_curr_delta, "units", {}), gsyn_exc="mV", gsyn_inh="mV")


SpikeSourcePoisson = _nmp.SpikeSourcePoisson
SpikeSourceArray = _nmp.SpikeSourceArray


class StaticSynapse(_nmp.StaticSynapse):
    __doc__ = _nmp.StaticSynapse.__doc__
    _simulator = simulator


__all__ = ["IF_curr_exp", "IF_cond_exp", "IF_curr_delta", "SpikeSourcePoisson", "SpikeSourceArray", "StaticSynapse"]
