"""Spike sources against their distributions, with enough intervals that
a wrong process cannot pass (PyNN's own scenarios use few, see
docs/pynn.md on test_SpikeSourceGamma)."""

import unittest

import numpy as np
from scipy.stats import kstest

import pyNN.nmp as sim

SEED = 20240901


def intervals(celltype, n, duration):
    sim.setup(timestep=0.1, rng_seed=SEED)
    try:
        p = sim.Population(n, celltype)
        p.record("spikes")
        sim.run(duration)
        trains = p.get_data().segments[0].spiketrains
        return np.concatenate([np.diff(st.magnitude) for st in trains])
    finally:
        sim.end()


class SourceStatisticsTest(unittest.TestCase):
    # Kolmogorov-Smirnov distance allowed: with tens of thousands of
    # intervals a correct process stays far below it, while a wrong mean
    # or shape (or a bias of one step) exceeds it. Times are on the 0.1 ms
    # grid, which by itself gives about dt/(2 * mean interval).

    def test_gamma(self):
        print("seed", SEED)
        isi = intervals(sim.SpikeSourceGamma(alpha=6, beta=100.0), 20, 100000.0)
        self.assertGreater(len(isi), 30000)
        self.assertAlmostEqual(isi.mean(), 60.0, delta=0.5)
        self.assertLess(kstest(isi, "gamma", args=(6, 0, 10.0))[0], 0.01)

    def test_poisson(self):
        isi = intervals(sim.SpikeSourcePoisson(rate=50.0), 10, 100000.0)
        self.assertGreater(len(isi), 40000)
        self.assertAlmostEqual(isi.mean(), 20.0, delta=0.2)
        self.assertLess(kstest(isi, "expon", args=(0, 20.0))[0], 0.01)

    def test_poisson_refractory(self):
        isi = intervals(sim.SpikeSourcePoissonRefractory(rate=50.0, tau_refrac=5.0), 10, 100000.0)
        self.assertAlmostEqual(isi.mean(), 20.0, delta=0.2)
        self.assertGreaterEqual(isi.min(), 5.0 - 1e-9)
        self.assertLess(kstest(isi - 5.0, "expon", args=(0, 15.0))[0], 0.01)


if __name__ == "__main__":
    unittest.main()
