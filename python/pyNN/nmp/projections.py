"""Projections for nmp.

PyNN's six procedural connectors (all-to-all, one-to-one, fixed probability,
fixed number pre/post/total), with synaptic parameters that are numbers or
random distributions, are expanded by the engine, so that large networks are
built in Go. Every other connector, and parameters that depend on distance or
position, are expanded here by PyNN's own connector code and sent as explicit
connection arrays. Once built, the engine holds the connections: `get`,
`set` and `connections` read and write them there.
"""

from copy import deepcopy

import numpy as np
from pyNN import common, connectors, errors
from pyNN.core import IndexBasedExpression
from pyNN.parameters import LazyArray
from pyNN.random import RandomDistribution, NativeRNG
from pyNN.space import Space

from nmp.data import grid_times
from nmp.description import Distribution

from . import simulator
from .populations import selection_of
from .standardmodels import StaticSynapse, STDPMechanism

_GO_CONNECTORS = {
    connectors.AllToAllConnector: "AllToAllConnector",
    connectors.OneToOneConnector: "OneToOneConnector",
    connectors.FixedProbabilityConnector: "FixedProbabilityConnector",
    connectors.FixedNumberPreConnector: "FixedNumberPreConnector",
    connectors.FixedNumberPostConnector: "FixedNumberPostConnector",
    connectors.FixedTotalNumberConnector: "FixedTotalNumberConnector",
}


def float32_decimal(x):
    """Give values that are exactly single-precision numbers (the engine
    stores static weights in single precision) as the double nearest to the
    shortest decimal that rounds to them: 0.123, not 0.12300000339746475.
    Other values pass unchanged."""
    x = np.array(x, dtype=float)
    f = x.astype(np.float32)
    todo = np.isfinite(x) & (x != 0) & (f.astype(float) == x)
    if not todo.any():
        return x
    idx = np.nonzero(todo)[0]
    v = x[idx]
    target = f[idx]
    e = np.floor(np.log10(np.abs(v))).astype(int)
    found = np.zeros(len(v), dtype=bool)
    for p in range(1, 10):
        k = p - 1 - e
        cand = np.where(k >= 0, np.round(v * 10.0 ** np.clip(k, 0, 300)) / 10.0 ** np.clip(k, 0, 300),
                        np.round(v / 10.0 ** np.clip(-k, 0, 300)) * 10.0 ** np.clip(-k, 0, 300))
        ok = ~found & (cand.astype(np.float32) == target)
        v = np.where(ok, cand, v)
        found |= ok
        if found.all():
            break
    x[idx] = v
    return x


def _plain_value(larr):
    """The value of a lazy array the engine can take as it is (a number or a
    random distribution), or None."""
    if larr.operations:
        return None
    base = larr.base_value
    if isinstance(base, (bool, np.bool_)):
        return None
    if isinstance(base, (int, float, np.integer, np.floating)):
        return float(base)
    if isinstance(base, RandomDistribution):
        return base
    return None


def _component_parameters(component):
    """The parameters of an STDP timing or weight dependence, as numbers."""
    ps = deepcopy(component.parameter_space)
    ps.shape = (1,)
    ps.evaluate(simplify=True)
    out = {}
    for name, value in ps.items():
        value = np.asarray(value, dtype=float).ravel()
        if value.size != 1:
            raise errors.InvalidParameterValueError(
                "nmp: %s of %s takes one number for the whole projection"
                % (name, type(component).__name__))
        out[name] = float(value[0])
    return out


