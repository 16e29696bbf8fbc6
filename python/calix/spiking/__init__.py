"""calix.spiking: the calibration for spiking operation (the CADC, the
neurons, the CADC again and refine_potentials)."""

from dataclasses import dataclass, field
from typing import Optional

from .. import _backend
from ..common import cadc
from ..common.base import CalibResult
from . import neuron

__all__ = ["SpikingCalibTarget", "SpikingCalibOptions", "SpikingCalibResult", "calibrate", "neuron"]


@dataclass
class SpikingCalibTarget:
    cadc_target: cadc.CADCCalibTarget = field(default_factory=cadc.CADCCalibTarget)
    neuron_target: neuron.NeuronCalibTarget = field(default_factory=neuron.NeuronCalibTarget)

    def _json(self):
        self.cadc_target.check()
        return {"cadc_target": self.cadc_target._json(), "neuron_target": self.neuron_target._json()}


@dataclass
class SpikingCalibOptions:
    cadc_options: cadc.CADCCalibOptions = field(default_factory=cadc.CADCCalibOptions)
    neuron_options: neuron.NeuronCalibOptions = field(default_factory=neuron.NeuronCalibOptions)
    refine_potentials: Optional[bool] = None

    def _json(self):
        return {"cadc_options": self.cadc_options._json(), "refine_potentials": self.refine_potentials}


class SpikingCalibResult(CalibResult):
    """The CADC and neuron results of a spiking calibration, and the file
    content they came from (`raw`, docs/calibration.md)."""

    def __init__(self, target, options, raw):
        self.target, self.options, self.raw = target, options, raw
        self.chip = raw["chip"]
        self.cadc_result = cadc.CADCCalibResult._from_json(raw["cadc"])
        self.neuron_result = neuron.NeuronCalibResult(target.neuron_target if target else None,
                                                      options.neuron_options if options else None,
                                                      raw["neuron"], self.chip)
        self.seconds = raw.get("seconds")

    def apply(self, connection):
        self.cadc_result.apply(connection)
        self.neuron_result.apply(connection)

    def to_chip(self, initial_config=None, chip=None):
        c = self.neuron_result.to_chip(self.cadc_result.to_chip(initial_config))
        c.chip = self.chip
        return c

    def to_file(self, path):
        """Write the calibration: binary (.pbin) or readable JSON (.json,
        .json.gz), by the file's extension."""
        from .. import files
        files.write(self.raw, path)


def calibrate(connection, target=None, options=None):
    """Calibrate the chip for spiking operation and apply the result."""
    target = target or SpikingCalibTarget()
    options = options or SpikingCalibOptions()
    req = {"op": "spiking", "chip": connection.chip, "seed": connection.seed,
           "spiking_target": target._json(), "cadc_options": options.cadc_options._json()}
    if options.refine_potentials is not None:
        req["refine_potentials"] = bool(options.refine_potentials)
    connection._check()
    reply = _backend.execute(req)
    result = SpikingCalibResult(target, options, reply["spiking"])
    result.apply(connection)
    return result
