"""pyNN.nmp exports what pyNN.nest exports (issue 10, item 18: NativeRNG, used
by PyNN's random_numbers example, was missing), except NEST's own machinery,
and its NativeRNG draws from a stream seeded by the run's seed."""

import ast
import os
import unittest

import pyNN
import pyNN.nmp as sim
from pyNN.random import RandomDistribution

NEST = os.path.join(os.path.dirname(pyNN.__file__), "nest")

# pyNN.nest's names that are NEST's implementation, not the backend API.
NEST_INTERNALS = {"NESTConnectorMixin", "NestStandardCurrentSource", "Multimeter", "SpikeDetector", "RecordingDevice",
                  "Recorder", "NESTSynapseMixin", "NestCurrentSource", "DefaultCSAConnector", "VARIABLE_MAP", "REVERSE_VARIABLE_MAP", "SCALE_FACTORS", "nest", "tables", "shutil", "warnings"}


def public_names(path):
    """The names a module defines or imports by name (star imports aside)."""
    tree = ast.parse(open(path).read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.ImportFrom, ast.Import)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    return {n for n in names if not n.startswith("_")}


class SurfaceTest(unittest.TestCase):

    def test_nest_names(self):
        names = public_names(os.path.join(NEST, "__init__.py"))
        for f in ["standardmodels/cells.py", "standardmodels/synapses.py", "standardmodels/electrodes.py", "connectors.py", "recording.py"]:
            names |= {n for n in public_names(os.path.join(NEST, f)) if n[:1].isupper()}
        missing = sorted(n for n in names - NEST_INTERNALS if not hasattr(sim, n))
        self.assertEqual(missing, [], "pyNN.nest exports these and pyNN.nmp does not")

    def test_native_rng_follows_the_run_seed(self):
        def draw(seed, rng_seed=None):
            sim.setup(rng_seed=seed)
            return list(RandomDistribution("normal", mu=0, sigma=1, rng=sim.NativeRNG(rng_seed)).next(5))
        try:
            self.assertEqual(draw(5), draw(5))
            self.assertNotEqual(draw(5), draw(6))
            self.assertEqual(draw(5, rng_seed=9), draw(6, rng_seed=9))  # its own seed wins
        finally:
            sim.end()

    def test_native_models_say_what_there_is(self):
        with self.assertRaisesRegex(NotImplementedError, "IF_cond_exp"):
            sim.native_cell_type("iaf_psc_alpha")




class CallbackDeterminismTest(unittest.TestCase):
    """The same seed draws the same network whether or not a connector has a
    callback (issue 10, item 19: brunel.py drew another network with one)."""

    def connections(self, callback):
        from pyNN.random import NumpyRNG
        sim.setup(rng_seed=3)
        try:
            a = sim.Population(30, sim.IF_curr_exp())
            b = sim.Population(30, sim.IF_curr_exp())
            c = sim.FixedProbabilityConnector(0.2, rng=NumpyRNG(seed=7), callback=callback)
            prj = sim.Projection(a, b, c, sim.StaticSynapse(weight=0.1, delay=1.0))
            sim.run(1.0)
            return sorted(map(tuple, prj.get("weight", format="list")))
        finally:
            sim.end()

    def test_same_network(self):
        seen = []
        with_cb = self.connections(seen.append)
        self.assertEqual(with_cb, self.connections(None))
        self.assertTrue(with_cb)
        self.assertEqual(seen[-1], 1.0)


class SynapseStateTest(unittest.TestCase):
    """Projection.initialize sets synapse state under NEST's names, as PyNN's
    multiquantal_synapses example does (issue 10, item 17): a (available
    release sites) and u of MultiQuantalSynapse, u of TsodyksMarkramSynapse."""

    def peak(self, **initial):
        sim.setup(timestep=0.1, rng_seed=1)
        try:
            src = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0]))
            cell = sim.Population(1, sim.IF_curr_exp(tau_m=10.0))
            prj = sim.Projection(src, cell, sim.AllToAllConnector(),
                                 sim.MultiQuantalSynapse(U=0.5, n=4, tau_rec=100.0, weight=1.0, delay=1.0))
            if initial:
                prj.initialize(**initial)
            cell.record("v")
            sim.run(20.0)
            v = cell.get_data().segments[0].analogsignals[0]
            return float(v.max() - v[0])
        finally:
            sim.end()

    def test_multiquantal_a_and_u(self):
        self.assertEqual(self.peak(a=0, u=0.5), 0.0)   # nothing available: nothing released
        self.assertGreater(self.peak(a=4, u=1.0), 0.0)  # every site released

    def test_tsodyks_markram_u(self):
        sim.setup()
        try:
            a = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
            b = sim.Population(2, sim.IF_cond_exp())
            prj = sim.Projection(a, b, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse(U=0.5, tau_rec=100.0, tau_facil=10.0))
            prj.initialize(u=0.3)
            sim.run(5.0)
        finally:
            sim.end()


if __name__ == "__main__":
    unittest.main()
