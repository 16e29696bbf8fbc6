"""pyNN.hardware.spikey: PyNN 0.6's API for the Spikey chip, on nmp's emulated
chip (the Go system `spikey`, docs/spikey.md).

Scripts written for the real system run unchanged::

    import pyNN.hardware.spikey as pynn
    pynn.setup(mappingOffset=42, calibSynDrivers=False)
    neurons = pynn.Population(1, pynn.IF_facets_hardware1)
    ...
    pynn.run(1000.0)
    spikes = neurons.getSpikes()           # rows [neuron id, time in ms]
    pynn.end()

As on the real chip, every run() is a whole emulation from t = 0 of the
network as it stands (run() twice runs it twice); getSpikes() and the
membrane (membraneOutput, timeMembraneOutput) hold the last run's results.
Connections are drawn here, with numpy's generator (seeded by setup's
rng_seeds), as PyNN 0.6 drew them; the chip's configuration (placement,
drivers, 4-bit weights) and its dynamics are the Go side's. The chip is the
station named by $MY_STAGE1_STATION or $NMP_SPIKEY_STATION (the platform
sets it from the job's {"STATION": "stationNNN"}), by default station666.

Each run writes spikeyconfig.out (the configuration as JSON lines) and,
unless setup(writeConfigToFile=False), spikeyconfig.png, a picture of it
(scvisual's view: both synapse arrays, the drivers, the neuron parameters).
"""

import builtins
import json
import os
import sys
import warnings

import numpy

from nmp.data import Store
from nmp.description import Description, Ragged
from nmp.simclient import SimServer, SimServerError

from . import random  # noqa: E402  (pynn.random.NumpyRNG, as PyNN 0.6's module exposes it)

__all__ = ["setup", "end", "run", "Population", "Projection", "IF_facets_hardware1",
           "SpikeSourcePoisson", "SpikeSourceArray", "AllToAllConnector", "OneToOneConnector",
           "FixedProbabilityConnector", "FixedNumberPreConnector", "FixedNumberPostConnector",
           "FromListConnector", "SynapseDynamics", "STDPMechanism", "TsodyksMarkramMechanism",
           "SpikePairRule", "AdditiveWeightDependence", "MultiplicativeWeightDependence",
           "record", "record_v", "minExcWeight", "minInhWeight", "maxExcWeight", "maxInhWeight",
           "membraneOutput", "timeMembraneOutput", "hardware", "ConnectionError",
           "DistanceDependentProbabilityConnector", "FromFileConnector", "create", "connect", "set",
           "get_time_step", "get_min_delay", "get_max_delay", "get_current_time", "num_processes", "rank",
           "reset", "IF_curr_alpha", "IF_curr_exp", "IF_cond_alpha", "IF_cond_exp", "IF_cond_exp_gsfa_grr",
           "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista", "HH_cond_exp", "SpikeSourceInhGamma",
           "getChipVersion", "getInputSpikes"]

SYSTEM = "spikey"
#: The chip's synaptic delay (ms): fixed, whatever a script asks for.
CHIP_DELAY = 1.0
STATION_ENVS = ("MY_STAGE1_STATION", "NMP_SPIKEY_STATION")
DEFAULT_STATION = "station666"

NUM_NEURONS = 384
NEURONS_PER_BLOCK = 192
NUM_PRESYNS = 256

# Weight LSBs (uS): with the synapse-driver calibration, and without it.
_LSB = {True: {"exc": 0.001, "inh": 0.004}, False: {"exc": 0.001, "inh": 0.016}}
_DRV_RANGE = (0.02, 2.5)  # driver currents, uA
_DRVIFALL_BASE = {"exc": 1.0, "inh": 1.0}
_DRVIOUT_BASE = {"exc": 1.5, "inh": 1.5}

#: The membrane of the neuron record_v() named, and its sample times (ms),
#: after each run.
membraneOutput = None
timeMembraneOutput = None


class ConnectionError(Exception):
    """A connection the chip cannot make."""


def _warn(msg):
    sys.stderr.write("WARNING: pyNN.hardware.spikey: %s\n" % msg)


# ---------------------------------------------------------------------------
# cell types

class _CellType(object):
    default_parameters = {}

    def __init__(self, parameters=None):
        self.parameters = dict(self.default_parameters)
        for k, v in (parameters or {}).items():
            if k not in self.default_parameters:
                raise Exception("ERROR: %s has no parameter %r (it has %s)"
                                % (type(self).__name__, k, ", ".join(sorted(self.default_parameters))))
            self.parameters[k] = v


class IF_facets_hardware1(_CellType):
    """Leaky integrate-and-fire with conductance-based synapses and fixed
    threshold, as the Spikey neuron implements it (cm 0.2 nF, e_rev_E 0 mV)."""
    default_parameters = {"g_leak": 20.0, "tau_refrac": 1.0, "v_rest": -75.0, "v_reset": -80.0,
                          "v_thresh": -55.0, "e_rev_I": -80.0}
    recordable = ["spikes", "v"]


class SpikeSourcePoisson(_CellType):
    default_parameters = {"rate": 1.0, "start": 0.0, "duration": 1e10}


class SpikeSourceArray(_CellType):
    default_parameters = {"spike_times": []}


_SOURCES = (SpikeSourcePoisson, SpikeSourceArray)


class _NotOnSpikey(_CellType):
    """A PyNN standard cell type the chip does not have: using it is an error."""

    def __init__(self, parameters=None):
        raise Exception("ERROR: %s is not available on Spikey: the chip's neurons are IF_facets_hardware1 "
                        "(conductance-based, fixed threshold), its inputs SpikeSourcePoisson and SpikeSourceArray"
                        % type(self).__name__)


for _name in ("IF_curr_alpha", "IF_curr_exp", "IF_cond_alpha", "IF_cond_exp", "IF_cond_exp_gsfa_grr",
              "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista", "HH_cond_exp", "SpikeSourceInhGamma"):
    globals()[_name] = type(_name, (_NotOnSpikey,), {"__doc__": "Not on Spikey (an error when used)."})
del _name


# ---------------------------------------------------------------------------
# state

class _State(object):
    def __init__(self):
        self.reset_all()

    def reset_all(self):
        self.setup_called = False
        self.populations = []
        self.projections = []
        self.flags = {}
        self.rng = numpy.random.RandomState()
        self.seed_rng = numpy.random.RandomState()
        self.v_recorded = None  # (population, index)
        self.icb = None
        self.stdp_row_ms = None
        self.lut = None
        self.server = None
        self.t = 0.0
        self.last_info = None
        self.runs = 0
        self.n_neurons = 0
        self.n_sources = 0
        self.spike_files = []
        self.v_file = None

    def station(self):
        for env in STATION_ENVS:
            v = os.environ.get(env)
            if v:
                return v
        return DEFAULT_STATION


