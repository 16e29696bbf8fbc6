"""calix.common.cadc: the CADC calibration (ramp offset and slope per
quadrant, then every channel's offset)."""

from dataclasses import dataclass, field

import numpy as np

from .. import _backend
from .base import CalibResult


@dataclass
class CADCCalibTarget:
    """CapMem range of the reference voltage (dynamic_range) and the reads
    at its ends (read_range)."""
    dynamic_range: tuple = (70, 550)
    read_range: tuple = (20, 220)

    def check(self):
        lo, hi = self.dynamic_range
        if not (0 <= lo < hi <= 1022):
            raise ValueError("dynamic_range: %s must lie within the CapMem range 0 to 1022, lower below upper"
                             % (tuple(self.dynamic_range),))
        if lo < 30:
            raise ValueError("dynamic_range: Please choose a greater lower end of the dynamic range (%g). "
                             "70 seems like a feasible value." % lo)
        rlo, rhi = self.read_range
        if not (0 <= rlo < rhi <= 255):
            raise ValueError("read_range: %s must lie within the CADC's 0 to 255, lower below upper"
                             % (tuple(self.read_range),))

    def _json(self):
        return {"dynamic_range": [float(x) for x in self.dynamic_range],
                "read_range": [float(x) for x in self.read_range]}


@dataclass
class CADCCalibOptions:
    calibrate_offsets: bool = True

    def _json(self):
        return {"skip_offsets": not self.calibrate_offsets}


@dataclass
class CADCCalibResult(CalibResult):
    """Ramp offset and slope per quadrant (4), channel offsets (1024) and
    the channels' success."""
    v_ramp_offset: np.ndarray
    i_ramp_slope: np.ndarray
    channel_offset: np.ndarray
    success: np.ndarray
    statistics: dict = field(default_factory=dict)
    _raw: dict = field(default=None, repr=False)

    @classmethod
    def _from_json(cls, d):
        return cls(np.asarray(d["v_ramp_offset"], dtype=float), np.asarray(d["i_ramp_slope"], dtype=float),
                   np.asarray(d["channel_offset"], dtype=float), np.asarray(d["success"], dtype=bool),
                   {"before": d.get("before"), "after": d.get("after")}, d)

    def _json(self):
        if self._raw is not None:
            return self._raw
        return {"v_ramp_offset": self.v_ramp_offset.tolist(), "i_ramp_slope": self.i_ramp_slope.tolist(),
                "channel_offset": self.channel_offset.tolist(), "success": self.success.tolist()}

    def apply(self, connection):
        connection._check()
        connection.cadc_result = self

    def cadc_options(self):
        """The result as the chip's CADC configuration (system option `cadc`)."""
        return {"v_ramp_offset": [float(x) for x in self.v_ramp_offset],
                "i_ramp_slope": [float(x) for x in self.i_ramp_slope],
                "channel_offset": [float(x) for x in self.channel_offset]}

    def to_chip(self, initial_config=None, chip=None):
        from pynn_brainscales.brainscales2.simulator import Chip
        c = Chip() if initial_config is None else initial_config.copy()
        c.cadc = self.cadc_options()
        return c


def calibrate(connection, target=None, options=None):
    """Calibrate the CADC on the connection's chip and apply the result."""
    connection._check()
    target = target or CADCCalibTarget()
    options = options or CADCCalibOptions()
    target.check()
    reply = _backend.execute({"op": "cadc", "chip": connection.chip, "seed": connection.seed,
                              "cadc_target": target._json(), "cadc_options": options._json()})
    result = CADCCalibResult._from_json(reply["cadc"])
    result.apply(connection)
    return result
