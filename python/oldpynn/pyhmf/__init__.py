"""pyhmf: the PyNN 0.7 API of the BrainScaleS-1 wafer system, on nmp's
emulated wafer (Go system brainscales1, through `nmp simserver`).

Scripts written for the real system run unchanged (Python 2 ones after the
platform's conversion): ``import pyhmf as pynn``, a PyMarocco object passed
to ``setup(marocco=...)``, populations of IF_cond_exp or
EIF_cond_exp_isfa_ista neurons and of spike sources, projections with
PyNN 0.7's connectors, ``record()``/``record_v()``, ``run``, ``getSpikes()``,
``get_v()``, ``reset``, ``end``.

Every run is one experiment on the wafer from t = 0, as on the hardware:
pyhmf sends the network with marocco's knobs and the runtime's low-level
configuration, the Go side maps it (or, with skip_mapping, maps it again to
the same result, deterministically) and runs it. docs/brainscales1.md has
the details and what is not built.
"""

import logging
import os

import numpy as np

from nmp import description as _desc
from nmp import simclient as _simclient
from nmp import data as _data

__version__ = "0.7-nmp"

_log = logging.getLogger("pylogging.pyhmf")


# ---- cell types ---------------------------------------------------------------

class _CellType(object):
    default_parameters = {}
    source = False
    recordable = ("spikes",)

    def __init__(self, parameters=None):
        self.parameters = dict(self.default_parameters)
        self.parameters.update(parameters or {})

    # pyhmf's population.celltype compares equal to its class (pop.celltype == pynn.SpikeSourceArray).
    def __eq__(self, other):
        if isinstance(other, type):
            return type(self) is other
        return self is other

    def __hash__(self):
        return hash(type(self))


class IF_cond_exp(_CellType):
    """Leaky integrate-and-fire with conductance-based exponential synapses."""
    default_parameters = {"v_rest": -65.0, "cm": 1.0, "tau_m": 20.0, "tau_refrac": 0.1, "tau_syn_E": 5.0,
                          "tau_syn_I": 5.0, "e_rev_E": 0.0, "e_rev_I": -70.0, "v_thresh": -50.0,
                          "v_reset": -65.0, "i_offset": 0.0}
    recordable = ("spikes", "v")


class EIF_cond_exp_isfa_ista(_CellType):
    """The adaptive exponential integrate-and-fire neuron (AdEx) of the wafer."""
    default_parameters = {"cm": 0.281, "tau_refrac": 0.1, "v_spike": -40.0, "v_reset": -70.6, "v_rest": -70.6,
                          "tau_m": 9.3667, "i_offset": 0.0, "a": 4.0, "b": 0.0805, "delta_T": 2.0, "tau_w": 144.0,
                          "v_thresh": -50.4, "e_rev_E": 0.0, "tau_syn_E": 5.0, "e_rev_I": -80.0, "tau_syn_I": 5.0}
    recordable = ("spikes", "v")


class SpikeSourceArray(_CellType):
    default_parameters = {"spike_times": []}
    source = True


class SpikeSourcePoisson(_CellType):
    default_parameters = {"rate": 1.0, "start": 0.0, "duration": 1e10}
    source = True


def _unsupported(name):
    class Unsupported(_CellType):
        def __init__(self, parameters=None):
            raise NotImplementedError("%s: the BrainScaleS wafer supports IF_cond_exp, EIF_cond_exp_isfa_ista, "
                                      "SpikeSourceArray and SpikeSourcePoisson" % name)
    Unsupported.__name__ = name
    return Unsupported


IF_curr_exp = _unsupported("IF_curr_exp")
IF_curr_alpha = _unsupported("IF_curr_alpha")
IF_cond_alpha = _unsupported("IF_cond_alpha")
HH_cond_exp = _unsupported("HH_cond_exp")


# ---- random numbers ---------------------------------------------------------------

