"""Base classes of calibration results, and value checks shared by the
targets."""

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import quantities as pq

N_NEURONS = 512


def check_time(name, value, lo_us, hi_us, shapes):
    """A time constant as µs: TypeError without a unit of the quantities
    package, ValueError for a bad shape or a value out of range."""
    if value is None:
        return None
    if not isinstance(value, pq.Quantity):
        raise TypeError("%s: time constants must be given with a unit from the quantities package "
                        "(e.g. 10 * pq.us), got %r" % (name, value))
    try:
        us = np.asarray(value.rescale(pq.us).magnitude, dtype=float)
    except ValueError:
        raise TypeError("%s: %s is not a unit of time" % (name, value.dimensionality)) from None
    return check_values(name, us, lo_us, hi_us, shapes, "µs")


def check_values(name, value, lo, hi, shapes, unit=""):
    """A scalar or array target: ValueError for a bad shape or a value
    outside [lo, hi], naming the field and the range."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=float)
    if arr.shape != () and arr.shape not in shapes:
        raise ValueError("%s: shape %s is not feasible: give a scalar or an array of shape %s"
                         % (name, arr.shape, " or ".join(str(s) for s in shapes)))
    bad = ~((arr >= lo) & (arr <= hi))
    if np.any(bad):
        where = "" if arr.shape == () else " (at index %s)" % (tuple(int(i) for i in np.argwhere(bad)[0]),)
        raise ValueError("%s: %g%s is outside the feasible range %g to %g %s"
                         % (name, arr[bad].flat[0], where, lo, hi, unit))
    return arr


def values_json(arr):
    """A scalar or per-neuron array as the Go side's Values (NaN as null)."""
    if arr is None:
        return None
    arr = np.asarray(arr, dtype=float)
    if arr.shape == ():
        return None if np.isnan(arr) else float(arr)
    return [None if np.isnan(x) else float(x) for x in arr.ravel()]


def is_number(x):
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


class TopLevelCalibTarget(object):
    """A calibration that calix.calibrate() runs and caches: a subclass
    implements calibrate(connection, options) and returns a CalibResult.
    Equal targets and options on the same chip calibrate once (the cache
    keeps the pickled result)."""

    def calibrate(self, connection, options=None):
        raise NotImplementedError("%s.calibrate(connection, options) is not implemented" % type(self).__name__)


@dataclass(eq=False, repr=False)
class CalibResult(object):
    """A calibration result: apply it to a connection, or turn it into a
    chip configuration (to_chip). Subclasses may be dataclasses adding
    fields after `target` and `options`."""

    # Keyword-only, so that subclasses' own fields keep their positions.
    target: Any = field(default=None, kw_only=True)
    options: Any = field(default=None, kw_only=True)

    def apply(self, connection):
        raise NotImplementedError

    def to_chip(self, initial_config=None, chip=None):
        raise NotImplementedError
