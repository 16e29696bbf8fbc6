"""pymarocco: marocco's knobs (PyMarocco), the defect backends (Defects),
and the mapping statistics (MappingStats), for nmp's emulated BrainScaleS-1
wafer. The mapping itself runs on the Go side (nmp's brainscales1 system);
pyhmf sends these knobs with the network."""

import math
import numbers

import numpy as np

import Coordinate as C


class _Enum(object):
    def __init__(self, kind, name, value):
        self.kind, self.name, self.value = kind, name, value

    def __repr__(self):
        return "%s.%s" % (self.kind, self.name)

    def __eq__(self, other):
        return isinstance(other, _Enum) and (other.kind, other.name) == (self.kind, self.name)

    def __hash__(self):
        return hash((self.kind, self.name))


def _enum(cls, kind, names):
    for n in names:
        setattr(cls, n, _Enum(kind, n, n.lower()))
    # Python 2 scripts say X.None; nmp's job runner renames it None_.
    if "None" in names:
        setattr(cls, "None_", getattr(cls, "None"))


class Defects(object):
    """Where defect data (redman's blacklists) come from: backend
    Defects.Backend.XML (files in path), None or Without (no defect data).
    Unset, the virtual wafer's own defect set is used."""

    class Backend(object):
        pass

    def __init__(self):
        object.__setattr__(self, "backend", _Enum("Backend", "Default", "default"))
        object.__setattr__(self, "path", "")
        object.__setattr__(self, "_wafer", None)

    def set(self, wafer):
        """Use the defect data of a pyredman.Wafer built in the script
        (instead of the backend's files)."""
        import pyredman
        if not isinstance(wafer, pyredman.Wafer):
            raise TypeError("defects.set(): needs a pyredman.Wafer, not %r" % (wafer,))
        object.__setattr__(self, "_wafer", wafer)

    def wafer(self):
        """The pyredman.Wafer given to set(), or None."""
        return self._wafer

    def _options(self, wafer):
        if self._wafer is None:
            return {"backend": self.backend.value, "path": self.path}
        import atexit
        import shutil
        import tempfile
        d = tempfile.mkdtemp(prefix="nmp-redman-")
        atexit.register(shutil.rmtree, d, True)
        self._wafer.write(d, wafer)
        return {"backend": "xml", "path": d}

    def __setattr__(self, name, value):
        if name == "backend":
            if not (isinstance(value, _Enum) and value.kind == "Backend"):
                raise TypeError("defects.backend must be Defects.Backend.XML, None or Without, not %r" % (value,))
        elif name == "path":
            value = str(value)
        elif name == "_wafer":
            pass
        else:
            raise AttributeError("Defects has no attribute %r (backend, path)" % name)
        object.__setattr__(self, name, value)


_enum(Defects.Backend, "Backend", ["XML", "None", "Without"])
Defects.XML, Defects.None_, Defects.Without = Defects.Backend.XML, Defects.Backend.None_, Defects.Backend.Without
setattr(Defects, "None", Defects.Backend.None_)


class _Getter(object):
    """A marocco parameter object whose settings are method calls."""

    def __init__(self, owner):
        self._owner = owner


class NeuronPlacement(_Getter):
    def __init__(self, owner):
        _Getter.__init__(self, owner)
        self._size, self._skip = 4, True
        self._restrict, self._minimize = False, False

    def default_neuron_size(self, n=None):
        if n is None:
            return self._size
        # As through Boost.Python: not a number TypeError, negative OverflowError (size_t),
        # marocco's std::invalid_argument ValueError.
        if isinstance(n, bool) or not isinstance(n, numbers.Real) or int(n) != n:
            raise TypeError("default_neuron_size(%r): a neuron size is a whole number of denmems" % (n,))
        if n < 0:
            raise OverflowError("default_neuron_size(%r): a neuron size is an unsigned number of denmems" % (n,))
        if n == 0 or n % 2 or n > 64:
            raise ValueError("neuron size %r: marocco requires multiple-of-two neuron size, must fit on neuron block" % (n,))
        self._size = int(n)

    def skip_hicanns_without_neuron_blacklisting(self, b=None):
        if b is None:
            return self._skip
        self._skip = bool(b)

    def restrict_rightmost_neuron_blocks(self, b=None):
        if b is None:
            return self._restrict
        self._restrict = bool(b)

    def minimize_number_of_sending_repeaters(self, b=None):
        if b is None:
            return self._minimize
        self._minimize = bool(b)


