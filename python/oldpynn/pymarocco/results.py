"""pymarocco.results: marocco's mapping results, live from a runtime or
read back from the file marocco.persist names (nmp writes them as JSON,
gzip-compressed when the name ends in .gz, whatever the extension)."""

import gzip
import json

import numpy as np

import Coordinate as C
from .coordinates import LogicalNeuron


class BioNeuron(object):
    """marocco's BioNeuron: a neuron of the network as (population, index)."""

    def __init__(self, pop, index):
        self._pop, self._index = pop, index

    def population(self):
        return self._pop

    def neuron_index(self):
        return self._index

    def __eq__(self, other):
        return isinstance(other, BioNeuron) and (other._pop, other._index) == (self._pop, self._index)

    def __hash__(self):
        return hash((self._pop, self._index))

    def __repr__(self):
        return "BioNeuron(population %d, neuron %d)" % (self._pop, self._index)


class PlacementItem(object):
    def __init__(self, pop, index, rec):
        self._pop, self._index = pop, index
        self._h, self._x, self._size, self._merger, self._addr = rec

    def neuron_index(self):
        return self._index

    def population(self):
        return self._pop

    def logical_neuron(self):
        if self._x < 0:
            return LogicalNeuron(C.Enum(self._h), 0, 0, external=True)
        return LogicalNeuron(C.Enum(self._h), self._x, self._size)

    def bio_neuron(self):
        return BioNeuron(self._pop, self._index)

    def neuron_block(self):
        """The neuron block of the logical neuron; None for a spike source."""
        if self._x < 0:
            return None
        return C.NeuronBlockOnHICANN(self._x // 32)

    def dnc_merger(self):
        return C.DNCMergerOnHICANN(self._merger)

    def address(self):
        return (C.HICANNOnWafer(C.Enum(self._h)), C.DNCMergerOnHICANN(self._merger), self._addr)

    def toHICANNOnWafer(self):
        return C.HICANNOnWafer(C.Enum(self._h))

    def __repr__(self):
        return "PlacementItem(population %d, neuron %d, %r)" % (self._pop, self._index, self.logical_neuron())


def _key(neuron):
    """(population index, neuron index) of a pyhmf ID, or of a pair."""
    if isinstance(neuron, tuple):
        return neuron
    return (neuron.parent._index, int(neuron.index))


class Placement(object):
    def __init__(self, info):
        self._pops = {}
        for p in info.get("populations", []):
            pl = p.get("placement")
            if pl is not None:
                self._pops[p["population"]] = np.asarray(pl, dtype=np.int64).reshape(-1, 5)

    def __iter__(self):
        """Every placed neuron's item, populations in order."""
        for p in sorted(self._pops):
            for i, row in enumerate(self._pops[p]):
                yield PlacementItem(p, i, [int(v) for v in row])

    def __len__(self):
        return sum(len(r) for r in self._pops.values())

    def find(self, neuron):
        """The placement of a neuron (a pyhmf ID): a list of one item."""
        p, i = _key(neuron)
        rows = self._pops.get(p)
        if rows is None or not 0 <= i < len(rows):
            return []
        return [PlacementItem(p, i, [int(v) for v in rows[i]])]


class SynapseItem(object):
    def __init__(self, index, hicann, row, col, weight):
        self._k = index
        self._syn = C.SynapseOnWafer(row, col, C.HICANNOnWafer(C.Enum(hicann)))
        self._w = weight

    def connection_index(self):
        return self._k

    def hardware_synapse(self):
        return self._syn

    def digital_weight(self):
        return self._w

    def __repr__(self):
        return "SynapseItem(connection %d, %r, weight %d)" % (self._k, self._syn, self._w)


class Synapses(object):
    def __init__(self, info):
        self._by = {}
        for p in info.get("projections", []):
            hw = p.get("hardware_synapses")
            if hw is not None:
                self._by[p["projection"]] = np.asarray(hw, dtype=np.int64).reshape(-1, 5)

    def size(self):
        return sum(len(r) for r in self._by.values())

    def __len__(self):
        return self.size()

    def __iter__(self):
        for i in sorted(self._by):
            for r in self._by[i]:
                yield SynapseItem(*[int(v) for v in r])

    def find(self, proj):
        """The hardware synapses realising a projection's connections."""
        i = proj if isinstance(proj, int) else proj._index
        rows = self._by.get(i)
        if rows is None:
            return []
        return [SynapseItem(*[int(v) for v in r]) for r in rows]


class SynapseRouting(object):
    def __init__(self, info):
        self._syn = Synapses(info)

    def synapses(self):
        return self._syn


class SpikeTimes(object):
    """The spike times the next run plays back, per source neuron."""

    def __init__(self, owner=None):
        self._owner = owner
        self._set = {}
        self._network = {}

    def set(self, neuron, times):
        key = _key(neuron)
        self._set[key] = [float(t) for t in times]
        if self._owner is not None:
            self._owner._spike_times_changed(key, self._set[key])

    def get(self, neuron):
        """The spike times a source neuron plays back (set here, or the
        network's own); [] for a neuron that plays none back."""
        key = _key(neuron)
        if key in self._set:
            return list(self._set[key])
        return list(self._network.get(key, []))

    def add(self, neuron, times):
        key = _key(neuron)
        cur = self.get(neuron)
        cur += [float(t) for t in (times if np.ndim(times) else [times])]
        self.set(neuron, sorted(cur))

    def clear(self, neuron):
        self.set(neuron, [])


class Marocco(object):
    """The results of one mapping."""

    def __init__(self, info=None, owner=None):
        self.info = info or {}
        self.placement = Placement(self.info)
        self.synapse_routing = SynapseRouting(self.info)
        self.spike_times = SpikeTimes(owner)
        for p, i, times in self.info.get("spike_input", []):
            self.spike_times._network[(p, i)] = times

    def properties(self, hicann):
        h = C.HICANNOnWafer(hicann).toEnum().value()
        return {"num_neurons": sum(1 for p in self.placement._pops.values() for r in p if r[0] == h and r[1] >= 0)}

    def save(self, filename, overwrite=True):
        opener = gzip.open if str(filename).endswith(".gz") else open
        with opener(filename, "wt") as f:
            json.dump({"format": "nmp-marocco-results", "version": 1, "info": self.info}, f)

    @classmethod
    def from_file(cls, filename):
        opener = gzip.open if str(filename).endswith(".gz") else open
        with opener(filename, "rt") as f:
            doc = json.load(f)
        if doc.get("format") != "nmp-marocco-results":
            raise RuntimeError("%s: not a results file written by marocco.persist" % filename)
        return cls(doc["info"])