_state = _State()


def _check_setup():
    if not _state.setup_called:
        raise Exception("ERROR: Call function 'setup(...)' first!")


def setup(timestep=0.1, min_delay=0.1, max_delay=0.1, debug=False, useUsbAdc=False, workStationName="",
          mappingOffset=0, neuronPermutation=[], calibOutputPins=True, calibNeuronMems=False,
          calibTauMem=True, calibSynDrivers=True, calibVthresh=True, calibBioDynrange=False, **extra_params):
    """Prepare the chip. The calib* flags choose the built-in calibrations
    applied; mappingOffset rotates the placement of neurons; rng_seeds
    seeds the connectors and the runs' temporal noise."""
    if _state.server is not None:
        end()
    _state.reset_all()
    if calibNeuronMems and calibOutputPins:
        raise Exception("ERROR: enable either output pins OR neuron membrane calibration!")
    if not 0 <= int(mappingOffset) < NUM_NEURONS:
        raise Exception("ERROR: Mapping offset is equal to or larger than available neuron number.")
    _state.flags = {"mapping_offset": int(mappingOffset), "calib_tau_mem": bool(calibTauMem),
                    "calib_syn_drivers": bool(calibSynDrivers), "calib_vthresh": bool(calibVthresh),
                    "calib_output_pins": bool(calibOutputPins or calibNeuronMems)}
    if len(neuronPermutation):
        _state.flags["neuron_permutation"] = [int(x) for x in neuronPermutation]
    if extra_params.get("avoidSpikes"):
        _state.flags["avoid_spikes"] = True  # thresholds at the top of the range: no neuron fires
    seeds = extra_params.get("rng_seeds")
    if seeds:
        _state.rng.seed(seeds[0])
        _state.seed_rng.seed(seeds[0] + 1)
    elif os.environ.get("NMP_SPIKEY_SEED"):
        s = int(os.environ["NMP_SPIKEY_SEED"])
        _state.rng.seed(s)
        _state.seed_rng.seed(s + 1)
    _state.write_config = extra_params.get("writeConfigToFile", True)
    _state.station_name = _state.station()
    _state.setup_called = True
    global membraneOutput, timeMembraneOutput
    membraneOutput = timeMembraneOutput = None
    return 0


def end():
    """Release the chip."""
    if _state.server is not None:
        _state.server.close()
        _state.server = None


def minExcWeight():
    """The excitatory weight (uS) of digital weight 1."""
    return _LSB[_state.flags.get("calib_syn_drivers", True)]["exc"]


def minInhWeight():
    """The inhibitory weight (uS) of digital weight 1."""
    return _LSB[_state.flags.get("calib_syn_drivers", True)]["inh"]


def maxExcWeight(neuronIndex=0):
    return 15 * minExcWeight()


def maxInhWeight(neuronIndex=0):
    return 15 * minInhWeight()


# ---------------------------------------------------------------------------
# populations

class ID(int):
    """A neuron (>= 0) or an external source (< 0), as PyNN 0.6 numbers them."""

    def __new__(cls, value, parent=None, index=0):
        obj = int.__new__(cls, value)
        obj.parent, obj.index = parent, index
        return obj

    @property
    def cell(self):
        return self.parent.celltype_obj

    def __getattr__(self, name):
        parent = self.__dict__.get("parent")
        if parent is not None and name in parent.params:
            x = parent.params[name][self.index]
            return list(x) if name == "spike_times" else float(x)
        raise AttributeError(name)

    def __setattr__(self, name, value):
        parent = self.__dict__.get("parent")
        if parent is not None and name in parent.params:
            parent._set_one(self.index, name, value)
        else:
            object.__setattr__(self, name, value)

    def set_parameters(self, **parameters):
        for k, v in parameters.items():
            if k not in self.parent.params:
                raise Exception("ERROR: %s has no parameter %r" % (self.parent.celltype.__name__, k))
            self.parent._set_one(self.index, k, v)

    def get_parameters(self):
        return dict((k, getattr(self, k)) for k in self.parent.params)

    @property
    def position(self):
        return self.parent.positions[:, self.index]


