"""Recording on the emulated chip: spikes of every neuron, and one analog
variable per neuron through the membrane ADC ("madc": at most one even and
one odd circuit per run) or the columnar ADC ("cadc": all of them, at a lower
rate). Data come back as pynn-brainscales returns them: spike trains, and one
neo IrregularlySampledSignal per recorded neuron, in raw ADC units (MADC
0..1023, CADC 0..255) against hardware time in ms."""

from datetime import datetime

import numpy as np
import neo
from neo.core.spiketrainlist import SpikeTrainList
import quantities as pq
from pyNN.recording import normalize_variables_arg

from nmp import neoconv
from pyNN.nmp.recording import Recorder as _NmpRecorder

from . import simulator
from .simulator import state

DEVICES = ("madc", "cadc")


def check_device(device):
    if device in DEVICES:
        return
    if isinstance(device, str) and device.startswith("pad"):
        raise NotImplementedError(
            'Device "%s": the analog pads lead to an oscilloscope, which the emulation does not have; '
            'record through "madc" or "cadc"' % device)
    raise ValueError('Device "%s" is not supported' % (device,))


class Recorder(_NmpRecorder):
    """Records spikes and ADC readings of one population."""
    _simulator = simulator

    def __init__(self, population, file=None):
        _NmpRecorder.__init__(self, population, file=file)
        self.devices = {}  # cell id -> device of its analog variable
        # The ADCs sample at their own rates; no interval goes to the engine.
        self.sampling_interval = 0

    def record(self, variables, ids, sampling_interval=None, device="madc"):
        if sampling_interval:
            raise NotImplementedError("Sampling interval not implemented.")
        check_device(device)
        analog = [v for v in normalize_variables_arg(variables) if v != "spikes"]
        if analog:
            for i in ids:
                self.devices[int(i)] = device
        _NmpRecorder.record(self, variables, ids, None)

    def reset(self):
        self.devices = {}
        _NmpRecorder.reset(self)

    def requests(self):
        """Recording requests: analog variables carry their device
        ("v@cadc" is v through the CADC)."""
        pop = self.population
        first = int(pop.first_id)
        per_neuron = [[] for _ in range(pop.size)]
        for variable in sorted(self.recorded):
            for i in self.recorded[variable]:
                name = variable
                if variable != "spikes" and self.devices.get(int(i), "madc") == "cadc":
                    name = variable + "@cadc"
                per_neuron[int(i) - first].append(name)
        groups = {}
        for j, names in enumerate(per_neuron):
            groups.setdefault(tuple(names), []).append(j)
        out = []
        for names, idx in groups.items():
            out.append((None if len(idx) == pop.size else np.asarray(idx, dtype=np.int64), list(names)))
        return out

    def _get_current_segment(self, filter_ids=None, variables='all', clear=False):
        pop = self.population
        segment = neo.Segment(name="segment%03d" % state.segment_counter,
                              description=pop.describe(), rec_datetime=datetime.now())
        wanted = set(v for v, ids in self.recorded.items() if ids)
        if variables != 'all':
            wanted &= set(variables)
        if self.clear_flag:
            # Cleared (get_data(clear=True)) and not run since: no data, so
            # no spike trains or signals, as pynn-brainscales returns them.
            wanted = set()
        pd = self._data()
        first = int(pop.first_id)
        t0 = float(self._recording_start_time.rescale(pq.ms).magnitude)
        snippets = [(a, b, rec.get(id(self), {})) for a, b, rec in state.snippets if b > t0]
        if len(snippets) > 1 and not self.clear_flag:
            return self._snippet_segment(segment, snippets, variables, filter_ids, pd, first)
        for variable in sorted(wanted):
            ids = np.array(sorted(self.filter_recorded(variable, filter_ids)), dtype=np.int64)
            local = ids - first
            if variable == "spikes":
                idx, times = pd.spikes()
                segment.spiketrains = neoconv.spike_trains(idx, times, local, first, t0, state.t, pop.label)
                continue
            units = pop.find_units(variable)
            for piece in pd.adc.get(variable, []):
                if piece.index not in local:
                    continue
                sig = neo.IrregularlySampledSignal(
                    np.asarray(piece.times, dtype=np.float32), np.asarray(piece.values, dtype=np.float32),
                    units=units, time_units=pq.ms, name=variable, device=piece.device,
                    source_ids=[first + piece.index], source_population=pop.label,
                    array_annotations={"channel_index": [piece.index]})
                sig.segment = segment
                segment.irregularlysampledsignals.append(sig)
        for train in segment.spiketrains:
            train.segment = segment
        return segment

    def _snippet_segment(self, segment, snippets, variables, filter_ids, pd, first):
        """The segment of an experiment run as several snippets (APPEND):
        as pynn-brainscales returns it, one spike train and one signal per
        neuron and snippet in which the variable was recorded, each holding
        that snippet's data."""
        pop = self.population
        trains = []
        for a, b, recorded in snippets:
            for variable in sorted(recorded):
                if variables != 'all' and variable not in variables:
                    continue
                chosen = recorded[variable] if filter_ids is None else recorded[variable] & set(filter_ids)
                ids = np.array(sorted(chosen), dtype=np.int64)
                local = ids - first
                if variable == "spikes":
                    idx, times = pd.spikes()
                    inside = (times >= a) & (times < b)
                    trains.extend(neoconv.spike_trains(idx[inside], times[inside], local, first, a, b, pop.label))
                    continue
                units = pop.find_units(variable)
                for piece in pd.adc.get(variable, []):
                    t = np.asarray(piece.times)
                    inside = (t >= a) & (t < b)
                    if piece.index not in local or not np.any(inside):
                        continue
                    sig = neo.IrregularlySampledSignal(
                        t[inside].astype(np.float32), np.asarray(piece.values)[inside].astype(np.float32),
                        units=units, time_units=pq.ms, name=variable, device=piece.device,
                        source_ids=[first + piece.index], source_population=pop.label,
                        array_annotations={"channel_index": [piece.index]})
                    sig.segment = segment
                    segment.irregularlysampledsignals.append(sig)
        segment.spiketrains = SpikeTrainList(items=trains)
        for train in segment.spiketrains:
            train.segment = segment
        return segment
