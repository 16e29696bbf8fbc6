"""calix.spiking.neuron: calibrate LIF neurons for spiking operation.

All parameters are given in the "technical" domain: potentials as CADC
reads, time constants with a unit of the quantities package (hardware time:
µs), currents as CapMem values. Scalars apply to all 512 neurons; arrays
of shape (512,) give one value per neuron."""

import copy
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import quantities as pq

from .. import _backend
from ..common.base import CalibResult, check_time, check_values, values_json, N_NEURONS

__all__ = ["NeuronCalibTarget", "NeuronCalibOptions", "NeuronCalibResult", "calibrate",
           "calibrate_leak_over_threshold", "refine_potentials"]

_N = (N_NEURONS,)
_SIDES = ((2,), (2, N_NEURONS))


@dataclass
class NeuronCalibTarget:
    """Target parameters of the neuron calibration (calix's defaults).

    leak, reset, threshold: CADC reads (50-160, 50-160, 50-220);
    tau_mem (0.5-60 µs), tau_syn (0.3-30 µs; shape (2,) or (2, 512) for
    [excitatory, inhibitory]), refractory_time (0.04-32 µs), holdoff_time
    (0-4 µs): times with units; i_synin_gm: the synaptic inputs' OTA bias
    (30-800; a scalar, or [excitatory, inhibitory]); e_coba_reversal:
    [excitatory, inhibitory] reversal potentials for COBA inputs (None:
    CUBA; NaN entries: CUBA for those neurons); e_coba_reference (60-160);
    membrane_capacitance (0-63); synapse_dac_bias (30-1022, global)."""
    leak: object = 80
    reset: object = 70
    threshold: object = 125
    tau_mem: object = field(default_factory=lambda: 10 * pq.us)
    tau_syn: object = field(default_factory=lambda: 10 * pq.us)
    i_synin_gm: object = 500
    e_coba_reversal: object = None
    e_coba_reference: object = None
    membrane_capacitance: object = 63
    refractory_time: object = field(default_factory=lambda: 2 * pq.us)
    synapse_dac_bias: object = 600
    holdoff_time: object = field(default_factory=lambda: 0 * pq.us)

    def check(self):
        """Raise TypeError (time constants without a unit) or ValueError (a
        bad shape, a value out of the feasible range), naming the field."""
        self._check()

    def _check(self):
        out = {}
        out["leak"] = check_values("leak", self.leak, 50, 160, [_N], "(CADC reads)")
        out["reset"] = check_values("reset", self.reset, 50, 160, [_N], "(CADC reads)")
        out["threshold"] = check_values("threshold", self.threshold, 50, 220, [_N], "(CADC reads)")
        out["tau_mem"] = check_time("tau_mem", self.tau_mem, 0.5, 60, [_N])
        out["tau_syn"] = check_time("tau_syn", self.tau_syn, 0.3, 30, [_N] + list(_SIDES))
        gm = np.asarray(self.i_synin_gm, dtype=float)
        out["i_synin_gm"] = check_values("i_synin_gm", gm, 30, 800, [(2,)], "(CapMem LSB)")
        if self.e_coba_reversal is not None:
            rev = np.asarray(self.e_coba_reversal, dtype=float)
            if rev.shape not in _SIDES:
                raise ValueError("e_coba_reversal: shape %s is not feasible: give an array of shape (2,) or (2, 512) "
                                 "for [excitatory, inhibitory]" % (rev.shape,))
            out["e_coba_reversal"] = rev
        if self.e_coba_reference is not None:
            ref = np.asarray(self.e_coba_reference, dtype=float)
            ok = ref[~np.isnan(ref)] if ref.shape != () else (ref if not np.isnan(ref) else None)
            if ok is not None:
                check_values("e_coba_reference", ok if ref.shape != () else ref, 60, 160, [ok.shape if ref.shape != () else ()], "(CADC reads)")
            if ref.shape not in ((), _N):
                raise ValueError("e_coba_reference: shape %s is not feasible: give a scalar or an array of shape (512,)" % (ref.shape,))
            out["e_coba_reference"] = ref
        out["membrane_capacitance"] = check_values("membrane_capacitance", self.membrane_capacitance, 0, 63, [_N])
        out["refractory_time"] = check_time("refractory_time", self.refractory_time, 0.04, 32, [_N])
        out["holdoff_time"] = check_time("holdoff_time", self.holdoff_time, 0, 4, [_N])
        out["synapse_dac_bias"] = check_values("synapse_dac_bias", self.synapse_dac_bias, 30, 1022, [], "(CapMem LSB)")
        if np.any(np.broadcast_to(out["holdoff_time"], _N) > np.broadcast_to(out["refractory_time"], _N)):
            raise ValueError("holdoff_time: longer than refractory_time for some neurons (the holdoff is part of "
                             "the refractory time)")
        if "e_coba_reversal" in out:
            _check_coba_room(out)
        return out

    def _json(self):
        v = self._check()
        tau = v["tau_syn"]
        if tau.shape in ((), _N):
            exc = inh = tau
        else:
            exc, inh = tau[0], tau[1]
        gm = v["i_synin_gm"]
        gm_e, gm_i = (float(gm), float(gm)) if gm.shape == () else (float(gm[0]), float(gm[1]))
        d = {"leak": values_json(v["leak"]), "reset": values_json(v["reset"]), "threshold": values_json(v["threshold"]),
             "tau_mem_us": values_json(v["tau_mem"]), "tau_syn_exc_us": values_json(exc), "tau_syn_inh_us": values_json(inh),
             "i_synin_gm_exc": gm_e, "i_synin_gm_inh": gm_i, "match_synin": gm_e == gm_i,
             "membrane_capacitance": values_json(v["membrane_capacitance"]),
             "refractory_time_us": values_json(v["refractory_time"]), "holdoff_time_us": values_json(v["holdoff_time"]),
             "synapse_dac_bias": float(v["synapse_dac_bias"])}
        if "e_coba_reversal" in v:
            rev = v["e_coba_reversal"]
            d["e_coba_reversal_exc"], d["e_coba_reversal_inh"] = values_json(rev[0]), values_json(rev[1])
        if "e_coba_reference" in v:
            d["e_coba_reference"] = values_json(v["e_coba_reference"])
        return d