class Population(object):
    def __init__(self, dims, cellclass, cellparams=None, label=None):
        _check_setup()
        size = int(numpy.prod(dims))
        if size <= 0:
            raise Exception("ERROR: a population needs at least one cell")
        if isinstance(cellclass, type):
            self.celltype_obj = cellclass(cellparams)
        else:
            self.celltype_obj = cellclass
        self.celltype = type(self.celltype_obj)
        if self.celltype not in (IF_facets_hardware1,) + _SOURCES:
            raise Exception("ERROR: Has to be cell type IF_facets_hardware1 or SpikeSourcePoisson or SpikeSourceArray")
        self.size = size
        self.dim = (size,) if numpy.ndim(dims) == 0 else tuple(dims)
        self.label = label or "population%d" % len(_state.populations)
        self.index = len(_state.populations)
        self.is_neuron = self.celltype is IF_facets_hardware1
        if self.is_neuron:
            self.first_id = _state.n_neurons
            _state.n_neurons += size
            ids = numpy.arange(self.first_id, self.first_id + size)
        else:
            self.first_id = _state.n_sources
            _state.n_sources += size
            ids = -1 - numpy.arange(self.first_id, self.first_id + size)
        self._ids = ids
        self.params = {k: numpy.array([v] * size, dtype=object) if k == "spike_times" else
                       numpy.full(size, float(v)) for k, v in self.celltype_obj.parameters.items()}
        if "spike_times" in self.params:
            st = numpy.asarray(self.celltype_obj.parameters["spike_times"], dtype=float).ravel()
            self.params["spike_times"] = [st] * size
        self.recorded = numpy.zeros(size, dtype=bool)
        self._spikes = numpy.zeros((0, 2))
        _state.populations.append(self)

    def __len__(self):
        return self.size

    def __getitem__(self, addr):
        if isinstance(addr, tuple):
            addr = int(numpy.ravel_multi_index(addr, self.dim))
        addr = int(addr)
        if not -self.size <= addr < self.size:
            raise IndexError("%s has %d cells; there is no cell %d" % (self.label, self.size, addr))
        addr %= self.size
        return ID(self._ids[addr], self, addr)

    def __iter__(self):
        for i in range(self.size):
            yield self[i]

    def ids(self):
        return iter(self)

    @property
    def cell(self):
        return numpy.array([self[i] for i in range(self.size)], dtype=object)

    def locate(self, id):
        """The address (a tuple over the population's dimensions) of a cell."""
        i = numpy.where(self._ids == int(id))[0]
        if len(i) == 0:
            raise IndexError("%s is not a cell of %s" % (id, self.label))
        return tuple(int(x) for x in numpy.unravel_index(int(i[0]), self.dim))

    def addresses(self):
        """The addresses of all cells, in order."""
        return iter(numpy.ndindex(*self.dim))

    def index(self, n):
        """The n-th cell (its ID)."""
        return self[int(n)]

    def _local(self, cell):
        """A cell's index in the population, from an ID, an address or an int."""
        if isinstance(cell, ID):
            if cell.parent is not self:
                raise Exception("ERROR: cell %d belongs to %s, not to %s" % (int(cell), cell.parent.label, self.label))
            return cell.index
        if isinstance(cell, tuple):
            return int(numpy.ravel_multi_index(cell, self.dim))
        return int(cell)

    @property
    def positions(self):
        """The cells' positions, 3 x size: the grid of the population's
        dimensions with spacing 1 (PyNN 0.6's default)."""
        pos = numpy.zeros((3, self.size))
        grid = numpy.indices(self.dim).reshape(len(self.dim), -1)
        pos[:min(3, len(self.dim))] = grid[:3]
        return pos

    def _set_one(self, i, k, v):
        if k == "spike_times":
            self.params[k] = list(self.params[k])
            self.params[k][i] = numpy.asarray(v, dtype=float).ravel()
        else:
            self.params[k][i] = float(v)

    def randomInit(self, rand_distr):
        """The chip starts every neuron at its resting potential; initial
        membrane potentials cannot be set (a warning, as nothing changes)."""
        _warn("randomInit: the chip cannot set initial membrane potentials; every neuron starts at v_rest")

    def describe(self):
        return "Population %r: %d %s cells (dimensions %s), first id %d" % (
            self.label, self.size, self.celltype.__name__, self.dim, int(self._ids[0]))

    def __repr__(self):
        return "<Population %r: %d %s>" % (self.label, self.size, self.celltype.__name__)

    def set(self, param, val=None):
        """set('g_leak', 10.0) or set({'g_leak': 10.0, ...}): for all cells."""
        if isinstance(param, dict):
            items = param.items()
        else:
            items = [(param, val)]
        for k, v in items:
            if k not in self.params:
                raise Exception("ERROR: %s has no parameter %r" % (self.celltype.__name__, k))
            if k == "spike_times":
                self.params[k] = [numpy.asarray(v, dtype=float).ravel()] * self.size
            else:
                self.params[k] = numpy.full(self.size, float(v))

    def tset(self, parametername, valueArray):
        """Set a parameter per cell."""
        if parametername not in self.params:
            raise Exception("ERROR: %s has no parameter %r" % (self.celltype.__name__, parametername))
        if parametername == "spike_times":
            self.params[parametername] = [numpy.asarray(x, dtype=float).ravel() for x in valueArray]
        else:
            a = numpy.asarray(valueArray, dtype=float).ravel()
            if a.size != self.size:
                raise Exception("ERROR: tset: %d values for %d cells" % (a.size, self.size))
            self.params[parametername] = a.copy()

    def rset(self, parametername, rand_distr):
        """Set a parameter per cell to values drawn from rand_distr
        (a pyNN.random.RandomDistribution)."""
        self.tset(parametername, _draw(rand_distr, self.size))

    def record(self, record_from=None, rng=None, to_file=False):
        """Record the spikes of all cells (or record_from: a number of
        randomly chosen cells, or a list of cells)."""
        if record_from is None:
            self.recorded[:] = True
        elif isinstance(record_from, int):
            r = rng or _state.rng
            self.recorded[r.permutation(self.size)[:record_from]] = True
        else:
            for c in record_from:
                self.recorded[self._local(c)] = True

    def record_v(self, record_from=None, rng=None):
        if record_from is None:
            record_from = [self[0]]
        elif isinstance(record_from, int):
            record_from = [self[i] for i in range(min(record_from, self.size))]
        record_v(list(record_from), "")

    def getSpikes(self, gather=True):
        """The last run's spikes of the recorded cells: rows [id, time in ms],
        sorted by time."""
        return self._spikes.copy()

    def get_spike_counts(self, gather=True):
        counts = {int(i): 0 for i in self._ids[self.recorded]}
        for i in self._spikes[:, 0].astype(int):
            counts[i] = counts.get(i, 0) + 1
        return counts

    def meanSpikeCount(self, gather=True):
        n = int(self.recorded.sum())
        if n == 0:
            return 0.0
        return float(len(self._spikes)) / n

    def printSpikes(self, filename, gather=True, compatible_output=True):
        """Write the last run's spikes: with compatible_output (PyNN's
        format) a header and one "time<TAB>cell address" line per spike,
        sorted by time; otherwise "id<TAB>time" lines."""
        s = self.getSpikes()
        with open(filename, "w") as f:
            if compatible_output:
                f.write("# dimensions = %s\n# first_id = %d\n# last_id = %d\n# dt = 0.1\n"
                        % (list(self.dim), int(self._ids[0]), int(self._ids[-1])))
                for cid, t in s:
                    local = int(numpy.where(self._ids == int(cid))[0][0])
                    f.write("%g\t%d\n" % (t, local))
            else:
                for cid, t in s:
                    f.write("%d\t%g\n" % (int(cid), t))

    def get_v(self, gather=True):
        if membraneOutput is None or _state.v_recorded is None or _state.v_recorded[0] is not self:
            return numpy.zeros((0, 3))
        idx = self[_state.v_recorded[1]]
        return numpy.column_stack([numpy.full(len(membraneOutput), int(idx)), timeMembraneOutput, membraneOutput])

    def print_v(self, filename, gather=True, compatible_output=True):
        numpy.savetxt(filename, self.get_v())


def record(source, filename, **extra_params):
    """Record the spikes of cells (IDs); after each run they are written to
    filename (PyNN 0.6's procedural API)."""
    _check_setup()
    srcs = list(source) if isinstance(source, (list, tuple, numpy.ndarray)) else [source]
    for src in srcs:
        if not isinstance(src, ID):
            raise Exception("ERROR: record() takes cells (IDs from create() or a Population), not %r" % (src,))
        src.parent.recorded[src.index] = True
    if filename:
        _state.spike_files.append((filename, srcs))


