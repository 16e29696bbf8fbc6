"""The state of a pyNN.nmp simulation: the network the script has built, the
`nmp simserver` process that runs it, and the recorded data pulled from it.

The network is sent to the server when something first needs it (a run,
reading connections); changes after that are sent as they happen. A change
of structure (a new population, projection or current source) after the
build makes the network be built anew at the next need: the connections made
so far are kept as they are in the server. The structure cannot change once
the simulation has advanced, only after a reset.

This module is the seam for PyNN 0.10 backends on other nmp systems (such as
pynn_brainscales.brainscales2): such a backend has its own simulator module
with its own :class:`State` subclass and instance, and its Population,
Projection and Recorder classes name that module as their `_simulator`;
pyNN.nmp's classes reach the state only through `self._simulator.state`, so
that two backends can live in one process. See python/README.md.
"""

import logging

import numpy as np
from pyNN import common
from pyNN.recording import get_io

from nmp.data import Store, grid_times
from nmp.description import Description, Encoder
from nmp.simclient import SimServer, SimServerError

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
    """The simulation state of one backend. A backend on another nmp system
    subclasses it: `system_name` and `system_options()` (the system the
    description names), `server_args()` (how the server is started),
    `new_store()` (how recorded data are kept), and `setup()`."""

    #: The nmp system the description names (its system.name); None: the
    #: description names none, and runs on the reference.
    system_name = None

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.server = None
        self.dt = 0.1
        self._min_delay = "auto"
        self._max_delay = "auto"
        self.seed = DEFAULT_SEED
        self.threads = None
        self.spike_precision = "on_grid"
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

    def server_args(self):
        """Extra command-line arguments of `nmp simserver`."""
        return []

    def system_options(self):
        """The options of the system the description names (a dict)."""
        return {}

    def system(self):
        """The description's system: {"name", "options"}, or None."""
        if self.system_name is None:
            return None
        return {"name": self.system_name, "options": self.system_options()}

    def new_store(self):
        """A nmp.data.Store (or subclass) for the recorded data."""
        return Store(self.dt)

    # -- life cycle ---------------------------------------------------------------

    def setup(self, timestep, min_delay="auto", max_delay="auto", seed=DEFAULT_SEED, threads=None,
              spike_precision="on_grid"):
        """Forget the network and start anew with these settings (setup())."""
        self.clear()
        self.dt = float(timestep)
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.seed = int(seed) % (2 ** 63)
        self.threads = threads
        if spike_precision not in ("on_grid", "off_grid"):
            raise ValueError("spike_precision must be 'on_grid' or 'off_grid', not %r" % (spike_precision,))
        self.spike_precision = spike_precision
        self.store.dt = self.dt
        self.mpi_rank = 0
        self.num_processes = 1

    def clear(self):
        """Forget the network (setup())."""
        self.close_server()
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
        #: Seconds the server reported its engine spent on builds and runs,
        #: so that benchmarks can tell them from the time spent in Python.
        self.engine_time = {"build": 0.0, "run": 0.0}
        #: The plan's info (the system's mapping of the network): from the
        #: build reply, and from the provenance of every pull since, which
        #: adds what the runs counted.
        self.mapping = {}
        self.step = 0
        self.store = self.new_store()
        self._unpulled = False
        self.running = False
        self.reset()

    def close_server(self):
        if self.server is not None:
            try:
                self.server.close()
            finally:
                self.server = None

    def end(self):
        """end(): write the files record() named, keep the recorded data and
        stop the server."""
        try:
            for (population, variables, filename) in self.write_on_end:
                population.write_data(get_io(filename), variables)
            self.write_on_end = []
        finally:
            self.finish()

    def finish(self):
        """Keep the recorded data and stop the server."""
        try:
            self.pull()
        finally:
            self.close_server()
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

    # -- the server ----------------------------------------------------------------

    def make_server(self):
        return SimServer(binary=self.binary, args=self.server_args())

    def describe(self):
        """The network as a nmp.description.Description."""
        desc = Description(self.dt,
                           min_delay=None if self._min_delay == "auto" else self._min_delay,
                           max_delay=None if self._max_delay == "auto" else self._max_delay,
                           seed=self.seed, threads=self.threads, system=self.system())
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
        """Make sure the server holds the network as it is now."""
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
            self.close_server()
            self.built = False
        if not self.populations:
            raise RuntimeError("pyNN.nmp: the network has no populations")
        self.store.dt = self.dt
        desc = self.describe()
        if self.server is None:
            self.server = self.make_server()
        reply = self.server.build(desc, threads=self.threads)
        self.built, self.dirty = True, False
        self.step = 0
        self.mapping = reply.info.get("mapping") or {}
        self.engine_time["build"] += float(reply.info.get("build_s", 0.0))
        sizes = reply.info.get("projection_sizes") or []
        for prj, size in zip(self.projections, sizes):
            prj._built(size)
        logger.debug("nmp: built %s neurons in %.3f s", reply.info.get("neurons"),
                     reply.info.get("build_s", 0))

    def _track(self, reply):
        """Follow the simulation time every reply reports."""
        self.step = int(round(reply.t / self.dt))
        return reply

    def action(self, action, enc=None):
        """Send one schedule action (after the build)."""
        self.ensure_built()
        try:
            reply = self._track(self.server.action(action, enc.arrays if enc is not None else None))
        except SimServerError as err:
            if err.t is not None:
                self.step = int(round(err.t / self.dt))
            raise
        mapping = reply.info.get("mapping") if reply is not None else None
        if mapping is not None:
            self.mapping = mapping
        return reply

    # Queries of what the server holds; the caller makes sure it was built.

    def connections(self, projection):
        """(pre, post) positions of a projection's connections in the server."""
        return self.server.connections(projection)

    def synapses(self, projection, names):
        """name -> values of a projection's synapses in the server."""
        return self.server.synapses(projection, names)

    def population_state(self, population, names):
        """name -> values of a population's parameters or state in the server."""
        return self.server.population_state(population, names)

    def _live(self):
        return self.built and not self.dirty and self.server is not None

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
        self.set_population([(population._index, idx)],
                            parameters={k: population._encode(k, v) for k, v in values.items()})

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
        for index, params in source._server_parameters():
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
        """Fetch what the server recorded since the last pull."""
        if not self._unpulled or self.server is None or self.server.closed:
            return
        raw = self.server.data(clear=True)
        self._unpulled = False
        meta = self.store.add(raw)
        extra = (meta or {}).get("provenance", {}).get("extra")
        if extra is not None:
            self.mapping = extra

    def reset(self):
        """Back to t = 0 (after the recorders have kept their segments)."""
        if self.built and self.server is not None and not self.server.closed:
            self.pull()
            self._track(self.server.action({"reset": True}))
        self.store.clear()
        self.step = 0
        self.running = False
        self.t_start = 0
        self.segment_counter += 1
        for cs in self.current_sources:
            cs._reset()


state = State()