class NumpyRNG(object):
    def __init__(self, seed=None, **kw):
        self.seed = seed
        self.rng = np.random.RandomState(seed)


class RandomDistribution(object):
    """PyNN 0.7's RandomDistribution. As a connector's weights it is drawn
    on the Go side, per connection, from the session's seed
    (setup(rng_seeds=...)), not from its rng."""

    _names = {"uniform": ("low", "high"), "normal": ("mu", "sigma"), "exponential": ("beta",),
              "lognormal": ("mu", "sigma"), "gamma": ("k", "theta")}

    def __init__(self, distribution="uniform", parameters=(), rng=None, boundaries=None, constrain="clip"):
        self.name, self.parameters = distribution, list(parameters)
        self.rng = rng or NumpyRNG()
        self.boundaries, self.constrain = boundaries, constrain

    def _distribution(self, what):
        names = self._names.get(self.name)
        if names is None:
            raise NotImplementedError("%s: RandomDistribution(%r) is not supported (%s)" % (what, self.name, ", ".join(sorted(self._names))))
        if len(self.parameters) != len(names):
            raise ValueError("%s: RandomDistribution(%r) takes %d parameters (%s), not %r"
                             % (what, self.name, len(names), ", ".join(names), self.parameters))
        params = dict(zip(names, (float(x) for x in self.parameters)))
        name = self.name
        if self.boundaries is not None:
            if self.name != "normal":
                raise NotImplementedError("%s: boundaries are supported for the normal distribution only" % what)
            params["low"], params["high"] = (float(x) for x in self.boundaries)
            name = "normal_clipped" if self.constrain == "redraw" else "normal_clipped_to_boundary"
        return _desc.Distribution(name, params)

    def next(self, n=1):
        r = self.rng.rng
        if self.name not in ("uniform", "normal", "exponential", "lognormal", "gamma"):
            raise NotImplementedError("RandomDistribution(%r): not supported by pyhmf on nmp" % self.name)
        x = getattr(r, self.name)(*self.parameters, size=n)
        return x if n != 1 else float(x[0])


# ---- the session --------------------------------------------------------------------

class _State(object):
    def __init__(self):
        self.clear()

    def clear(self):
        self.marocco = None
        self.runtime = None
        self.populations = []
        self.projections = []
        self.dt = 0.1
        self.seed = 1
        self.server = None
        self.store = None
        self.info = None
        self.t = 0.0
        self.mapped = False
        self.ids = 0
        self.runs = 0

    def start(self):
        if self.server is None:
            self.server = _simclient.SimServer()

    def close(self):
        if self.server is not None:
            self.server.close()
        self.server = None


_state = _State()


def setup(timestep=0.1, min_delay=0.1, max_delay=10.0, marocco=None, marocco_runtime=None, rng_seeds=None, **extra):
    """Start a session on the wafer. `marocco` is the PyMarocco object whose
    knobs the mapping uses; `marocco_runtime` a pymarocco.runtime.Runtime,
    for low-level changes between runs."""
    from pymarocco import PyMarocco
    _state.close()
    _state.clear()
    _state.marocco = marocco if marocco is not None else PyMarocco()
    if not isinstance(_state.marocco, PyMarocco):
        raise TypeError("setup(marocco=...) takes a pymarocco.PyMarocco, not %r" % (_state.marocco,))
    _state.runtime = marocco_runtime
    _state.dt = float(timestep)
    if rng_seeds:
        _state.seed = int(rng_seeds[0]) if hasattr(rng_seeds, "__len__") else int(rng_seeds)
    return 0


def _population_of(obj):
    """(population index, neuron indices or None) of a Population, a
    PopulationView or an ID."""
    if isinstance(obj, Population):
        return obj._index, None
    if isinstance(obj, PopulationView):
        return obj.parent._index, [int(i) for i in obj.mask]
    if isinstance(obj, ID):
        return obj.parent._index, [obj.index]
    raise TypeError("expected a pyhmf Population or neuron, not %r" % (obj,))


