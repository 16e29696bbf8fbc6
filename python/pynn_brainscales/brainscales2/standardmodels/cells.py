"""Cell types of the emulated chip.

HXNeuron is one neuron circuit with its raw hardware parameters, the
flattened fields of the circuit's configuration (`<member>_<field>`, as
pynn-brainscales names them): CapMem cells 0..1022, switches, the membrane
capacitor 0..63, the refractory counter 0..255. The defaults are the
hardware's: all CapMem cells 0 and most switches off, a silent neuron.
"""

import numpy as np
from pyNN.parameters import Sequence
from pyNN import errors
from pyNN.standardmodels import StandardCellType, build_translations

from pyNN.nmp.standardmodels import SpikeSourceArray as _NmpSpikeSourceArray
from pyNN.nmp.standardmodels import SpikeSourcePoisson as _NmpSpikeSourcePoisson

__all__ = ["HXNeuron", "SpikeSourceArray", "SpikeSourcePoisson", "SpikeSourcePoissonOnChip"]

CAPMEM_MAX = 1022

# (name, default, kind): kind "analog" is a CapMem cell (0..1022), "bool" a
# switch, or an integer range (lo, hi).
_PARAMETERS = [
    ("adaptation_enable", False, "bool"), ("adaptation_enable_pulse", False, "bool"),
    ("adaptation_i_bias_a", 0, "analog"), ("adaptation_i_bias_b", 0, "analog"),
    ("adaptation_i_bias_tau", 0, "analog"), ("adaptation_invert_a", False, "bool"),
    ("adaptation_invert_b", False, "bool"), ("adaptation_v_leak", 0, "analog"),
    ("adaptation_v_ref", 0, "analog"),
    ("bayesian_connect_fire_from_right", False, "bool"), ("bayesian_connect_fire_to_right", False, "bool"),
    ("bayesian_connect_fire_vertical", False, "bool"), ("bayesian_enable_master", False, "bool"),
    ("bayesian_enable_slave", False, "bool"), ("bayesian_operation", 0, (0, 3)),
    ("bayesian_to_post_pulse", True, "bool"),
    ("constant_current_enable", False, "bool"), ("constant_current_i_offset", 0, "analog"),
    ("constant_current_type", 0, (0, 1)),
    ("event_routing_address", 0, (0, 255)), ("event_routing_enable_bypass_excitatory", False, "bool"),
    ("event_routing_enable_bypass_inhibitory", False, "bool"),
    ("event_routing_enable_post_overwrite", False, "bool"),
]
for _side in ("excitatory_input", "inhibitory_input"):
    if _side == "inhibitory_input":
        _PARAMETERS += [("exponential_enable", False, "bool"), ("exponential_i_bias", 0, "analog"),
                        ("exponential_v_exp", 0, "analog")]
    _PARAMETERS += [
        (_side + "_enable", False, "bool"), (_side + "_enable_coba_mode", False, "bool"),
        (_side + "_enable_high_resistance", False, "bool"), (_side + "_enable_small_capacitance", True, "bool"),
        (_side + "_i_bias_coba", 0, "analog"), (_side + "_i_bias_gm", 0, "analog"),
        (_side + "_i_bias_tau", 0, "analog"), (_side + "_i_shift_reference", 0, "analog"),
        (_side + "_v_rev_coba", 0, "analog")]
_PARAMETERS += [
    ("leak_enable_degeneration", False, "bool"), ("leak_enable_division", False, "bool"),
    ("leak_enable_multiplication", False, "bool"), ("leak_i_bias", 0, "analog"), ("leak_v_leak", 0, "analog"),
    ("membrane_capacitance_capacitance", 0, (0, 63)),
    ("multicompartment_connect_right", False, "bool"), ("multicompartment_connect_soma", False, "bool"),
    ("multicompartment_connect_soma_right", False, "bool"), ("multicompartment_connect_vertical", False, "bool"),
    ("multicompartment_enable_conductance", False, "bool"),
    ("multicompartment_enable_conductance_division", False, "bool"),
    ("multicompartment_enable_conductance_multiplication", False, "bool"),
    ("multicompartment_i_bias_nmda", 0, "analog"),
    ("readout_enable_unbuffered_access", False, "bool"),
    ("refractory_period_enable_pause", False, "bool"), ("refractory_period_input_clock", 0, (0, 1)),
    ("refractory_period_refractory_time", 0, (0, 255)), ("refractory_period_reset_holdoff", 15, (0, 15)),
    ("reset_enable_degeneration", False, "bool"), ("reset_enable_division", False, "bool"),
    ("reset_enable_multiplication", False, "bool"), ("reset_i_bias", 0, "analog"), ("reset_v_reset", 0, "analog"),
    ("threshold_enable", False, "bool"), ("threshold_v_threshold", 0, "analog"),
    ("plasticity_rule_readout_source", 0, (0, 3)), ("plasticity_rule_enable_readout_source", False, "bool"),
]