def record_v(source, filename, **extra_params):
    """Record the membrane of one neuron: the chip has one oscilloscope
    channel; a second call replaces the neuron recorded before."""
    _check_setup()
    srcs = source if isinstance(source, (list, tuple, numpy.ndarray)) else [source]
    for src in srcs:
        if not isinstance(src, ID) or not src.parent.is_neuron:
            raise Exception("ERROR: Can only record membrane potential of neurons!")
        if _state.v_recorded is not None and (_state.v_recorded[0] is not src.parent or _state.v_recorded[1] != src.index):
            _warn("Currently the hardware supports only the recording of one membrane potential at a time! "
                  "Replacing old record_v entry (neuron %d) by neuron %d" % (int(_state.v_recorded[0][_state.v_recorded[1]]), int(src)))
        _state.v_recorded = (src.parent, src.index)
    _state.v_file = filename or None


# ---------------------------------------------------------------------------
# PyNN 0.6's procedural API

def _cells(x):
    return list(x) if isinstance(x, (list, tuple, numpy.ndarray, Population)) else [x]


def create(cellclass, param_dict=None, n=1):
    """Create n cells; returns one ID, or a list of IDs when n > 1."""
    p = Population(int(n), cellclass, param_dict)
    return p[0] if n == 1 else list(p)


def connect(source, target, weight=None, delay=None, synapse_type=None, p=1, rng=None):
    """Connect every source cell to every target cell (each with probability
    p). A negative weight, or synapse_type 'inhibitory', makes inhibitory
    synapses; the weight is in uS (default 0: a switched-off synapse).
    Returns the connections made as (pre ID, post ID) pairs."""
    _check_setup()
    srcs, tgts = _cells(source), _cells(target)
    for c in srcs + tgts:
        if not isinstance(c, ID):
            raise ConnectionError("connect() takes cells (IDs from create() or a Population), not %r" % (c,))
    w = 0.0 if weight is None else float(weight)
    target_type = synapse_type or ("inhibitory" if w < 0 else "excitatory")
    r = rng or _state.rng
    groups = {}
    for s_ in srcs:
        for t in tgts:
            if p < 1 and r.uniform(0, 1) >= p:
                continue
            groups.setdefault((s_.parent, t.parent), []).append((s_.index, t.index, abs(w)))
    made = []
    for (pre, post), conns in groups.items():
        Projection(pre, post, FromListConnector(conns), target=target_type, rng=rng)
        made.extend((pre[i], post[j]) for i, j, _ in conns)
    return made


def set(cells, cellclass=None, param=None, val=None):
    """Set a parameter (or a dict of them) of cells (IDs)."""
    items = param.items() if isinstance(param, dict) else [(param, val)]
    for c in _cells(cells):
        for k, v in items:
            c.set_parameters(**{k: v})


def reset():
    """Does nothing: every run() is a whole emulation from t = 0 (as on the chip)."""


def get_time_step():
    return 0.1


def get_min_delay():
    return 0.1


def get_max_delay():
    return 0.1


def get_current_time():
    """The biological time the last run ended at (ms)."""
    return _state.t


def num_processes():
    return 1


def rank():
    return 0


def _write_files():
    """The spikes and membrane that record(..., filename) and
    record_v(..., filename) asked for, after a run."""
    for filename, cells in _state.spike_files:
        with open(filename, "w") as f:
            f.write("# spikes of %d cells: id<TAB>time (ms)\n" % len(cells))
            wanted = builtins.set(int(c) for c in cells)
            rows = [r for p in builtins.set(c.parent for c in cells) for r in p._spikes if int(r[0]) in wanted]
            for cid, t in sorted(rows, key=lambda r: (r[1], r[0])):
                f.write("%d\t%g\n" % (int(cid), t))
    if _state.v_file and membraneOutput is not None:
        numpy.savetxt(_state.v_file, numpy.column_stack([timeMembraneOutput, membraneOutput]), fmt="%g",
                      header="time (ms), membrane (mV) of neuron %d" % int(_state.v_recorded[0][_state.v_recorded[1]]))


# ---------------------------------------------------------------------------
# connectors (PyNN 0.6: weights and delays on the connector)

class _Connector(object):
    def __init__(self, weights=0.0, delays=None, allow_self_connections=True):
        self.weights, self.delays = weights, delays
        self.allow_self_connections = allow_self_connections

    def pairs(self, prj, rng):
        raise NotImplementedError

    def weight_values(self, n, rng):
        w = self.weights
        if hasattr(w, "next"):
            return _draw(w, n)
        w = numpy.asarray(w, dtype=float)
        if w.ndim == 0:
            return numpy.full(n, float(w))
        if w.size != n:
            raise ConnectionError("%d weights for %d connections" % (w.size, n))
        return w.ravel()

    def _self_ok(self, prj, i, j):
        return self.allow_self_connections or prj.pre is not prj.post or i != j


class AllToAllConnector(_Connector):
    def pairs(self, prj, rng):
        return [(i, j) for i in range(prj.pre.size) for j in range(prj.post.size) if self._self_ok(prj, i, j)]


class OneToOneConnector(_Connector):
    def pairs(self, prj, rng):
        if prj.pre.size != prj.post.size:
            raise ConnectionError("OneToOneConnector: the populations differ in size (%d and %d)" % (prj.pre.size, prj.post.size))
        return [(i, i) for i in range(prj.pre.size)]


class FixedProbabilityConnector(_Connector):
    def __init__(self, p_connect, allow_self_connections=True, weights=0.0, delays=None):
        _Connector.__init__(self, weights, delays, allow_self_connections)
        self.p_connect = float(p_connect)

    def pairs(self, prj, rng):
        out = []
        for i in range(prj.pre.size):
            draws = rng.uniform(0, 1, prj.post.size) if self.p_connect < 1 else numpy.zeros(prj.post.size)
            for j in range(prj.post.size):
                if draws[j] < self.p_connect and self._self_ok(prj, i, j):
                    out.append((i, j))
        return out


