"""pyNN.nmp exports what pyNN.nest exports (issue 10, item 18: NativeRNG, used
by PyNN's random_numbers example, was missing), except NEST's own machinery,
and its NativeRNG draws from a stream seeded by the run's seed."""

import ast
import os
import unittest

import numpy as np

import pyNN
import pyNN.nmp as sim
from pyNN import errors, space
from pyNN.random import RandomDistribution

NEST = os.path.join(os.path.dirname(pyNN.__file__), "nest")

# pyNN.nest's names that are NEST's implementation, not the backend API.
NEST_INTERNALS = {"NESTConnectorMixin", "NestStandardCurrentSource", "Multimeter", "SpikeDetector", "RecordingDevice",
                  "Recorder", "NESTSynapseMixin", "NestCurrentSource", "DefaultCSAConnector", "VARIABLE_MAP", "REVERSE_VARIABLE_MAP", "SCALE_FACTORS", "nest", "tables", "shutil", "warnings"}


def public_names(path):
    """The names a module defines or imports by name (star imports aside)."""
    with open(path) as f:
        tree = ast.parse(f.read())
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
    """Projection.initialize sets the state of every synapse type that has
    one (issue 10, item 17), under PyNN's names and NEST's: u and x of
    TsodyksMarkramSynapse, u and R of StochasticTsodyksMarkramSynapse, a
    (available release sites) and u of MultiQuantalSynapse, as PyNN's
    multiquantal_synapses example sets them, Kplus of STDPMechanism; get
    reads the state back."""

    def tearDown(self):
        sim.end()

    def psp(self, synapse, n=1, seed=1, **initial):
        """Peak PSPs (mV) of n IF_curr_exp cells, each the target of one
        connection from one spike at 2 ms."""
        sim.setup(timestep=0.1, rng_seed=seed)
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0]))
        cells = sim.Population(n, sim.IF_curr_exp(tau_m=10.0, v_thresh=1e6))
        prj = sim.Projection(src, cells, sim.AllToAllConnector(), synapse, label="stp")
        if initial:
            prj.initialize(**initial)
        cells.record("v")
        sim.run(20.0)
        v = np.asarray(cells.get_data().segments[0].analogsignals[0])
        return v.max(axis=0) - v[0]

    def test_multiquantal_a_and_u(self):
        mq = dict(U=0.5, n=4, tau_rec=100.0, weight=1.0, delay=1.0)
        self.assertEqual(self.psp(sim.MultiQuantalSynapse(**mq), a=0, u=0.5)[0], 0.0)   # nothing available
        self.assertGreater(self.psp(sim.MultiQuantalSynapse(**mq), a=4, u=1.0)[0], 0.0)  # every site released

    def test_tsodyks_markram_x_halves_the_first_psp(self):
        # PSP ∝ u·x at the first spike; x recovers towards 1 from t = 0 with
        # tau_rec until the spike at 2 ms.
        for tau_rec, ratio in [(1e9, 0.5), (100.0, 1 - 0.5 * np.exp(-2.0 / 100.0))]:
            tm = dict(U=0.4, tau_rec=tau_rec, weight=1.0, delay=1.0)
            full = self.psp(sim.TsodyksMarkramSynapse(**tm), x=1.0)[0]
            half = self.psp(sim.TsodyksMarkramSynapse(**tm), x=0.5)[0]
            self.assertGreater(full, 0.1)
            self.assertAlmostEqual(half / full, ratio, places=6)

    def test_tsodyks_markram_u(self):
        # With facilitation, the first spike's u is u0 e^(-t/tau_facil) + U (1 - ...).
        tm = dict(U=0.2, tau_rec=1e9, tau_facil=1e9, weight=1.0, delay=1.0)
        base = self.psp(sim.TsodyksMarkramSynapse(**tm))[0]
        raised = self.psp(sim.TsodyksMarkramSynapse(**tm), u=0.5)[0]
        self.assertAlmostEqual(raised / base, (0.5 + 0.2 * 0.5) / 0.2, places=5)

    def test_get_reads_the_state(self):
        sim.setup(timestep=0.1)
        a = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
        b = sim.Population(3, sim.IF_cond_exp())
        prj = sim.Projection(a, b, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse(U=0.5, tau_rec=1e9), label="ab")
        self.assertEqual(prj.get(["u", "x"], format="list", with_address=False), [(0.0, 1.0)] * 6)  # the defaults
        prj.initialize(x=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6])          # one per connection, in get's order
        self.assertEqual(prj.get("x", format="list", with_address=False), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        m = np.arange(6.0).reshape(2, 3) / 10
        prj.initialize(u=m)                                         # the connectivity matrix's shape
        np.testing.assert_array_equal(prj.get("u", format="array"), m)
        prj.initialize(x=RandomDistribution("uniform", low=0.2, high=0.4))
        x = prj.get("x", format="array")
        self.assertTrue(np.all((x >= 0.2) & (x < 0.4)) and len(set(x.ravel())) == 6, x)
        sim.run(5.0)
        # After the spike: x of each synapse is its x before times 1 - u (u = U).
        np.testing.assert_allclose(prj.get("x", format="array"), x * 0.5, rtol=1e-8)  # recovery over 1 ms of 1e9
        sim.reset()
        np.testing.assert_allclose(prj.get("x", format="array"), x, rtol=1e-12)
        with self.assertRaises(errors.InvalidDimensionsError):
            prj.initialize(x=[0.5, 0.5])

    def test_state_as_a_function_of_distance(self):
        sim.setup(timestep=0.1)
        a = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]), structure=space.Line(dx=1.0))
        b = sim.Population(3, sim.IF_cond_exp(), structure=space.Line(dx=1.0, x0=10.0))
        prj = sim.Projection(a, b, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse(), label="ab")
        prj.initialize(x=lambda d: 1.0 / (1.0 + d))
        d = np.abs(np.arange(10.0, 13.0)[None, :] - np.arange(2.0)[:, None])
        np.testing.assert_allclose(prj.get("x", format="array"), 1.0 / (1.0 + d), rtol=1e-12)

    def test_state_survives_a_rebuild(self):
        # Adding a population after the network was sent sends it anew; the
        # state set by initialize is kept.
        sim.setup(timestep=0.1)
        a = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
        b = sim.Population(2, sim.IF_cond_exp())
        prj = sim.Projection(a, b, sim.AllToAllConnector(), sim.StochasticTsodyksMarkramSynapse(), label="ab")
        prj.initialize(u=0.25, R=0)
        self.assertEqual(len(prj), 4)
        sim.Population(1, sim.IF_cond_exp())
        sim.run(0.1)
        self.assertEqual(prj.get(["u", "R"], format="list", with_address=False), [(0.25, 0.0)] * 4)

    def test_unknown_state_names_the_projection(self):
        sim.setup()
        a = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
        b = sim.Population(1, sim.IF_cond_exp())
        tm = sim.Projection(a, b, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse(), label="tm-proj")
        with self.assertRaisesRegex(KeyError, "'tm-proj'.*no state variable 'y'.*u, x.*tsodyks_synapse"):
            tm.initialize(y=0.1)
        static = sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(), label="static-proj")
        with self.assertRaisesRegex(errors.NonExistentParameterError, "'static-proj'.*no state variable 'u'.*no state variables"):
            static.initialize(u=0.1)
        with self.assertRaisesRegex(Exception, "tm-proj.*x.*probability"):
            tm.initialize(x=1.5)
            sim.run(1.0)

    def test_stdp_kplus(self):
        # NEST's Kplus, the presynaptic trace, decays from t = 0 and pairs with
        # a postsynaptic spike that comes before any presynaptic one.
        def weight(**initial):
            sim.setup(timestep=0.1)
            pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[30.0]))
            kick = sim.Population(1, sim.SpikeSourceArray(spike_times=[9.0]))
            post = sim.Population(1, sim.IF_curr_delta(tau_refrac=2.0))  # one spike per kick
            sim.Projection(kick, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=50.0, delay=1.0))
            stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(tau_plus=20.0, A_plus=0.01),
                                     weight_dependence=sim.AdditiveWeightDependence(w_max=1.0),
                                     weight=0.5, delay=1.0, dendritic_delay_fraction=1.0)
            prj = sim.Projection(pre, post, sim.OneToOneConnector(), stdp, label="plastic")
            if initial:
                prj.initialize(**initial)
                self.assertEqual(prj.get("Kplus", format="list", with_address=False), [initial["Kplus"]])
            post.record("spikes")
            sim.run(20.0)
            t = np.asarray(post.get_data().segments[0].spiketrains[0])
            self.assertEqual(len(t), 1)
            return prj.get("weight", format="list", with_address=False)[0], float(t[0])
        w0, t_post = weight()
        w1, _ = weight(Kplus=2.0)
        # The postsynaptic spike reaches the synapse one delay after it happens.
        self.assertAlmostEqual(w1 - w0, 0.01 * 2.0 * np.exp(-(t_post + 1.0) / 20.0), places=6)

    def test_stochastic_tsodyks_markram_state(self):
        # U = 1: a synapse releases at the first spike exactly when its site
        # is recovered. R = 0 with slow recovery: none; R drawn as
        # binomial(1, 1/2): about half, and the same ones for the same seed.
        # (The engine expands AllToAllConnector and draws R from the run's
        # seed, as it draws synaptic parameters: docs/pynn.md.)
        n = 1000
        stm = dict(U=1.0, tau_rec=1e9, weight=1.0, delay=1.0)
        self.assertEqual(np.count_nonzero(self.psp(sim.StochasticTsodyksMarkramSynapse(**stm), n=n) > 1e-9), n)
        self.assertEqual(np.count_nonzero(self.psp(sim.StochasticTsodyksMarkramSynapse(**stm), n=n, R=0) > 1e-9), 0)
        halves = []
        for seed in (5, 5, 6):
            R = RandomDistribution("binomial", n=1, p=0.5)
            halves.append(self.psp(sim.StochasticTsodyksMarkramSynapse(**stm), n=n, seed=seed, R=R) > 1e-9)
            print("seed %d: %d of %d released" % (seed, halves[-1].sum(), n))
            self.assertLess(abs(halves[-1].sum() - n / 2), 5 * np.sqrt(n / 4))
        np.testing.assert_array_equal(halves[0], halves[1])
        self.assertFalse(np.array_equal(halves[0], halves[2]))
        # An initial u facilitates the first release: with tau_facil long,
        # u = u0 + U (1 - u0) at the first spike: 0.2 -> 0.6 for u0 = 0.5.
        stm = dict(U=0.2, tau_rec=1e9, tau_facil=1e9, weight=1.0, delay=1.0)
        for u0, p in [(None, 0.2), (0.5, 0.6)]:
            init = {} if u0 is None else {"u": u0}
            got = np.count_nonzero(self.psp(sim.StochasticTsodyksMarkramSynapse(**stm), n=n, seed=3, **init) > 1e-9)
            self.assertLess(abs(got - n * p), 5 * np.sqrt(n * p * (1 - p)), (u0, got))


if __name__ == "__main__":
    unittest.main()