#: Each parameter's range (inclusive); switches are (0, 1).
RANGES = {name: ((0, CAPMEM_MAX) if kind == "analog" else (0, 1) if kind == "bool" else kind)
          for name, _, kind in _PARAMETERS}


class HXNeuron(StandardCellType):
    """One to one representation of the parameters of one neuron circuit
    (lola's AtomicNeuron), flattened; defaults to a silent neuron."""

    default_parameters = {name: (bool(d) if kind == "bool" else float(d)) for name, d, kind in _PARAMETERS}
    default_initial_values = {}
    # exc_synin, inh_synin and adaptation are technical voltages
    recordable = ["spikes", "v", "exc_synin", "inh_synin", "adaptation"]
    receptor_types = ["excitatory", "inhibitory"]
    conductance_based = False
    injectable = False
    units = {"v": "dimensionless", "exc_synin": "dimensionless", "inh_synin": "dimensionless",
             "adaptation": "dimensionless"}
    translations = build_translations(*[(name, name) for name, _, _ in _PARAMETERS])
    nmp_name = "HXNeuron"

    def __init__(self, **parameters):
        super().__init__(**parameters)
        self._user_provided_parameters = dict(parameters)

    def can_record(self, variable, location=None):
        return variable in self.recordable


class SpikeSourcePoissonOnChip(StandardCellType):
    """Poisson spikes from one of the chip's background spike generators: all
    neurons of the population share its rate (Hz of hardware time) and seed."""

    default_parameters = {"rate": 1.0, "seed": 0.0}
    default_initial_values = {}
    recordable = ["spikes"]
    receptor_types = ()
    injectable = False
    conductance_based = False
    units = {}
    translations = build_translations(("rate", "rate"), ("seed", "seed"))
    nmp_name = "SpikeSourcePoissonOnChip"

    def __init__(self, rate=1.0, seed=0):
        super().__init__(rate=rate, seed=seed)

    def can_record(self, variable, location=None):
        return variable in self.recordable


class SpikeSourceArray(_NmpSpikeSourceArray):
    """Spikes at the given times [ms of hardware time], played by the FPGA.
    `spike_times` may be one list for all sources or a list of lists (or
    arrays, Sequences), one per source, of any lengths."""

    def __init__(self, **parameters):
        times = parameters.get("spike_times")
        if isinstance(times, (list, tuple)) and times and all(
                isinstance(t, (list, tuple, np.ndarray, Sequence)) for t in times):
            # One train per source: without this, trains of equal length
            # would read as a 2-D array of numbers.
            arr = np.empty(len(times), dtype=object)
            arr[:] = [t if isinstance(t, Sequence) else Sequence(t) for t in times]
            parameters["spike_times"] = arr
        super().__init__(**parameters)


class SpikeSourcePoisson(_NmpSpikeSourcePoisson):
    """Poisson spikes generated off the chip and played by the FPGA; drawn
    once per parameter set, as pynn-brainscales keeps its trains."""


def check_range(name, values):
    """Raise InvalidParameterValueError for values outside the hardware range."""
    lo, hi = RANGES[name]
    v = np.asarray(values, dtype=float)
    bad = (v < lo) | (v > hi) | (v != np.round(v))
    if np.any(bad):
        raise errors.InvalidParameterValueError(
            "HXNeuron parameter %s must be a whole number from %d to %d, got %s"
            % (name, lo, hi, v[bad][0]))


# -- cell types calibrated on run() ----------------------------------------------

