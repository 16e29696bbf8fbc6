"""
The PyNN API of pynn-brainscales (`import pynn_brainscales.brainscales2 as
pynn`), running on nmp's emulated BrainScaleS-2 chip.

Scripts written for the real system run unchanged: HXNeuron with its raw
hardware parameters, spike sources, static 6-bit synapses, recording of
spikes and of one analog variable per neuron through the membrane ADC (MADC)
or the columnar ADC (CADC), times in ms of hardware time (1000x faster than
biology), data in raw ADC units as neo IrregularlySampledSignals. The chip is
the Go system `brainscales2` (docs/brainscales2.md): placement onto circuits
and synapses, analog mismatch of the virtual chip, readout.

nmp's own setup() options: `chip` (the virtual chip's name: its fixed-pattern
noise; default $NMP_BSS2_CHIP, else "nmp-virtual-hx-0"), `rng_seed` (the temporal noise of the
runs; default: $NMP_BSS2_SEED, else a new one each setup(), as on hardware), `system_options` (a
dict of further system options, e.g. {"mismatch": {...}}), `threads`.
"""

from enum import Enum, auto

from pyNN import common
from pyNN.common.control import DEFAULT_MIN_DELAY

from . import logger, helper, simulator  # noqa: F401
from .connectors import (AllToAllConnector, OneToOneConnector, FixedProbabilityConnector,  # noqa: F401
                         DistanceDependentProbabilityConnector,
                         DisplacementDependentProbabilityConnector, IndexBasedProbabilityConnector,
                         FromListConnector, FromFileConnector, FixedNumberPreConnector,
                         FixedNumberPostConnector, SmallWorldConnector, CSAConnector, CloneConnector,
                         ArrayConnector, FixedTotalNumberConnector)
from .populations import Population, PopulationView, Assembly  # noqa: F401
from .projections import Projection  # noqa: F401
from .simulator import state, Chip  # noqa: F401
from .standardmodels import cells, synapses  # noqa: F401
from . import standardmodels  # noqa: F401

__all__ = ["list_standard_models", "setup", "end", "run", "run_until", "run_for", "reset",
           "initialize", "get_current_time", "create", "connect", "set", "record", "logger",
           "preprocess", "RunCommand", "get_mapping", "get_backend_statistics", "InjectedConfiguration"]

_log = logger.get("pyNN.brainscales2")

#: Environment variable naming the virtual chip when setup() names none.
CHIP_ENV = simulator.CHIP_ENV


def list_standard_models():
    """The cell types of the chip."""
    return [cells.HXNeuron, cells.CalibHXNeuronCuba, cells.CalibHXNeuronCoba]


class RunCommand(Enum):
    """What run() does: PREPARE maps the network (place and route) without
    running; APPEND and EXECUTE run it for the given time. (On the hardware,
    APPEND schedules a snippet that EXECUTE runs; the emulation runs each
    snippet at once, continuing from the one before, which gives the same
    experiment.)"""
    PREPARE = auto()
    APPEND = auto()
    EXECUTE = auto()


class InjectedConfiguration(object):
    """pynn-brainscales' injection of raw configuration or playback programs
    before, at or after the real-time section (pre_non_realtime,
    pre_realtime, post_realtime ...). The emulated chip is configured only
    through the network description, so setup(injected_config=...) raises
    NotImplementedError."""

    def __init__(self, **sections):
        self.sections = sections


def _permutation(perm):
    """neuronPermutation as circuit indices, checked as pynn-brainscales
    checks it: TypeError for a negative index, OverflowError for an index
    or a length beyond the chip's 512 circuits, ValueError for a repeat."""
    out = []
    for n in perm:
        c = int(getattr(n, "toEnum", lambda: n)())
        if c < 0:
            raise TypeError("neuronPermutation: %d is negative (circuits are 0 to %d)" % (c, simulator.N_CIRCUITS - 1))
        if c >= simulator.N_CIRCUITS:
            raise OverflowError("neuronPermutation: %d is beyond the chip's circuits (0 to %d)"
                                % (c, simulator.N_CIRCUITS - 1))
        out.append(c)
    if len(out) > simulator.N_CIRCUITS:
        raise OverflowError("neuronPermutation: %d entries, the chip has %d circuits" % (len(out), simulator.N_CIRCUITS))
    seen = {}
    for c in out:
        if c in seen:
            raise ValueError("neuronPermutation: circuit %d appears more than once" % c)
        seen[c] = True
    return out