class ID(int):
    """A neuron of a population (PyNN 0.7's ID: an int with its parent)."""

    def __new__(cls, value, parent, index):
        x = int.__new__(cls, value)
        x.parent, x.index = parent, index
        return x

    def __getattr__(self, name):
        if name in ("parent", "index"):
            raise AttributeError(name)
        try:
            v = self.parent._params[name]
        except KeyError:
            raise AttributeError(name)
        return v[self.index] if isinstance(v, np.ndarray) else v


class Population(object):
    """PyNN 0.7's Population: Population(size, cellclass, cellparams)."""

    def __init__(self, size, cellclass, cellparams=None, structure=None, label=None):
        # As with pyhmf, populations may be created before setup(); setup() starts afresh.
        if isinstance(size, tuple):
            size = int(np.prod(size))
        if int(size) != size or size < 1:
            raise ValueError("Population size must be a positive integer, not %r" % (size,))
        self.size = int(size)
        if isinstance(cellclass, type):
            self.celltype = cellclass(cellparams)
        else:
            self.celltype = cellclass
        self.cellclass = type(self.celltype)
        self.label = label or "population%d" % len(_state.populations)
        self._params = {}
        for k, v in self.celltype.parameters.items():
            if k not in self.cellclass.default_parameters:
                raise NameError("%s has no parameter %r (it has %s)" % (self.cellclass.__name__, k,
                                                                        ", ".join(sorted(self.cellclass.default_parameters))))
            self._params[k] = v
        self._index = len(_state.populations)
        self._first = _state.ids
        _state.ids += self.size
        self._record = set()
        self._record_part = {}  # kind -> neuron indices recorded through PopulationViews
        _state.populations.append(self)

    def __len__(self):
        return self.size

    def euter_id(self):
        """The population's number in the network (euter's id, marocco's BioNeuron.population())."""
        return self._index

    def __getitem__(self, i):
        if isinstance(i, (slice, list, np.ndarray)):
            return PopulationView(self, i)  # PyNN 0.7: a slice of a population is a view
        i = int(i)
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError("%s has %d neurons" % (self.label, self.size))
        return ID(self._first + i, self, i)

    def __iter__(self):
        return (self[i] for i in range(self.size))

    def all(self):
        return iter(self)

    def __repr__(self):
        return "Population(%s, %d)" % (self.cellclass.__name__, self.size)

    def id_to_index(self, id):
        return int(id) - self._first

    def _check(self, name):
        if name not in self.cellclass.default_parameters:
            raise NameError("%s has no parameter %r" % (self.cellclass.__name__, name))

    def set(self, param, val=None):
        params = param if isinstance(param, dict) else {param: val}
        for k, v in params.items():
            self._check(k)
            if isinstance(v, RandomDistribution):
                v = np.asarray(v.next(self.size), dtype=float)
            self._params[k] = v

    def tset(self, param, values):
        self._check(param)
        values = list(values) if param == "spike_times" else np.asarray(values, dtype=float)
        if len(values) != self.size:
            raise ValueError("tset(%r): %d values for %d neurons" % (param, len(values), self.size))
        self._params[param] = values if param == "spike_times" else np.asarray(values)

    def rset(self, param, rand_distr):
        self.set(param, rand_distr)

    def initialize(self, variable, value):
        _log.warning("initialize(%r): the wafer's neurons cannot be initialised; this has no effect", variable)

    def record(self, to_file=True):
        self._record.add("spikes")

    def record_v(self, to_file=True):
        if self.celltype.source:
            raise RuntimeError("%s: spike sources have no membrane to record" % self.label)
        self._record.add("v")

    def record_gsyn(self, to_file=True):
        raise NotImplementedError("record_gsyn: the wafer's analog readout reads membranes only")

    def _data(self):
        if _state.store is None:
            return None
        return _state.store.populations.get(self._index)

    def _recorded(self, kind):
        return kind in self._record or kind in self._record_part

    def getSpikes(self, gather=True, compatible_output=True):
        """The recorded spikes as rows [neuron index, time (ms)]."""
        if not self._recorded("spikes"):
            raise RuntimeError("%s: spikes were not recorded (call record() before run)" % self.label)
        pd = self._data()
        if pd is None:
            return np.zeros((0, 2))
        ids, times = pd.spikes()
        order = np.lexsort((ids, times))
        return np.column_stack([ids[order].astype(float), times[order]]) if len(ids) else np.zeros((0, 2))

    def get_v(self, gather=True, compatible_output=True):
        """The recorded membrane as rows [neuron index, time (ms), v (mV)]."""
        if not self._recorded("v"):
            raise RuntimeError("%s: the membrane was not recorded (call record_v() before run)" % self.label)
        pd = self._data()
        if pd is None or "v" not in pd.pieces:
            return np.zeros((0, 3))
        rows = []
        for piece in pd.pieces["v"]:
            t = piece.t_start + piece.interval * np.arange(piece.samples)
            for j, idx in enumerate(piece.indices):
                rows.append(np.column_stack([np.full(piece.samples, float(idx)), t, piece.data[:, j]]))
        out = np.concatenate(rows)
        return out[np.lexsort((out[:, 1], out[:, 0]))]

    def printSpikes(self, filename, gather=True, compatible_output=True):
        np.savetxt(filename, self.getSpikes(), fmt="%g")

    def print_v(self, filename, gather=True, compatible_output=True):
        np.savetxt(filename, self.get_v(), fmt="%g")

    def meanSpikeCount(self, gather=True):
        s = self.getSpikes()
        return len(s) / float(self.size)

    def get_spike_counts(self, gather=True):
        s = self.getSpikes()
        c = np.bincount(s[:, 0].astype(int), minlength=self.size) if len(s) else np.zeros(self.size, int)
        return {self[i]: int(c[i]) for i in range(self.size)}