#: The calibrated cells' parameters: (CUBA default, COBA default, lower,
#: upper, unit). Potentials are CADC reads, times µs of hardware time,
#: currents CapMem values.
_CALIB_PARAMETERS = {
    "v_rest": (80, 110, 50, 160, "CADC"), "v_reset": (70, 100, 50, 160, "CADC"),
    "v_thresh": (125, 160, 50, 220, "CADC"), "tau_m": (10, 10, 0.5, 60, "us"),
    "tau_syn_E": (10, 10, 0.3, 30, "us"), "tau_syn_I": (10, 10, 0.3, 30, "us"),
    "cm": (63, 63, 0, 63, "capacitor units"), "tau_refrac": (2, 2, 0.04, 32, "us"),
    "i_synin_gm_E": (500, 180, 30, 800, "CapMem LSB"), "i_synin_gm_I": (500, 250, 30, 800, "CapMem LSB"),
    "synapse_dac_bias": (600, 400, 30, 1022, "CapMem LSB"),
    "e_rev_E": (None, 300, -1e9, 1e9, "CADC"), "e_rev_I": (None, 30, -1e9, 1e9, "CADC"),
}


class _CalibHXNeuron(StandardCellType):
    """A neuron circuit calibrated by calix on run() to the parameters given
    (the emulation calibrates the whole chip in about two seconds, and the
    same targets on the same chip only once: calix's cache)."""

    default_initial_values = {}
    recordable = ["spikes", "v", "exc_synin", "inh_synin", "adaptation"]
    receptor_types = ["excitatory", "inhibitory"]
    injectable = False
    nmp_name = "HXNeuron"
    calibrated = True

    def __init__(self, plasticity_rule=None, **parameters):
        if plasticity_rule is not None:
            raise NotImplementedError("plasticity_rule: not emulated yet: nmp's chip has no plasticity "
                                      "processor (PPU), so plasticity rules cannot run")
        given = {k: v for k, v in parameters.items() if v is not None}
        for name, value in given.items():
            if name in self.default_parameters and not callable(value) and not hasattr(value, "next"):
                check_calib_range(type(self).__name__, name, value)
        super().__init__(**given)
        self._calib = None

    def can_record(self, variable, location=None):
        return variable in self.recordable

    def _calibration(self, what):
        if self._calib is None:
            raise AttributeError("%s.%s: not calibrated yet: run() (or run(None, RunCommand.PREPARE)) "
                                 "calibrates the chip" % (type(self).__name__, what))
        return self._calib[what]

    @property
    def calib_target(self):
        """The calibration's targets for this cell type's neurons (calix's
        NeuronCalibTarget fields, one array per field)."""
        return self._calibration("calib_target")

    @property
    def calib_hwparams(self):
        """The calibrated hardware parameters: one AtomicNeuron (lola's
        grouped view of HXNeuron's parameters) per neuron."""
        return self._calibration("calib_hwparams")

    @property
    def actual_hwparams(self):
        """The hardware parameters the neurons run with, one AtomicNeuron
        per neuron (`pop.actual_hwparams[0].leak.v_leak = 1022`): at first
        the calibration's; what the script changes is applied at the next
        run()."""
        return self._calibration("actual_hwparams")


def _calib_class(name, coba, doc):
    idx = 1 if coba else 0
    defaults = {k: float(v[idx]) for k, v in _CALIB_PARAMETERS.items() if v[idx] is not None}
    units = {"v": "dimensionless", "exc_synin": "dimensionless", "inh_synin": "dimensionless",
             "adaptation": "dimensionless"}
    units.update({k: _CALIB_PARAMETERS[k][4] for k in defaults})
    return type(name, (_CalibHXNeuron,), {
        "__doc__": doc, "default_parameters": defaults, "units": units, "conductance_based": coba,
        "translations": build_translations(*[(k, k) for k in defaults])})


CalibHXNeuronCuba = _calib_class("CalibHXNeuronCuba", False, """HX Neuron with automated calibration.
    Cell parameters correspond to parameters for calix's spiking calibration.
    Uses current-based synapses.""")
CalibHXNeuronCoba = _calib_class("CalibHXNeuronCoba", True, """HX Neuron with automated calibration.
    Cell parameters correspond to parameters for calix's spiking calibration.
    Uses conductance-based synapses (inhibitory weights positive, as for
    every conductance-based cell).""")
__all__ += ["CalibHXNeuronCuba", "CalibHXNeuronCoba"]


def check_calib_range(cell, name, values):
    """Raise ValueError for calibration targets outside calix's ranges."""
    lo, hi, unit = _CALIB_PARAMETERS[name][2:]
    v = np.asarray(values, dtype=float)
    bad = ~((v >= lo) & (v <= hi))
    if np.any(bad):
        raise ValueError("%s parameter %s: %g is outside the feasible range %g to %g %s"
                         % (cell, name, v[bad].flat[0], lo, hi, unit))
