"""sthal's objects the scripts touch: the ESS configuration, the HICANN
configurators, and the wafer's low-level configuration (floating gates,
synapse rows' gmax_div, digital weights) that marocco's runtime keeps and
the next run applies without remapping."""

import numbers

import Coordinate as C
from pyhalbe import HICANN

from . import command_line_util  # noqa: F401


class ESSConfig(object):
    """sthal::ESSConfig: how the ESS simulates the wafer."""

    _fields = {"speedup": 10000.0, "timestep": 0.1, "enable_weight_distortion": False, "weight_distortion": 0.0,
               "enable_timed_merger": True, "enable_spike_debugging": False, "pulse_statistics_file": "",
               "calib_path": ""}

    def __init__(self):
        for k, v in self._fields.items():
            object.__setattr__(self, k, v)

    def __setattr__(self, name, value):
        if name not in self._fields:
            raise AttributeError("ESSConfig has no attribute %r (it has %s)" % (name, ", ".join(sorted(self._fields))))
        kind = type(self._fields[name])
        if kind is bool:
            value = bool(value)
        elif kind is float:
            if not isinstance(value, numbers.Real) or value != value:
                raise TypeError("ESSConfig.%s must be a number, not %r" % (name, value))
            value = float(value)
            if name == "timestep" and not 0.001 <= value <= 1:
                raise ValueError("ESSConfig.timestep: %r ms is out of range (0.001 to 1 ms)" % value)
            if name == "weight_distortion" and value < 0:
                raise ValueError("ESSConfig.weight_distortion is a fraction >= 0, not %r" % value)
            if name == "speedup" and value != 10000.0:
                raise ValueError("ESSConfig.speedup: nmp's wafer runs at speed-up 10^4 only")
        else:
            value = str(value)
        object.__setattr__(self, name, value)


class HICANNConfigurator(object):
    """Configures every HICANN in full (the default)."""
    name = "HICANNConfigurator"


class ParallelHICANNv4Configurator(HICANNConfigurator):
    name = "ParallelHICANNv4Configurator"


class NoResetNoFGConfigurator(HICANNConfigurator):
    name = "NoResetNoFGConfigurator"


class FGConfig(object):
    """One floating-gate programming pass's settings."""

    def __init__(self, **kw):
        self.fg_bias, self.fg_biasn = 8, 5
        self.pulselength, self.maxcycle, self.readtime, self.acceleratorstep, self.voltagewritetime, \
            self.currentwritetime = 15, 255, 63, 9, 15, 1
        self.__dict__.update(kw)


class FloatingGates(object):
    """A HICANN's floating gates: the shared parameters of its 4 blocks and
    its programming passes."""

    def __init__(self):
        self.shared = {}  # (block, name) -> value
        self._passes = [FGConfig() for _ in range(4)]

    def setShared(self, block, param, value):
        b = int(C.FGBlockOnHICANN(block))
        if int(value) != value or not 0 <= value <= 1023:
            raise OverflowError("setShared(%r, %r, %r): floating-gate values are 0..1023" % (block, param, value))
        self.shared[(b, param.name)] = int(value)

    def getShared(self, block, param):
        return self.shared.get((int(C.FGBlockOnHICANN(block)), param.name),
                               1023 if param.name.startswith("V_gmax") else 0)

    def getNoProgrammingPasses(self):
        return len(self._passes)

    def getFGConfig(self, i):
        return self._passes[int(i)]

    def setFGConfig(self, i, cfg):
        self._passes[int(i)] = cfg


class _RowProxy(object):
    def __init__(self, hicann, driver, row):
        self._h, self._d, self._r = hicann, driver, row

    def set_gmax_div(self, side, value):
        if int(value) != value or not 0 <= value <= 15:
            raise OverflowError("set_gmax_div(%r, %r): gmax_div is 0..15 per side" % (side, value))
        self._h.gmax_div[4 * self._d + 2 * self._r + int(side)] = int(value)

    def get_gmax_div(self, side):
        return self._h.gmax_div[4 * self._d + 2 * self._r + int(side)]


class _DriverProxy(object):
    def __init__(self, hicann, driver):
        self._h, self._d = hicann, driver

    def __getitem__(self, row):
        return _RowProxy(self._h, self._d, int(C.RowOnSynapseDriver(row)))


class _SynapseProxy(object):
    def __init__(self, hicann, syn):
        self._h, self._s = hicann, syn

    @property
    def weight(self):
        w = self._h.weights.get((self._s.row, self._s.column))
        if w is None:
            w = self._h._mapped_weight(self._s.row, self._s.column)
        return HICANN.SynapseWeight(w)

    @weight.setter
    def weight(self, w):
        if not isinstance(w, HICANN.SynapseWeight):
            w = HICANN.SynapseWeight(w)
        self._h.weights[(self._s.row, self._s.column)] = w.value()


class _Synapses(object):
    def __init__(self, hicann):
        self._h = hicann

    def __getitem__(self, key):
        if isinstance(key, C.SynapseOnHICANN):
            return _SynapseProxy(self._h, key)
        return _DriverProxy(self._h, int(C.SynapseDriverOnHICANN(key)))


class HICANNConfig(object):
    """A HICANN's low-level configuration as the user changed it."""

    def __init__(self, hicann, wafer):
        self.hicann, self._wafer = hicann, wafer
        self.floating_gates = FloatingGates()
        self.gmax_div = [-1] * (4 * 224)
        self.weights = {}
        self.synapses = _Synapses(self)

    def _mapped_weight(self, row, col):
        return self._wafer._mapped.get((self.hicann.toEnum().value(), row, col), 0)

    def options(self):
        o = {"hicann": self.hicann.toEnum().value()}
        fg = self.floating_gates
        vg = [[fg.getShared(b, getattr(HICANN.shared_parameter, "V_gmax%d" % k)) for k in range(4)] for b in range(4)]
        if any(v != 1023 for row in vg for v in row):
            o["v_gmax"] = vg
        if any(g >= 0 for g in self.gmax_div):
            o["gmax_div"] = list(self.gmax_div)
        if self.weights:
            o["weights"] = [[r, c, w] for (r, c), w in sorted(self.weights.items())]
        other = {"%s[%d]" % (n, b): v for (b, n), v in fg.shared.items() if not n.startswith("V_gmax")}
        if other:
            o["shared"] = other
        return o


class Wafer(object):
    """The sthal wafer of a runtime: the allocated HICANNs' configuration."""

    def __init__(self, wafer):
        self.wafer = wafer
        self._hicanns = {}
        self._allocated = []
        self._mapped = {}

    def __getitem__(self, hicann):
        h = C.HICANNOnWafer(hicann)
        cfg = self._hicanns.get(h)
        if cfg is None:
            cfg = self._hicanns[h] = HICANNConfig(h, self)
        return cfg

    def getAllocatedHicannCoordinates(self):
        return list(self._allocated)

    def clear(self):
        self._hicanns = {}

    def options(self):
        return [cfg.options() for cfg in self._hicanns.values()]
