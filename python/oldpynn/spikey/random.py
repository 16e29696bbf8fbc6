"""pyNN.hardware.spikey.random: PyNN 0.6's random module as the hardware
module exposes it (``pynn.random.NumpyRNG(seed=...)``, handed to
Projection(..., rng=...)): the connectors draw from it."""

import numpy


class NumpyRNG(numpy.random.RandomState):
    """PyNN 0.6's NumpyRNG: a numpy RandomState with the seed it started
    from; ``rng.rng`` is itself, as PyNN 0.6's wrapped generator."""

    def __init__(self, seed=None, parallel_safe=True, rank=0, num_processes=1):
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise Exception("ERROR: NumpyRNG: seed %r is not a non-negative integer" % (seed,))
        numpy.random.RandomState.__init__(self, seed)
        self.seed = seed
        self.parallel_safe = parallel_safe
        self.rank, self.num_processes = rank, num_processes
        self.rng = self

    def next(self, n=1, distribution="uniform", parameters=[]):
        """n draws of a numpy distribution (PyNN 0.6's NumpyRNG.next)."""
        if not hasattr(self, distribution):
            raise Exception("ERROR: NumpyRNG: %r is not a numpy distribution" % (distribution,))
        vals = getattr(self, distribution)(*parameters, size=n)
        return vals[0] if n == 1 else vals
