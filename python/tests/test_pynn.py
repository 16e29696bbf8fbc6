"""pyNN.nmp behaviour beyond PyNN's own system tests: running in several
parts, changes between runs, connectors, data conversion, errors."""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import quantities as pq

import pyNN.nmp as sim
from pyNN.random import NumpyRNG, RandomDistribution
from nmp.simclient import SimServerError

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


class Case(unittest.TestCase):
    def setUp(self):
        sim.setup(timestep=0.1, min_delay=0.1)

    def tearDown(self):
        sim.end()


class ImportTest(unittest.TestCase):

    def run_script(self, code, *args):
        env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
        out = subprocess.run([PY, "-c", "import _nmp_pynn_finder\n" + code] + list(args),
                             capture_output=True, text=True, env=env)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.strip()

    def test_get_simulator(self):
        out = self.run_script("from pyNN.utility import get_simulator\n"
                              "sim, args = get_simulator()\nprint(sim.__name__)", "nmp")
        self.assertEqual(out, "pyNN.nmp")

    def test_exec_idiom(self):
        out = self.run_script("name = 'nmp'\nexec('import pyNN.%s as sim' % name)\n"
                              "print(sim.__name__, sim.list_standard_models()[:1])")
        self.assertTrue(out.startswith("pyNN.nmp"), out)


