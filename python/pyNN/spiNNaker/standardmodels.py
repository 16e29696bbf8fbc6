"""The models pyNN.spiNNaker offers: PyNN's standard ones that sPyNNaker
runs, with this backend's state behind the synapse types."""

from pyNN.nmp import standardmodels as _nmp

from . import simulator

IF_curr_exp = _nmp.IF_curr_exp
IF_cond_exp = _nmp.IF_cond_exp
SpikeSourcePoisson = _nmp.SpikeSourcePoisson
SpikeSourceArray = _nmp.SpikeSourceArray


class StaticSynapse(_nmp.StaticSynapse):
    __doc__ = _nmp.StaticSynapse.__doc__
    _simulator = simulator


__all__ = ["IF_curr_exp", "IF_cond_exp", "SpikeSourcePoisson", "SpikeSourceArray", "StaticSynapse"]