class PopulationView(object):
    """PyNN 0.7's PopulationView(parent, selector): some neurons of a
    population, for manual placement, projections and recording."""

    def __init__(self, parent, selector, label=None):
        if not isinstance(parent, Population):
            raise TypeError("PopulationView needs a pyhmf Population, not %r" % (parent,))
        idx = np.arange(parent.size)[selector] if not isinstance(selector, (list, tuple, range)) else \
            np.asarray(list(selector), dtype=np.int64)
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if idx.size == 0:
            raise ValueError("PopulationView of %s: the selector picks no neurons" % parent.label)
        if idx.min() < 0 or idx.max() >= parent.size:
            raise IndexError("PopulationView of %s: indices %s are outside 0..%d" % (
                parent.label, sorted(set(int(i) for i in idx if not 0 <= i < parent.size)), parent.size - 1))
        if len(set(idx.tolist())) != idx.size:
            raise ValueError("PopulationView of %s: a neuron is selected twice" % parent.label)
        self.parent, self.mask = parent, idx
        self.size = int(idx.size)
        self.celltype, self.cellclass = parent.celltype, parent.cellclass
        self.label = label or "view of %s" % parent.label

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.size))]
        return self.parent[int(self.mask[int(i)])]

    def __iter__(self):
        return (self[i] for i in range(self.size))

    def all(self):
        return iter(self)

    def euter_id(self):
        return self.parent._index

    def __repr__(self):
        return "PopulationView(%s, %d of %d)" % (self.cellclass.__name__, self.size, self.parent.size)

    def _mark(self, kind):
        part = self.parent._record_part.setdefault(kind, set())
        part.update(int(i) for i in self.mask)

    def record(self, to_file=True):
        self._mark("spikes")

    def record_v(self, to_file=True):
        if self.celltype.source:
            raise RuntimeError("%s: spike sources have no membrane to record" % self.label)
        self._mark("v")

    def record_gsyn(self, to_file=True):
        raise NotImplementedError("record_gsyn: the wafer's analog readout reads membranes only")

    def _rows(self, rows):
        keep = np.isin(rows[:, 0].astype(np.int64), self.mask)
        return rows[keep]

    def getSpikes(self, gather=True, compatible_output=True):
        """The spikes of the view's neurons, rows [neuron index in the parent, time (ms)]."""
        return self._rows(self.parent.getSpikes())

    def get_v(self, gather=True, compatible_output=True):
        return self._rows(self.parent.get_v())

    def meanSpikeCount(self, gather=True):
        return len(self.getSpikes()) / float(self.size)

    def set(self, param, val=None):
        params = param if isinstance(param, dict) else {param: val}
        for k, v in params.items():
            self.parent._check(k)
            cur = self.parent._params.get(k)
            if k == "spike_times":
                cur = list(cur) if cur is not None else []
                trains = [list(t) for t in cur] if len(cur) and np.ndim(cur[0]) > 0 else [list(cur)] * self.parent.size
                for i in self.mask:
                    trains[int(i)] = [float(t) for t in v]
                self.parent._params[k] = trains
                continue
            arr = np.array(cur, dtype=float) if isinstance(cur, np.ndarray) else np.full(self.parent.size, float(cur))
            arr[self.mask] = v.next(self.size) if isinstance(v, RandomDistribution) else v
            self.parent._params[k] = arr