class FixedNumberPreConnector(_Connector):
    """Each postsynaptic neuron receives n connections from randomly chosen
    presynaptic cells."""

    def __init__(self, n, allow_self_connections=True, weights=0.0, delays=None):
        _Connector.__init__(self, weights, delays, allow_self_connections)
        self.n = int(n)

    def pairs(self, prj, rng):
        out = []
        for j in range(prj.post.size):
            cands = [i for i in range(prj.pre.size) if self._self_ok(prj, i, j)]
            if self.n > len(cands):
                raise ConnectionError("FixedNumberPreConnector: %d connections asked of %d candidates" % (self.n, len(cands)))
            for i in sorted(rng.permutation(cands)[:self.n]):
                out.append((int(i), j))
        out.sort()
        return out


class FixedNumberPostConnector(_Connector):
    def __init__(self, n, allow_self_connections=True, weights=0.0, delays=None):
        _Connector.__init__(self, weights, delays, allow_self_connections)
        self.n = int(n)

    def pairs(self, prj, rng):
        out = []
        for i in range(prj.pre.size):
            cands = [j for j in range(prj.post.size) if self._self_ok(prj, i, j)]
            if self.n > len(cands):
                raise ConnectionError("FixedNumberPostConnector: %d connections asked of %d candidates" % (self.n, len(cands)))
            for j in sorted(rng.permutation(cands)[:self.n]):
                out.append((i, int(j)))
        return out


def _draw(rand_distr, n):
    """n values from a RandomDistribution (PyNN's next(n))."""
    x = numpy.asarray(rand_distr.next(n), dtype=float).ravel()
    if x.size == 1 and n != 1:
        x = numpy.array([float(rand_distr.next()) for _ in range(n)])
    return x


def _address_index(pop, addr):
    """A cell's index in pop from an address: an int, a tuple or a list."""
    if isinstance(addr, ID):
        return pop._local(addr)
    if isinstance(addr, (tuple, list, numpy.ndarray)):
        a = tuple(int(x) for x in addr)
        if len(a) == 1:
            return a[0]
        return int(numpy.ravel_multi_index(a, pop.dim))
    return int(addr)


class FromListConnector(_Connector):
    """Connections from a list of (pre address, post address, weight,
    delay) tuples; addresses are tuples (PyNN 0.6) or ints. The chip's
    delay is fixed: the delays are accepted and not used."""

    def __init__(self, conn_list):
        _Connector.__init__(self)
        self.conn_list = list(conn_list)

    def pairs(self, prj, rng):
        out = []
        for k, c in enumerate(self.conn_list):
            if len(c) < 2:
                raise ConnectionError("FromListConnector: entry %d (%r) needs at least a pre and a post address" % (k, c))
            i, j = _address_index(prj.pre, c[0]), _address_index(prj.post, c[1])
            if not (0 <= i < prj.pre.size and 0 <= j < prj.post.size):
                raise ConnectionError("FromListConnector: entry %d (%r) is outside %s (%d cells) or %s (%d cells)"
                                      % (k, c, prj.pre.label, prj.pre.size, prj.post.label, prj.post.size))
            out.append((i, j))
        return out

    def weight_values(self, n, rng):
        return numpy.array([float(c[2]) if len(c) > 2 else 0.0 for c in self.conn_list])


class FromFileConnector(FromListConnector):
    """Connections from a file as Projection.saveConnections writes it: one
    "pre<TAB>post<TAB>weight<TAB>delay" line per connection, where pre and
    post are addresses ("label[3]", "[3]", "[1, 2]") or indices."""

    def __init__(self, filename, distributed=False):
        conns = []
        with open(filename) as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split("\t") if "\t" in line else line.split()
                if len(parts) < 3:
                    raise ConnectionError("%s line %d: expected pre, post, weight[, delay], got %r" % (filename, lineno, line))
                try:
                    conns.append(tuple([self._addr(parts[0]), self._addr(parts[1])] + [float(x) for x in parts[2:4]]))
                except ValueError:
                    raise ConnectionError("%s line %d: cannot read %r" % (filename, lineno, line)) from None
        FromListConnector.__init__(self, conns)
        self.filename = filename

    @staticmethod
    def _addr(text):
        if "[" in text:
            inner = text[text.index("[") + 1:text.rindex("]")]
            return tuple(int(float(x)) for x in inner.replace(",", " ").split())
        return int(float(text))


class DistanceDependentProbabilityConnector(_Connector):
    """Each pair connects with the probability d_expression gives for their
    distance d (PyNN 0.6: positions on the populations' grids, axes a
    subset of "xyz", distances scaled by scale_factor and shifted by
    offset; periodic_boundaries a per-axis box length or None)."""

    def __init__(self, d_expression, axes=None, scale_factor=1.0, offset=0.0, periodic_boundaries=None,
                 allow_self_connections=True, weights=0.0, delays=None):
        _Connector.__init__(self, weights, delays, allow_self_connections)
        if not isinstance(d_expression, str):
            raise ConnectionError("DistanceDependentProbabilityConnector: d_expression must be a string such as 'exp(-d)'")
        self.d_expression = d_expression
        self.axes = axes or "xyz"
        if any(a not in "xyz" for a in self.axes):
            raise ConnectionError("DistanceDependentProbabilityConnector: axes %r: use letters of 'xyz'" % (axes,))
        self.scale_factor, self.offset = float(scale_factor), float(offset)
        self.periodic_boundaries = periodic_boundaries

    def probabilities(self, prj):
        idx = ["xyz".index(a) for a in self.axes]
        a, b = prj.pre.positions[idx], prj.post.positions[idx]
        diff = numpy.abs(a[:, :, None] - b[:, None, :])
        if self.periodic_boundaries is not None:
            box = numpy.asarray(self.periodic_boundaries, dtype=float).ravel()
            box = box[idx] if box.size == 3 else numpy.resize(box, len(idx))
            for k, L in enumerate(box):
                if L > 0:
                    diff[k] = numpy.minimum(diff[k], L - diff[k])
        d = self.scale_factor * numpy.sqrt((diff ** 2).sum(axis=0)) + self.offset
        env = dict((k, getattr(numpy, k)) for k in ("exp", "sqrt", "log", "abs", "sin", "cos", "tanh", "pi", "e", "minimum", "maximum", "where"))
        env["d"] = d
        try:
            p = numpy.broadcast_to(numpy.asarray(eval(self.d_expression, {"__builtins__": {}}, env), dtype=float), d.shape)
        except Exception as err:
            raise ConnectionError("DistanceDependentProbabilityConnector: d_expression %r: %s" % (self.d_expression, err)) from None
        if (p < 0).any() or (p > 1).any():
            raise ConnectionError("DistanceDependentProbabilityConnector: d_expression %r gives probabilities outside [0, 1] (%g to %g)"
                                  % (self.d_expression, p.min(), p.max()))
        return p

    def pairs(self, prj, rng):
        p = self.probabilities(prj)
        draws = rng.uniform(0, 1, p.shape)
        return [(i, j) for i in range(prj.pre.size) for j in range(prj.post.size)
                if draws[i, j] < p[i, j] and self._self_ok(prj, i, j)]


