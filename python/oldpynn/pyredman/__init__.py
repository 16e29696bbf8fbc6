"""pyredman: redman's defect data built in a script (Hicann, Wafer) and
handed to marocco with ``marocco.defects.set(wafer)``. nmp writes them as
redman files in its short form (hicann-W-E.xml, wafer-W.xml; see
docs/brainscales1.md) for the mapping to read, so injected defects act as
defects read from files do. As with redman, a HICANN with no injected data
has no neuron blacklisting."""

import numbers

import Coordinate as C

# Component managers and their Enum ranges (0 where the Go side checks the range).
_COMPONENTS = {
    "neurons": 512, "drivers": 224, "dncmergers": 8, "hbuses": 64, "vbuses": 256,
    "hrepeaters": 64, "vrepeaters": 256, "crossbarswitches": 512, "synapses": 0,
    "synapserows": 448, "synapsearrays": 2, "synapseswitchrows": 224, "synapseswitches": 7168,
    "synapticinputs": 0, "analogs": 2, "backgroundgenerators": 8, "fgblocks": 4,
    "mergers0": 8, "mergers1": 4, "mergers2": 2, "mergers3": 1,
}


def _enum(c):
    if isinstance(c, bool):
        raise TypeError("a coordinate, not %r" % (c,))
    if hasattr(c, "toEnum"):
        return int(c.toEnum().value())
    if isinstance(c, (C.X, C.Y, C.Enum)) or isinstance(c, numbers.Integral):
        return int(c)
    raise TypeError("a coordinate, not %r" % (c,))


class _Manager(object):
    """One component manager: the disabled components of one kind."""

    def __init__(self, name, size):
        self._name, self._size, self._off = name, size, set()

    def _e(self, c):
        e = _enum(c)
        if e < 0 or (self._size and e >= self._size):
            raise OverflowError("%s: %r is out of range 0..%d" % (self._name, c, self._size - 1))
        return e

    def disable(self, c, *switch_mode):
        self._off.add(self._e(c))

    def enable(self, c, *switch_mode):
        self._off.discard(self._e(c))

    def has(self, c):
        """True when the component is available (not disabled)."""
        return self._e(c) not in self._off

    def disabled(self):
        return sorted(self._off)

    def enable_all(self):
        self._off.clear()

    def disable_all(self):
        if not self._size:
            raise RuntimeError("%s: disable_all is not available for this component" % self._name)
        self._off = set(range(self._size))

    def available(self):
        if not self._size:
            raise RuntimeError("%s: available() is not available for this component" % self._name)
        return self._size - len(self._off)

    def __repr__(self):
        return "%s(%d disabled)" % (self._name, len(self._off))


class Hicann(object):
    """The defect data of one HICANN: hicann.neurons().disable(NeuronOnHICANN(...))."""

    def __init__(self, *coordinate):
        self._m = {n: _Manager(n, s) for n, s in _COMPONENTS.items()}

    def _components(self):
        return {n: m.disabled() for n, m in self._m.items() if m._off}


def _component(name):
    return lambda self: self._m[name]


for _n in _COMPONENTS:
    setattr(Hicann, _n, _component(_n))


class _Hicanns(_Manager):
    def __init__(self, wafer):
        _Manager.__init__(self, "hicanns", 384)
        self._wafer = wafer

    def _e(self, c):
        if isinstance(c, C.HICANNGlobal) and self._wafer is not None and c.toWafer() != self._wafer:
            raise RuntimeError("hicanns: %r is not on %r" % (c, self._wafer))
        if isinstance(c, C.HICANNGlobal):
            return C.HICANNOnWafer(c).toEnum().value()
        return _Manager._e(self, c)


class Wafer(object):
    """The defect data of a wafer: disabled HICANNs and FPGAs, and the
    injected Hicann data."""

    def __init__(self, wafer=None, *backend):
        self._wafer = None if wafer is None else C.Wafer(wafer)
        self._hicanns = _Hicanns(self._wafer)
        self._fpgas = _Manager("fpgas", 48)
        self._data = {}

    def index(self):
        return self._wafer

    def hicanns(self):
        return self._hicanns

    def fpgas(self):
        return self._fpgas

    def inject(self, hicann, data):
        if not isinstance(data, Hicann):
            raise TypeError("inject(%r, ...): needs a pyredman.Hicann, not %r" % (hicann, data))
        self._data[self._hicanns._e(hicann)] = data

    def has(self, hicann):
        return self._hicanns._e(hicann) in self._data

    def get(self, hicann):
        return self._data.get(self._hicanns._e(hicann))

    def write(self, directory, wafer):
        """Write the data as redman files in nmp's short form for wafer number `wafer`."""
        import os

        def doc(comps):
            body = "".join("<%s>%s</%s>" % (n, " ".join(str(i) for i in v), n) for n, v in sorted(comps.items()))
            return "<redman>%s</redman>\n" % body

        w = {}
        if self._hicanns._off:
            w["hicanns"] = self._hicanns.disabled()
        if self._fpgas._off:
            w["fpgas"] = self._fpgas.disabled()
        with open(os.path.join(directory, "wafer-%d.xml" % wafer), "w") as f:
            f.write(doc(w))
        for e, h in self._data.items():
            comps = h._components()
            # redman keeps a neurons manager for every injected HICANN, so it has blacklisting
            comps.setdefault("neurons", [])
            with open(os.path.join(directory, "hicann-%d-%d.xml" % (wafer, e)), "w") as f:
                f.write(doc(comps))
