"""halco's coordinates of the BrainScaleS-1 wafer, as the seed's scripts use
them (``import Coordinate as C`` or ``import pyhalbe.Coordinate as C``):
HICANNOnWafer on the round 36 x 16 grid with its Enum 0..383, Wafer,
neurons (denmems), floating-gate blocks, synapse drivers and rows, sides."""

import numbers

_ROWS = [(12, 23), (12, 23), (8, 27), (8, 27), (4, 31), (4, 31), (0, 35), (0, 35),
         (0, 35), (0, 35), (4, 31), (4, 31), (8, 27), (8, 27), (12, 23), (12, 23)]
_XY = [(x, y) for y, (a, b) in enumerate(_ROWS) for x in range(a, b + 1)]
_ENUM = {xy: e for e, xy in enumerate(_XY)}


class _Int(object):
    """An integer coordinate component: X(5), Y(5), Enum(297)."""
    __slots__ = ("_v",)

    def __init__(self, v):
        if isinstance(v, _Int):
            v = v._v
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or int(v) != v:
            raise TypeError("%s needs an integer, not %r" % (type(self).__name__, v))
        self._v = int(v)

    def value(self):
        return self._v

    def __int__(self):
        return self._v

    __index__ = __int__

    def __eq__(self, other):
        return type(other) is type(self) and other._v == self._v

    def __hash__(self):
        return hash((type(self).__name__, self._v))

    def __repr__(self):
        return "%s(%d)" % (type(self).__name__, self._v)


class X(_Int):
    pass


class Y(_Int):
    pass


class Enum(_Int):
    pass


class _Ranged(_Int):
    """A coordinate with an Enum range 0..size-1."""
    size = 0

    def __init__(self, v):
        _Int.__init__(self, v)
        if not 0 <= self._v < self.size:
            raise OverflowError("%s(%d): out of range 0..%d" % (type(self).__name__, self._v, self.size - 1))

    def toEnum(self):
        return Enum(self._v)

    @classmethod
    def _all(cls):
        return [cls(i) for i in range(cls.size)]


class Wafer(_Int):
    def __init__(self, v):
        _Int.__init__(self, v)
        if self._v < 0:
            raise OverflowError("Wafer(%d): a wafer number is >= 0" % self._v)

    def __repr__(self):
        return "Wafer(%d)" % self._v


class HICANNOnWafer(object):
    """A HICANN: HICANNOnWafer(X(x), Y(y)) or HICANNOnWafer(Enum(e))."""
    __slots__ = ("_e",)
    size = 384

    def __init__(self, a, b=None):
        if isinstance(a, HICANNOnWafer):
            self._e = a._e
            return
        if b is None:
            e = int(a)
            if not 0 <= e < 384:
                raise OverflowError("HICANNOnWafer(Enum(%d)): the wafer has HICANNs 0..383" % e)
            self._e = e
            return
        xy = (int(a), int(b))
        if xy not in _ENUM:
            raise ValueError("HICANNOnWafer(X(%d), Y(%d)) is not on the wafer (domain_error)" % xy)
        self._e = _ENUM[xy]

    def x(self):
        return X(_XY[self._e][0])

    def y(self):
        return Y(_XY[self._e][1])

    def toEnum(self):
        return Enum(self._e)

    def id(self):
        return Enum(self._e)

    def __eq__(self, other):
        return isinstance(other, HICANNOnWafer) and other._e == self._e

    def __hash__(self):
        return hash(("HICANNOnWafer", self._e))

    def __repr__(self):
        return "HICANNOnWafer(X(%d), Y(%d))" % _XY[self._e]

    @classmethod
    def _all(cls):
        return [cls(Enum(e)) for e in range(384)]


class HICANNGlobal(HICANNOnWafer):
    """A HICANN on a given wafer: HICANNGlobal(HICANNOnWafer, Wafer), or
    HICANNGlobal(Enum(e)) with halco's global Enum e = wafer * 384 + HICANN
    Enum. It is a HICANNOnWafer wherever one is taken (manual placement)."""
    __slots__ = ("_w",)

    def __init__(self, a, wafer=None, *rest):
        if isinstance(a, X):  # HICANNGlobal(X, Y[, Wafer])
            if not isinstance(wafer, Y) or len(rest) > 1:
                raise TypeError("HICANNGlobal(X(x), Y(y)[, Wafer(w)])")
            HICANNOnWafer.__init__(self, a, wafer)
            self._w = int(Wafer(rest[0])) if rest else 0
            return
        if rest:
            raise TypeError("HICANNGlobal(HICANNOnWafer, Wafer), HICANNGlobal(X, Y, Wafer) or HICANNGlobal(Enum)")
        if isinstance(a, HICANNOnWafer) or wafer is not None:
            HICANNOnWafer.__init__(self, a)
            w = a._w if isinstance(a, HICANNGlobal) and wafer is None else (0 if wafer is None else int(Wafer(wafer)))
        else:
            if isinstance(a, bool) or not isinstance(a, (numbers.Integral, _Int)) or int(a) < 0:
                raise OverflowError("HICANNGlobal(%r): a global HICANN Enum is an integer >= 0" % (a,))
            w, e = divmod(int(a), 384)
            HICANNOnWafer.__init__(self, Enum(e))
        self._w = w

    def toHICANNOnWafer(self):
        return HICANNOnWafer(Enum(self._e))

    def toWafer(self):
        return Wafer(self._w)

    wafer = toWafer

    def toEnum(self):
        return Enum(self._w * 384 + self._e)

    def __eq__(self, other):
        if isinstance(other, HICANNGlobal):
            return (other._w, other._e) == (self._w, self._e)
        return HICANNOnWafer.__eq__(self, other)

    def __hash__(self):
        return hash(("HICANNOnWafer", self._e))

    def __repr__(self):
        return "HICANNGlobal(%s, Wafer(%d))" % (HICANNOnWafer.__repr__(self), self._w)


