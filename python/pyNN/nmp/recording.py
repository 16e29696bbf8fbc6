"""Recording for nmp: what to record goes to the engine as recording
requests; what was recorded comes back from the engine (nmp.data) and is
turned into neo objects here."""

from datetime import datetime

import numpy as np
import neo
import quantities as pq
from pyNN import recording

from nmp import neoconv

from . import simulator
from . import _plotting  # noqa: F401  (mends PyNN 0.10.1's spike rasters)


def off_grid_stamps(times, dt):
    from .populations import off_grid_stamps as f
    return f(times, dt)


class Recorder(recording.Recorder):
    """Encapsulates data and functions related to recording model variables."""
    _simulator = simulator

    def _record(self, variable, new_ids, sampling_interval=None):
        state = self._simulator.state
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        state.recording_changed(self.population)

    def reset(self):
        state = self._simulator.state
        recording.Recorder.reset(self)
        state.recording_changed(self.population)

    def _reset(self):
        pass

    # -- what to record, as engine requests ------------------------------------

    def requests(self):
        """The recording requests of this population: [(indices or None,
        variables)], one per set of neurons that record the same variables,
        covering every neuron (those that record nothing with [])."""
        pop = self.population
        names = sorted(v for v, ids in self.recorded.items() if ids)
        key = np.zeros(pop.size, dtype=np.int64)
        for bit, name in enumerate(names):
            ids = np.fromiter((int(i) for i in self.recorded[name]), dtype=np.int64)
            key[ids - int(pop.first_id)] |= 1 << bit
        out = []
        for k in np.unique(key):
            idx = np.nonzero(key == k)[0]
            variables = [name for bit, name in enumerate(names) if k >> bit & 1]
            out.append((None if len(idx) == pop.size else idx, variables))
        return out

    # -- data -------------------------------------------------------------------

    def _data(self):
        state = self._simulator.state
        state.pull()
        return state.store.population(self.population._index)

    def _clear_simulator(self):
        self._data().clear()

    def _local_count(self, variable, filter_ids=None):
        pop = self.population
        ids = self.filter_recorded(variable, filter_ids)
        counts = self._spikes_by_index()[0]
        first = int(pop.first_id)
        return {int(i): int(counts[int(i) - first]) for i in ids}

    def _spikes_by_index(self):
        """(spike counts per neuron, indices, times) of the current segment."""
        pd = self._data()
        idx, times = pd.spikes()
        idx, times = self._precise_times(idx, times)
        return np.bincount(idx, minlength=self.population.size), idx, times

    def _precise_times(self, idx, times):
        # With spike_precision="off_grid", a SpikeSourceArray's spikes are
        # reported at the times it was given; the engine delivers them on
        # the grid. Each neuron's grid spikes are matched with its given
        # times; where they do not match one to one, the grid times stay.
        state = self._simulator.state
        pop = self.population
        if state.spike_precision != "off_grid" or pop.celltype.nmp_name != "SpikeSourceArray":
            return idx, times
        dt = state.dt
        t0 = float(self._recording_start_time.rescale(pq.ms).magnitude)
        out = times.copy()
        order = np.argsort(idx, kind="stable")
        bounds = np.searchsorted(idx[order], np.arange(pop.size + 1))
        for i in range(pop.size):
            sel = order[bounds[i]:bounds[i + 1]]
            if not len(sel):
                continue
            given = np.asarray(getattr(pop._parameters["spike_times"][i], "value", []), dtype=float)
            grid = off_grid_stamps(given, dt)
            keep = (grid > t0 - dt / 2) & (grid < state.t + dt / 2)
            if keep.sum() == len(sel) and np.allclose(np.sort(grid[keep]), times[sel], atol=dt / 4):
                out[sel] = np.sort(given[keep])
        return idx, out

    def _get_current_segment(self, filter_ids=None, variables='all', clear=False):
        state = self._simulator.state
        pop = self.population
        segment = neo.Segment(name="segment%03d" % state.segment_counter,
                              description=pop.describe(), rec_datetime=datetime.now())
        wanted = set(v for v, ids in self.recorded.items() if ids)
        if variables != 'all':
            wanted &= set(variables)
        pd = self._data()
        first = int(pop.first_id)
        t0 = float(self._recording_start_time.rescale(pq.ms).magnitude)
        for variable in sorted(wanted):
            ids = np.array(sorted(self.filter_recorded(variable, filter_ids)), dtype=np.int64)
            local = ids - first
            if variable == 'spikes':
                _, idx, times = self._spikes_by_index()
                segment.spiketrains = neoconv.spike_trains(idx, times, local, first, t0, state.t,
                                                           pop.label)
            else:
                segment.analogsignals.extend(neoconv.analog_signals(
                    pd.pieces.get(variable, []), variable, pop.find_units(variable), local, first,
                    pop.label))
        return segment

    @property
    def metadata(self):
        state = self._simulator.state
        md = recording.Recorder.metadata.fget(self)
        md["nmp_seed"] = state.seed
        return md