def _check_coba_room(v):
    """The COBA calibration measures PSPs at half an excursion from the
    reference and at a second resting potential towards the reversal (or,
    if that is too close, 60 on the reference's other side), both within
    60 to 165 CADC reads; refuse targets that leave no room (as the Go side
    does, but as a ValueError before the chip is touched)."""
    leak = np.broadcast_to(np.asarray(v["leak"], dtype=float), _N)
    thr = np.broadcast_to(np.asarray(v["threshold"], dtype=float), _N)
    ref = (leak + thr) / 2
    if "e_coba_reference" in v:
        given = np.broadcast_to(v["e_coba_reference"], _N)
        ref = np.where(np.isnan(given), ref, given)
    rev = v["e_coba_reversal"]
    for side, sign, name in ((0, 1.0, "excitatory"), (1, -1.0, "inhibitory")):
        r = np.broadcast_to(rev[side], _N)
        active = ~np.isnan(r)
        out = active & ((ref < 60) | (ref > 165))
        if np.any(out):
            i = int(np.flatnonzero(out)[0])
            raise ValueError("e_coba_reference: %g at neuron %d (midway between its leak and threshold unless given) "
                             "is outside 60 to 165 CADC reads, where PSPs can be measured" % (ref[i], i))
        x = np.clip(ref + 0.8 * (np.where(active, r, ref) - ref), 60, 165)
        x = np.where(np.abs(ref - x) < 60, ref - sign * 60, x)
        bad = active & ((x < 60) | (x > 165))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError("e_coba_reversal (%s): the reference %g and the reversal %g at neuron %d leave no room for "
                             "a second PSP measurement 60 or more from the reference within 60 to 165 CADC reads"
                             % (name, ref[i], r[i], i))


@dataclass
class NeuronCalibOptions:
    """Further options: readout_neuron (accepted, not used: the emulation
    has no analog pads)."""
    readout_neuron: Optional[object] = None