# The seed documents' PDF text spells it so in places; the scripts mean HICANNOnWafer.
HICANNOOnWafer = HICANONWafer = HICANNOnWafer


class _Side(object):
    def __init__(self, name, v):
        self.name, self._v = name, v

    def __int__(self):
        return self._v

    def __eq__(self, other):
        return isinstance(other, _Side) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return self.name


left, right = _Side("left", 0), _Side("right", 1)
top, bottom = _Side("top", 0), _Side("bottom", 1)
SideHorizontal = (left, right)
SideVertical = (top, bottom)


class FGBlockOnHICANN(_Ranged):
    size = 4


class SynapseDriverOnHICANN(_Ranged):
    """A synapse driver, 0..223 (nmp's Enum: top half first, left and right
    alternating); its rows are SynapseRowOnHICANN 2*Enum and 2*Enum+1."""
    size = 224


class HLineOnHICANN(_Ranged):
    """A horizontal L1 bus of a HICANN: 64."""
    size = 64


class VLineOnHICANN(_Ranged):
    """A vertical L1 bus of a HICANN: 256 (0..127 left, 128..255 right)."""
    size = 256


class SynapseDriverOnQuadrant(_Ranged):
    """A synapse driver within its quadrant: 56 per quadrant."""
    size = 56


class RowOnSynapseDriver(_Ranged):
    size = 2


class NeuronBlockOnHICANN(_Ranged):
    size = 8


class DNCMergerOnHICANN(_Ranged):
    size = 8


class NeuronOnHICANN(object):
    """A denmem: NeuronOnHICANN(X(0..255), top|bottom) or Enum(0..511)."""
    __slots__ = ("_x", "_y")

    def __init__(self, a, b=None):
        if b is None:
            e = int(a)
            self._x, self._y = e % 256, e // 256
        else:
            self._x = int(a)
            self._y = int(b) if not isinstance(b, _Side) else int(b)
        if not (0 <= self._x < 256 and self._y in (0, 1)):
            raise OverflowError("NeuronOnHICANN: X 0..255, top or bottom")

    def x(self):
        return X(self._x)

    def y(self):
        return Y(self._y)

    def toEnum(self):
        return Enum(self._y * 256 + self._x)

    @classmethod
    def _all(cls):
        return [cls(Enum(e)) for e in range(512)]

    def __eq__(self, other):
        return isinstance(other, NeuronOnHICANN) and (other._x, other._y) == (self._x, self._y)

    def __hash__(self):
        return hash(("NeuronOnHICANN", self._x, self._y))

    def __repr__(self):
        return "NeuronOnHICANN(X(%d), %s)" % (self._x, "top" if self._y == 0 else "bottom")


class NeuronOnWafer(object):
    __slots__ = ("_n", "_h")

    def __init__(self, neuron, hicann):
        self._n, self._h = neuron, hicann

    def toNeuronOnHICANN(self):
        return self._n

    def toHICANNOnWafer(self):
        return self._h

    def __eq__(self, other):
        return isinstance(other, NeuronOnWafer) and (other._n, other._h) == (self._n, self._h)

    def __hash__(self):
        return hash((self._n, self._h))

    def __repr__(self):
        return "NeuronOnWafer(%r, %r)" % (self._n, self._h)


class SynapseOnHICANN(object):
    """A synapse: its row (SynapseRowOnHICANN 0..447) and column (0..255)."""
    __slots__ = ("row", "column")

    def __init__(self, row, column):
        self.row, self.column = int(row), int(column)

    def toSynapseDriverOnHICANN(self):
        return SynapseDriverOnHICANN(self.row // 2)

    def __repr__(self):
        return "SynapseOnHICANN(SynapseRowOnHICANN(%d), SynapseColumnOnHICANN(%d))" % (self.row, self.column)


class SynapseOnWafer(SynapseOnHICANN):
    __slots__ = ("_h",)

    def __init__(self, row, column, hicann):
        SynapseOnHICANN.__init__(self, row, column)
        self._h = hicann

    def toHICANNOnWafer(self):
        return self._h

    def toSynapseOnHICANN(self):
        return SynapseOnHICANN(self.row, self.column)

    def __repr__(self):
        return "SynapseOnWafer(%s, %r)" % (SynapseOnHICANN.__repr__(self), self._h)


def iter_all(cls):
    """Every value of a coordinate type, in Enum order."""
    if cls is SideHorizontal or cls is SideVertical:
        return iter(cls)
    return iter(cls._all())