class RunControlTest(Case):

    def trace(self, runs):
        p = sim.Population(1, sim.IF_curr_exp(i_offset=0.5, v_thresh=100.0))
        p.record("v")
        for r in runs:
            sim.run(r)
        return p.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]

    def test_runs_continue(self):
        whole = self.trace([100.0])
        sim.end()
        sim.setup(timestep=0.1, min_delay=0.1)
        parts = self.trace([30.0, 45.0, 25.0])
        self.assertEqual(len(whole), 1001)
        np.testing.assert_allclose(parts, whole, rtol=0, atol=1e-12)
        self.assertAlmostEqual(sim.get_current_time(), 100.0, places=12)

    def test_parameter_set_between_runs_takes_effect(self):
        p = sim.Population(2, sim.IF_curr_exp(i_offset=0.5, v_thresh=100.0))
        p.record("v")
        sim.run(50.0)
        p[1:2].set(i_offset=0.0)
        self.assertEqual(list(p.get("i_offset")), [0.5, 0.0])
        sim.run(50.0)
        v = p.get_data().segments[0].filter(name="v")[0].magnitude
        self.assertGreater(v[-1, 0], v[500, 0])   # still charging
        self.assertLess(v[-1, 1], v[500, 1])      # decaying back to rest

    def test_initialize_after_run_sets_the_state(self):
        p = sim.Population(1, sim.IF_cond_exp(v_thresh=100.0))
        p.record("v")
        sim.run(10.0)
        p.initialize(v=-50.0)
        sim.run(10.0)
        v = p.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]
        self.assertAlmostEqual(v[100], -65.0, places=9)
        self.assertGreater(v[101], -51.0)

    def test_reset_repeats_with_new_segment(self):
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0, 5.0]))
        p = sim.Population(1, sim.IF_cond_exp())
        sim.Projection(src, p, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
        p.record(["v", "gsyn_exc"])
        sim.run(10.0)
        sim.reset()
        self.assertEqual(sim.get_current_time(), 0.0)
        sim.run(10.0)
        block = p.get_data()
        self.assertEqual(len(block.segments), 2)
        a, b = (seg.filter(name="v")[0].magnitude for seg in block.segments)
        np.testing.assert_array_equal(a, b)

    def test_weights_set_between_runs_take_effect(self):
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(5.0, 100.0, 10.0)))
        p = sim.Population(1, sim.IF_cond_exp())
        prj = sim.Projection(src, p, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
        p.record("gsyn_exc")
        sim.run(50.0)
        prj.set(weight=0.0)
        sim.run(50.0)
        g = p.get_data().segments[0].filter(name="gsyn_exc")[0].magnitude[:, 0]
        self.assertGreater(g[:500].max(), 0.005)
        # Inputs at 55, 65, ... ms arrive with weight 0: g only decays.
        self.assertTrue(np.all(np.diff(g[500:]) <= 0))
        self.assertLess(g[-1], 1e-4)

    def test_structure_change_after_run(self):
        sim.Population(1, sim.IF_cond_exp())
        sim.run(10.0)
        sim.Population(1, sim.IF_cond_exp())
        with self.assertRaises(sim.NetworkChangedError) as cm:
            sim.run(10.0)
        self.assertIn("reset", str(cm.exception))
        sim.reset()
        sim.run(10.0)
        self.assertAlmostEqual(sim.get_current_time(), 10.0)


class ErrorTest(Case):

    def test_engine_error_names_population_and_parameter(self):
        sim.Population(4, sim.IF_cond_exp(tau_refrac=-1.0), label="broken cells")
        with self.assertRaises(SimServerError) as cm:
            sim.run(10.0)
        self.assertIn("broken cells", str(cm.exception))
        self.assertIn("tau_refrac", str(cm.exception))

    def test_unimplemented_connection_parameter(self):
        p = sim.Population(2, sim.IF_curr_exp())
        with self.assertRaises(Exception):
            sim.Projection(p, p, sim.AllToAllConnector(), sim.StaticSynapse(weight=-1.0),
                           receptor_type="excitatory")


class ConnectorTest(Case):

    def test_procedural_connectors_are_expanded_in_the_engine(self):
        a = sim.Population(30, sim.IF_cond_exp())
        b = sim.Population(20, sim.IF_cond_exp())
        rng = NumpyRNG(seed=5)
        w = RandomDistribution("uniform", low=0.001, high=0.002)
        prjs = {
            "pre": sim.Projection(a, b, sim.FixedNumberPreConnector(4, rng=rng), sim.StaticSynapse(weight=w)),
            "post": sim.Projection(a, b, sim.FixedNumberPostConnector(3, rng=rng), sim.StaticSynapse(weight=0.001)),
            "total": sim.Projection(a, b, sim.FixedTotalNumberConnector(77, rng=rng), sim.StaticSynapse(weight=0.001)),
            "one": sim.Projection(a[:20], b, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.001)),
            "all": sim.Projection(a, a, sim.AllToAllConnector(allow_self_connections=False), sim.StaticSynapse(weight=0.001)),
            "prob": sim.Projection(a, a, sim.FixedProbabilityConnector(0.25, rng=rng), sim.StaticSynapse(weight=0.001)),
        }
        for name, prj in prjs.items():
            self.assertIsNone(prj._explicit, name)
        wa = prjs["pre"].get("weight", format="array")
        np.testing.assert_array_equal((~np.isnan(wa)).sum(axis=0), np.full(20, 4))
        self.assertTrue(np.nanmin(wa) >= 0.001 and np.nanmax(wa) <= 0.002)
        post = prjs["post"].get("weight", format="array", multiple_synapses="sum")
        np.testing.assert_allclose(np.nansum(post, axis=1), np.full(30, 0.003))
        self.assertEqual(prjs["total"].size(), 77)
        one = prjs["one"].get("weight", format="list")
        self.assertEqual(sorted((int(i), int(j)) for i, j, _ in one), [(i, i) for i in range(20)])
        self.assertEqual(len(prjs["all"]), 30 * 29)
        self.assertTrue(np.all(np.isnan(np.diag(prjs["all"].get("weight", format="array")))))
        self.assertTrue(0.15 < len(prjs["prob"]) / 900 < 0.35)

    def test_weights_read_back_as_given(self):
        p = sim.Population(3, sim.IF_cond_exp())
        prj = sim.Projection(p, p, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.123, delay=0.3))
        w, d = prj.get(["weight", "delay"], format="array")
        np.testing.assert_array_equal(w, np.full((3, 3), 0.123))
        np.testing.assert_array_equal(d, np.full((3, 3), 0.3))
        prj.set(weight=np.arange(9.0).reshape(3, 3) / 7)
        w = prj.get("weight", format="array")
        # Weights are single precision in the engine: read back to 7 digits.
        np.testing.assert_allclose(w, np.arange(9.0).reshape(3, 3) / 7, rtol=1e-7)

    def test_python_expanded_connectors(self):
        p = sim.Population(10, sim.IF_cond_exp(), structure=sim.space.Line(dx=10.0))
        prj = sim.Projection(p, p, sim.DistanceDependentProbabilityConnector("d < 25"),
                             sim.StaticSynapse(weight=lambda d: 0.001 * d, delay="0.1 + d/100"))
        self.assertIsNotNone(prj._explicit)
        i, j, w, d = np.array(prj.get(["weight", "delay"], format="list")).T
        self.assertTrue(np.all(np.abs(i - j) <= 2))
        np.testing.assert_allclose(w, 0.01 * np.abs(i - j), rtol=1e-6)
        np.testing.assert_allclose(d, 0.1 + 0.1 * np.abs(i - j), atol=1e-12)
        lst = sim.Projection(p, p, sim.FromListConnector([(0, 1, 0.5, 1.0), (3, 2, 0.25, 2.0)],
                                                         column_names=["weight", "delay"]))
        self.assertEqual(sorted(lst.get(["weight", "delay"], format="list")),
                         [(0.0, 1.0, 0.5, 1.0), (3.0, 2.0, 0.25, 2.0)])

    def test_set_with_functions_and_arrays(self):
        p1 = sim.Population(4, sim.IF_cond_exp())
        p2 = sim.Population(2, sim.IF_cond_exp())
        prj = sim.Projection(p1, p2, sim.FromListConnector([(0, 0), (3, 0), (1, 1), (1, 0), (2, 1)]),
                             sim.StaticSynapse(weight=0.1, delay=0.1))
        prj.set(delay=lambda d: 0.5 + d)
        nan = np.nan
        np.testing.assert_array_equal(prj.get("delay", format="array"),
                                      [[0.5, nan], [1.5, 0.5], [nan, 1.5], [3.5, nan]])
        prj.set(weight=np.array([[0, nan], [2, 3], [nan, 5], [6, nan]]) / 10)
        np.testing.assert_array_equal(prj.get("weight", format="array"),
                                      [[0, nan], [0.2, 0.3], [nan, 0.5], [0.6, nan]])
        prj.set(weight=[0.9, 0.8, 0.7, 0.6, 0.5])   # one per connection, in row order
        np.testing.assert_array_equal(prj.get("weight", format="array"),
                                      [[0.9, nan], [0.8, 0.7], [nan, 0.6], [0.5, nan]])

    def test_connection_objects(self):
        p = sim.Population(2, sim.IF_cond_exp())
        prj = sim.Projection(p, p, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=0.5))
        c = prj[3]
        self.assertEqual((c.presynaptic_index, c.postsynaptic_index), (1, 1))
        c.weight = 0.02
        self.assertEqual(prj.get("weight", format="array")[1, 1], 0.02)