class NeuronCalibResult(CalibResult):
    """The neurons' configuration (HXNeuron parameters, one array of 512
    per parameter, in `neurons`), the global settings (`cocos`: synapse
    DAC bias per quadrant, clock scales) and each neuron's success."""

    def __init__(self, target, options, raw, chip):
        self.target = target
        self.options = options
        self._raw = raw
        self.chip = chip
        self.neurons = {k: np.asarray(v, dtype=float) for k, v in raw["neurons"].items()}
        self.cocos = {k: np.asarray(v, dtype=float) for k, v in raw.get("globals", {}).items()}
        self.success = np.asarray(raw["success"], dtype=bool)
        #: The neurons that failed, per step (a parameter at its range limit).
        self.failed = {k: list(v) for k, v in (raw.get("failed") or {}).items()}
        self.steps = [(s["name"], s["seconds"]) for s in raw.get("steps") or []]

    @property
    def success_mask(self):
        return self.success

    def apply(self, connection):
        connection._check()
        connection.neuron_result = self

    def atomic_neurons(self):
        """One dict of HXNeuron parameters per neuron circuit (lola's
        AtomicNeuron, flattened)."""
        return tuple({k: float(v[i]) for k, v in self.neurons.items()} for i in range(N_NEURONS))

    def to_chip(self, initial_config=None, chip=None):
        from pynn_brainscales.brainscales2.simulator import Chip
        c = Chip() if initial_config is None else initial_config.copy()
        c.neurons.update({k: v.copy() for k, v in self.neurons.items()})
        if "synapse_dac_bias" in self.cocos:
            c.synapse_dac_bias = self.cocos["synapse_dac_bias"].copy()
        if "clock_scale_slow" in self.cocos:
            c.clock_scale_slow = int(self.cocos["clock_scale_slow"][0])
        if "clock_scale_fast" in self.cocos:
            c.clock_scale_fast = int(self.cocos["clock_scale_fast"][0])
        c.chip = self.chip
        return c

    def _refresh(self, raw):
        self.__init__(self.target, self.options, raw, self.chip)


def _needs_cadc(connection):
    connection._check()
    if connection.cadc_result is None:
        raise RuntimeError("the CADC of chip %s is not calibrated: call calix.common.cadc.calibrate(connection) "
                           "first; the neuron calibration measures through it" % connection.chip)


def calibrate(connection, target=None, options=None):
    """Calibrate neurons for spiking operation in the LIF model.

    Requires a calibrated CADC (calix.common.cadc.calibrate). Raises
    TypeError if time constants are not given with a unit from the
    quantities package, ValueError if parameters are badly shaped or out of
    the feasible range."""
    target = target or NeuronCalibTarget()
    options = options or NeuronCalibOptions()
    tj = target._json()
    _needs_cadc(connection)
    reply = _backend.execute({"op": "neuron", "chip": connection.chip, "seed": connection.seed,
                              "cadc": connection.cadc_result._json(), "target": tj})
    result = NeuronCalibResult(target, options, reply["neuron"], connection.chip)
    result.apply(connection)
    failed = np.flatnonzero(~result.success)
    if len(failed):
        import logging
        logging.getLogger("calix").warning("Calib failed for %d neurons: %s", len(failed), failed.tolist())
    return result


def calibrate_leak_over_threshold(connection, result, leak_over_threshold_rate=100 * pq.kHz):
    """Calibrate the thresholds so that each neuron fires at the given rate
    (hardware time; a scalar or one per neuron, 0 leaving a neuron as it is)
    with its leak above its threshold, without synaptic input. Overwrites the
    thresholds in `result`."""
    if not isinstance(leak_over_threshold_rate, pq.Quantity):
        raise TypeError("leak_over_threshold_rate: give a rate with a unit from the quantities package "
                        "(e.g. 100 * pq.kHz), got %r" % (leak_over_threshold_rate,))
    khz = check_values("leak_over_threshold_rate", leak_over_threshold_rate.rescale(pq.kHz).magnitude,
                       0, 1000, [_N], "kHz")
    _needs_cadc(connection)
    reply = _backend.execute({"op": "leak_over_threshold", "chip": connection.chip, "seed": connection.seed + 2,
                              "cadc": connection.cadc_result._json(), "neuron": result._raw,
                              "rate_khz": values_json(khz)})
    result._refresh(reply["neuron"])
    result.apply(connection)


def refine_potentials(connection, result, target=None):
    """Re-calibrate the leak, reset and threshold potentials (best after
    the CADC was calibrated again); the potentials of `target`, when given,
    replace the result's targets."""
    _needs_cadc(connection)
    req = {"op": "refine", "chip": connection.chip, "seed": connection.seed + 1,
           "cadc": connection.cadc_result._json(), "neuron": result._raw}
    if target is not None:
        req["target"] = target._json()
        result.target = copy.copy(target)
    reply = _backend.execute(req)
    result._refresh(reply["neuron"])
    result.apply(connection)
