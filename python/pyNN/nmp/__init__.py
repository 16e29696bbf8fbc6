"""
nmp implementation of the PyNN API: `import pyNN.nmp as sim`.

The network a script builds is sent to the nmp simserver (a Go program, found as
$NMP_BINARY or `nmp` on PATH) as a network description, and run there; see
docs/pynn.md for what is supported and how nmp differs from NEST and Brian2.
"""

import logging

from pyNN import common, space
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_TIMESTEP, DEFAULT_MIN_DELAY
from pyNN.connectors import *
from pyNN.recording import get_io  # noqa: F401  (part of the backend API, as in pyNN.nest)
from pyNN.standardmodels import StandardCellType
from pyNN.random import NumpyRNG, GSLRNG  # noqa: F401  (as pyNN.nest exports them)
from pyNN.space import Space  # noqa: F401
from pyNN.parameters import ParameterSpace, Sequence  # noqa: F401
from pyNN.standardmodels import StandardCurrentSource  # noqa: F401

from nmp.simclient import SimServerError

from . import simulator
from .simulator import state, NetworkChangedError
from .standardmodels import *
from .electrodes import *
from .populations import Population, PopulationView, Assembly
from .projections import Projection
from .random import NativeRNG  # noqa: F401

logger = logging.getLogger("PyNN")

#: The name docs/pynn.md gave SimServerError before the protocol was named
#: for what it is; scripts that catch it keep working.
EngineError = SimServerError


class NativeCellType(StandardCellType.__mro__[1]):
    """The base of simulator-native cell types (pyNN.nest's name). nmp has no
    models beyond its standard ones: native_cell_type() says so."""


class NativeSynapseType(object):
    """The base of simulator-native synapse types (see NativeCellType)."""


class NativeElectrodeType(object):
    """The base of simulator-native current sources (see NativeCellType)."""


def _no_native(kind, name, available):
    raise NotImplementedError(
        "nmp has no native %s model %r: its models are the PyNN standard ones (%s); "
        "docs/models.md lists them and their parameters" % (kind, name, ", ".join(available)))


def native_cell_type(model_name):
    """pyNN.nest's access to NEST's own cell models. nmp's models are the
    standard ones: this raises NotImplementedError naming them."""
    _no_native("cell", model_name, list_standard_models())


def native_synapse_type(model_name):
    """As native_cell_type, for synapse models."""
    _no_native("synapse", model_name, [n for n, o in globals().items() if isinstance(o, type) and (n.endswith("Synapse") or n.endswith("Mechanism"))])


def native_electrode_type(model_name):
    """As native_cell_type, for current sources."""
    _no_native("electrode", model_name, [n for n, o in globals().items() if isinstance(o, type) and n.endswith("Source") and "Spike" not in n])


def list_standard_models():
    """Return a list of all the StandardCellType classes available for this simulator."""
    return [obj.__name__ for obj in globals().values()
            if isinstance(obj, type) and issubclass(obj, StandardCellType) and obj is not StandardCellType]


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """
    Initialises/reinitialises the simulator. Any existing network structure is
    destroyed.

    `timestep`, `min_delay` and `max_delay` are in milliseconds. nmp also takes
    `rng_seed` (or `seed`): the seed of every random stream of the engine
    (default 1); `threads`: the number of threads of the engine (default: all
    cores); `spike_precision`: "on_grid" (default) or "off_grid", which reports
    the spikes of SpikeSourceArray populations at their given times.
    Other simulators' options (e.g. `verbosity`) are accepted and ignored.
    """
    common.setup(timestep, min_delay, **extra_params)
    state.setup(timestep, min_delay, extra_params.get("max_delay", DEFAULT_MAX_DELAY),
                seed=extra_params.get("rng_seed", extra_params.get("seed", simulator.DEFAULT_SEED)),
                threads=extra_params.get("threads"),
                spike_precision=extra_params.get("spike_precision", "on_grid"))
    return rank()


def end(compatible_output=True):
    """Write the data recorded to files named in record(), and stop the server.
    Recorded data stay readable with get_data()."""
    state.end()


run, run_until = common.build_run(simulator)
run_for = run

reset = common.build_reset(simulator)

initialize = common.initialize

get_current_time, get_time_step, get_min_delay, get_max_delay, \
    num_processes, rank = common.build_state_queries(simulator)

create = common.build_create(Population)

connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)

set = common.set

record = common.build_record(simulator)


def record_v(source, filename):
    return record(['v'], source, filename)


def record_gsyn(source, filename):
    return record(['gsyn_exc', 'gsyn_inh'], source, filename)
