"""nmp's calix: the calibration of (emulated) BrainScaleS-2 chips, with
calix's API. The calibration itself runs in Go on the emulated chip (`nmp
calib`, docs/calibration.md) and takes about two seconds for a whole chip.

    import calix
    from calix.spiking import SpikingCalibTarget
    result = calix.calibrate(SpikingCalibTarget())   # cached per target and chip
    chip = result.to_chip()                          # for pynn.setup(initial_config=chip)
"""

import hashlib
import json
import logging
import os
from pathlib import Path

from . import _backend, files
from .connection import ManagedConnection
from . import common, spiking  # noqa: F401
from .common import cadc  # noqa: F401
from .spiking import neuron  # noqa: F401

__all__ = ["calibrate", "default_cache_paths", "ManagedConnection"]

_log = logging.getLogger("calix")


def default_cache_paths():
    """$XDG_CACHE_HOME/calix, else ~/.cache/calix."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [Path(base) / "calix"]


def cache_key(target, options, chip):
    """sha256 of the target, the options, the chip's identity and the
    calibration's algorithm version."""
    doc = {"target": target._json(), "options": options._json(), "chip": chip, "algorithm": _backend.ALGORITHM}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, allow_nan=False).encode()).hexdigest()


def calibrate(target=None, options=None, cache_paths=None, cache_read_only=False, connection=None):
    """Calibrate the chip (or take the calibration from the cache) and apply
    the result to the connection. `target` is a
    calix.spiking.SpikingCalibTarget (default: calix's defaults). The cache
    holds one file per key (target, options, chip, algorithm) in the first of
    `cache_paths` that has it; a new calibration is written to the first
    path unless `cache_read_only`. Nothing is written when the calibration
    fails."""
    from .spiking import SpikingCalibOptions, SpikingCalibResult, SpikingCalibTarget
    from .spiking import calibrate as spiking_calibrate
    if isinstance(target, common.base.TopLevelCalibTarget):
        return _calibrate_target(target, options, cache_paths, cache_read_only, connection)
    target = target or SpikingCalibTarget()
    options = options or SpikingCalibOptions()
    if not isinstance(target, SpikingCalibTarget):
        raise TypeError("calix.calibrate: target must be a calix.spiking.SpikingCalibTarget, got %s"
                        % type(target).__name__)
    own = connection is None
    if own:
        connection = ManagedConnection()
    try:
        key = cache_key(target, options, connection.get_unique_identifier())
        paths = [Path(p) for p in (default_cache_paths() if cache_paths is None else cache_paths)]
        for p in paths:
            f = p / (key + ".json.gz")
            if f.is_file():
                try:
                    raw = files.read(f)
                except (OSError, files.CalibrationFileError) as err:
                    _log.warning("ignoring the cached calibration %s: %s", f, err)
                    continue
                if raw.get("algorithm") == _backend.ALGORITHM and raw.get("chip") == connection.chip:
                    result = SpikingCalibResult(target, options, raw)
                    result.apply(connection)
                    _log.debug("calibration of %s from the cache %s", connection.chip, f)
                    return result
        result = spiking_calibrate(connection, target, options)
        if not cache_read_only and paths:
            try:
                paths[0].mkdir(parents=True, exist_ok=True)
                files.write(result.raw, paths[0] / (key + ".json.gz"))
            except OSError as err:
                _log.warning("could not cache the calibration in %s: %s", paths[0], err)
        return result
    finally:
        if own:
            connection.close()


def _calibrate_target(target, options, cache_paths, cache_read_only, connection):
    """calibrate() for a TopLevelCalibTarget of the script's own: its
    calibrate(connection, options) runs unless the cache holds the result of
    equal target and options on this chip (the key hashes their pickles,
    the chip and the algorithm version; the file is the pickled result)."""
    import pickle
    own = connection is None
    if own:
        connection = ManagedConnection()
    try:
        doc = pickle.dumps((type(target).__module__, type(target).__qualname__, target, options), protocol=4)
        key = hashlib.sha256(doc + connection.get_unique_identifier().encode() +
                             _backend.ALGORITHM.encode()).hexdigest()
        paths = [Path(p) for p in (default_cache_paths() if cache_paths is None else cache_paths)]
        for p in paths:
            f = p / (key + ".pkl")
            if f.is_file():
                try:
                    with open(f, "rb") as fh:
                        result = pickle.load(fh)
                except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as err:
                    _log.warning("ignoring the cached calibration %s: %s", f, err)
                    continue
                _log.info("calibration of %s from the cache %s", connection.chip, f)
                result.apply(connection)
                return result
        result = target.calibrate(connection, options)
        if not cache_read_only and paths:
            try:
                paths[0].mkdir(parents=True, exist_ok=True)
                with open(paths[0] / (key + ".pkl"), "wb") as fh:
                    pickle.dump(result, fh, protocol=4)
            except OSError as err:
                _log.warning("could not cache the calibration in %s: %s", paths[0], err)
        return result
    finally:
        if own:
            connection.close()