def _selection(obj):
    """The description's selection of a Population or PopulationView."""
    if isinstance(obj, PopulationView):
        return [(obj.parent._index, [int(i) for i in obj.mask])]
    return [(obj._index, None)]


# ---- connectors ---------------------------------------------------------------------

class _Connector(object):
    def __init__(self, weights=0.0, delays=None):
        self.weights, self.delays = weights, delays

    def spec(self):
        raise NotImplementedError


class AllToAllConnector(_Connector):
    def __init__(self, allow_self_connections=True, weights=0.0, delays=None):
        _Connector.__init__(self, weights, delays)
        self.allow_self_connections = allow_self_connections

    def spec(self):
        return {"type": "AllToAllConnector", "allow_self_connections": bool(self.allow_self_connections)}


class OneToOneConnector(_Connector):
    def spec(self):
        return {"type": "OneToOneConnector"}


class FixedProbabilityConnector(_Connector):
    def __init__(self, p_connect, allow_self_connections=True, weights=0.0, delays=None):
        _Connector.__init__(self, weights, delays)
        if not 0 <= p_connect <= 1:
            raise ValueError("FixedProbabilityConnector: p_connect %r is not a probability" % (p_connect,))
        self.p_connect, self.allow_self_connections = float(p_connect), allow_self_connections

    def spec(self):
        return {"type": "FixedProbabilityConnector", "p": self.p_connect,
                "allow_self_connections": bool(self.allow_self_connections)}


class FixedNumberPreConnector(_Connector):
    def __init__(self, n, allow_self_connections=True, weights=0.0, delays=None):
        _Connector.__init__(self, weights, delays)
        self.n, self.allow_self_connections = int(n), allow_self_connections

    def spec(self):
        return {"type": "FixedNumberPreConnector", "n": self.n, "allow_self_connections": bool(self.allow_self_connections)}


class FixedNumberPostConnector(FixedNumberPreConnector):
    def spec(self):
        return {"type": "FixedNumberPostConnector", "n": self.n, "allow_self_connections": bool(self.allow_self_connections)}


class FromListConnector(_Connector):
    def __init__(self, conn_list):
        _Connector.__init__(self)
        self.conn_list = [tuple(c) for c in conn_list]


# ---- synapse dynamics -------------------------------------------------------------------