def _at_connections(larr, shape, pre, post):
    """Evaluate the lazy array `larr` of the given (pre, post) shape at the
    connections (pre[k], post[k]), a block of rows at a time."""
    larr.shape = shape
    out = np.empty(len(pre))
    if not len(pre):
        return out
    rows = max(1, int(4e6 // max(shape[1], 1)))
    order = np.argsort(pre, kind="stable")
    sp, sq = pre[order], post[order]
    for lo in range(0, shape[0], rows):
        hi = min(shape[0], lo + rows)
        a, b = np.searchsorted(sp, [lo, hi])
        if a == b:
            continue
        block = np.asarray(larr[lo:hi, :], dtype=float).reshape(hi - lo, shape[1])
        out[order[a:b]] = block[sp[a:b] - lo, sq[a:b]]
    return out


class NonExistentStateError(errors.NonExistentParameterError):
    """Projection.initialize was given a name that is not a state variable
    of the projection's synapse type."""

    def __init__(self, name, projection):
        st = type(projection.synapse_type).__name__
        state = sorted(getattr(projection.synapse_type, "nmp_state", {}))
        errors.NonExistentParameterError.__init__(self, name, st, state)
        self.projection = projection.label

    def __str__(self):
        if self.valid_parameter_names:
            have = "its state variables are %s" % ", ".join(self.valid_parameter_names)
        else:
            have = "it has no state variables"
        msg = "projection %r: %s has no state variable %r to initialize (%s)" % (
            self.projection, self.model_name, self.parameter_name, have)
        if self.model_name == "TsodyksMarkramSynapse" and self.parameter_name == "y":
            msg += "; y, the active resources of NEST's tsodyks_synapse, is the synaptic current," \
                   " which nmp's model leaves to the cell's synaptic time constant, as NEST's tsodyks2_synapse does"
        return msg


class Connection(common.Connection):
    """One connection of a projection, by its position in the engine's
    connection order."""

    def __init__(self, projection, index):
        self.projection = projection
        self.index = index

    @property
    def presynaptic_index(self):
        return int(self.projection._addresses()[0][self.index])

    @property
    def postsynaptic_index(self):
        return int(self.projection._addresses()[1][self.index])

    def _get(self, name):
        return float(self.projection._values([name])[0][self.index])

    def _set(self, name, value):
        values = self.projection._values([name])[0].copy()
        values[self.index] = value
        self.projection._send(name, values)

    weight = property(lambda self: self._get("weight"), lambda self, w: self._set("weight", w))
    delay = property(lambda self: self._get("delay"), lambda self, d: self._set("delay", d))

    def __getattr__(self, name):
        if name.startswith("_") or name in ("projection", "index"):
            raise AttributeError(name)
        return self._get(name)

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(), label=None):
        state = self._simulator.state
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space, label)
        if not hasattr(self.synapse_type, "nmp_name"):
            raise errors.InvalidModelError(
                "nmp runs PyNN's standard synapse types; %s is not one of them"
                % type(self.synapse_type).__name__)
        self._pre_sel = selection_of(self.pre)
        self._post_sel = selection_of(self.post)
        self._connector_spec = None   # expanded by the engine
        self._spec = None             # synapse parameters for the engine's expansion
        self._explicit = None         # (pre, post, {name: value}) expanded here
        self._size = None
        self._cache = None
        self._go = self._engine_connector(connector)
        if self._go is not None and connector.callback is not None:
            connector.callback(1.0)  # the rule is complete; the engine connects at the build
        if self._go is None:
            self._chunks = ([], [], {})
            connector.connect(self)
            self._explicit = self._collect()
            del self._chunks
            self._size = len(self._explicit[0])
        self._index = state.register_projection(self)

    # -- building ---------------------------------------------------------------

    def _component_names(self):
        if isinstance(self.synapse_type, STDPMechanism):
            return set(self.synapse_type.component_names())
        return set()

    def _engine_connector(self, connector):
        """The connector as the engine's procedural rule, with the synapse
        parameters the engine draws; None if it must be expanded here."""
        state = self._simulator.state
        name = _GO_CONNECTORS.get(type(connector))
        # A callback (PyNN's progress bar) does not change how the connections
        # are drawn: the engine draws them, and the callback hears of it (__init__).
        if name is None:
            return None
        spec = {}
        for pname, larr in self.synapse_type.native_parameters.items():
            value = _plain_value(larr)
            if value is None:
                return None
            spec[pname] = value
        c = {"type": name}
        if name in ("AllToAllConnector", "FixedProbabilityConnector", "FixedNumberPreConnector",
                    "FixedNumberPostConnector", "FixedTotalNumberConnector"):
            allow = connector.allow_self_connections
            if not isinstance(allow, (bool, np.bool_)):
                return None       # e.g. "NoMutual"
            if name.startswith("FixedNumberP") and self.pre != self.post:
                # PyNN excludes self connections of these only within one population.
                allow = True
            c["allow_self_connections"] = bool(allow)
        if name == "FixedProbabilityConnector":
            if not isinstance(connector.p_connect, (int, float, np.integer, np.floating)):
                return None
            c["p"] = float(connector.p_connect)
        if name.startswith("FixedNumber") or name == "FixedTotalNumberConnector":
            if not isinstance(connector.n, (int, np.integer)):
                return None
            c["n"] = int(connector.n)
            c["with_replacement"] = bool(connector.with_replacement)
        rng = getattr(connector, "rng", None)
        if rng is not None and not isinstance(rng, NativeRNG):
            # Draw the engine's seed from the connector's RNG, so that a
            # seeded RNG gives reproducible connections and a shared RNG
            # gives each projection different ones.
            drawn = int(rng.next(1, "uniform_int", {"low": 0, "high": 2 ** 31 - 1})[0])
            c["seed"] = (drawn * 1000003 + len(state.projections)) % (2 ** 63)
        if "weight" in spec and isinstance(spec["weight"], float):
            check = getattr(self.synapse_type, "parameter_checks", {}).get("weight")
            if check is not None:
                check(spec["weight"], self)
        self._spec = spec
        self._connector_spec = c
        return c

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **connection_parameters):
        pre = np.asarray(presynaptic_indices)
        if pre.dtype == object:
            pre = np.array([self.pre.id_to_index(i) for i in pre])
        pre = pre.astype(np.int64, copy=False).ravel()
        if isinstance(postsynaptic_index, common.IDMixin):
            postsynaptic_index = self.post.id_to_index(postsynaptic_index)
        n = len(pre)
        pres, posts, params = self._chunks
        pres.append(pre)
        posts.append(np.full(n, int(postsynaptic_index), dtype=np.int64))
        for name, value in connection_parameters.items():
            v = np.asarray(value, dtype=float)
            params.setdefault(name, []).append(np.broadcast_to(v, (n,)) if v.ndim == 0 else v.ravel())

    def _collect(self):
        pres, posts, params = self._chunks
        pre = np.concatenate(pres) if pres else np.zeros(0, dtype=np.int64)
        post = np.concatenate(posts) if posts else np.zeros(0, dtype=np.int64)
        out = {}
        for name, chunks in params.items():
            v = np.concatenate(chunks)
            out[name] = float(v[0]) if len(v) and np.all(v == v[0]) else v
        for name, larr in self.synapse_type.native_parameters.items():
            if name not in out:
                value = _plain_value(larr)
                if isinstance(value, float):
                    out[name] = value
        return pre, post, out

    def _describe(self, desc):
        """Add this projection to a nmp.description.Description."""
        components = self._component_names()
        timing = weight_dep = None
        st = self.synapse_type
        if isinstance(st, STDPMechanism):
            timing = (st.timing_dependence.nmp_name, {})
            weight_dep = (st.weight_dependence.nmp_name, {})
            timing[1].update(_component_parameters(st.timing_dependence))
            weight_dep[1].update(_component_parameters(st.weight_dependence))
        if self._explicit is not None:
            pre, post, params = self._explicit
            params = {k: v for k, v in params.items() if k not in components}
            index = desc.add_projection(self._pre_sel, self._post_sel, st.nmp_name,
                                        connections=(pre, post, params),
                                        receptor_type=self.receptor_type, label=self.label,
                                        timing_dependence=timing, weight_dependence=weight_dep)
        else:
            params = {}
            for name, value in self._spec.items():
                if name in components:
                    continue
                if isinstance(value, RandomDistribution):
                    value = Distribution(value.name, value.parameters)
                params[name] = value
            index = desc.add_projection(self._pre_sel, self._post_sel, st.nmp_name,
                                        synapse_parameters=params, connector=self._connector_spec,
                                        receptor_type=self.receptor_type, label=self.label,
                                        timing_dependence=timing, weight_dependence=weight_dep)
        return index

    def _snapshot(self):
        """Before the network is built anew: keep the connections and their
        values as they are in the engine, as an explicit list."""
        pre, post = self._addresses(build=False)
        # Synapse state (u, x, ...) that initialize() set among them: the
        # network has not yet advanced, so its present state is its initial
        # state. State left alone keeps its default (and a system whose
        # synapses have no such state is not sent one).
        state = getattr(self.synapse_type, "nmp_state", {})
        names = [n for n in self.synapse_type.get_native_names()
                 if n not in self._component_names() and n != "dendritic_delay_fraction"
                 and (n not in state or n in self.initial_values)]
        values = self._values(names, build=False)
        params = {}
        for name, v in zip(names, values):
            params[name] = float(v[0]) if len(v) and np.all(v == v[0]) else v
        self._explicit = (pre.copy(), post.copy(), params)
        self._go = None
        self._cache = None

    def _built(self, size):
        self._size = int(size)
        self._cache = None

    # -- reading and writing connections ---------------------------------------

    def __len__(self):
        state = self._simulator.state
        if self._size is None:
            state.ensure_built()
        return self._size

    @property
    def connections(self):
        return (Connection(self, k) for k in range(len(self)))

    def __getitem__(self, i):
        n = len(self)
        if not -n <= i < n:
            raise IndexError("projection %r has %d connections" % (self.label, n))
        return Connection(self, i % n)

    def _addresses(self, build=True):
        """(pre positions, post positions) of the connections, in the
        engine's connection order."""
        state = self._simulator.state
        if build:
            state.ensure_built()
        if self._cache is None:
            self._cache = state.connections(self._index)
        return self._cache

    def _values(self, names, build=True):
        """Values of synaptic parameters, one array per name, in connection order."""
        state = self._simulator.state
        if build:
            state.ensure_built()
        components = self._component_names()
        out = [None] * len(names)
        ask = [n for n in names if n not in components]
        if ask:
            got = state.synapses(self._index, ask)
        for k, name in enumerate(names):
            if name in components:
                value = self._component_value(name)
                out[k] = np.full(self._size, value)
                continue
            v = got[name]
            if name == "weight":
                v = float32_decimal(v)
            elif name == "delay":
                v = grid_times(v, state.dt)
            out[k] = v
        return out

    def _component_value(self, name):
        st = self.synapse_type
        for comp in (st.timing_dependence, st.weight_dependence):
            if comp is not None and name in comp.get_parameter_names():
                return _component_parameters(comp)[name]
        raise errors.NonExistentParameterError(name, type(st).__name__, st.get_parameter_names())

    def _get_attributes_as_list(self, names):
        columns = []
        pre, post = (None, None)
        values = dict(zip([n for n in names if not n.endswith("synaptic_index")],
                          self._values([n for n in names if not n.endswith("synaptic_index")])))
        for name in names:
            if name == "presynaptic_index":
                pre = self._addresses()[0]
                columns.append(pre.astype(float))
            elif name == "postsynaptic_index":
                post = self._addresses()[1]
                columns.append(post.astype(float))
            else:
                columns.append(values[name])
        if not columns:
            return []
        return [tuple(row) for row in np.column_stack(columns).tolist()]

    def _get_attributes_as_arrays(self, names, multiple_synapses='sum'):
        pre, post = self._addresses()
        out = []
        for name, v in zip(names, self._values(list(names))):
            a = np.full((self.pre.size, self.post.size), np.nan)
            if len(v):
                if multiple_synapses == "last":
                    a[pre, post] = v
                elif multiple_synapses == "first":
                    a[pre[::-1], post[::-1]] = v[::-1]
                else:
                    init, op = {"sum": (0.0, np.add), "min": (np.inf, np.minimum),
                                "max": (-np.inf, np.maximum)}[multiple_synapses]
                    a[pre, post] = init
                    op.at(a, (pre, post), v)
            out.append(a)
        return out

    def _set_attributes(self, parameter_space):
        for name, larr in parameter_space.items():
            self._set_one(name, larr)

    def initialize(self, **initial_values):
        # PyNN 0.10.1's version gives the lazy array the shape (self.size,),
        # a bound method, so that every array value fails; the values here
        # are what its docstring promises: numbers, RandomDistributions,
        # arrays of the connectivity matrix's shape, functions of distance,
        # and (as NEST takes them) one value per connection in the order of
        # get(format="list").
        for variable, value in initial_values.items():
            shape = None
            if isinstance(value, (list, tuple, np.ndarray)):
                shape = self.shape if np.ndim(value) == 2 else (len(self),)
                if np.shape(value) != shape:
                    raise errors.InvalidDimensionsError(
                        "projection %r: initialize(%s=...) takes one value per connection (%d) or an "
                        "array of shape %s, got shape %s"
                        % (self.label, variable, len(self), self.shape, np.shape(value)))
            if callable(value):
                # A function of the distance between the cells (or an
                # IndexBasedExpression), as set() takes them.
                shape = self.shape
            initial_value = LazyArray(value, shape=shape, dtype=float)
            if callable(value):
                initial_value = self._handle_distance_expressions({variable: initial_value})[variable]
            self._set_initial_value_array(variable, initial_value)
            self.initial_values[variable] = initial_value

    def _set_initial_value_array(self, variable, initial_value):
        state = getattr(self.synapse_type, "nmp_state", {})
        if variable not in state:
            raise NonExistentStateError(variable, self)
        base = initial_value.base_value
        if not initial_value.operations and isinstance(base, (list, tuple, np.ndarray)) \
                and np.ndim(base) == 1:
            # One value per connection, in the order of get(format="list").
            self._send(variable, np.asarray(base, dtype=float))
            return
        self._set_one(variable, initial_value)

    def _set_one(self, name, larr):
        state = self._simulator.state
        if name in self._component_names():
            value = _plain_value(larr)
            if not isinstance(value, float):
                raise errors.InvalidParameterValueError(
                    "nmp: %s is a parameter of the whole STDP rule and takes one number" % name)
            st = self.synapse_type
            for comp in (st.timing_dependence, st.weight_dependence):
                if comp is not None and name in comp.get_parameter_names():
                    comp.parameter_space.update(**{name: value})
            if state.built and not state.dirty:
                state.set_synapses(self._index, {name: value})
            return
        plain = _plain_value(larr)
        if not state.built:
            # Before the build, change what will be sent.
            if self._explicit is not None and (plain is not None or self._size == 0):
                pre, post, params = self._explicit
                if isinstance(plain, RandomDistribution):
                    params[name] = np.asarray(plain.next(len(pre)), dtype=float)
                elif plain is not None:
                    params[name] = plain
                return
            if self._go is not None and plain is not None:
                self._spec[name] = plain
                return
        if plain is None:
            pre, post = self._addresses()
            value = _at_connections(larr, (self.pre.size, self.post.size), pre, post)
        elif isinstance(plain, RandomDistribution):
            value = np.asarray(plain.next(len(self)), dtype=float)
        else:
            value = plain
        self._send(name, value)

    def _send(self, name, value):
        state = self._simulator.state
        state.ensure_built()
        state.set_synapses(self._index, {name: value})