class DataTest(Case):

    def test_units_and_annotations(self):
        cond = sim.Population(2, sim.IF_cond_exp(i_offset=1.0), label="cond")
        curr = sim.Population(2, sim.IF_curr_exp(i_offset=1.0), label="curr")
        cond.record(["spikes", "v", "gsyn_exc"], sampling_interval=0.5)
        curr[1:].record(["v", "isyn_exc"])
        sim.run(50.0)
        block = cond.get_data()
        self.assertEqual(block.annotations["simulator"], "nmp")
        seg = block.segments[0]
        v = seg.filter(name="v")[0]
        self.assertEqual(v.units, pq.mV)
        self.assertEqual(v.sampling_period, 0.5 * pq.ms)
        self.assertEqual(v.shape, (101, 2))
        self.assertEqual(seg.filter(name="gsyn_exc")[0].units, pq.uS)
        st = seg.spiketrains[0]
        self.assertEqual(st.units, pq.ms)
        self.assertEqual(st.t_stop, 50.0 * pq.ms)
        self.assertEqual(st.annotations["source_population"], "cond")
        self.assertGreater(len(st), 0)
        s2 = curr.get_data().segments[0]
        isyn = s2.filter(name="isyn_exc")[0]
        self.assertEqual(isyn.units, pq.nA)
        np.testing.assert_array_equal(isyn.array_annotations["channel_index"], [1])
        counts = cond.get_spike_counts()
        self.assertEqual(set(counts), set(int(i) for i in cond.all_cells))
        self.assertEqual(cond.mean_spike_count(), np.mean(list(counts.values())))

    def test_write_data_pickle(self):
        p = sim.Population(3, sim.IF_cond_exp(i_offset=0.8))
        p.record(["spikes", "v"])
        sim.run(30.0)
        with tempfile.TemporaryDirectory() as d:
            fn = os.path.join(d, "data.pkl")
            p.write_data(fn)
            back = sim.get_io(fn).read()[0]
        np.testing.assert_array_equal(back.segments[0].filter(name="v")[0].magnitude,
                                      p.get_data().segments[0].filter(name="v")[0].magnitude)

    def test_clear_is_per_population(self):
        a = sim.Population(1, sim.IF_cond_exp(i_offset=1.0))
        b = sim.Population(1, sim.IF_cond_exp(i_offset=1.0))
        a.record("spikes")
        b.record("spikes")
        sim.run(50.0)
        before = a.get_data(clear=True).segments[0].spiketrains[0]
        sim.run(50.0)
        after = a.get_data().segments[0].spiketrains[0]
        whole = b.get_data().segments[0].spiketrains[0]
        self.assertEqual(after.t_start, 50.0 * pq.ms)
        self.assertGreater(len(before), 0)
        self.assertGreater(len(after), 0)
        np.testing.assert_array_equal(np.concatenate([before.magnitude, after.magnitude]),
                                      whole.magnitude)


