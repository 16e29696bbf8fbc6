"""pymarocco.coordinates: logical neurons, marocco's view of a neuron as
the denmems it is built from."""

import Coordinate as C


class LogicalNeuron(object):
    """A rectangular logical neuron: `size` denmems from column x on a
    HICANN, half in the top row and half in the bottom row; iterating
    yields its denmems as NeuronOnWafer, top row first. External (spike
    source) neurons have no denmems."""

    def __init__(self, hicann, x, size, external=False):
        self.hicann, self.x, self._size, self._external = C.HICANNOnWafer(hicann), int(x), int(size), external

    @classmethod
    def on(cls, neuron_on_wafer_or_hicann, x=None, size=None):
        return cls(neuron_on_wafer_or_hicann, x, size)

    @staticmethod
    def rectangular(neuron_on_wafer, size):
        n = neuron_on_wafer.toNeuronOnHICANN()
        return LogicalNeuron(neuron_on_wafer.toHICANNOnWafer(), n.x().value(), size)

    def is_external(self):
        return self._external

    def size(self):
        return 0 if self._external else self._size

    def front(self):
        return C.NeuronOnWafer(C.NeuronOnHICANN(C.X(self.x), C.top), self.hicann)

    def __iter__(self):
        if self._external:
            return iter(())
        w = self._size // 2
        out = [C.NeuronOnWafer(C.NeuronOnHICANN(C.X(self.x + i), C.top), self.hicann) for i in range(self._size - w)]
        out += [C.NeuronOnWafer(C.NeuronOnHICANN(C.X(self.x + i), C.bottom), self.hicann) for i in range(w)]
        return iter(out)

    def __repr__(self):
        if self._external:
            return "LogicalNeuron(external)"
        return "LogicalNeuron(%r, X(%d), size %d)" % (self.hicann, self.x, self._size)