# ---------------------------------------------------------------------------
# synapse dynamics

class SynapseDynamics(object):
    def __init__(self, fast=None, slow=None):
        self.fast, self.slow = fast, slow


class TsodyksMarkramMechanism(object):
    def __init__(self, U=0.5, tau_rec=100.0, tau_facil=0.0, u0=0.0, x0=1.0, y0=0.0):
        if tau_rec != 0 and tau_facil != 0:
            raise Exception("Tsodyks-Markram-STP on hardware does allow only facilitation OR depression.")
        self.parameters = {"U": float(U), "tau_rec": float(tau_rec), "tau_facil": float(tau_facil)}


class SpikePairRule(object):
    def __init__(self, tau_plus=2.5, tau_minus=2.5):
        if tau_plus != 2.5 or tau_minus != 2.5:
            _warn("The configuration of STDP time constants (spike pair rule) to other values than 2.5ms is not possible via PyNN")
        self.parameters = {"tau_plus": 2.5, "tau_minus": 2.5}


class AdditiveWeightDependence(object):
    def __init__(self, w_min=0.0, w_max=1.0, A_plus=1.0 / 16, A_minus=1.0 / 16):
        self.parameters = {"w_min": float(w_min), "w_max": float(w_max)}


class MultiplicativeWeightDependence(object):
    def __init__(self, w_min=0.0, w_max=1.0, A_plus=1.0 / 16, A_minus=1.0 / 16):
        raise Exception("Multiplicative weight dependence not available yet. Work in progress.")


class STDPMechanism(object):
    def __init__(self, timing_dependence=None, weight_dependence=None, voltage_dependence=None,
                 dendritic_delay_fraction=0.0):
        if not isinstance(timing_dependence, SpikePairRule):
            raise Exception("Setting timing_dependence != SpikePairRule isn't supported by Spikey.")
        if voltage_dependence is not None:
            raise Exception("Voltage dependent STDP isn't supported by Spikey.")
        if dendritic_delay_fraction != 0.0:
            raise Exception("Setting a dendritic_delay_fraction != 0.0 isn't supported by Spikey.")
        if not isinstance(weight_dependence, AdditiveWeightDependence):
            raise Exception("Only AdditiveWeightDependence is available on Spikey.")
        self.timing_dependence, self.weight_dependence = timing_dependence, weight_dependence


# ---------------------------------------------------------------------------
# projections