class SynapseRouting(_Getter):
    def __init__(self, owner):
        _Getter.__init__(self, owner)
        self._chain, self._bg = 3, False

    def driver_chain_length(self, n=None):
        if n is None:
            return self._chain
        # marocco takes any length; a chain longer than a quadrant's 56 drivers acts as 56.
        if not isinstance(n, numbers.Real) or int(n) != n or n < 1:
            raise RuntimeError("driver_chain_length(%r): must be a number of synapse drivers >= 1" % (n,))
        self._chain = int(n)

    def only_allow_background_events(self, b=None):
        if b is None:
            return self._bg
        self._bg = bool(b)


class L1AddressAssignment(_Getter):
    high_first, low_first, alternating = "high_first", "low_first", "alternating"

    def __init__(self, owner):
        _Getter.__init__(self, owner)
        self._s = "high_first"

    def strategy(self, s=None):
        if s is None:
            return self._s
        if s not in ("high_first", "low_first", "alternating"):
            raise ValueError("l1_address_assignment.strategy: %r (high_first, low_first, alternating)" % (s,))
        self._s = s


class L1Routing(_Getter):
    backbone, dijkstra = "backbone", "dijkstra"

    def __init__(self, owner):
        _Getter.__init__(self, owner)
        self._a = "backbone"

    def algorithm(self, a=None):
        if a is None:
            return self._a
        if a not in ("backbone", "dijkstra"):
            raise ValueError("l1_routing.algorithm(%r): marocco's L1 routers are L1Routing.backbone and L1Routing.dijkstra" % (a,))
        self._a = a


class ManualPlacement(_Getter):
    """marocco's manual placement: where populations' neurons go, and their size."""

    def __init__(self, owner):
        _Getter.__init__(self, owner)
        self.requests = []

    @staticmethod
    def _mask(pop, mask):
        from pyhmf import _population_of
        p, idx = _population_of(pop)
        if mask is not None and idx is None:
            idx = [int(i) for i in mask]
        return p, idx

    def _add(self, pop, mask, size, **where):
        p, idx = self._mask(pop, mask)
        size = int(size or 0)
        if size and (size % 2 or size < 0 or size > 64):
            raise ValueError("neuron size %d: marocco requires multiple-of-two neuron size, must fit on neuron block" % size)
        self.requests.append(dict(population=p, mask=idx, size=size, **where))

    def on_hicann(self, pop, hicanns, size=0, mask=None):
        if isinstance(hicanns, (int, C.HICANNOnWafer)):
            hicanns = [hicanns]
        if not hicanns:
            raise RuntimeError("on_hicann: empty list of HICANNs")
        # HICANNGlobal names its wafer: marocco maps onto the wafer manual placement names.
        wafers = sorted({h.toWafer().value() for h in hicanns if isinstance(h, C.HICANNGlobal)})
        if len(wafers) > 1:
            raise RuntimeError("on_hicann: HICANNs on wafers %s: marocco maps onto one wafer" % wafers)
        if wafers:
            m = self._owner
            if getattr(m, "_wafer_set", False) and m.default_wafer.value() != wafers[0]:
                raise RuntimeError("on_hicann: %r is not on the wafer of this mapping, %r" % (hicanns[0], m.default_wafer))
            m.default_wafer = wafers[0]
        hicanns = [C.HICANNOnWafer(h) for h in hicanns]
        self._add(pop, mask, size, hicanns=hicanns)

    def on_neuron_block(self, pop, blocks, size=0, mask=None):
        if not isinstance(blocks, (list, tuple)):
            blocks = [blocks]
        if not blocks:
            raise RuntimeError("on_neuron_block: empty list of neuron blocks")
        self._add(pop, mask, size, blocks=[(C.HICANNOnWafer(h), int(b)) for h, b in blocks])

    def on_neuron(self, pop, neurons, mask=None):
        from pymarocco.coordinates import LogicalNeuron
        if isinstance(neurons, LogicalNeuron):
            neurons = [neurons]
        if not neurons:
            raise RuntimeError("on_neuron: empty list of logical neurons")
        sizes = {n.size() for n in neurons}
        if len(sizes) != 1:
            raise RuntimeError("on_neuron: the logical neurons of one request must have one size")
        self._add(pop, mask, sizes.pop(), neurons=neurons)

    def with_size(self, pop, size, mask=None):
        self._add(pop, mask, size)

    def options(self):
        out = []
        for r in self.requests:
            o = {"population": r["population"], "size": r["size"]}
            if r["mask"] is not None:
                o["mask"] = list(r["mask"])
            if "hicanns" in r:
                o["hicanns"] = [h.toEnum().value() for h in r["hicanns"]]
            if "blocks" in r:
                o["blocks"] = [[h.toEnum().value(), b] for h, b in r["blocks"]]
            if "neurons" in r:
                o["neurons"] = [[n.hicann.toEnum().value(), n.x] for n in r["neurons"]]
            out.append(o)
        return out