class CurrentRecordingTest(Case):
    """The current a recorded source reports is the current the engine
    injects. IF_curr_exp is integrated exactly for a current constant over
    each step, v' = v e + I R (1 - e) with e = exp(-dt/tau_m), R = tau_m/cm,
    so each step's change of v gives that step's current."""

    def check(self, source):
        tau_m, cm, dt = 50.0, 1.0, 0.1
        p = sim.Population(1, sim.IF_curr_exp(tau_m=tau_m, cm=cm, v_rest=0.0, v_reset=0.0,
                                              v_thresh=1e9))
        p.initialize(v=0.0)
        source.inject_into(p)
        source.record()
        p.record("v")
        sim.run(40.0)
        sim.run(35.0)
        v = p.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]
        i = source.get_data()
        self.assertEqual(i.shape[0], len(v))
        e = np.exp(-dt / tau_m)
        injected = (v[1:] - v[:-1] * e) / (tau_m / cm * (1 - e))
        np.testing.assert_allclose(injected, i.magnitude[:-1, 0], rtol=0, atol=1e-9)
        return i.magnitude[:, 0]

    def test_dc(self):
        i = self.check(sim.DCSource(amplitude=0.3, start=10.0, stop=52.3))
        self.assertEqual(i[99], 0.0)
        self.assertEqual(i[100], 0.3)

    def test_ac(self):
        self.check(sim.ACSource(amplitude=0.5, offset=0.1, frequency=77.0, phase=30.0, start=5.0, stop=60.0))

    def test_step(self):
        self.check(sim.StepCurrentSource(times=[3.0, 21.04, 50.0], amplitudes=[0.2, -0.4, 0.1]))

    def test_noise(self):
        i = self.check(sim.NoisyCurrentSource(mean=0.2, stdev=0.5, start=7.0, stop=66.0, dt=0.5))
        on = i[70:660]
        self.assertEqual(len(np.unique(on)), 118)
        self.assertTrue(np.all(i[:70] == 0) and np.all(i[660:] == 0))


if __name__ == "__main__":
    unittest.main()
