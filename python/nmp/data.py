"""Recorded data pulled from the simulation server (docs/results.md), kept
per population until a front end turns it into neo objects.

The server's `data` request returns what was recorded since the last
request; :class:`Store` appends it to what each population already has, so
that one population's data can be read or cleared without touching the
others'. Times on the simulation grid are given as the double nearest to
k·dt (see :func:`grid_times`), so that a spike at step 120 of 0.1 ms reads as
12.0, not 12.000000000000002.
"""

import numpy as np

from . import message


def grid_times(t, dt):
    """Map times that lie on the grid of step dt to the doubles nearest to
    k·dt: k / (1/dt) when 1/dt is a whole number (0.1, 0.05, 0.01, 0.025 ms...),
    k·dt otherwise."""
    t = np.asarray(t, dtype=float)
    k = np.rint(t / dt)
    per_ms = 1.0 / dt
    if abs(per_ms - round(per_ms)) < 1e-9 * per_ms:
        return k / round(per_ms)
    return k * dt


def parse_results(raw):
    """Read a results archive: return (results.json as a dict, arrays)."""
    meta, arrays, _ = message.decode(raw, "results.json")
    return meta, arrays


class Piece(object):
    """A run of samples of one variable: rows are samples from t_start every
    interval, columns the neurons in `indices` (sorted, within the population)."""

    __slots__ = ("t_start", "interval", "indices", "data")

    def __init__(self, t_start, interval, indices, data):
        self.t_start, self.interval, self.indices, self.data = t_start, interval, indices, data

    @property
    def samples(self):
        return self.data.shape[0]

    def follows(self, other):
        """Whether self continues `other` without a gap."""
        return (self.interval == other.interval and np.array_equal(self.indices, other.indices)
                and abs(self.t_start - (other.t_start + other.samples * other.interval))
                < 1e-6 * self.interval)


class PopulationData(object):
    """What was recorded from one population in the current segment."""

    def __init__(self):
        self.clear()

    def clear(self):
        self._ids, self._times = [], []
        self.recorded = np.zeros(0, dtype=np.int64)
        self.pieces = {}

    def add_spikes(self, recorded, ids, times):
        if len(recorded):
            self.recorded = np.union1d(self.recorded, recorded)
        if len(ids):
            self._ids.append(np.asarray(ids, dtype=np.int64))
            self._times.append(np.asarray(times, dtype=float))

    def add_signal(self, variable, piece):
        if piece.samples == 0 or len(piece.indices) == 0:
            return
        pieces = self.pieces.setdefault(variable, [])
        if pieces and piece.follows(pieces[-1]):
            last = pieces[-1]
            pieces[-1] = Piece(last.t_start, last.interval, last.indices,
                               np.concatenate([last.data, piece.data]))
        else:
            pieces.append(piece)

    def spikes(self):
        """All spikes: (indices within the population, times in ms), in time order."""
        if not self._ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if len(self._ids) > 1:
            self._ids = [np.concatenate(self._ids)]
            self._times = [np.concatenate(self._times)]
        return self._ids[0], self._times[0]

    def spike_counts(self, n):
        ids, _ = self.spikes()
        return np.bincount(ids, minlength=n)


class Store(object):
    """Recorded data of every population of a network, by population index."""

    def __init__(self, dt):
        self.dt = dt
        self.populations = {}

    def population(self, index):
        pd = self.populations.get(index)
        if pd is None:
            pd = self.populations[index] = PopulationData()
        return pd

    def add(self, raw):
        """Append a results archive (the `data` reply of the server)."""
        meta, arrays = parse_results(raw)
        dt = self.dt
        for seg in meta.get("segments", []):
            for sp in seg.get("spikes", []):
                times = grid_times(arrays[sp["times"]], dt)
                self.population(sp["population"]).add_spikes(
                    arrays[sp["recorded"]], arrays[sp["ids"]], times)
            for sig in seg.get("signals", []):
                data = arrays[sig["data"]]
                idx = arrays[sig["indices"]]
                data = np.asarray(data, dtype=float).reshape(-1, len(idx)) if len(idx) else \
                    np.zeros((0, 0))
                piece = Piece(float(grid_times(sig["t_start"], dt)),
                              float(grid_times(sig["sampling_interval"], dt)), np.asarray(idx, dtype=np.int64), data)
                self.population(sig["population"]).add_signal(sig["variable"], piece)
        return meta

    def clear(self):
        for pd in self.populations.values():
            pd.clear()

