"""The simulation state of pynn_brainscales: a State of its own, subclassing
pyNN.nmp's (one `nmp simserver` process per experiment), that names the
emulated chip as its system (the Go system `brainscales2`) with the chip,
seed and further options of setup(), and keeps the chip's readout as it
comes: spikes at the FPGA's 8 ns time stamps and ADC samples at their own
times.

pynn_brainscales' classes name this module as their `_simulator`, so they
use this module's `state`, never pyNN.nmp's: a script may import both.
"""

import os

import numpy as np

from nmp.data import PopulationData, Store, parse_results
from pyNN.nmp import simulator as _nmp_simulator
from pyNN.nmp.simulator import ID  # noqa: F401  (PyNN finds a backend's ID class here)

name = "HX"

#: The Go system the descriptions name.
SYSTEM = "brainscales2"

#: CHIP_ENV names the virtual chip when setup() names none (as the
#: platform's job runner, nmp worker, assigns a job its hardware).
CHIP_ENV = "NMP_BSS2_CHIP"

#: The virtual chip when neither setup() nor $NMP_BSS2_CHIP names one (the
#: Go system's default).
DEFAULT_CHIP = "nmp-virtual-hx-0"

#: Average time between two MADC samples, in ms (what pynn-brainscales
#: reports as its time step).
MADC_DT = 3.4e-05

#: The engine's step in µs of hardware time (system option timestep_us).
ENGINE_STEP_US = 0.2

#: The chip's neuron circuits (AtomicNeuronOnDLS 0..511).
N_CIRCUITS = 512


class IrregularPiece(object):
    """Samples of one neuron's variable at their own times."""

    __slots__ = ("index", "times", "values", "device")

    def __init__(self, index, times, values, device):
        self.index, self.times, self.values, self.device = index, times, values, device


class ChipPopulationData(PopulationData):
    """What was recorded from one population: spikes, and ADC pieces."""

    def clear(self):
        PopulationData.clear(self)
        self.adc = {}

    def add_adc(self, variable, piece):
        if len(piece.times):
            self.adc.setdefault(variable, []).append(piece)


class ChipStore(Store):
    """Store for the chip's readout: no rounding of times to a grid."""

    def population(self, index):
        pd = self.populations.get(index)
        if pd is None:
            pd = self.populations[index] = ChipPopulationData()
        return pd

    def add(self, raw):
        meta, arrays = parse_results(raw)
        for seg in meta.get("segments", []):
            for sp in seg.get("spikes", []):
                # FPGA time stamps are multiples of 8 ns: 9 decimals of a ms
                # keep them exactly and drop the binary noise.
                times = np.round(np.asarray(arrays[sp["times"]], dtype=float), 9)
                self.population(sp["population"]).add_spikes(
                    arrays[sp["recorded"]], arrays[sp["ids"]], times)
            for sig in seg.get("signals", []):
                variable = sig["variable"]
                device = "madc"
                if variable.endswith("@cadc"):
                    variable, device = variable[:-len("@cadc")], "cadc"
                idx = np.asarray(arrays[sig["indices"]], dtype=np.int64)
                data = np.asarray(arrays[sig["data"]], dtype=float).reshape(-1, len(idx))
                if "times" in sig:
                    times = np.round(np.asarray(arrays[sig["times"]], dtype=float), 9)
                else:
                    times = sig["t_start"] + sig["sampling_interval"] * np.arange(data.shape[0])
                for col, i in enumerate(idx):
                    self.population(sig["population"]).add_adc(
                        variable, IrregularPiece(int(i), times, data[:, col], device))
        return meta


class Chip(object):
    """A configuration of the chip's neuron circuits, such as a calibration
    (the emulation's counterpart of lola.Chip): HXNeuron parameters, one
    value per circuit (512), and global settings: the synapse DAC bias, the
    refractory clock scales, the CADC's ramps and channel offsets (`cadc`).
    `chip` names the chip a calibration was made for (None: any), and
    `calibration` describes the calibration (for provenance)."""

    def __init__(self, neurons=None, synapse_dac_bias=None, clock_scale_slow=None,
                 clock_scale_fast=None, cadc=None, chip=None, calibration=None):
        self.neurons = {k: np.asarray(v, dtype=float) for k, v in (neurons or {}).items()}
        self.synapse_dac_bias = synapse_dac_bias
        self.clock_scale_slow = clock_scale_slow
        self.clock_scale_fast = clock_scale_fast
        self.cadc = cadc
        self.chip = chip
        self.calibration = calibration
        #: The spike-triggered adaptation pulse's length scale (None: the system's default).
        self.clock_scale_adaptation_pulse = None
        #: The two hemispheres' backend clock scales when they differ
        #: ([{"clock_scale_slow": s, "clock_scale_fast": f}] × 2), else None.
        self.neuron_backends = None

    @classmethod
    def from_lola(cls, config):
        """The Chip of a lola.Chip (dlens_vx_v3.lola): its neuron circuits
        and its two backends' clock scales (the adaptation pulse's scale is
        one setting on the emulated chip, so both backends must agree on it)."""
        neurons = [n.flat() for n in config.neuron_block.atomic_neurons]
        chip = cls({k: [n[k] for n in neurons] for k in neurons[0]})
        backends = [(int(b.clock_scale_slow), int(b.clock_scale_fast)) for b in config.neuron_block.backends]
        if backends[0] != backends[1]:
            # The hemispheres' backends differ: one setting each.
            chip.neuron_backends = [{"clock_scale_slow": s, "clock_scale_fast": f} for s, f in backends]
        else:
            chip.clock_scale_slow, chip.clock_scale_fast = (v if v != 0 else None for v in backends[0])
        pulses = {int(b.clock_scale_adaptation_pulse) for b in config.neuron_block.backends}
        if len(pulses) > 1:
            raise ValueError("initial_config: neuron_block.backends[...].clock_scale_adaptation_pulse must be the "
                             "same for both backends on the emulated chip, got %s" % sorted(pulses))
        pulse = pulses.pop()
        if pulse != 0:
            chip.clock_scale_adaptation_pulse = pulse
        return chip

    def copy(self):
        c = Chip(self.neurons, None if self.synapse_dac_bias is None else np.array(self.synapse_dac_bias, dtype=float),
                 self.clock_scale_slow, self.clock_scale_fast, None if self.cadc is None else dict(self.cadc),
                 self.chip, None if self.calibration is None else dict(self.calibration))
        c.neurons = {k: v.copy() for k, v in self.neurons.items()}
        c.clock_scale_adaptation_pulse = self.clock_scale_adaptation_pulse
        c.neuron_backends = None if self.neuron_backends is None else [dict(b) for b in self.neuron_backends]
        return c

    def options(self):
        """The chip as system options of a description."""
        out = {"initial_config": {"neurons": {k: [float(x) for x in v] for k, v in self.neurons.items()}}}
        if self.cadc is not None:
            out["cadc"] = self.cadc
        if self.calibration is not None:
            out["calibration"] = self.calibration
        if self.synapse_dac_bias is not None:
            out["synapse_dac_bias"] = [float(x) for x in np.atleast_1d(self.synapse_dac_bias)]
        if self.clock_scale_slow is not None:
            out["clock_scale_slow"] = int(self.clock_scale_slow)
        if self.clock_scale_fast is not None:
            out["clock_scale_fast"] = int(self.clock_scale_fast)
        if self.neuron_backends is not None:
            out["neuron_backends"] = [dict(b) for b in self.neuron_backends]
        if self.clock_scale_adaptation_pulse is not None:
            out["clock_scale_adaptation_pulse"] = int(self.clock_scale_adaptation_pulse)
        return out


