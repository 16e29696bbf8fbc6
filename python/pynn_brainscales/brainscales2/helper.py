"""Helpers of pynn-brainscales: chip configurations from files.

A chip configuration file is JSON: {"neurons": {PARAMETER: [512 values]},
"synapse_dac_bias": ..., "clock_scale_slow": ..., "clock_scale_fast": ...}
(the emulation's counterpart of the real stack's portable-binary cocolists).
"""

import json
import os
from pathlib import Path

from .simulator import Chip, DEFAULT_CHIP
from .standardmodels import cells

__all__ = ["chip_from_file", "chip_to_file", "nightly_calib_path", "chip_from_nightly",
           "get_values_of_atomic_neuron"]

#: Where nightly calibrations of the virtual chips would be kept.
CALIB_DIR_ENV = "NMP_BSS2_CALIBRATION_DIR"


def chip_from_file(path):
    """Read a chip configuration (JSON, see the module's doc)."""
    with open(path) as f:
        doc = json.load(f)
    unknown = set(doc) - {"neurons", "synapse_dac_bias", "clock_scale_slow", "clock_scale_fast", "chip"}
    if unknown:
        raise ValueError("%s: unknown fields %s" % (path, sorted(unknown)))
    for name, values in doc.get("neurons", {}).items():
        if name not in cells.RANGES:
            raise ValueError("%s: HXNeuron has no parameter %r" % (path, name))
        if len(values) != 512:
            raise ValueError("%s: %s has %d values; give one per circuit (512)" % (path, name, len(values)))
        cells.check_range(name, values)
    return Chip(doc.get("neurons"), doc.get("synapse_dac_bias"), doc.get("clock_scale_slow"),
                doc.get("clock_scale_fast"))


def chip_to_file(chip, path):
    """Write a chip configuration."""
    doc = {"neurons": {k: [float(x) for x in v] for k, v in chip.neurons.items()}}
    for key in ("synapse_dac_bias", "clock_scale_slow", "clock_scale_fast"):
        v = getattr(chip, key)
        if v is not None:
            doc[key] = v if not hasattr(v, "tolist") else v.tolist()
    with open(path, "w") as f:
        json.dump(doc, f)


def nightly_calib_path(chip=DEFAULT_CHIP):
    """The path of the nightly calibration of a virtual chip."""
    base = os.environ.get(CALIB_DIR_ENV, os.path.expanduser("~/.cache/nmp/brainscales2"))
    return Path(base) / chip / "stable" / "latest" / "spiking_cocolist.json"


def chip_from_nightly(chip=DEFAULT_CHIP):
    """The nightly calibration of a virtual chip, if one was stored."""
    path = nightly_calib_path(chip)
    if not path.exists():
        raise RuntimeError(
            'Could not find a nightly calibration for setup "%s" (looked for %s): nmp does not '
            "calibrate its virtual chips yet (no calix emulation); write one with helper.chip_to_file"
            % (chip, path))
    return chip_from_file(path)


def get_values_of_atomic_neuron(atomic_neuron=None, exclude=None):
    """HXNeuron's parameters and their defaults (pynn-brainscales' name for
    the flattened neuron configuration)."""
    values = dict(cells.HXNeuron.default_parameters)
    for name in exclude or ():
        values.pop(name, None)
    return values
