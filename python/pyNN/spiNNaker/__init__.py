"""
sPyNNaker's PyNN API (`import pyNN.spiNNaker as sim`), running on nmp's
emulated SpiNNaker machine (the Go system `spinnaker`, docs/spinnaker.md):
populations partitioned into core-sized slices, placed and routed on
SpiNNaker-1 chips and boards, neurons updated in the cores' s16.15 fixed
point, 16-bit weights scaled per synapse type, delays of 1 to 144 time
steps, a real-time cost model whose overruns and dropped packets the
mapping info reports.

setup(timestep=1.0, min_delay=..., max_delay=..., time_scale_factor=None,
n_boards_required=None, n_chips_required=None, ...) as sPyNNaker; the
spynnaker.cfg files (~/.spynnaker.cfg, ./spynnaker.cfg) give [Machine]
virtual_board, version, time_scale_factor and [Simulation]
spikes_per_second, ring_buffer_sigma. nmp's own setup() options:
`rng_seed` (the Poisson sources' streams; default $NMP_SPINNAKER_SEED, else
a new one each setup(), as on the machine), `threads`.
"""

import math

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY
from pyNN.connectors import (AllToAllConnector, OneToOneConnector, FixedProbabilityConnector,  # noqa: F401
                             DistanceDependentProbabilityConnector, FromListConnector, FromFileConnector,
                             FixedNumberPreConnector, FixedNumberPostConnector, FixedTotalNumberConnector,
                             IndexBasedProbabilityConnector, DisplacementDependentProbabilityConnector,
                             SmallWorldConnector, ArrayConnector, CloneConnector)
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.space import Space, Line, Grid2D, Grid3D  # noqa: F401
from pyNN.standardmodels import StandardCellType

from nmp.simclient import SimServerError  # noqa: F401

from . import simulator, extra_models  # noqa: F401
from .simulator import state
from .standardmodels import (IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_curr_delta, Izhikevich,  # noqa: F401
                             SpikeSourcePoisson, SpikeSourceArray, StaticSynapse, STDPMechanism,
                             SpikePairRule, Vogels2011Rule, AdditiveWeightDependence,
                             MultiplicativeWeightDependence, SpikeNearestPairRule, PfisterSpikeTripletRule,
                             WeightDependenceAdditiveTriplet)
from .electrodes import DCSource, ACSource, StepCurrentSource, NoisyCurrentSource  # noqa: F401
from .populations import Population, PopulationView, Assembly, PartitionerMaximumSizeConstraint  # noqa: F401
from .projections import Projection  # noqa: F401
from .connectors import KernelConnector  # noqa: F401


#: sPyNNaker's non-standard name of the fixed-total-number connector.
MultapseConnector = FixedTotalNumberConnector


class _NotBuilt(object):
    """A model or rule sPyNNaker has and nmp's SpiNNaker does not yet."""

    _what = ""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("%s is not built in nmp's emulated SpiNNaker yet (docs/spinnaker.md "
                                  "lists what is: IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_curr_delta, Izhikevich, SpikeSourceArray, "
                                  "SpikeSourcePoisson, static synapses, STDPMechanism with SpikePairRule, SpikeNearestPairRule, "
                                  "Vogels2011Rule or PfisterSpikeTripletRule)"
                                  % self._what)


class IF_cond_alpha(StandardCellType):
    """Not supported, as in today's sPyNNaker, whose IF_cond_alpha raises
    "This neuron model is currently not supported by the tool chain"."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("IF_cond_alpha: This neuron model is currently not supported by the tool chain "
                                  "(sPyNNaker's words: neither sPyNNaker nor nmp's emulated SpiNNaker runs it; "
                                  "IF_cond_exp is the conductance-based model)")


def _not_built(name, cell=False):
    bases = (_NotBuilt, StandardCellType) if cell else (_NotBuilt,)
    return type(name, bases, {"_what": name, "__doc__": "Not built yet: raises NotImplementedError."})


for _name in ("TsodyksMarkramSynapse",):
    globals()[_name] = _not_built(_name)
del _name


def name():
    """The simulator's name, as sPyNNaker gives it."""
    return "SpiNNaker"


def list_standard_models():
    """The standard cell types sPyNNaker runs here."""
    return [IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_curr_delta, Izhikevich, SpikeSourcePoisson, SpikeSourceArray]