class ParamTrafo(object):
    def __init__(self):
        self.use_big_capacitors = True
        self.alpha_v, self.shift_v = 10.0, 1.2


class Experiment(_Getter):
    def __init__(self, owner):
        _Getter.__init__(self, owner)
        self._speedup = 1e4

    def speedup(self, s=None):
        if s is None:
            return self._speedup
        if s != 1e4:
            raise ValueError("experiment.speedup: nmp's wafer runs at speed-up 10^4 only")


class MappingStats(object):
    """marocco's mapping statistics, after a mapping."""

    def __init__(self):
        self._s, self._projections = {}, {}

    def _set(self, info, projections):
        self._s = info.get("stats", {})
        self._projections = projections

    def _get(self, k):
        return self._s.get(k, 0)

    def getSynapseLoss(self):
        return int(self._get("synapse_loss"))

    def getSynapseLossAfterL1Routing(self):
        return int(self._get("synapses_lost_l1"))

    def getSynapses(self):
        return int(self._get("synapses"))

    def getSynapsesSet(self):
        return int(self._get("synapses_set"))

    def getNumPopulations(self):
        return int(self._get("populations"))

    def getNumProjections(self):
        return int(self._get("projections"))

    def getNumNeurons(self):
        return int(self._get("neurons"))

    def getNeuronUsage(self):
        return float(self._get("neuron_usage"))

    def getSynapseUsage(self):
        return float(self._get("synapse_usage"))

    def getWeights(self, proj):
        """The projection's weights as mapped (uS): a pre x post array,
        NaN where there is no synapse or it was lost."""
        return proj._mapped_weights()

    def __getattr__(self, name):
        if name.startswith("time") and name in self.__dict__.get("_s", {}):
            return self._s[name]
        if name.startswith("time"):
            return 0.0
        raise AttributeError(name)

    def __str__(self):
        n = self.getSynapses()
        lost = self.getSynapseLoss()
        pct = 100.0 * lost / n if n else 0.0
        return ("MappingStats {\n\tsynapse_loss: %d (%g%%)\n\tsynapses: %d\n\tsynapses set: %d\n\tsynapses lost: %d\n"
                "\tsynapses lost(l1): %d\n\tpopulations: %d\n\tprojections: %d\n\tneurons: %d}"
                % (lost, float("%.6g" % pct), n, self.getSynapsesSet(), lost, self.getSynapseLossAfterL1Routing(),
                   self.getNumPopulations(), self.getNumProjections(), self.getNumNeurons()))

    __repr__ = __str__


