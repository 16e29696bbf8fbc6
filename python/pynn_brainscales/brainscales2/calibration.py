"""The calibration of CalibHXNeuronCuba / CalibHXNeuronCoba populations on
run(): their parameters become calix targets for the circuits they are
placed on (the default targets for the other circuits), calix calibrates the
chip (or takes the calibration from its cache), and the calibrated circuit
configuration joins the experiment's initial configuration."""

import numpy as np
import quantities as pq

from .atomic import AtomicNeuron

N = 512

# pynn parameter -> calix NeuronCalibTarget field
_FIELDS = {"v_rest": "leak", "v_reset": "reset", "v_thresh": "threshold", "tau_m": "tau_mem",
           "cm": "membrane_capacitance", "tau_refrac": "refractory_time"}
_GLOBAL = ("i_synin_gm_E", "i_synin_gm_I", "synapse_dac_bias")


def is_calibrated(celltype):
    return getattr(celltype, "calibrated", False)


def placement(populations, permutation=None):
    """The circuits of each HX population (HXNeuron or calibrated), in
    population order, as the Go system places them."""
    perm = list(range(N)) if permutation is None else list(permutation)
    out, nxt = {}, 0
    for p in populations:
        if type(p.celltype).__name__ in ("HXNeuron", "CalibHXNeuronCuba", "CalibHXNeuronCoba"):
            out[p._index] = perm[nxt:nxt + p.size]
            nxt += p.size
    return out


def calibrate(state, populations):
    """Calibrate the chip for the calibrated populations; return the Chip to
    run with (None when there are none)."""
    import calix
    from calix.connection import ManagedConnection
    from calix.spiking import SpikingCalibTarget
    from calix.spiking.neuron import NeuronCalibTarget
    from .simulator import Chip

    pops = [p for p in populations if is_calibrated(p.celltype)]
    if not pops:
        return None
    where = placement(populations, state.options.get("neuron_permutation"))
    t = {"leak": np.full(N, 80.0), "reset": np.full(N, 70.0), "threshold": np.full(N, 125.0),
         "tau_mem": np.full(N, 10.0), "membrane_capacitance": np.full(N, 63.0), "refractory_time": np.full(N, 2.0),
         "tau_syn": np.full((2, N), 10.0), "e_coba_reversal": np.full((2, N), np.nan)}
    glob, coba = {}, False
    for p in pops:
        circ = np.asarray(where[p._index], dtype=int)
        params = {k: np.broadcast_to(np.asarray(v, dtype=float), (p.size,)) for k, v in p._parameters.items()}
        for k, f in _FIELDS.items():
            t[f][circ] = params[k]
        t["tau_syn"][0, circ], t["tau_syn"][1, circ] = params["tau_syn_E"], params["tau_syn_I"]
        if "e_rev_E" in params:
            coba = True
            t["e_coba_reversal"][0, circ], t["e_coba_reversal"][1, circ] = params["e_rev_E"], params["e_rev_I"]
        for g in _GLOBAL:
            vals = np.unique(params[g])
            if len(vals) > 1:
                raise RuntimeError("%s: %s needs to be same for all neurons and populations (it is a global "
                                   "setting of the calibration), got %s" % (p.label, g, vals.tolist()))
            if g in glob and glob[g][0] != vals[0]:
                raise RuntimeError("%s: %s needs to be same for all populations: %s has %g, %s has %g"
                                 % (p.label, g, glob[g][1], glob[g][0], p.label, vals[0]))
            glob[g] = (float(vals[0]), p.label)
    target = NeuronCalibTarget(
        leak=t["leak"], reset=t["reset"], threshold=t["threshold"], tau_mem=t["tau_mem"] * pq.us,
        tau_syn=t["tau_syn"] * pq.us, i_synin_gm=np.array([glob["i_synin_gm_E"][0], glob["i_synin_gm_I"][0]]),
        e_coba_reversal=t["e_coba_reversal"] if coba else None, membrane_capacitance=t["membrane_capacitance"],
        refractory_time=t["refractory_time"] * pq.us, synapse_dac_bias=glob["synapse_dac_bias"][0])
    cache = state.calibration_cache
    with ManagedConnection(chip=state.chip) as conn:
        result = calix.calibrate(SpikingCalibTarget(neuron_target=target), cache_paths=cache, connection=conn)
    user = state.user_initial_config
    chip = result.to_chip()
    if user is not None:
        # The script's configuration stays for the circuits of HXNeuron
        # populations; the calibration's global settings win.
        own = np.zeros(N, dtype=bool)
        for p in pops:
            own[np.asarray(where[p._index], dtype=int)] = True
        for name, values in user.neurons.items():
            merged = np.array(values, dtype=float)
            if name in chip.neurons:
                merged[own] = chip.neurons[name][own]
            chip.neurons[name] = merged
    chip.calibration = {"chip": result.chip, "created": result.raw.get("created"),
                        "algorithm": result.raw.get("algorithm"), "kind": "CalibHXNeuron (calix on run)"}
    nr = result.neuron_result
    hw = nr.atomic_neurons()
    for p in pops:
        circ = where[p._index]
        mine = {f: (v[:, circ] if np.ndim(v) == 2 else v[circ]) for f, v in t.items() if not (f == "e_coba_reversal" and not coba)}
        per = tuple(AtomicNeuron(hw[c]) for c in circ)
        old = p.celltype._calib
        if old is not None and old["circuits"] == list(circ) and _same_target(old["calib_target"], mine):
            # Same targets on the same circuits: the calibration is the
            # same, and what the script changed in actual_hwparams stays.
            actual = old["actual_hwparams"]
        else:
            actual = tuple(AtomicNeuron(hw[c], on_change=state.structure_changed) for c in circ)
        p.celltype._calib = {"calib_target": mine, "calib_hwparams": per, "actual_hwparams": actual,
                             "circuits": list(circ)}
        # The circuits run with actual_hwparams (the calibration, unless
        # the script changed it).
        for c, neuron in zip(circ, actual):
            for name, v in neuron.flat().items():
                if name in chip.neurons:
                    chip.neurons[name][c] = v
    return chip


def _same_target(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
