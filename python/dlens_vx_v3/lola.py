"""The chip's configuration as lola shows it, for PyNN scripts that build an
initial configuration (`setup(initial_config=lola.Chip())`): the neuron
circuits (`chip.neuron_block.atomic_neurons[halco.AtomicNeuronOnDLS(i)]`,
grouped fields such as `.leak.i_bias`) and the two neuron backends' clock
settings (`chip.neuron_block.backends[...]`). Only what nmp's emulated chip
has: the rest of lola's Chip (synapse arrays, routing, PPU memory) is set by
the mapping and does not exist here."""

from pynn_brainscales.brainscales2.atomic import AtomicNeuron  # noqa: F401

from . import halco


class _Indexed(object):
    """A container indexed by one kind of coordinate (or its integer)."""

    def __init__(self, kind, make):
        self._kind = kind
        self._items = [make() for _ in range(kind.size)]

    def _index(self, coord):
        if isinstance(coord, self._kind):
            return int(coord)
        if isinstance(coord, int):
            return int(self._kind(coord))
        raise TypeError("index with a halco.%s, got %s" % (self._kind.__name__, type(coord).__name__))

    def __getitem__(self, coord):
        return self._items[self._index(coord)]

    def __setitem__(self, coord, value):
        self._items[self._index(coord)] = value

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)


class CommonNeuronBackendConfig(object):
    """A hemisphere's neuron backend: the refractory counters' clocks (a
    cycle lasts 8 ns × 2^scale) and the adaptation pulse's length."""

    _FIELDS = ("enable_clocks", "clock_scale_slow", "clock_scale_fast", "clock_scale_adaptation_pulse")

    def __init__(self):
        self.enable_clocks = True
        self.clock_scale_slow = 0
        self.clock_scale_fast = 0
        self.clock_scale_adaptation_pulse = 0

    def __setattr__(self, name, value):
        if name not in self._FIELDS:
            raise AttributeError("CommonNeuronBackendConfig.%s: not emulated (fields: %s)"
                                 % (name, ", ".join(self._FIELDS)))
        if name.startswith("clock_scale") and not 0 <= int(value) <= 15:
            raise ValueError("CommonNeuronBackendConfig.%s must be 0 to 15, got %r" % (name, value))
        object.__setattr__(self, name, value)


class NeuronBlock(object):
    def __init__(self):
        self.atomic_neurons = _Indexed(halco.AtomicNeuronOnDLS, AtomicNeuron)
        self.backends = _Indexed(halco.CommonNeuronBackendConfigOnDLS, CommonNeuronBackendConfig)


class Chip(object):
    """The chip's configuration: `neuron_block` (atomic_neurons, backends),
    lola's defaults."""

    def __init__(self):
        self.neuron_block = NeuronBlock()