class PyMarocco(object):
    """marocco's configuration. Assigning a knob that does not exist is an
    error, as with the real (Boost.Python) object."""

    _knobs = ("backend", "calib_backend", "calib_path", "default_wafer", "skip_mapping", "verification",
              "checkl1locking", "n_locking_retest", "n_locking_recheck_after_ok", "bkg_gen_isi", "pll_freq",
              "continue_despite_synapse_loss", "ensure_analog_trigger", "scrutinize_mapping", "persist", "wafer_cfg",
              "ess_config", "ess_temp_directory", "hicann_configurator", "experiment_time_offset")

    def __init__(self):
        d = self.__dict__
        d["backend"] = PyMarocco.Hardware
        d["calib_backend"] = PyMarocco.CalibBackend.Binary
        d["calib_path"] = ""
        d["default_wafer"] = C.Wafer(33)
        d["skip_mapping"] = False
        d["verification"] = PyMarocco.Verify
        d["checkl1locking"] = PyMarocco.Check
        d["n_locking_retest"] = d["n_locking_recheck_after_ok"] = 5
        d["bkg_gen_isi"] = 125
        d["pll_freq"] = 125e6
        d["continue_despite_synapse_loss"] = False
        d["ensure_analog_trigger"] = PyMarocco.Ensure
        d["scrutinize_mapping"] = PyMarocco.Scrutinize
        d["persist"] = d["wafer_cfg"] = d["ess_temp_directory"] = ""
        import pysthal
        d["ess_config"] = pysthal.ESSConfig()
        d["hicann_configurator"] = PyMarocco.HICANNConfigurator
        d["experiment_time_offset"] = 20e-6
        d["defects"] = Defects()
        d["neuron_placement"] = NeuronPlacement(self)
        d["synapse_routing"] = SynapseRouting(self)
        d["manual_placement"] = ManualPlacement(self)
        d["l1_address_assignment"] = L1AddressAssignment(self)
        d["l1_routing"] = L1Routing(self)
        d["param_trafo"] = ParamTrafo()
        d["experiment"] = Experiment(self)
        d["stats"] = MappingStats()

    def __setattr__(self, name, value):
        if name not in self._knobs:
            raise AttributeError("PyMarocco has no attribute %r" % name)
        if name == "backend" and not (isinstance(value, _Enum) and value.kind == "Backend" and value.name in ("None", "ESS", "Hardware")):
            raise TypeError("marocco.backend must be PyMarocco.None, PyMarocco.ESS or PyMarocco.Hardware, not %r" % (value,))
        if name == "calib_backend" and not (isinstance(value, _Enum) and value.kind == "CalibBackend"):
            raise TypeError("marocco.calib_backend must be PyMarocco.CalibBackend.XML, Binary or Default, not %r" % (value,))
        if name in _KNOB_ENUM and not (isinstance(value, _Enum) and value.kind == _KNOB_ENUM[name]):
            raise TypeError("marocco.%s must be one of PyMarocco.%s.%s, not %r" % (
                name, _KNOB_ENUM[name], ", ".join(_CLASS_ENUMS[_KNOB_ENUM[name]]), value))
        if name == "default_wafer":
            value = C.Wafer(value)
            self.__dict__["_wafer_set"] = True  # the script's choice wins over $WAFER
        if name in ("persist", "wafer_cfg", "ess_temp_directory", "calib_path") and not isinstance(value, str):
            raise TypeError("marocco.%s must be a path (a string), not %r" % (name, value))
        if name in ("skip_mapping", "continue_despite_synapse_loss") and not (isinstance(value, bool) or value in (0, 1)):
            raise TypeError("marocco.%s must be True or False, not %r" % (name, value))
        if name in ("n_locking_retest", "n_locking_recheck_after_ok") and not (isinstance(value, numbers.Integral) and value >= 0):
            raise ValueError("marocco.%s must be a count >= 0, not %r" % (name, value))
        if name in ("bkg_gen_isi",) and (int(value) != value or not 2 <= value <= 65535):
            raise ValueError("marocco.bkg_gen_isi: %r clock cycles is out of the background generator's range (2, 65535)" % (value,))
        if name == "pll_freq" and not (isinstance(value, numbers.Real) and 50e6 <= value <= 250e6):
            raise ValueError("marocco.pll_freq: %r Hz is not a HICANN PLL frequency (50 to 250 MHz)" % (value,))
        if name == "experiment_time_offset" and not (isinstance(value, numbers.Real) and value >= 0 and math.isfinite(value)):
            raise ValueError("marocco.experiment_time_offset: %r s is not a time offset" % (value,))
        if name == "hicann_configurator":
            import pysthal
            if isinstance(value, type) and issubclass(value, pysthal.HICANNConfigurator):
                value = value()
            if not isinstance(value, pysthal.HICANNConfigurator):
                raise TypeError("marocco.hicann_configurator must be a HICANN configurator, not %r" % (value,))
        if name == "ess_config":
            import pysthal
            if not isinstance(value, pysthal.ESSConfig):
                raise TypeError("marocco.ess_config must be a pysthal.ESSConfig")
        self.__dict__[name] = value

    def getStats(self):
        """The last mapping's MappingStats (marocco.stats)."""
        return self.stats

    def options(self):
        """The Go side's system options for these knobs."""
        cfg = self.ess_config
        return {
            "wafer": self.default_wafer.value(),
            "backend": self.backend.value,
            "neuron_size": self.neuron_placement.default_neuron_size(),
            "driver_chain_length": self.synapse_routing.driver_chain_length(),
            "continue_despite_synapse_loss": bool(self.continue_despite_synapse_loss),
            "skip_hicanns_without_neuron_blacklisting": self.neuron_placement.skip_hicanns_without_neuron_blacklisting(),
            "defects": self.defects._options(self.default_wafer.value()),
            "calib": {"backend": self.calib_backend.value, "path": self.calib_path},
            "manual": self.manual_placement.options(),
            "l1_address_assignment": self.l1_address_assignment.strategy(),
            "l1_routing": self.l1_routing.algorithm(),
            "use_big_capacitors": bool(self.param_trafo.use_big_capacitors),
            "bkg_gen_isi": int(self.bkg_gen_isi),
            "pll_freq": float(self.pll_freq),
            "ess": {"enable_weight_distortion": bool(cfg.enable_weight_distortion),
                    "weight_distortion": float(cfg.weight_distortion), "timestep": float(cfg.timestep)},
        }