_NOT_EMULATED = ("injected_config", "injected_readout", "injected_calib_target",
                 "injected_calib_options")


def setup(timestep=simulator.MADC_DT, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Start a new experiment on the emulated chip.

    pynn-brainscales' extras: `initial_config` (a Chip, e.g. from
    helper.chip_from_file; a calibration made for another chip warns),
    `enable_neuron_bypass`, `neuronPermutation` (circuits, 0..511, for the
    HXNeurons in order), `calibration_cache` (calix's cache paths for
    CalibHXNeuron populations). nmp's: `chip`,
    `rng_seed`, `system_options`, `threads` (see the module's doc).
    `timestep` is accepted and ignored: the MADC samples about every 34 ns."""
    extra = dict(extra_params)
    extra.pop("max_delay", None)
    options = dict(extra.pop("system_options", None) or {})
    chip = simulator.chip_name(extra.pop("chip", None))
    if chip is not None:
        options["chip"] = chip
    seed = extra.pop("rng_seed", extra.pop("seed", None))
    if seed is None:
        seed = simulator.random_seed()
    threads = extra.pop("threads", None)
    perm = extra.pop("neuronPermutation", None)
    if perm is not None:
        options["neuron_permutation"] = _permutation(perm)
    if extra.pop("backgroundPermutation", None) is not None:
        raise NotImplementedError("backgroundPermutation: the emulation assigns the background "
                                  "spike generators in population order")
    initial_config = extra.pop("initial_config", None)
    if extra.pop("enable_neuron_bypass", False):
        if initial_config is not None:
            _log.INFO("setup(): Supplied initial_config overwritten by enable_neuron_bypass")
        initial_config = None
        options["enable_neuron_bypass"] = True
    given_config = initial_config
    if initial_config is not None and not isinstance(initial_config, Chip) \
            and hasattr(initial_config, "neuron_block"):
        initial_config = Chip.from_lola(initial_config)  # a dlens_vx_v3.lola.Chip
    if initial_config is not None:
        if not isinstance(initial_config, Chip):
            raise TypeError("initial_config must be a pynn_brainscales.brainscales2.Chip "
                            "(helper.chip_from_file) or a dlens_vx_v3.lola.Chip, got %s" % type(initial_config).__name__)
        options.update(initial_config.options())
        running_on = options.get("chip", simulator.DEFAULT_CHIP)
        if initial_config.chip is not None and str(initial_config.chip) != running_on:
            import warnings
            msg = ("setup(initial_config=...): the calibration was made for chip %s, and this experiment runs "
                   "on chip %s: its values do not fit this chip's circuits (every chip's mismatch differs)"
                   % (initial_config.chip, running_on))
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
            _log.WARN(msg)
    calibration_cache = extra.pop("calibration_cache", None)
    connection = extra.pop("connection", None)
    if connection is not None:
        # A connection the script opened (hxcomm.ManagedConnection): the
        # experiment runs on its chip.
        from calix.connection import Connection
        if not isinstance(connection, Connection):
            raise TypeError("setup(connection=...): expected a connection from dlens_vx_v3.hxcomm."
                            "ManagedConnection(), got %s" % type(connection).__name__)
        if connection.closed:
            raise RuntimeError("setup(connection=...): the connection to %s is closed" % connection.chip)
        options["chip"] = connection.chip
    for key in _NOT_EMULATED:
        if extra.pop(key, None) is not None:
            raise NotImplementedError("setup(%s=...): not available on the emulated chip" % key)
    if extra:
        raise KeyError("unhandled extra_params in call to pynn.setup(...):%s" % extra)
    state.setup(options, seed, threads=threads, initial_config=initial_config,
                calibration_cache=calibration_cache)
    state.initial_config = given_config
    _log.DEBUG("setup(): chip %s, seed %d" % (state.chip, state.seed))
    return 0


def end():
    """Finish the experiment: keep the recorded data, stop the simulation server."""
    state.end()


_run, _run_until = common.build_run(simulator)


def run(runtime, command=RunCommand.EXECUTE):
    """Run for `runtime` ms of hardware time (1 ms is 1 s of biological time).
    Returns the time reached.

    As on the hardware, an experiment runs once: a second run() (after an
    EXECUTE) needs reset() first (the chip evolves in continuous time, so
    runs cannot be stacked). APPEND runs its snippet at once, continuing from
    the one before; EXECUTE without a runtime ends a series of APPENDs."""
    if command == RunCommand.PREPARE:
        state.ensure_built()
        return state.t
    if command not in (RunCommand.APPEND, RunCommand.EXECUTE):
        raise ValueError("Passed command is invalid.")
    if command == RunCommand.APPEND and runtime is None:
        raise ValueError("Appending a configuration that is executed for no time is forbidden.")
    if state.executed and runtime is not None:
        raise RuntimeError("run(): the experiment has run already: call pynn.reset() before run() again "
                           "(the chip evolves in continuous time, so several run() calls cannot be "
                           "stacked without a reset in between)")
    if command == RunCommand.EXECUTE and runtime is None:
        if not state.appended:
            raise ValueError("run(None): no experiment scheduled for execution yet: schedule one with "
                             "run(time, RunCommand.APPEND), or map the network only with "
                             "run(None, RunCommand.PREPARE)")
        state.executed = True
        return state.t
    t_begin = state.t
    t = _run(runtime)
    # The snippet and what each population recorded in it (get_data()
    # returns the data per snippet, as pynn-brainscales does).
    state.snippets.append((t_begin, state.t, {id(r): {v: frozenset(ids) for v, ids in r.recorded.items() if ids}
                                              for r in state.recorders}))
    # New data were recorded: a get_data(clear=True) before this run must
    # not keep the next reset() from storing them (PyNN's clear_flag).
    for recorder in state.recorders:
        recorder.clear_flag = False
    if command == RunCommand.APPEND:
        state.appended = True
    else:
        state.executed = True
    return t


run_for = run
run_until = _run_until
_reset = common.build_reset(simulator)


def reset(annotations=None):
    """Back to time 0 for a new run of the same network (the recorded data
    stay, as a new segment)."""
    state.executed = state.appended = False
    result = _reset(annotations)
    state.snippets = []
    return result

get_current_time, _, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
initialize = common.initialize
create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, synapses.StaticSynapse)
set = common.set
record = common.build_record(simulator)


def get_time_step():
    """The average time between two MADC samples (ms), as pynn-brainscales
    reports it."""
    return simulator.MADC_DT


def preprocess():
    """Map the network without running it (run(None, RunCommand.PREPARE))."""
    return run(None, RunCommand.PREPARE)


def get_mapping():
    """Where the network went on the chip: the circuits of each population,
    the synapse rows of each projection, the synapse arrays' use, the
    background generators, the MADC's channels, the crossbar's events and
    drops, the mismatch and noise settings (the plan's info; also in the
    provenance of every results file)."""
    state.ensure_built()
    # The build reply carries the mapping, and every action's reply its
    # counters as they are after the action (the crossbar's grow with runs).
    return state.mapping


class MappedTopologyStatistics(dict):
    """The mapping's resource use (pynn-brainscales' statistics object):
    circuits, synapse arrays, crossbar; a dict, printed with its name."""

    def __repr__(self):
        return "MappedTopologyStatistics(%s)" % ", ".join("%s=%r" % kv for kv in self.items())

    __str__ = __repr__


def get_backend_statistics():
    """The mapping's resource use (pynn-brainscales' name; see get_mapping).
    RuntimeError before setup() and before the network was mapped (run(), or
    run(None, RunCommand.PREPARE))."""
    if not state.active:
        raise RuntimeError("get_backend_statistics(): no experiment: call pynn.setup() first")
    if not (state.built and not state.dirty):
        raise RuntimeError("get_backend_statistics(): the network is not mapped yet: it is mapped by "
                           "pynn.run() (or pynn.run(None, pynn.RunCommand.PREPARE))")
    m = get_mapping()
    return MappedTopologyStatistics(neuron_circuits_used=m.get("neuron_circuits_used"),
                                    synapse_arrays=m.get("synapse_arrays"), crossbar=m.get("crossbar"))
