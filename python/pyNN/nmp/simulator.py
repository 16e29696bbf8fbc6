"""The state of a pyNN.nmp simulation: the network the script has built, the
engine process that runs it, and the recorded data pulled from it.

The network is sent to the engine when something first needs the engine (a
run, reading connections); changes after that are sent as they happen. A
change of structure (a new population, projection or current source) after
the build makes the network be built anew at the next need: the connections
made so far are kept as they are in the engine. The structure cannot change
once the simulation has advanced, only after a reset.
"""

import json
import logging

import numpy as np
from pyNN import common

from nmp.data import Store, grid_times
from nmp.description import Description, Encoder
from nmp.simclient import Engine, EngineError

name = "nmp"
logger = logging.getLogger("PyNN")

#: The seed of every random stream of a run when setup() gives none.
DEFAULT_SEED = 1


class NetworkChangedError(RuntimeError):
    """The network's structure was changed after the simulation advanced."""


class ID(int, common.IDMixin):

    def __init__(self, n):
        """Create an ID object with numerical value `n`."""
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """The simulation state; a hardware front end may subclass it to change
    how the engine is started (engine_args) and what system the
    description names (system)."""

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.engine = None
        self.dt = 0.1
        self._min_delay = "auto"
        self._max_delay = "auto"
        self.seed = DEFAULT_SEED
        self.threads = None
        self.spike_precision = "on_grid"
        self.system = None
        self.binary = None
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.clear()

    # -- settings ---------------------------------------------------------------

    @property
    def t(self):
        return float(grid_times(self.step * self.dt, self.dt))

    def _delay_range(self):
        """(smallest, largest) delay of any connection, or None."""
        lo, hi = np.inf, -np.inf
        if self.built and not self.ended:
            for prj in self.projections:
                if "delay" not in prj.synapse_type.get_native_names() or len(prj) == 0:
                    continue
                d = prj._values(["delay"])[0]
                lo, hi = min(lo, float(d.min())), max(hi, float(d.max()))
        return None if np.isinf(lo) else (lo, hi)

    def _get_min_delay(self):
        if self._min_delay != "auto":
            return self._min_delay
        r = self._delay_range()
        return self.dt if r is None else r[0]

    def _set_min_delay(self, value):
        self._min_delay = value

    min_delay = property(_get_min_delay, _set_min_delay)

    def _get_max_delay(self):
        if self._max_delay != "auto":
            return self._max_delay
        r = self._delay_range()
        return self.dt if r is None else r[1]

    def _set_max_delay(self, value):
        self._max_delay = value

    max_delay = property(_get_max_delay, _set_max_delay)

    def engine_args(self):
        """Extra command-line arguments of `nmp simserver`."""
        return []

    # -- life cycle ---------------------------------------------------------------

    def clear(self):
        """Forget the network (setup())."""
        self.close_engine()
        self.recorders = set()
        self.write_on_end = []
        self.id_counter = 0
        self.segment_counter = -1
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.built = False
        self.dirty = False
        self.ended = False
        #: Seconds the engine reported spending on builds and runs, so that
        #: benchmarks can tell them from the time spent in Python.
        self.engine_time = {"build": 0.0, "run": 0.0}
        self.step = 0
        self.store = Store(self.dt)
        self._unpulled = False
        self.running = False
        self.reset()

    def close_engine(self):
        if self.engine is not None:
            try:
                self.engine.close()
            finally:
                self.engine = None

    def finish(self):
        """end(): keep the recorded data and stop the engine."""
        try:
            self.pull()
        finally:
            self.close_engine()
            self.ended = True

    def structure_changed(self):
        if self.built:
            self.dirty = True

    def register_population(self, population):
        self.populations.append(population)
        self.structure_changed()
        return len(self.populations) - 1

    def register_projection(self, projection):
        self.projections.append(projection)
        self.structure_changed()
        return len(self.projections) - 1

    def register_current_source(self, source):
        if source not in self.current_sources:
            self.current_sources.append(source)
        self.structure_changed()

    # -- the engine ----------------------------------------------------------------

    def make_engine(self):
        return Engine(binary=self.binary, args=self.engine_args())

    def describe(self):
        """The network as a nmp.description.Description."""
        desc = Description(self.dt,
                           min_delay=None if self._min_delay == "auto" else self._min_delay,
                           max_delay=None if self._max_delay == "auto" else self._max_delay,
                           seed=self.seed, threads=self.threads, system=self.system)
        for p in self.populations:
            p._describe(desc)
        for prj in self.projections:
            prj._describe(desc)
        for cs in self.current_sources:
            cs._describe(desc)
        for p in self.populations:
            for idx, variables in p.recorder.requests():
                if variables:
                    desc.add_recording([(p._index, idx)], variables, p.recorder.sampling_interval)
        return desc

    def ensure_built(self):
        """Make sure the engine holds the network as it is now."""
        if self.ended:
            raise RuntimeError("pyNN.nmp: the simulation has ended (end() was called); "
                               "call setup() to start a new one")
        if self.built and not self.dirty:
            return
        if self.built:
            if self.step != 0:
                raise NetworkChangedError(
                    "pyNN.nmp: populations, projections and current sources cannot be added "
                    "once the simulation has run; create them before the first run(), "
                    "or call reset() first")
            self.pull()
            for prj in self.projections:
                if prj._size is not None and prj._explicit is None:
                    prj._snapshot()
            self.close_engine()
            self.built = False
        if not self.populations:
            raise RuntimeError("pyNN.nmp: the network has no populations")
        self.store.dt = self.dt
        desc = self.describe()
        doc = desc.document()
        engine = self.engine or self.make_engine()
        self.engine = engine
        req = {"op": "build"}
        if self.threads:
            req["threads"] = int(self.threads)
        reply = engine.request(req, arrays=desc.enc.arrays,
                               members={"network.json": json.dumps(doc, allow_nan=False)})
        self.built, self.dirty = True, False
        self.step = 0
        self.engine_time["build"] += float(reply.info.get("build_s", 0.0))
        sizes = reply.info.get("projection_sizes") or []
        for prj, size in zip(self.projections, sizes):
            prj._built(size)
        logger.debug("nmp: built %s neurons in %.3f s", reply.info.get("neurons"),
                     reply.info.get("build_s", 0))

    def request(self, req, arrays=None):
        reply = self.engine.request(req, arrays=arrays)
        self.step = int(round(reply.t / self.dt))
        return reply

    def action(self, action, enc=None):
        """Send one schedule action (after the build)."""
        self.ensure_built()
        try:
            return self.request({"op": "action", "action": action},
                                arrays=enc.arrays if enc is not None else None)
        except EngineError as err:
            if getattr(err, "t", None) is not None:
                self.step = int(round(err.t / self.dt))
            raise

    def _live(self):
        return self.built and not self.dirty and self.engine is not None

    def set_synapses(self, projection, parameters):
        enc = Encoder()
        self.action({"set_synapses": {"projection": int(projection),
                                      "parameters": enc.values(parameters)}}, enc)

    def set_current_source(self, source, parameters):
        enc = Encoder()
        self.action({"set_current_source": {"source": int(source),
                                            "parameters": enc.values(parameters)}}, enc)

    def set_population(self, parts, parameters=None, initial_values=None, state_values=None):
        enc = Encoder()
        a = {"selection": enc.selection(parts)}
        if parameters:
            a["parameters"] = enc.values(parameters)
        if initial_values:
            a["initial_values"] = enc.values(initial_values)
        if state_values:
            a["state"] = enc.values(state_values)
        self.action({"set": a}, enc)

    # -- changes made by the script ---------------------------------------------------

    def population_parameters_changed(self, population, values, idx):
        if not self._live():
            return
        from .populations import encode_parameter
        self.set_population([(population._index, idx)],
                            parameters={k: encode_parameter(v, spike_times=(k == "spike_times"))
                                        for k, v in values.items()})

    def population_initial_values_changed(self, population, variable, values, idx):
        if not self._live():
            return
        from .populations import encode_parameter
        v = {variable: encode_parameter(values)}
        # As in NEST, initialize() after a run also sets the present state.
        self.set_population([(population._index, idx)], initial_values=v,
                            state_values=v if self.step > 0 else None)

    def recording_changed(self, population):
        if not self._live():
            return
        rec = population.recorder
        for idx, variables in rec.requests():
            enc = Encoder()
            r = {"selection": enc.selection([(population._index, idx)]), "variables": variables}
            if rec.sampling_interval:
                r["sampling_interval"] = float(rec.sampling_interval)
            self.action({"record": r}, enc)

    def current_source_changed(self, source):
        if not self._live():
            return
        for index, params in source._engine_parameters():
            self.set_current_source(index, params)

    # -- running ----------------------------------------------------------------------

    def run(self, simtime):
        self.ensure_built()
        t_end = self.t + simtime
        for cs in self.current_sources:
            cs._before_run(t_end)
        self._unpulled = True
        self.running = True
        reply = self.action({"run": float(simtime)})
        self.engine_time["run"] += float(reply.info.get("wall_s", 0.0))

    def run_until(self, tstop):
        self.run(tstop - self.t)

    def pull(self):
        """Fetch what the engine recorded since the last pull."""
        if not self._unpulled or self.engine is None or self.engine.closed:
            return
        reply = self.engine.request({"op": "data", "clear": True})
        self._unpulled = False
        self.store.add(reply.raw["results.npz"])

    def reset(self):
        """Back to t = 0 (after the recorders have kept their segments)."""
        if self.built and self.engine is not None and not self.engine.closed:
            self.pull()
            self.request({"op": "action", "action": {"reset": True}})
        self.store.clear()
        self.step = 0
        self.running = False
        self.t_start = 0
        self.segment_counter += 1
        for cs in self.current_sources:
            cs._reset()


state = State()
