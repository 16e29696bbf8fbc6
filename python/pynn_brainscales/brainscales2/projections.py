"""Projections on the emulated chip: every connection becomes hardware
synapses. Weights are integers (rounded): at most 63 per synapse, larger
magnitudes spread over synapses in parallel; they are not negative for
excitatory and not positive for inhibitory projections. Delays must be 0.

Connectors are expanded here, by PyNN's own code, so that the front end
knows every connection's weight as the script gave it (the engine holds the
synapses' actual strengths, with their mismatch)."""

import numpy as np
from pyNN import errors

from pyNN.nmp import projections as _nmp
from pyNN.nmp.projections import _at_connections, _plain_value
from pyNN.random import RandomDistribution

from . import simulator
from .simulator import state
from .standardmodels.synapses import StaticSynapse

SIGN_MESSAGE = ("Weights must be positive for conductance-based and/or excitatory synapses and "
                "negative for inhibitory synapses")


class Projection(_nmp.Projection):
    __doc__ = _nmp.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=None, label=None):
        if synapse_type is None:
            synapse_type = StaticSynapse()
        if not isinstance(synapse_type, StaticSynapse):
            raise NotImplementedError(
                "%s: the emulated chip runs static synapses "
                "(pynn_brainscales.brainscales2.standardmodels.synapses.StaticSynapse); "
                "plastic synapses need the chip's plasticity processor, which is not emulated"
                % type(synapse_type).__name__)
        kw = {}
        if space is not None:
            kw["space"] = space
        _nmp.Projection.__init__(self, presynaptic_population, postsynaptic_population, connector,
                                 synapse_type, source, receptor_type, label=label, **kw)

    def _engine_connector(self, connector):
        return None  # always expanded here (see the module's doc)

    def _coba_inh(self):
        """Inhibitory onto conductance-based cells (CalibHXNeuronCoba): the
        script's weights are positive, the chip's inhibitory rows negative."""
        return self.receptor_type == "inhibitory" and getattr(self.post.celltype, "conductance_based", False)

    def _check(self, weights):
        w = np.round(np.asarray(weights, dtype=float))
        if w.size == 0:
            return w
        inh = self.receptor_type == "inhibitory"
        if self._coba_inh():
            if np.any(w < 0):
                raise errors.ConnectionError(SIGN_MESSAGE)
            return -w
        if (inh and np.any(w > 0)) or (not inh and np.any(w < 0)):
            raise errors.ConnectionError(SIGN_MESSAGE)
        return w

    def _collect(self):
        pre, post, params = _nmp.Projection._collect(self)
        d = np.asarray(params.pop("delay", 0.0), dtype=float)
        if np.any(d != 0):
            raise ValueError("Setting the delay unequal 0 is not supported.")
        w = self._check(np.broadcast_to(np.asarray(params.get("weight", 0.0), dtype=float), (len(pre),)))
        self._weights = w.copy()
        params["weight"] = float(w[0]) if len(w) and np.all(w == w[0]) else w
        return pre, post, params

    def _snapshot(self):
        # The connections and weights the script gave are kept here already.
        self._go = None
        self._cache = None
        self._order = None

    def _built(self, size):
        _nmp.Projection._built(self, size)
        self._order = None
        # Synapses each connection was placed on (63 per synapse).
        self._placed = _synapses_for(self._weights)

    def _engine_order(self):
        """Positions of the engine's connections in the given order."""
        if getattr(self, "_order", None) is None:
            epre, epost = self._addresses()
            gpre, gpost, _ = self._explicit
            ek = np.lexsort((np.arange(len(epre)), epost, epre))
            gk = np.lexsort((np.arange(len(gpre)), gpost, gpre))
            order = np.empty(len(epre), dtype=np.int64)
            order[ek] = gk
            self._order = order
        return self._order

    def _values(self, names, build=True):
        out = []
        for name in names:
            if name == "weight":
                if build:
                    state.ensure_built()
                w = self._weights[self._engine_order()].astype(float)
                out.append(-w if self._coba_inh() else w)
            elif name == "delay":
                out.append(np.zeros(len(self)))
            else:
                out.append(_nmp.Projection._values(self, [name], build)[0])
        return out

    def _set_one(self, name, larr):
        if name == "delay":
            value = _plain_value(larr)
            if value is None or value != 0:
                raise ValueError("Setting the delay unequal 0 is not supported.")
            return
        if name != "weight":
            raise errors.NonExistentParameterError(name, "StaticSynapse", ["weight", "delay"])
        plain = _plain_value(larr)
        gpre, gpost, params = self._explicit
        if plain is None:
            value = _at_connections(larr, (self.pre.size, self.post.size), gpre, gpost)
        elif isinstance(plain, RandomDistribution):
            value = np.asarray(plain.next(len(gpre)), dtype=float)
        else:
            value = np.full(len(gpre), float(plain))
        w = self._check(value)
        placed = getattr(self, "_placed", None)
        if state.built and not state.dirty and state.step == 0 and placed is not None \
                and len(placed) == len(w) and np.any(_synapses_for(w) > placed):
            # Larger weights need more parallel synapses: before the run
            # (after reset()), the network is placed again, as
            # pynn-brainscales routes it anew when the topology changes.
            state.structure_changed()
        elif state.built and not state.dirty:
            state.set_synapses(self._index, {"weight": w[self._engine_order()]})
        self._weights = w
        params["weight"] = float(w[0]) if len(w) and np.all(w == w[0]) else w


def _synapses_for(weights):
    """Parallel synapses a connection of each weight takes: max(1, ceil(|w|/63))."""
    return np.maximum(1, np.ceil(np.abs(np.asarray(weights, dtype=float)) / 63.0)).astype(int)
