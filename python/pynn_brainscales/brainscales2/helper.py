"""Helpers of pynn-brainscales: chip configurations from files, and the
nightly calibration.

chip_from_file reads the calibration files calix writes (docs/calibration.md:
the binary `*_cocolist.pbin`, the emulation's counterpart of the real
stack's portable-binary dump of a playback program, and the readable
`*_cocolist.json[.gz]`), and plain chip configurations written by
chip_to_file: JSON {"neurons": {PARAMETER: [512 values]}, "synapse_dac_bias":
..., "clock_scale_slow": ..., "clock_scale_fast": ..., "cadc": ..., "chip": ...}.
"""

import json
import logging
import os
import subprocess
from pathlib import Path

from .simulator import Chip, DEFAULT_CHIP, CHIP_ENV
from .standardmodels import cells

__all__ = ["chip_from_file", "chip_to_file", "nightly_calib_path", "chip_from_nightly",
           "get_values_of_atomic_neuron"]

#: Where the nightly calibrations are: set by nmp worker to the platform's
#: calibrations of the chip a job runs on; without it, the user's cache.
CALIB_DIR_ENV = "NMP_BSS2_CALIBRATION_DIR"

_log = logging.getLogger("pynn_brainscales")

_PLAIN_FIELDS = {"neurons", "synapse_dac_bias", "clock_scale_slow", "clock_scale_fast", "chip", "cadc",
                 "calibration"}


def _chip_from_calibration(raw, path):
    n = raw["neuron"]
    g = n.get("globals") or {}
    cadc = raw["cadc"]
    chip = Chip(n["neurons"], g.get("synapse_dac_bias"),
                int(g["clock_scale_slow"][0]) if "clock_scale_slow" in g else None,
                int(g["clock_scale_fast"][0]) if "clock_scale_fast" in g else None,
                {"v_ramp_offset": cadc["v_ramp_offset"], "i_ramp_slope": cadc["i_ramp_slope"],
                 "channel_offset": cadc["channel_offset"]},
                raw["chip"],
                {"chip": raw["chip"], "created": raw.get("created"), "algorithm": raw.get("algorithm"),
                 # the file itself, not a link to it (nightly's stable/latest): its version
                 "file": os.path.realpath(str(path))})
    return chip


def chip_from_file(path):
    """Convert a calibration file (binary or JSON, as calix writes them) or
    a chip configuration (chip_to_file) into a Chip for
    setup(initial_config=...)."""
    from calix import files
    with open(path, "rb") as f:
        data = f.read()
    if data[:7] == files.MAGIC[:7] or data[:2] == b"\x1f\x8b" or b'"nmp-bss2-calibration"' in data[:4096]:
        return _chip_from_calibration(files.loads(data, str(path)), path)
    try:
        doc = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError) as err:
        raise ValueError("%s: neither a calibration file nor a chip configuration: %s" % (path, err)) from None
    unknown = set(doc) - _PLAIN_FIELDS
    if unknown:
        raise ValueError("%s: unknown fields %s" % (path, sorted(unknown)))
    for name, values in doc.get("neurons", {}).items():
        if name not in cells.RANGES:
            raise ValueError("%s: HXNeuron has no parameter %r" % (path, name))
        if len(values) != 512:
            raise ValueError("%s: %s has %d values; give one per circuit (512)" % (path, name, len(values)))
        cells.check_range(name, values)
    return Chip(doc.get("neurons"), doc.get("synapse_dac_bias"), doc.get("clock_scale_slow"),
                doc.get("clock_scale_fast"), doc.get("cadc"), doc.get("chip"), doc.get("calibration"))


def chip_to_file(chip, path):
    """Write a chip configuration (JSON)."""
    doc = {"neurons": {k: [float(x) for x in v] for k, v in chip.neurons.items()}}
    for key in ("synapse_dac_bias", "clock_scale_slow", "clock_scale_fast", "cadc", "chip", "calibration"):
        v = getattr(chip, key)
        if v is not None:
            doc[key] = v if not hasattr(v, "tolist") else v.tolist()
    with open(path, "w") as f:
        json.dump(doc, f)


def _chip(chip):
    return str(chip or os.environ.get(CHIP_ENV) or DEFAULT_CHIP)


def nightly_calib_path(chip=None):
    """Find path for nightly calibration: the latest default calibration of
    the chip the experiment runs on ($NMP_BSS2_CHIP). Inside a job, the
    platform's (nmp worker sets $NMP_BSS2_CALIBRATION_DIR); elsewhere the
    user's cache, ~/.cache/nmp/brainscales2."""
    base = os.environ.get(CALIB_DIR_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "nmp", "brainscales2")
    return Path(base) / _chip(chip) / "stable" / "latest" / "spiking_cocolist.pbin"


def chip_from_nightly(chip=None):
    """Extract chip config from nightly calibration. Outside the platform,
    where no nightly calibration exists, the default calibration is made
    once (about two seconds, `nmp calib run`) and kept where
    nightly_calib_path() points."""
    path = nightly_calib_path(chip)
    if not path.exists():
        if os.environ.get(CALIB_DIR_ENV):
            raise RuntimeError('Could not find a nightly calibration for setup "%s" at %s: the platform has '
                               "not calibrated this chip yet" % (_chip(chip), path))
        from nmp.simclient import find_binary
        _log.warning("no nightly calibration of %s at %s: calibrating it now (nmp calib run)", _chip(chip), path)
        path.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([find_binary(), "calib", "run", "-chip", _chip(chip), "-o", str(path.parent)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise RuntimeError("calibrating %s failed: %s" % (_chip(chip), proc.stderr.decode(errors="replace").strip()))
    return chip_from_file(path)


def get_values_of_atomic_neuron(atomic_neuron=None, exclude=None):
    """HXNeuron's parameters and their defaults (pynn-brainscales' name for
    the flattened neuron configuration)."""
    values = dict(cells.HXNeuron.default_parameters)
    for name in exclude or ():
        values.pop(name, None)
    return values