class Projection(object):
    def __init__(self, presynaptic_population, postsynaptic_population, method="allToAll", source=None,
                 target=None, synapse_dynamics=None, label=None, rng=None):
        _check_setup()
        self.pre, self.post = presynaptic_population, postsynaptic_population
        if not self.post.is_neuron:
            raise ConnectionError("the target %s is a spike source; only IF_facets_hardware1 neurons receive synapses" % self.post.label)
        self.target = target or "excitatory"
        if self.target not in ("excitatory", "inhibitory"):
            raise ConnectionError("target must be 'excitatory' or 'inhibitory' (got %r)" % target)
        self.synapse_type = self.target
        self.synapse_dynamics = synapse_dynamics
        self.label = label or "projection%d" % len(_state.projections)
        if isinstance(method, str):
            method = {"allToAll": AllToAllConnector, "oneToOne": OneToOneConnector}[method]()
        r = rng or _state.rng
        pairs = method.pairs(self, r)
        w = numpy.abs(method.weight_values(len(pairs), r))
        self._pre = numpy.array([p[0] for p in pairs], dtype=numpy.int64)
        self._post = numpy.array([p[1] for p in pairs], dtype=numpy.int64)
        self._weights = w
        self.drvifall = None  # per connection factors, or None
        self.drviout = None
        self.index = len(_state.projections)
        self._hw_weights = None
        _state.projections.append(self)

    def __len__(self):
        return len(self._pre)

    def size(self, gather=True):
        return len(self)

    def connections(self):
        """(pre ID, post ID) of each connection."""
        for i, j in zip(self._pre, self._post):
            yield self.pre[int(i)], self.post[int(j)]

    def describe(self):
        return "Projection %r from %s to %s (%s): %d connections" % (self.label, self.pre.label, self.post.label, self.target, len(self))

    def setDelays(self, d):
        """The chip's synaptic delay is fixed (CHIP_DELAY); delays are accepted and not used."""
        _warn("%s: the chip's delays are fixed (%g ms); setDelays is ignored" % (self.label, CHIP_DELAY))

    def randomizeDelays(self, rand_distr):
        self.setDelays(None)

    def getDelays(self, format="list", gather=True):
        """The chip's fixed delay for every connection."""
        vals = numpy.full(len(self), CHIP_DELAY)
        return vals if format == "list" else self._matrix(vals)

    def randomizeWeights(self, rand_distr):
        """Weights drawn from rand_distr, one per connection."""
        self.setWeights(_draw(rand_distr, len(self)))

    def setSynapseDynamics(self, param, value):
        """Change a parameter of the projection's short-term plasticity
        (U, tau_rec, tau_facil): one value for the projection, as its line
        drivers hold it."""
        sd = self.synapse_dynamics
        if sd is None or sd.fast is None or param not in sd.fast.parameters:
            raise Exception("ERROR: %s: setSynapseDynamics(%r): the projection has no such short-term plasticity parameter"
                            % (self.label, param))
        if numpy.ndim(value) != 0:
            raise Exception("ERROR: %s: setSynapseDynamics(%r): the chip's line drivers take one value per projection" % (self.label, param))
        new = dict(sd.fast.parameters)
        new[param] = float(value)
        sd.fast = TsodyksMarkramMechanism(**new)

    def randomizeSynapseDynamics(self, param, rand_distr):
        raise Exception("ERROR: %s: randomizeSynapseDynamics: the chip's short-term plasticity is set per line driver, "
                        "not per synapse" % self.label)

    def saveConnections(self, filename, gather=True, compatible_output=True):
        """Write "pre[i]<TAB>post[j]<TAB>weight<TAB>delay" lines, which
        FromFileConnector reads."""
        with open(filename, "w") as f:
            for i, j, w in zip(self._pre, self._post, self._weights):
                f.write("%s[%s]\t%s[%s]\t%g\t%g\n" % (self.pre.label, ", ".join(map(str, numpy.unravel_index(int(i), self.pre.dim))),
                                                  self.post.label, ", ".join(map(str, numpy.unravel_index(int(j), self.post.dim))), w, CHIP_DELAY))

    def printWeights(self, filename, format="list", gather=True):
        w = self.getWeights(format=format)
        with open(filename, "w") as f:
            if format == "list":
                f.write("\n".join("%g" % x for x in w) + "\n")
            else:
                numpy.savetxt(f, w, fmt="%g")

    def weightHistogram(self, min=None, max=None, nbins=10):
        """(bin counts, bin edges) of the weights."""
        w = self._weights
        lo = w.min() if min is None else min
        hi = w.max() if max is None else max
        return numpy.histogram(w, bins=nbins, range=(lo, hi))

    def _syntype(self):
        return "exc" if self.target == "excitatory" else "inh"

    def getWeights(self, format="list", gather=True):
        return self._weights.copy() if format == "list" else self._matrix(self._weights)

    def _matrix(self, vals):
        m = numpy.full((self.pre.size, self.post.size), numpy.nan)
        m[self._pre, self._post] = vals
        return m

    def setWeights(self, w):
        w = numpy.asarray(w, dtype=float)
        self._weights = numpy.abs(numpy.full(len(self), float(w)) if w.ndim == 0 else w.ravel().copy())

    def getWeightsHW(self, readHW=False, format="list", gather=True):
        """The digital weights (in uS: LSB times minExcWeight or minInhWeight)
        as configured (readHW=False) or after the last run (readHW=True,
        what STDP made of them)."""
        lsb = minExcWeight() if self.target == "excitatory" else minInhWeight()
        if readHW and self._hw_weights is not None:
            vals = self._hw_weights * lsb
        else:
            vals = self._weights
        return vals.copy() if format == "list" else self._matrix(vals)

    def getDrvifallFactorsRange(self, syntype):
        return [_DRV_RANGE[0] / _DRVIFALL_BASE[syntype], _DRV_RANGE[1] / _DRVIFALL_BASE[syntype]]

    def getDrvioutFactorsRange(self, syntype):
        return [_DRV_RANGE[0] / _DRVIOUT_BASE[syntype], _DRV_RANGE[1] / _DRVIOUT_BASE[syntype]]

    def _set_factors(self, attr, value_list, rng_):
        vals = numpy.asarray(value_list, dtype=float).ravel()
        if vals.size not in (1, len(self)):
            raise Exception("ERROR: %d factors for %d connections" % (vals.size, len(self)))
        if vals.size == 1:
            vals = numpy.full(len(self), vals[0])
        lo, hi = rng_
        bad = (vals < lo) | (vals > hi)
        if bad.any():
            raise Exception("ERROR: %s factor outside of allowed range %s" % (attr.capitalize(), [lo, hi]))
        setattr(self, attr, vals)

    def setDrvifallFactors(self, value_list):
        self._set_factors("drvifall", value_list, self.getDrvifallFactorsRange(self._syntype()))

    def setDrvioutFactors(self, value_list):
        self._set_factors("drviout", value_list, self.getDrvioutFactorsRange(self._syntype()))

    def getDrvifallFactors(self):
        return list(self.drvifall) if self.drvifall is not None else [1.0] * len(self)

    def getDrvioutFactors(self):
        return list(self.drviout) if self.drviout is not None else [1.0] * len(self)

    def scaleDrvifallFactors(self, factor):
        self.setDrvifallFactors(numpy.array(self.getDrvifallFactors()) * factor)

    def scaleDrvioutFactors(self, factor):
        self.setDrvioutFactors(numpy.array(self.getDrvioutFactors()) * factor)

    def _per_pre(self, vals):
        """Per-connection driver factors as one per presynaptic cell (the
        driver is the presynaptic cell's; the last connection's value wins)."""
        if vals is None:
            return []
        out = numpy.ones(self.pre.size)
        out[self._pre] = vals
        return [float(x) for x in out]


# ---------------------------------------------------------------------------
# the low-level hardware access scripts reach through pynn.hardware.hwa

class _HWA(object):
    def setIcb(self, icb_base):
        """The refractory comparator bias of all neurons (uA): smaller values
        give longer refractory periods."""
        _state.icb = float(icb_base)

    def setLUT(self, causalLUT, acausalLUT, first=False):
        if len(causalLUT) != 16 or len(acausalLUT) != 16:
            raise Exception("ERROR: setLUT: 2*16 values required.")
        for x in list(causalLUT) + list(acausalLUT):
            if not 0 <= int(x) <= 15:
                raise Exception("ERROR: setLUT: 0<=value<=15.")
        _state.lut = ([int(x) for x in causalLUT], [int(x) for x in acausalLUT])

    @property
    def autoSTDPFrequency(self):
        return _state.stdp_row_ms if _state.stdp_row_ms is not None else 15.0

    @autoSTDPFrequency.setter
    def autoSTDPFrequency(self, ms):
        _state.stdp_row_ms = float(ms)


    @property
    def neuronIndexMap(self):
        """Per hardware neuron (0..383), the network neuron placed on it, or -1."""
        return self._maps()[0]

    @property
    def hardwareIndexMap(self):
        """Per network neuron index (0..383), its hardware neuron, or -1."""
        return self._maps()[1]

    def _maps(self):
        if not _state.last_info:
            raise Exception("ERROR: the network has not been mapped yet: call run() first")
        neuron_map = numpy.full(NUM_NEURONS, -1, dtype=int)
        hardware_map = numpy.full(NUM_NEURONS, -1, dtype=int)
        pops = {p.index: p for p in _state.populations}
        for entry in _state.last_info.get("populations") or []:
            p = pops.get(entry["population"])
            if p is None or not p.is_neuron:
                continue
            for bio, hw in zip(p._ids, entry["hardware_neurons"]):
                neuron_map[hw] = bio
                hardware_map[bio] = hw
        return neuron_map, hardware_map


class _Hardware(object):
    def __init__(self):
        self.hwa = _HWA()


hardware = _Hardware()


# ---------------------------------------------------------------------------
# running

