"""halco.common: the plain index (Enum) every coordinate converts to."""


class Enum(object):
    """A non-negative index."""

    __slots__ = ("_value",)

    def __init__(self, value=0):
        v = int(value)
        if v < 0:
            raise TypeError("Enum: %d is negative" % v)
        self._value = v

    def value(self):
        return self._value

    def __int__(self):
        return self._value

    __index__ = __int__

    def __eq__(self, other):
        return int(other) == self._value if isinstance(other, (int, Enum)) else NotImplemented

    def __hash__(self):
        return hash(self._value)

    def __repr__(self):
        return "Enum(%d)" % self._value
