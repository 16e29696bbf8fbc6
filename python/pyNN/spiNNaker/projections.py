"""Projections on the emulated SpiNNaker machine: pyNN.nmp's, on this
backend's state. Weights and delays read back (get, getWeights, save) are
those the machine holds: weights as their 16-bit words represent them (the
population's weight LSB, docs/spinnaker.md), delays in whole time steps."""

from pyNN.nmp import projections as _nmp

from . import simulator
from .standardmodels import StaticSynapse


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
        _nmp.Projection.__init__(self, presynaptic_population, postsynaptic_population, connector,
                                 synapse_type, source, receptor_type, label=label, **kw)

    def _engine_connector(self, connector):
        # sPyNNaker expands connectors on the host (or generates them on the
        # machine with the same statistics); here the engine's expansion is
        # the one the machine's mapping sees.
        return _nmp.Projection._engine_connector(self, connector)