def _description(seed):
    d = Description(timestep=0.1, min_delay=0.1, max_delay=0.1, seed=seed, threads=1)
    opts = dict(_state.flags)
    opts["station"] = _state.station_name
    if _state.icb is not None:
        opts["icb"] = _state.icb
    if _state.stdp_row_ms is not None:
        opts["stdp_row_ms"] = _state.stdp_row_ms
    if _state.lut is not None:
        opts["causal_lut"], opts["acausal_lut"] = _state.lut
    drivers = []
    for prj in _state.projections:
        drivers.append({"drvifall": prj._per_pre(prj.drvifall), "drviout": prj._per_pre(prj.drviout)})
    opts["drivers"] = drivers
    if os.environ.get("NMP_SPIKEY_NO_TEMPORAL_NOISE"):
        opts["temporal_noise"] = False
    d.system = {"name": SYSTEM, "options": opts}
    for p in _state.populations:
        if p.celltype is SpikeSourceArray:
            params = {"spike_times": Ragged([numpy.sort(numpy.asarray(x, dtype=float)) for x in p.params["spike_times"]])}
            d.add_population(p.size, "SpikeSourceArray", params, label=p.label)
        elif p.celltype is SpikeSourcePoisson:
            params = {k: p.params[k] for k in ("rate", "start", "duration")}
            d.add_population(p.size, "SpikeSourcePoisson", params, label=p.label)
        else:
            d.add_population(p.size, "IF_facets_hardware1", dict(p.params), label=p.label)
    for prj in _state.projections:
        syn = "StaticSynapse"
        params = None
        td = wd = None
        sd = prj.synapse_dynamics
        if sd is not None and sd.fast is not None:
            syn = "TsodyksMarkramSynapse"
            params = dict(sd.fast.parameters)
        if sd is not None and sd.slow is not None:
            if syn != "StaticSynapse":
                raise ConnectionError("%s: STP and STDP on one projection are not supported by the emulation" % prj.label)
            syn = "STDPMechanism"
            params = {"dendritic_delay_fraction": 0.0}
            td = ("SpikePairRule", {})
            wd = ("AdditiveWeightDependence", {})
        d.add_projection([(prj.pre.index, None)], [(prj.post.index, None)], syn, params,
                         connections=(prj._pre, prj._post, {"weight": prj._weights}),
                         receptor_type=prj.target, label=prj.label, timing_dependence=td, weight_dependence=wd)
    for p in _state.populations:
        if p.recorded.any():
            idx = None if p.recorded.all() else numpy.nonzero(p.recorded)[0]
            d.add_recording([(p.index, idx)], ["spikes"])
    if _state.v_recorded is not None:
        p, i = _state.v_recorded
        d.add_recording([(p.index, [i])], ["v"])
    return d


def run(simtime=0, **extra_params):
    """Run the network for simtime ms of biological time: one whole
    emulation from t = 0. Returns the time run."""
    global membraneOutput, timeMembraneOutput
    _check_setup()
    if _state.n_neurons == 0:
        raise Exception("ERROR: Network size is zero!")
    if _state.n_neurons > NUM_NEURONS:
        raise Exception("ERROR: Network is larger than chip size! (%d neurons; the chip has %d)" % (_state.n_neurons, NUM_NEURONS))
    seed = int(_state.seed_rng.randint(1, 2**31 - 1))
    d = _description(seed)
    if _state.server is None:
        _state.server = SimServer(args=["-system", SYSTEM])
    try:
        reply = _state.server.build(d)
        _state.last_info = reply.info.get("mapping") or {}
        for w in _state.last_info.get("warnings") or []:
            _warn(w)
        _state.server.action({"run": float(simtime)})
        raw = _state.server.data(clear=True)
    except SimServerError as err:
        raise Exception("ERROR: %s" % err) from None
    store = Store(0.1)
    store.add(raw)
    membraneOutput = timeMembraneOutput = None
    for p in _state.populations:
        pd = store.populations.get(p.index)
        if pd is None:
            p._spikes = numpy.zeros((0, 2))
            continue
        ids, times = pd.spikes()
        if len(ids):
            p._spikes = numpy.column_stack([p._ids[ids].astype(float), times])
            p._spikes = p._spikes[numpy.argsort(p._spikes[:, 1], kind="stable")]
        else:
            p._spikes = numpy.zeros((0, 2))
        for piece in pd.pieces.get("v", []):
            timeMembraneOutput = piece.t_start + piece.interval * numpy.arange(piece.samples)
            membraneOutput = piece.data[:, 0].copy()
    # plastic weights after the run
    for prj in _state.projections:
        prj._hw_weights = None
        sd = prj.synapse_dynamics
        if sd is not None and sd.slow is not None:
            prj._hw_weights = _read_plastic(prj)
    _state.runs += 1
    _state.t = float(simtime)
    _write_files()
    if _state.write_config:
        from . import config
        config.write(_state, "spikeyconfig.out", "spikeyconfig.png")
    return float(simtime)


def getChipVersion():
    """The Spikey chip's version: 5, the chip with both neuron blocks usable
    (384 neurons), which is the chip nmp emulates."""
    _check_setup()
    return 5


def getInputSpikes():
    """(lost, sent) input spikes of the last run on the real module. nmp does
    not emulate the FPGA's spike packet encoding and its input bandwidth
    limit, so it cannot say how many would be lost: refused."""
    raise Exception("ERROR: getInputSpikes: the FPGA's spike packet encoding and its input loss are not "
                    "emulated by nmp; the lost/sent input spike counts are not available")


def _read_plastic(prj):
    """The digital weights of a plastic projection's synapses after the run."""
    info = _state.last_info
    hw = {}
    for p in info.get("populations", []):
        hw[p["population"]] = p["hardware_neurons"]
    rows = {}
    for dr in info.get("drivers", []):
        if "stdp_row" in dr:
            rows[(dr["block"], dr["row"])] = dr["stdp_row"]
    state_names = sorted(builtins.set("w_p%d" % m for m in rows.values()))
    if not state_names:
        return numpy.zeros(len(prj))
    vals = _state.server.population_state(prj.post.index, state_names)
    out = numpy.zeros(len(prj))
    post_hw = hw[prj.post.index]
    pre_hw = hw.get(prj.pre.index)
    for k in range(len(prj)):
        h = post_hw[prj._post[k]]
        blk = h // NEURONS_PER_BLOCK
        if pre_hw is not None:
            s = pre_hw[prj._pre[k]]
            row = s % NEURONS_PER_BLOCK
            if s // NEURONS_PER_BLOCK != blk:
                row ^= 1
        else:
            row = NUM_PRESYNS - 1 - (prj.pre.first_id + int(prj._pre[k]))
        m = rows.get((blk, row))
        if m is not None:
            out[k] = vals["w_p%d" % m][prj._post[k]]
    return out
