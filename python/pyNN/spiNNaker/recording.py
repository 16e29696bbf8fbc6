"""Recording on the emulated SpiNNaker machine: pyNN.nmp's Recorder with
this backend's state (spikes at their tick's time, v and the synaptic
variables as the cores' s16.15 values)."""

from pyNN.nmp.recording import Recorder as _NmpRecorder

from . import simulator


class Recorder(_NmpRecorder):
    _simulator = simulator
