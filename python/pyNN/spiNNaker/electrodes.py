"""Current sources (sPyNNaker's DC, AC, step and noisy sources) on this
backend's state. On the machine the current is added in s16.15 at every
tick."""

from pyNN.nmp import electrodes as _nmp

from . import simulator


class DCSource(_nmp.DCSource):
    _simulator = simulator


class ACSource(_nmp.ACSource):
    _simulator = simulator


class StepCurrentSource(_nmp.StepCurrentSource):
    _simulator = simulator


class NoisyCurrentSource(_nmp.NoisyCurrentSource):
    _simulator = simulator


__all__ = ["DCSource", "ACSource", "StepCurrentSource", "NoisyCurrentSource"]
