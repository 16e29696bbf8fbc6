"""Synapse types of the emulated chip: the static 6-bit synapse."""

from pyNN.nmp.standardmodels import StaticSynapse as _NmpStaticSynapse

from .. import simulator

__all__ = ["StaticSynapse"]


class StaticSynapse(_NmpStaticSynapse):
    """A hardware synapse: integer weights (6 bit, 0..63 per synapse, larger
    magnitudes spread over parallel synapses; the receptor type gives the
    sign), and no delay."""

    default_parameters = {"weight": 0.0, "delay": 0.0}
    _simulator = simulator

    def __init__(self, weight=0.0, delay=0.0, **extra):
        if delay is not None and delay != 0:
            raise ValueError("Setting the delay unequal 0 is not supported.")
        super().__init__(weight=weight, delay=0.0, **extra)

    def _get_minimum_delay(self):
        return 0.0