_enum(PyMarocco, "Backend", ["None", "ESS", "Hardware"])
PyMarocco.Without = PyMarocco.None_


class _CalibBackend(object):
    pass


_enum(_CalibBackend, "CalibBackend", ["XML", "Binary", "Default"])
PyMarocco.CalibBackend = _CalibBackend
PyMarocco.XML, PyMarocco.Binary, PyMarocco.Default = _CalibBackend.XML, _CalibBackend.Binary, _CalibBackend.Default
# marocco's class enums: PyMarocco.Backend.Without, PyMarocco.ScrutinizeMapping.SkipScrutinize, ...,
# and their values as attributes of PyMarocco itself (PyMarocco.Skip), as Boost.Python exports both.
_CLASS_ENUMS = {
    "Verification": ("Verify", "Skip", "VerifyButIgnore"),
    "CheckL1Locking": ("Check", "SkipCheck", "CheckButIgnore"),
    "EnsureAnalogTrigger": ("Ensure", "SkipEnsure", "EnsureButIgnore"),
    "ScrutinizeMapping": ("Scrutinize", "SkipScrutinize", "ScrutinizeButIgnore"),
}
_KNOB_ENUM = {"verification": "Verification", "checkl1locking": "CheckL1Locking",
              "ensure_analog_trigger": "EnsureAnalogTrigger", "scrutinize_mapping": "ScrutinizeMapping"}
for _kind, _names in _CLASS_ENUMS.items():
    _holder = type(_kind, (object,), {})
    for _n in _names:
        _v = _Enum(_kind, _n, _n)
        setattr(_holder, _n, _v)
        setattr(PyMarocco, _n, _v)
    setattr(PyMarocco, _kind, _holder)
_backend = type("Backend", (object,), {})
for _n in ("None", "ESS", "Hardware"):
    setattr(_backend, _n, getattr(PyMarocco, _n))
_backend.None_ = _backend.Without = PyMarocco.None_
PyMarocco.Backend = _backend


def _configurators():
    import pysthal
    PyMarocco.HICANNConfigurator = pysthal.HICANNConfigurator
    PyMarocco.ParallelHICANNv4Configurator = pysthal.ParallelHICANNv4Configurator
    PyMarocco.NoResetNoFGConfigurator = pysthal.NoResetNoFGConfigurator


_configurators()

__all__ = ["PyMarocco", "Defects", "MappingStats", "np"]