#: SEED_ENV, when set, is the seed of setup()s that give none: a way to
#: replay a run (its run report and provenance record its seed) without
#: changing the script.
SEED_ENV = "NMP_BSS2_SEED"


def random_seed():
    """A seed for a run's temporal noise when setup() gives none: like the
    hardware, every experiment differs a little from the last, unless
    $NMP_BSS2_SEED fixes it."""
    fixed = os.environ.get(SEED_ENV)
    if fixed:
        try:
            return int(fixed) % (2 ** 63)
        except ValueError:
            raise ValueError("%s=%r is not an integer seed" % (SEED_ENV, fixed)) from None
    return int.from_bytes(os.urandom(8), "little") % (2 ** 63)


def chip_name(given=None):
    """The virtual chip of an experiment: the one setup() names, else
    $NMP_BSS2_CHIP, else None (the system's default, DEFAULT_CHIP)."""
    chip = given or os.environ.get(CHIP_ENV)
    return None if chip is None else str(chip)


class State(_nmp_simulator.State):
    """pyNN.nmp's state on the emulated chip: the system `brainscales2` with
    the options setup() gave (the chip among them), and a ChipStore."""

    system_name = SYSTEM

    def __init__(self):
        #: The system options of the experiment (docs/brainscales2.md).
        self.options = {}
        #: The Chip setup(initial_config=) gave, and calix's cache paths
        #: (setup(calibration_cache=); None: calix's default).
        self.user_initial_config = None
        self.calibration_cache = None
        #: What setup(initial_config=) was given, as given (a Chip or a lola.Chip).
        self.initial_config = None
        #: setup() was called and end() not yet; an EXECUTE run (or an
        #: APPEND) happened since setup() or reset() (run() refuses a
        #: second run, as the hardware's software does).
        self.active = self.executed = self.appended = False
        #: The snippets run since setup() or reset(): (t_start, t_stop,
        #: {id(recorder): variables it recorded}).
        self.snippets = []
        _nmp_simulator.State.__init__(self)

    @property
    def chip(self):
        """The name of the virtual chip the experiment runs on."""
        return self.options.get("chip", DEFAULT_CHIP)

    def system_options(self):
        return self.options

    def new_store(self):
        return ChipStore(self.dt)

    def setup(self, options, seed, threads=None, initial_config=None, calibration_cache=None):
        """Start a new experiment with these system options, the seed of its
        temporal noise, and the server's threads."""
        step_us = float(options.get("timestep_us", ENGINE_STEP_US))
        _nmp_simulator.State.setup(self, step_us * 1e-3, "auto", seed=seed, threads=threads)
        self.options = options
        self.user_initial_config = initial_config
        self.calibration_cache = calibration_cache
        self.initial_config = initial_config
        self.active, self.executed, self.appended = True, False, False
        self.snippets = []

    def end(self):
        self.active = False
        _nmp_simulator.State.end(self)

    def run(self, simtime):
        if not self.populations:
            # An empty network runs as on the chip: time passes, nothing
            # is recorded (no simulation server is needed for that).
            if self.ended:
                raise RuntimeError("pynn_brainscales: the experiment has ended (end() was called); "
                                   "call setup() to start a new one")
            self.step += int(round(simtime / self.dt))
            self.running = True
            return
        _nmp_simulator.State.run(self, simtime)

    def ensure_built(self):
        """Calibrate for CalibHXNeuron populations (calix, cached), then
        build as pyNN.nmp does."""
        if not self.populations and not self.ended:
            return  # nothing to map: an empty network
        if not self.ended and not (self.built and not self.dirty) and self.populations:
            from . import calibration
            chip = calibration.calibrate(self, self.populations)
            if chip is not None:
                self.options.update(chip.options())
        _nmp_simulator.State.ensure_built(self)


#: The state of pynn_brainscales' experiment (pyNN.nmp has its own).
state = State()
