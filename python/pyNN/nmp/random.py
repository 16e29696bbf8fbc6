"""
Random numbers for pyNN.nmp: `NativeRNG`, as pyNN.nest has one.

With NEST, a NativeRNG hands the distribution to NEST, which draws the numbers
with its own generator seeded by setup(rng_seed=...). nmp draws them on the
Python side, but the same way: from a stream of its own seeded by the run's
seed (setup's `rng_seed`, or `seed`) unless the NativeRNG is given a seed, so
that a script's network depends on its seeds only.
"""

from pyNN.random import NativeRNG as _NativeRNG, NumpyRNG

from . import simulator


class NativeRNG(_NativeRNG):
    """Signals that nmp draws the random numbers from its own seeded stream
    (setup's `rng_seed` unless `seed` is given)."""

    #: distinguishes the stream from NumpyRNG(seed=the same seed) in a script
    STREAM = 0x6E6D70  # "nmp"

    def __init__(self, seed=None):
        super().__init__(seed)
        self._rng = None
        self._for_seed = None

    def _numpy(self):
        seed = self.seed if self.seed is not None else simulator.state.seed
        if self._rng is None or self._for_seed != seed:
            self._rng = NumpyRNG(seed=(int(seed) * 1000003 + self.STREAM) % (2 ** 32))
            self._for_seed = seed
        return self._rng

    def next(self, n=None, distribution=None, parameters=None, mask=None):
        return self._numpy().next(n, distribution, parameters, mask)
