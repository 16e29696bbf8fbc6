"""The simulation state of pynn_brainscales: pyNN.nmp's state (one engine
session), configured for the emulated chip, with a store that keeps the
chip's readout as it comes: spikes at the FPGA's 8 ns time stamps and ADC
samples at their own times."""

import os

import numpy as np

from nmp.data import PopulationData, Store, parse_results
from pyNN.nmp import simulator as _nmp_simulator

#: The simulator state (shared with pyNN.nmp, which runs underneath).
state = _nmp_simulator.state

name = "HX"

#: Average time between two MADC samples, in ms (what pynn-brainscales
#: reports as its time step).
MADC_DT = 3.4e-05

#: The engine's step in µs of hardware time (system option timestep_us).
ENGINE_STEP_US = 0.2


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

    def __init__(self, dt):
        Store.__init__(self, dt)
        self.provenance = {}

    def population(self, index):
        pd = self.populations.get(index)
        if pd is None:
            pd = self.populations[index] = ChipPopulationData()
        return pd

    def add(self, raw):
        meta, arrays = parse_results(raw)
        self.provenance = meta.get("provenance", {})
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
    value per circuit (512), and global settings."""

    def __init__(self, neurons=None, synapse_dac_bias=None, clock_scale_slow=None,
                 clock_scale_fast=None):
        self.neurons = {k: np.asarray(v, dtype=float) for k, v in (neurons or {}).items()}
        self.synapse_dac_bias = synapse_dac_bias
        self.clock_scale_slow = clock_scale_slow
        self.clock_scale_fast = clock_scale_fast

    def options(self):
        """The chip as system options of a description."""
        out = {"initial_config": {"neurons": {k: [float(x) for x in v] for k, v in self.neurons.items()}}}
        if self.synapse_dac_bias is not None:
            out["synapse_dac_bias"] = [float(x) for x in np.atleast_1d(self.synapse_dac_bias)]
        if self.clock_scale_slow is not None:
            out["clock_scale_slow"] = int(self.clock_scale_slow)
        if self.clock_scale_fast is not None:
            out["clock_scale_fast"] = int(self.clock_scale_fast)
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