class TsodyksMarkramMechanism(object):
    """Short-term plasticity as PyNN 0.7 names it. The wafer sets it per
    synapse driver: depression (tau_facil = 0) or facilitation."""

    def __init__(self, U=0.5, tau_rec=100.0, tau_facil=0.0, u0=0.0, x0=1.0, y0=0.0):
        if not 0 <= U <= 1:
            raise ValueError("TsodyksMarkramMechanism: U %r is not in [0, 1]" % (U,))
        # tau_rec = 0: the resources recover at once, so the synapse only facilitates
        # (marocco's tests configure the wafer's facilitation mode so).
        if not tau_rec >= 0 or not tau_facil >= 0:
            raise ValueError("TsodyksMarkramMechanism: tau_rec %r and tau_facil %r must be >= 0 ms" % (tau_rec, tau_facil))
        self.U, self.tau_rec, self.tau_facil = float(U), float(tau_rec), float(tau_facil)


class STDPMechanism(object):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("STDPMechanism: spike-timing-dependent plasticity is not emulated on nmp's wafer yet")


class SynapseDynamics(object):
    """PyNN 0.7's SynapseDynamics(fast=TsodyksMarkramMechanism(...), slow=None)."""

    def __init__(self, fast=None, slow=None):
        if slow is not None:
            raise NotImplementedError("SynapseDynamics(slow=...): spike-timing-dependent plasticity is not emulated on nmp's wafer yet")
        if fast is not None and not isinstance(fast, TsodyksMarkramMechanism):
            raise TypeError("SynapseDynamics(fast=...) takes a TsodyksMarkramMechanism, not %r" % (fast,))
        self.fast, self.slow = fast, slow


# ---- projections ----------------------------------------------------------------------

