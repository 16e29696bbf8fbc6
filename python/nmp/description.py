"""Building nmp network descriptions (docs/network-description.md) and the
values of simserver actions from Python, with numpy arrays carried as binary
.npy members rather than as text.

Nothing here knows PyNN: a front end (pyNN.nmp, a hardware front end built on
it) turns its objects into populations, selections, projections, current
sources and recordings, and this module writes them in the format the Go side
reads.
"""

import math
import numbers

import numpy as np

FORMAT = "nmp-network"
VERSION = 1

#: Arrays up to this length are written inline in the JSON document.
INLINE = 32


class Distribution(object):
    """A random distribution drawn on the Go side: PyNN's names and
    parameters (numpy's meaning)."""

    __slots__ = ("name", "parameters")

    def __init__(self, name, parameters):
        self.name = name
        self.parameters = dict(parameters)


class Ragged(object):
    """One sequence per element, e.g. the spike times of each neuron of a
    SpikeSourceArray population."""

    __slots__ = ("values", "offsets")

    def __init__(self, sequences):
        seqs = [np.asarray(s, dtype=float).ravel() for s in sequences]
        self.offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
        if seqs:
            np.cumsum([len(s) for s in seqs], out=self.offsets[1:])
            self.values = np.concatenate(seqs) if self.offsets[-1] else np.zeros(0)
        else:
            self.values = np.zeros(0)


class Sequence1(object):
    """One sequence shared by every element (e.g. a StepCurrentSource's
    times), written as a plain list or array."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = np.asarray(values, dtype=float).ravel()


def _number(x):
    x = float(x)
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


class Encoder(object):
    """Turns Python values into the JSON `value` forms of the format,
    collecting the arrays they reference."""

    def __init__(self, prefix="a"):
        self.arrays = {}
        self._prefix = prefix

    def array(self, a):
        """Register `a` as a .npy member and return its reference."""
        name = "%s%d" % (self._prefix, len(self.arrays))
        self.arrays[name] = np.ascontiguousarray(a)
        return {"array": name}

    def vector(self, a, integer=False):
        a = np.asarray(a)
        if integer:
            a = a.astype(np.int64, copy=False)
        elif a.dtype.kind not in "fiub":
            a = a.astype(float)
        if a.size <= INLINE and (integer or np.all(np.isfinite(a))):
            return [int(x) for x in a] if integer else [float(x) for x in a]
        if not integer and a.dtype.kind == "b":
            a = a.astype(np.int8)
        return self.array(a)

    def value(self, x):
        """Encode a parameter value: a number, a per-element numpy array, a
        Distribution, a Ragged or a Sequence1."""
        if isinstance(x, Distribution):
            return {"distribution": x.name,
                    "parameters": {k: _number(v) for k, v in x.parameters.items()}}
        if isinstance(x, Ragged):
            return {"ragged": {"values": self.vector(x.values),
                               "offsets": self.vector(x.offsets, integer=True)}}
        if isinstance(x, Sequence1):
            return self.vector(x.values)
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        if isinstance(x, numbers.Number):
            return _number(x)
        a = np.asarray(x)
        if a.ndim == 0:
            return _number(a)
        return self.vector(a.ravel())

    def values(self, d):
        return {k: self.value(v) for k, v in d.items()}

    def selection(self, parts):
        """Encode a selection: a list of (population index, indices or None)."""
        out = []
        for pop, indices in parts:
            part = {"population": int(pop)}
            if indices is not None:
                part["indices"] = self.vector(indices, integer=True)
            out.append(part)
        return out


class Description(object):
    """A network description under construction. Populations, projections
    and current sources are numbered in the order they are added."""

    def __init__(self, timestep, min_delay=None, max_delay=None, seed=0, threads=None,
                 system=None, annotations=None):
        self.enc = Encoder()
        self.simulation = {"timestep": float(timestep), "seed": int(seed)}
        if min_delay is not None:
            self.simulation["min_delay"] = float(min_delay)
        if max_delay is not None:
            self.simulation["max_delay"] = float(max_delay)
        if threads:
            self.simulation["threads"] = int(threads)
        self.system = system
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.recordings = []
        self.annotations = dict(annotations or {})

    def add_population(self, size, cell_type, parameters=None, initial_values=None,
                       label=None, annotations=None):
        p = {"size": int(size), "cell_type": cell_type}
        if label:
            p["label"] = label
        if parameters:
            p["parameters"] = self.enc.values(parameters)
        if initial_values:
            p["initial_values"] = self.enc.values(initial_values)
        if annotations:
            p["annotations"] = annotations
        self.populations.append(p)
        return len(self.populations) - 1

    def add_projection(self, pre, post, synapse_type, synapse_parameters=None,
                       connector=None, connections=None, receptor_type=None, label=None,
                       timing_dependence=None, weight_dependence=None):
        """`pre`, `post`: selections (lists of (population, indices or None)).
        `connector`: a dict {"type": ..., fields} expanded on the Go side, or
        `connections`: (pre positions, post positions, {name: value}).
        `timing_dependence`, `weight_dependence`: (type, {name: value})."""
        if (connector is None) == (connections is None):
            raise ValueError("a projection needs exactly one of connector and connections")
        pr = {"pre": self.enc.selection(pre), "post": self.enc.selection(post),
              "synapse": {"type": synapse_type}}
        if label:
            pr["label"] = label
        if receptor_type:
            pr["receptor_type"] = receptor_type
        if synapse_parameters:
            pr["synapse"]["parameters"] = self.enc.values(synapse_parameters)
        for key, comp in (("timing_dependence", timing_dependence),
                          ("weight_dependence", weight_dependence)):
            if comp is not None:
                pr["synapse"][key] = {"type": comp[0], "parameters": self.enc.values(comp[1])}
        if connector is not None:
            pr["connector"] = dict(connector)
        else:
            pre_i, post_i, params = connections
            c = {"pre": self.enc.vector(pre_i, integer=True),
                 "post": self.enc.vector(post_i, integer=True)}
            if params:
                c["parameters"] = self.enc.values(params)
            pr["connections"] = c
        self.projections.append(pr)
        return len(self.projections) - 1

    def add_current_source(self, source_type, parameters, targets, label=None):
        cs = {"type": source_type, "parameters": self.enc.values(parameters),
              "targets": self.enc.selection(targets)}
        if label:
            cs["label"] = label
        self.current_sources.append(cs)
        return len(self.current_sources) - 1

    def add_recording(self, selection, variables, sampling_interval=None):
        r = {"selection": self.enc.selection(selection), "variables": list(variables)}
        if sampling_interval:
            r["sampling_interval"] = float(sampling_interval)
        self.recordings.append(r)

    def document(self):
        doc = {"format": FORMAT, "version": VERSION, "simulation": self.simulation,
               "populations": self.populations, "projections": self.projections,
               "current_sources": self.current_sources, "recordings": self.recordings}
        if self.system:
            doc["system"] = self.system
        if self.annotations:
            doc["annotations"] = self.annotations
        return doc
