"""Recording on the emulated SpiNNaker machine: pyNN.nmp's Recorder with
this backend's state (spikes at their tick's time, v and the synaptic
variables as the cores' s16.15 values).

sPyNNaker records a neuron's variables once in every tick, at the start of
its update: a run of n ticks gives n samples (0 … (n−1)·dt), and the
synaptic inputs are the inputs of those ticks (the Go system dates them).
pyNN.nmp's grid has one more sample, the state at the end of the run,
which no tick of the machine records: it is left out here, as the machine
leaves it out (a later run's first tick records it)."""

import neo

from pyNN.nmp.recording import Recorder as _NmpRecorder

from . import simulator


class Recorder(_NmpRecorder):
    _simulator = simulator

    def _get_current_segment(self, filter_ids=None, variables='all', clear=False):
        segment = _NmpRecorder._get_current_segment(self, filter_ids, variables, clear)
        state = self._simulator.state
        end = state.t - state.dt / 2
        kept = []
        for sig in segment.analogsignals:
            times = sig.times.rescale("ms").magnitude
            n = int((times < end).sum())
            kept.append(sig if n == len(times) else sig[:n])
        segment.analogsignals = kept
        # sPyNNaker's spike trains carry their neuron's index in the
        # population (its users' scripts read annotations["source_index"]).
        if len(segment.spiketrains):
            trains = list(segment.spiketrains)
            pop = self.population
            for st in trains:
                sid = st.annotations.get("source_id", st.annotations.get("channel_id"))
                if sid is not None and "source_index" not in st.annotations:
                    st.annotate(source_id=int(sid), source_index=int(pop.id_to_index(int(sid))))
            segment.spiketrains = neo.spiketrainlist.SpikeTrainList(items=trains)
        return segment