def setup(timestep=1.0, min_delay="auto", max_delay=None, database_socket_addresses=None,
          time_scale_factor=None, n_chips_required=None, n_boards_required=None, **extra_params):
    """Start a new simulation on the emulated SpiNNaker machine (see the
    module's doc)."""
    if timestep is None:
        timestep = 1.0
    extra = dict(extra_params)
    options = simulator.read_config()
    if time_scale_factor is not None:
        options["time_scale_factor"] = float(time_scale_factor)
    if n_boards_required is not None:
        options["n_boards_required"] = int(n_boards_required)
    elif n_chips_required is not None:
        options["n_boards_required"] = max(1, int(math.ceil(int(n_chips_required) / 48.0)))
    seed = extra.pop("rng_seed", extra.pop("seed", None))
    if seed is None:
        seed = simulator.random_seed()
    threads = extra.pop("threads", None)
    for key in ("graph_label", "machine_time_step", "user_extra_algorithms_pre_run",
                "extra_post_run_algorithms", "extra_mapping_algorithms", "extra_load_algorithms"):
        extra.pop(key, None)
    if min_delay is None:
        min_delay = "auto"
    common.setup(timestep, min_delay if min_delay != "auto" else timestep, **extra)
    state.setup(timestep, min_delay, options, seed, threads=threads)
    state.max_delay = max_delay if max_delay is not None else "auto"
    return 0


def end(compatible_output=True):
    """Finish: write what record() named, keep the recorded data, stop the
    server."""
    state.end()


def set_number_of_neurons_per_core(neuron_type, max_permitted):
    """At most `max_permitted` neurons of every population of this cell
    type on one core (sPyNNaker's partitioning control)."""
    name = neuron_type if isinstance(neuron_type, str) else getattr(neuron_type, "__name__",
                                                                      type(neuron_type).__name__)
    n = int(max_permitted)
    if n < 1 or n > 256:
        raise ValueError("set_number_of_neurons_per_core(%s, %d): a core holds 1 to 256 neurons" % (name, n))
    state.atoms_per_type[name] = n
    state.structure_changed()


def set_number_of_synapse_cores(neuron_type, n_synapse_cores):
    """sPyNNaker's split of a population's synapse processing onto cores
    of their own: accepted and checked; nmp's machine processes a slice's
    synapses on its neuron core (docs/spinnaker.md: the split is not
    emulated, so it changes neither the mapping nor the results)."""
    name = neuron_type if isinstance(neuron_type, str) else getattr(neuron_type, "__name__",
                                                                      type(neuron_type).__name__)
    n = int(n_synapse_cores)
    if n < 0:
        raise ValueError("set_number_of_synapse_cores(%s, %d): not a number of cores" % (name, n))
    state.synapse_cores_per_type[name] = n


def set_allow_delay_extensions(neuron_type, allowed):
    """sPyNNaker's choice of holding long delays in the neuron core's ring
    buffer instead of delay-extension cores: accepted; nmp's mapping always
    places delay extensions beyond 16 steps (the spikes arrive at the same
    ticks either way: docs/spinnaker.md)."""
    name = neuron_type if isinstance(neuron_type, str) else getattr(neuron_type, "__name__",
                                                                      type(neuron_type).__name__)
    state.delay_extensions_per_type[name] = bool(allowed)


#: sPyNNaker's structural plasticity: not built; naming one raises
#: NotImplementedError with its name.
_STRUCTURAL = ("StructuralMechanismStatic", "StructuralMechanismSTDP", "RandomSelection",
               "LastNeuronSelection", "DistanceDependentFormation", "RandomByWeightElimination")


def __getattr__(attr):
    if attr in _STRUCTURAL:
        def refuse(*args, **kwargs):
            raise NotImplementedError("%s: structural plasticity is not built in nmp's emulated SpiNNaker "
                                      "(docs/spinnaker.md)" % attr)
        return refuse
    if attr == "external_devices":
        import importlib
        return importlib.import_module(__name__ + ".external_devices")
    raise AttributeError("module 'pyNN.spiNNaker' has no attribute %r" % attr)


def get_machine():
    """The machine the network was mapped onto, and the mapping: the
    machine's size, where every population went (chip x, y, core, first and
    last neuron), the routing tables' sizes before and after compression,
    the weight scaling, and after runs the real-time figures (overruns,
    dropped packets)."""
    if not state.populations:
        # sPyNNaker's scripts may ask for the machine before building a
        # network (as IntroLab's learning/simple.py does): the machine as
        # configured, nothing mapped onto it yet.
        return {"machine": dict(state.options), "populations": [], "cores_used": 0}
    state.ensure_built()
    state.pull()
    return state.mapping


get_mapping = get_machine

run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
set = common.set
record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)


def record_gsyn(source, filename):
    return record(["gsyn_exc", "gsyn_inh"], source, filename)