class Projection(object):
    """PyNN 0.7's Projection(pre, post, connector, target='excitatory')."""

    def __init__(self, presynaptic_population, postsynaptic_population, method, source=None,
                 target="excitatory", synapse_dynamics=None, label=None, rng=None):
        if synapse_dynamics is not None and not isinstance(synapse_dynamics, SynapseDynamics):
            raise TypeError("synapse_dynamics must be a SynapseDynamics, not %r" % (synapse_dynamics,))
        self.synapse_dynamics = synapse_dynamics
        if target not in ("excitatory", "inhibitory"):
            raise ValueError("target %r: a wafer neuron has an 'excitatory' and an 'inhibitory' synaptic input" % (target,))
        if not isinstance(method, _Connector):
            raise TypeError("Projection needs a connector, not %r" % (method,))
        self.pre, self.post, self.connector, self.target = presynaptic_population, postsynaptic_population, method, target
        self.label = label or "projection%d" % len(_state.projections)
        if getattr(method, "delays", None) is not None:
            _log.warning("%s: delays are not configurable on the wafer (1 to 4 ms from the routing); ignored", self.label)
        self._index = len(_state.projections)
        _state.projections.append(self)

    def __repr__(self):
        return "Projection ( PyAssembly (%d) -> PyAssembly (%d))" % (self.pre.size, self.post.size)

    def _add_to(self, d):
        c = self.connector
        pre, post = _selection(self.pre), _selection(self.post)
        if isinstance(c, FromListConnector):
            cl = c.conn_list
            i = np.array([x[0] for x in cl], dtype=np.int64)
            j = np.array([x[1] for x in cl], dtype=np.int64)
            w = np.array([x[2] if len(x) > 2 else 0.0 for x in cl], dtype=float)
            sd = self.synapse_dynamics
            if sd is not None and sd.fast is not None:
                raise NotImplementedError("%s: FromListConnector with synapse_dynamics is not supported by pyhmf on nmp yet" % self.label)
            return d.add_projection(pre, post, "StaticSynapse", connections=(i, j, {"weight": w}),
                                    receptor_type=self.target, label=self.label)
        w = c.weights
        w = w._distribution(self.label + ": weights") if isinstance(w, RandomDistribution) else float(w)
        synapse, params = "StaticSynapse", {"weight": w}
        sd = self.synapse_dynamics
        if sd is not None and sd.fast is not None:
            synapse = "TsodyksMarkramSynapse"
            # tau_rec 0 (recovery at once) goes to the engine as 1e-6 ms: within a 0.1 ms step the
            # resources recover to exp(-1e5) of their deficit, i.e. fully; the description wants tau_rec > 0.
            params.update(U=sd.fast.U, tau_rec=sd.fast.tau_rec or 1e-6, tau_facil=sd.fast.tau_facil)
        return d.add_projection(pre, post, synapse, synapse_parameters=params,
                                connector=c.spec(), receptor_type=self.target, label=self.label)

    def _connections(self):
        _state.require_mapping()
        pre, post = _state.server.connections(self._index)
        return pre, post

    def size(self, gather=True):
        return len(self._connections()[0])

    def getWeights(self, format="list", gather=True):
        """The weights as given (uS): a list in connection order, or a
        pre x post array with NaN where there is no connection."""
        pre, post = self._connections()
        c = self.connector
        if isinstance(c, FromListConnector):
            w = np.array([x[2] if len(x) > 2 else 0.0 for x in c.conn_list], dtype=float)
        elif isinstance(c.weights, RandomDistribution):
            p = _state.info["projections"][self._index]
            if "weights" not in p:
                raise RuntimeError("%s: the mapping has too many synapses for per-synapse results (see docs/brainscales1.md)" % self.label)
            w = np.asarray(p["weights"], dtype=float)
        else:
            w = np.full(len(pre), float(c.weights))
        if format == "list":
            return list(w)
        out = np.full((self.pre.size, self.post.size), np.nan)
        for k in range(len(pre)):
            out[pre[k], post[k]] = w[k] if np.isnan(out[pre[k], post[k]]) else out[pre[k], post[k]] + w[k]
        return out

    def _mapped_weights(self):
        pre, post = self._connections()
        p = _state.info["projections"][self._index]
        if "effective_weights" not in p:
            raise RuntimeError("%s: the mapping has too many synapses for per-synapse results (see docs/brainscales1.md)" % self.label)
        w = np.asarray(p["effective_weights"], dtype=float)
        lost = np.asarray(p["lost_indices"], dtype=np.int64)
        w[lost] = np.nan
        out = np.full((self.pre.size, self.post.size), np.nan)
        for k in range(len(pre)):
            if not np.isnan(w[k]):
                out[pre[k], post[k]] = w[k] if np.isnan(out[pre[k], post[k]]) else out[pre[k], post[k]] + w[k]
        return out

    def printWeights(self, filename, format="list", gather=True):
        np.savetxt(filename, np.atleast_1d(self.getWeights(format)), fmt="%g")


# ---- running -------------------------------------------------------------------------

from . import _session  # noqa: E402

_State.require_mapping = _session.require_mapping


def run(simtime):
    """Run the network for simtime ms (biological time) from t = 0, as one
    experiment on the wafer; with backend None, map it only."""
    return _session.run(_state, float(simtime))


def reset():
    """Forget the recorded data; the next run starts again at t = 0."""
    _state.t = 0.0
    if _state.store is not None:
        _state.store.clear()


def end(compatible_output=True):
    _state.close()


def get_current_time():
    return _state.t


def get_time_step():
    return _state.dt


def get_min_delay():
    return 1.0


def get_max_delay():
    return 4.0


def rank():
    return 0


def num_processes():
    return 1


def create(cellclass, cellparams=None, n=1):
    return Population(n, cellclass, cellparams)


def connect(source, target, weight=0.0, delay=None, synapse_type="excitatory", p=1, rng=None):
    sp = source if isinstance(source, Population) else None
    tp = target if isinstance(target, Population) else None
    if sp is None or tp is None:
        raise NotImplementedError("connect() between single neurons: use a Projection")
    return Projection(sp, tp, FixedProbabilityConnector(p, weights=weight), target=synapse_type)
