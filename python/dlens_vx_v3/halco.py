"""The coordinates of the chip (halco) that PyNN scripts for BrainScaleS-2
use: neuron circuits, their backends and hemispheres, crossbar outputs.
Each is an index in 0..size-1; `halco.iter_all(T)` gives them all, and
`T(halco.common.Enum(i))` or `T(i)` makes one."""

from . import _halco_common as common  # noqa: F401
from ._halco_common import Enum


class _Coordinate(object):
    """An index in 0..size-1 (size: the class's). Out of range raises
    OverflowError, as halco's ranged types do; negative values TypeError."""

    size = 0
    __slots__ = ("_value",)

    def __init__(self, value=0):
        v = int(value)
        if isinstance(value, bool) or (not isinstance(value, Enum) and int(value) != value):
            raise TypeError("%s: %r is not an index" % (type(self).__name__, value))
        if v < 0:
            raise TypeError("%s: %d is negative" % (type(self).__name__, v))
        if v >= self.size:
            raise OverflowError("%s: %d is out of range (0 to %d)" % (type(self).__name__, v, self.size - 1))
        self._value = v

    def toEnum(self):
        return Enum(self._value)

    def value(self):
        return self._value

    def __int__(self):
        return self._value

    __index__ = __int__

    def __eq__(self, other):
        return type(other) is type(self) and other._value == self._value

    def __lt__(self, other):
        return self._value < int(other)

    def __hash__(self):
        return hash((type(self).__name__, self._value))

    def __repr__(self):
        return "%s(%d)" % (type(self).__name__, self._value)


def _kind(name, size, doc):
    return type(name, (_Coordinate,), {"size": size, "__doc__": doc, "__slots__": ()})


AtomicNeuronOnDLS = _kind("AtomicNeuronOnDLS", 512, "A neuron circuit: row (hemisphere) × 256 + column.")
NeuronColumnOnDLS = _kind("NeuronColumnOnDLS", 256, "A column of neuron circuits.")
NeuronRowOnDLS = _kind("NeuronRowOnDLS", 2, "A row of neuron circuits (a hemisphere's).")
HemisphereOnDLS = _kind("HemisphereOnDLS", 2, "A hemisphere: top (0) or bottom (1).")
CommonNeuronBackendConfigOnDLS = _kind("CommonNeuronBackendConfigOnDLS", 2,
                                       "A hemisphere's neuron backend (its refractory clocks).")
CapMemBlockOnDLS = _kind("CapMemBlockOnDLS", 4, "A CapMem quadrant.")
CrossbarOutputOnDLS = _kind("CrossbarOutputOnDLS", 12, "An output of the event crossbar.")
CrossbarInputOnDLS = _kind("CrossbarInputOnDLS", 20, "An input of the event crossbar.")
BackgroundSpikeSourceOnDLS = _kind("BackgroundSpikeSourceOnDLS", 8, "A background spike generator.")
CompartmentOnLogicalNeuron = _kind("CompartmentOnLogicalNeuron", 256, "A compartment of a logical neuron.")


def _neuron_column(self):
    return NeuronColumnOnDLS(self._value % 256)


def _neuron_row(self):
    return NeuronRowOnDLS(self._value // 256)


AtomicNeuronOnDLS.toNeuronColumnOnDLS = _neuron_column
AtomicNeuronOnDLS.toNeuronRowOnDLS = _neuron_row
AtomicNeuronOnDLS.toHemisphereOnDLS = lambda self: HemisphereOnDLS(self._value // 256)


def iter_all(kind):
    """Every coordinate of a kind, in order."""
    return (kind(i) for i in range(kind.size))
