"""The BrainScaleS-1 front end (pyhmf and its companions) against the Go
side: the seed documents' four scripts, Python 2 as written, converted as
the platform's job runner converts them (worker/python2.go's converter),
run unchanged; and the knobs' errors."""

import ast
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "examples", "brainscales1")
OLDPYNN = os.path.join(ROOT, "python", "oldpynn")
if OLDPYNN not in sys.path:
    sys.path.insert(0, OLDPYNN)


def converter():
    with open(os.path.join(ROOT, "worker", "python2.go")) as f:
        src = f.read()
    return src.split("const python2Converter = `")[1].split("`")[0]


def run_example(name, tmp):
    with open(os.path.join(EXAMPLES, name)) as f:
        code = f.read()
    with open(os.path.join(tmp, name), "w") as f:
        f.write(code)
    subprocess.run([sys.executable, "-c", converter()], cwd=tmp, check=True, capture_output=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "python"), OLDPYNN])
    return subprocess.run([sys.executable, name], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)


class TestSeedScripts(unittest.TestCase):
    def test_marocco_intro(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run_example("marocco_intro.py", tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            want = ["NeuronOnWafer(NeuronOnHICANN(X(0), top), HICANNOnWafer(X(5), Y(5)))",
                    "NeuronOnWafer(NeuronOnHICANN(X(1), top), HICANNOnWafer(X(5), Y(5)))",
                    "NeuronOnWafer(NeuronOnHICANN(X(0), bottom), HICANNOnWafer(X(5), Y(5)))",
                    "NeuronOnWafer(NeuronOnHICANN(X(1), bottom), HICANNOnWafer(X(5), Y(5)))"]
            self.assertEqual([l for l in r.stdout.splitlines() if l.startswith("NeuronOnWafer")], want)

    def test_single_neuron_weight_sweep(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run_example("nmpm1_single_neuron.py", tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            peaks = []
            for w in (5, 10, 15):
                v = np.loadtxt(os.path.join(tmp, "membrane_w%d.txt" % w))
                self.assertEqual(v.shape[1], 3)
                window = v[(v[:, 1] > 250) & (v[:, 1] < 350), 2]
                peaks.append(window.max() - v[(v[:, 1] > 200) & (v[:, 1] < 250), 2].mean())
                self.assertTrue(os.path.exists(os.path.join(tmp, "spikes_w%d.txt" % w)))
            # the PSP of the excitatory input at 250 ms grows with the digital weight
            self.assertLess(peaks[0], peaks[1])
            self.assertLess(peaks[1], peaks[2])
            self.assertGreater(peaks[0], 0.5)

    def test_synapse_loss(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run_example("synapse_loss.py", tmp)
            self.assertEqual(r.returncode, 0, r.stderr)  # the script asserts the per-projection sums
            n = int(re.search(r"synapses: (\d+)", r.stdout).group(1))
            lost = int(re.search(r"synapse_loss: (\d+)", r.stdout).group(1))
            self.assertTrue(2237 <= n <= 2735, r.stdout)
            self.assertTrue(0.18 <= lost / n <= 0.28, r.stdout)
            self.assertTrue(os.path.getsize(os.path.join(tmp, "synapse_loss.png")) > 1000)

    def test_ess_adex(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run_example("nmpm1_adex_neuron_ess.py", tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("spiked at", r.stdout)
            with open(os.path.join(tmp, "pulse_stats.py")) as f:
                text = f.read()
            stats = ast.literal_eval(text.split("=", 1)[1])
            self.assertEqual(sorted(stats), sorted(["l2_down_before_sim", "l2_down_dropped_before_sim", "l2_down_sent",
                                                     "l2_down_lost", "l2_up_sent", "l2_up_lost", "l1_neuron_sent", "l1_neuron_lost"]))
            self.assertEqual(stats["l2_down_before_sim"], 9)
            spikes = len(re.findall("spiked at", r.stdout))
            self.assertEqual(stats["l1_neuron_sent"], spikes)
            with open(os.path.join(tmp, "logfile.txt")) as f:
                log = f.read()
            self.assertIn("Layer 2 events dropped before sim : 0/9 (0 %)", log)


class TestKnobs(unittest.TestCase):
    def test_errors(self):
        from pymarocco import PyMarocco
        import pysthal
        m = PyMarocco()
        with self.assertRaises(ValueError):
            m.neuron_placement.default_neuron_size(3)
        with self.assertRaises(OverflowError):
            m.neuron_placement.default_neuron_size(-2)
        with self.assertRaises(RuntimeError):
            m.synapse_routing.driver_chain_length(0)
        with self.assertRaises(AttributeError):
            m.no_such_knob = 1
        with self.assertRaises(TypeError):
            m.backend = "ESS"
        with self.assertRaises(ValueError):
            m.bkg_gen_isi = 1
        with self.assertRaises(ValueError):
            pysthal.ESSConfig().weight_distortion = -0.1

    def test_synapse_loss_refused(self):
        import pyhmf as pynn
        from pymarocco import PyMarocco
        from nmp.simclient import SimServerError
        m = PyMarocco()
        m.backend = PyMarocco.None_
        m.neuron_placement.default_neuron_size(4)
        m.synapse_routing.driver_chain_length(1)
        m.neuron_placement.skip_hicanns_without_neuron_blacklisting(False)
        pynn.setup(marocco=m)
        a = pynn.Population(50, pynn.IF_cond_exp)
        pynn.Projection(a, a, pynn.AllToAllConnector(weights=0.001))
        try:
            with self.assertRaisesRegex(SimServerError, "Synapses lost but synapse loss is not accepted"):
                pynn.run(1)
        finally:
            pynn.end()


class TestRandomWeights(unittest.TestCase):
    def test_connector_weights_drawn(self):
        import pyhmf as pynn
        from pymarocco import PyMarocco
        m = PyMarocco()
        m.backend = PyMarocco.ESS
        m.continue_despite_synapse_loss = True
        pynn.setup(marocco=m, rng_seeds=[5])
        try:
            a = pynn.Population(10, pynn.IF_cond_exp)
            s = pynn.Population(10, pynn.SpikeSourcePoisson, {"rate": 5.0})
            p = pynn.Projection(s, a, pynn.AllToAllConnector(weights=pynn.RandomDistribution("uniform", [0.001, 0.004])))
            q = pynn.Projection(s, a, pynn.FixedProbabilityConnector(0.5, weights=pynn.RandomDistribution(
                "normal", [0.002, 0.001], boundaries=(0.0, 0.004))), target="inhibitory")
            pynn.run(50.0)
            w, mw = p.getWeights(format="array"), m.stats.getWeights(p)
            self.assertEqual(w.shape, (10, 10))
            self.assertTrue(0.001 <= np.nanmin(w) < 0.0015 and 0.0035 < np.nanmax(w) <= 0.004, w)
            self.assertGreater(np.nanstd(w), 0.0005)
            ok = ~np.isnan(mw)
            # the realised weights follow the drawn ones (4-bit rounding aside)
            self.assertGreater(np.corrcoef(w[ok], mw[ok])[0, 1], 0.95)
            w2 = q.getWeights(format="array")
            self.assertTrue(np.nanmin(w2) >= 0.0 and np.nanmax(w2) <= 0.004 + 1e-9, (np.nanmin(w2), np.nanmax(w2)))
            with self.assertRaisesRegex(ValueError, "takes 2 parameters"):
                pynn.Projection(s, a, pynn.AllToAllConnector(weights=pynn.RandomDistribution("uniform", [0.1])))._add_to(None)
        finally:
            pynn.end()


class TestShortTermPlasticity(unittest.TestCase):
    def test_depression(self):
        # a regular train into one neuron: with depression the later PSPs
        # are smaller than the first; without, they stay alike
        import pyhmf as pynn
        from pymarocco import PyMarocco
        peaks = {}
        for stp in (False, True):
            m = PyMarocco()
            m.backend = PyMarocco.ESS
            pynn.setup(marocco=m)
            try:
                n = pynn.Population(1, pynn.IF_cond_exp, {"v_thresh": 0.0, "tau_syn_E": 2.0})
                s = pynn.Population(1, pynn.SpikeSourceArray, {"spike_times": [50.0 + 20 * k for k in range(8)]})
                sd = pynn.SynapseDynamics(fast=pynn.TsodyksMarkramMechanism(U=0.6, tau_rec=200.0)) if stp else None
                pynn.Projection(s, n, pynn.AllToAllConnector(weights=0.004), target="excitatory", synapse_dynamics=sd)
                n.record_v()
                pynn.run(250.0)
                v = n.get_v()
                rest = v[v[:, 1] < 50, 2].mean()
                peaks[stp] = [v[(v[:, 1] >= t) & (v[:, 1] < t + 20), 2].max() - rest for t in (50.0, 190.0)]
            finally:
                pynn.end()
        self.assertGreater(peaks[True][0], 0.1, peaks)
        self.assertLess(peaks[True][1], 0.6 * peaks[True][0], peaks)  # depressed
        self.assertGreater(peaks[False][1], 0.8 * peaks[False][0], peaks)
        with self.assertRaises(NotImplementedError):
            pynn.SynapseDynamics(slow=object())


class TestBadValues(unittest.TestCase):
    """Every bad knob value and coordinate is refused where it is set, with
    an error naming it; mapping limits come back as the Go side's errors."""

    def test_sweep(self):
        import pyhmf as pynn
        import pysthal
        import Coordinate as C
        from pymarocco import PyMarocco
        from pyhalbe import HICANN
        m = PyMarocco()
        cases = [
            (lambda: setattr(m, "default_wafer", -1), OverflowError, "Wafer(-1)"),
            (lambda: setattr(m, "default_wafer", "x"), TypeError, "Wafer needs an integer"),
            (lambda: setattr(m, "backend", "ESS"), TypeError, "marocco.backend"),
            (lambda: setattr(m, "calib_backend", "XML"), TypeError, "marocco.calib_backend"),
            (lambda: setattr(m, "pll_freq", 1e3), ValueError, "pll_freq"),
            (lambda: setattr(m, "bkg_gen_isi", 1), ValueError, "bkg_gen_isi"),
            (lambda: setattr(m, "experiment_time_offset", -1), ValueError, "experiment_time_offset"),
            (lambda: setattr(m, "persist", 3), TypeError, "marocco.persist"),
            (lambda: setattr(m, "skip_mapping", "yes"), TypeError, "marocco.skip_mapping"),
            (lambda: setattr(m, "continue_despite_synapse_loss", "no"), TypeError, "continue_despite_synapse_loss"),
            (lambda: setattr(m, "n_locking_retest", -1), ValueError, "n_locking_retest"),
            (lambda: setattr(m, "hicann_configurator", 1), TypeError, "hicann_configurator"),
            (lambda: setattr(m, "ess_config", 1), TypeError, "ess_config"),
            (lambda: setattr(m, "no_such_knob", 1), AttributeError, "no_such_knob"),
            (lambda: setattr(m.defects, "backend", "XML"), TypeError, "defects.backend"),
            (lambda: setattr(m.defects, "foo", 1), AttributeError, "foo"),
            (lambda: setattr(pysthal.ESSConfig(), "timestep", -1), ValueError, "ESSConfig.timestep"),
            (lambda: setattr(pysthal.ESSConfig(), "weight_distortion", -0.1), ValueError, "weight_distortion"),
            (lambda: setattr(pysthal.ESSConfig(), "speedup", 1e3), ValueError, "speedup"),
            (lambda: setattr(pysthal.ESSConfig(), "foo", 1), AttributeError, "foo"),
            (lambda: m.neuron_placement.default_neuron_size("a"), TypeError, "neuron size"),
            (lambda: m.neuron_placement.default_neuron_size(66), ValueError, "neuron size"),
            (lambda: m.synapse_routing.driver_chain_length(2.5), RuntimeError, "driver_chain_length"),
            (lambda: m.synapse_routing.driver_chain_length(0), RuntimeError, "driver_chain_length"),
            (lambda: m.l1_address_assignment.strategy("x"), ValueError, "strategy"),
            (lambda: m.l1_routing.algorithm("astar"), ValueError, "l1_routing.algorithm"),
            (lambda: m.manual_placement.on_hicann(None, []), RuntimeError, "empty list"),
            (lambda: m.experiment.speedup(1e3), ValueError, "speed-up"),
            (lambda: C.HICANNOnWafer(C.X(0), C.Y(0)), ValueError, "not on the wafer"),
            (lambda: C.HICANNOnWafer(C.Enum(384)), OverflowError, "0..383"),
            (lambda: HICANN.SynapseWeight(16), OverflowError, "0..15"),
            (lambda: pynn.Population(0, pynn.IF_cond_exp), ValueError, "size"),
            (lambda: pynn.Population(1, pynn.IF_cond_exp, {"tau_x": 1}), NameError, "tau_x"),
            (lambda: pynn.Population(1, pynn.IF_curr_exp), NotImplementedError, "IF_curr_exp"),
            (lambda: pynn.Population(1, pynn.IF_cond_exp).record_gsyn(), NotImplementedError, "record_gsyn"),
            (lambda: pynn.Population(1, pynn.SpikeSourceArray).record_v(), RuntimeError, "spike sources"),
            (lambda: pynn.run(-1), ValueError, "duration"),
            (lambda: pynn.FixedProbabilityConnector(2), ValueError, "p_connect"),
            (lambda: pynn.Projection(pynn.Population(1, pynn.IF_cond_exp), pynn.Population(1, pynn.IF_cond_exp),
                                     pynn.AllToAllConnector(), target="nmda"), ValueError, "nmda"),
            (lambda: pynn.SynapseDynamics(slow=object()), NotImplementedError, "spike-timing"),
            (lambda: pynn.TsodyksMarkramMechanism(U=2), ValueError, "U"),
        ]
        pynn.setup(marocco=PyMarocco())
        try:
            for f, kind, text in cases:
                with self.assertRaises(kind) as cm:
                    f()
                self.assertIn(text, str(cm.exception))
        finally:
            pynn.end()

    def test_mapping_limits(self):
        import pyhmf as pynn
        import Coordinate as C
        from pymarocco import PyMarocco, Defects
        from nmp.simclient import SimServerError
        for build, text in [
            (lambda: pynn.Population(384 * 512 // 4 + 1, pynn.IF_cond_exp), "hardware capacity too low"),
            (lambda m: m.manual_placement.on_hicann(pynn.Population(20, pynn.IF_cond_exp), C.HICANNOnWafer(C.Enum(0)), 64)
             or m, "does not fit on HICANNOnWafer(X(12), Y(0))"),
            (lambda: pynn.Population(2000, pynn.SpikeSourcePoisson, {"rate": 5e4}), "input placement failed"),
        ]:
            m = PyMarocco()
            m.backend = PyMarocco.None_
            m.defects.backend = Defects.Backend.None_
            m.neuron_placement.skip_hicanns_without_neuron_blacklisting(False)
            pynn.setup(marocco=m)
            try:
                target = pynn.Population(1, pynn.IF_cond_exp)
                made = build(m) if build.__code__.co_argcount else build()
                if getattr(made, "celltype", None) is not None and made.celltype.source:
                    pynn.Projection(made, target, pynn.AllToAllConnector(weights=0.001))
                with self.assertRaisesRegex(SimServerError, text.replace("(", r"\(").replace(")", r"\)")):
                    pynn.run(1.0)
            finally:
                pynn.end()


def _mapping_only():
    from pymarocco import PyMarocco, Defects
    m = PyMarocco()
    m.backend = PyMarocco.None_
    m.calib_backend = PyMarocco.CalibBackend.Default
    m.defects.backend = Defects.Backend.None_
    m.neuron_placement.skip_hicanns_without_neuron_blacklisting(False)
    return m


class TestMaroccoTestSuiteSurface(unittest.TestCase):
    """What marocco's own tests (test/python, 2020 era) use beyond the seed
    scripts: halco's and marocco's newer module names, the class enums,
    HICANNGlobal, pyredman, and the results' queries."""

    def test_module_names_and_enums(self):
        import pyhalco_common
        import pyhalco_hicann_v2 as C2
        import Coordinate as C
        from pymarocco import PyMarocco
        from pymarocco_coordinates import LogicalNeuron
        from pymarocco_runtime import Runtime
        self.assertIs(pyhalco_common.Enum, C.Enum)
        self.assertIs(C2.HICANNOnWafer, C.HICANNOnWafer)
        self.assertEqual(C2.SynapseDriverOnQuadrant.size, 56)
        self.assertTrue(LogicalNeuron and Runtime)
        m = PyMarocco()
        self.assertEqual(m.scrutinize_mapping, PyMarocco.ScrutinizeMapping.Scrutinize)
        m.scrutinize_mapping = PyMarocco.ScrutinizeMapping.SkipScrutinize
        m.verification = PyMarocco.Verification.Skip
        self.assertIs(PyMarocco.Backend.Without, PyMarocco.None_)
        with self.assertRaisesRegex(TypeError, "scrutinize_mapping"):
            m.scrutinize_mapping = PyMarocco.Verification.Skip
        with self.assertRaisesRegex(TypeError, "checkl1locking"):
            m.checkl1locking = True
        self.assertIs(m.getStats(), m.stats)

    def test_hicann_global(self):
        import Coordinate as C
        h = C.HICANNGlobal(C.HICANNOnWafer(C.Enum(3)), C.Wafer(33))
        self.assertEqual(h.toHICANNOnWafer(), C.HICANNOnWafer(C.Enum(3)))
        self.assertEqual(h.toWafer(), C.Wafer(33))
        self.assertEqual(h.toEnum(), C.Enum(33 * 384 + 3))
        self.assertEqual(C.HICANNGlobal(C.Enum(33 * 384 + 3)), h)
        self.assertEqual(C.HICANNGlobal(C.X(5), C.Y(5), C.Wafer(33)).toHICANNOnWafer(),
                         C.HICANNOnWafer(C.X(5), C.Y(5)))
        with self.assertRaises(OverflowError):
            C.HICANNGlobal(-1)
        m = _mapping_only()
        import pyhmf as pynn
        pynn.setup(marocco=m)
        try:
            pop = pynn.Population(2, pynn.IF_cond_exp)
            m.manual_placement.on_hicann(pop, C.HICANNGlobal(C.HICANNOnWafer(C.Enum(3)), C.Wafer(5)))
            self.assertEqual(m.default_wafer, C.Wafer(5))  # marocco maps onto the wafer manual placement names
            with self.assertRaisesRegex(RuntimeError, "not on the wafer"):
                m.manual_placement.on_hicann(pop, C.HICANNGlobal(C.HICANNOnWafer(C.Enum(3)), C.Wafer(6)))
        finally:
            pynn.end()

    def test_neuron_sizes_and_chain_length(self):
        from pymarocco import PyMarocco
        p = PyMarocco().neuron_placement
        with self.assertRaises(OverflowError):
            p.default_neuron_size(-1)
        for bad in (0, 1, 65, 68):
            with self.assertRaises(ValueError):
                p.default_neuron_size(bad)
        p.default_neuron_size(64)
        r = PyMarocco().synapse_routing
        r.driver_chain_length(100)  # marocco takes it; it acts as a quadrant's 56
        self.assertEqual(r.driver_chain_length(), 100)

    def test_empty_network_runs(self):
        import pyhmf as pynn
        from pymarocco import PyMarocco
        m = _mapping_only()
        m.backend = PyMarocco.ESS
        pynn.setup(marocco=m)
        try:
            self.assertEqual(pynn.run(10.0), 10.0)
            self.assertEqual(m.stats.getSynapses(), 0)
        finally:
            pynn.end()

    def test_results_queries(self):
        import pyhmf as pynn
        from pymarocco.results import Marocco
        with tempfile.TemporaryDirectory() as tmp:
            m = _mapping_only()
            m.persist = os.path.join(tmp, "results.bin")
            m.neuron_placement.default_neuron_size(4)
            pynn.setup(marocco=m)
            try:
                target = pynn.Population(1, pynn.IF_cond_exp)
                src = pynn.Population(2, pynn.SpikeSourceArray, {"spike_times": [1.0, 3.0]})
                pynn.Projection(src, target, pynn.AllToAllConnector(weights=0.004))
                pynn.run(10.0)
            finally:
                pynn.end()
            res = Marocco.from_file(m.persist)
        self.assertEqual(len(list(res.placement)), 3)
        for item in res.placement:
            bio = item.bio_neuron()
            ext = bio.population() == src.euter_id()
            self.assertEqual(item.logical_neuron().is_external(), ext)
            self.assertEqual(item.neuron_block() is None, ext)
            self.assertIsNotNone(item.dnc_merger())
        self.assertTrue(src.celltype == pynn.SpikeSourceArray)
        self.assertEqual(res.spike_times.get(src[1]), [1.0, 3.0])
        self.assertEqual(res.spike_times.get(target[0]), [])
        res.spike_times.add(src[0], 5.0)
        self.assertEqual(res.spike_times.get(src[0]), [1.0, 3.0, 5.0])
        res.spike_times.clear(src[0])
        self.assertEqual(res.spike_times.get(src[0]), [])
        syn = res.synapse_routing.synapses()
        self.assertEqual(syn.size(), 2)
        self.assertEqual(len(list(syn)), 2)

    def test_pyredman_injected_defects(self):
        """Defects built with pyredman act as defect files do: all neurons of
        the only allowed HICANN disabled leaves manual placement nowhere to go;
        all its synapse drivers disabled loses the synapse."""
        import pyhmf as pynn
        import pyredman
        import Coordinate as C
        from nmp.simclient import SimServerError
        chip = C.HICANNGlobal(C.HICANNOnWafer(C.Enum(3)), C.Wafer(33))

        def run(component, kind):
            m = _mapping_only()
            m.continue_despite_synapse_loss = True
            h = pyredman.Hicann()
            for c in C.iter_all(kind):
                getattr(h, component)().disable(c)
            w = pyredman.Wafer(C.Wafer(33))
            w.inject(chip, h)
            m.defects.set(w)
            self.assertIs(m.defects.wafer(), w)
            pynn.setup(marocco=m)
            try:
                a = pynn.Population(1, pynn.IF_cond_exp)
                b = pynn.Population(1, pynn.IF_cond_exp)
                m.manual_placement.on_hicann(a, chip)
                m.manual_placement.on_hicann(b, chip)
                pynn.Projection(a, b, pynn.AllToAllConnector(weights=0.01), target="excitatory")
                pynn.run(1.0)
                return m.stats
            finally:
                pynn.end()

        for component, kind in [("hbuses", C.HLineOnHICANN), ("vbuses", C.VLineOnHICANN),
                                ("drivers", C.SynapseDriverOnHICANN)]:
            stats = run(component, kind)
            self.assertEqual((stats.getSynapses(), stats.getSynapseLoss()), (1, 1), component)
        with self.assertRaisesRegex(SimServerError, "unable to implement manual placement request"):
            run("neurons", C.NeuronOnHICANN)
        with self.assertRaises(OverflowError):
            pyredman.Hicann().drivers().disable(224)
        with self.assertRaisesRegex(RuntimeError, "not on"):
            pyredman.Wafer(C.Wafer(33)).hicanns().disable(C.HICANNGlobal(C.HICANNOnWafer(C.Enum(0)), C.Wafer(2)))

    def test_population_before_setup(self):
        import pyhmf as pynn
        pynn.Population(3, pynn.IF_cond_exp)  # allowed, as with pyhmf; setup() starts afresh
        pynn.setup(marocco=_mapping_only())
        try:
            self.assertEqual(pynn.Population(1, pynn.IF_cond_exp).euter_id(), 0)
        finally:
            pynn.end()

    def test_facilitation_with_tau_rec_zero(self):
        """marocco's STP test configures facilitation as tau_rec = 0: the
        resources recover at once; the run maps and the synapses facilitate."""
        import pyhmf as pynn
        from pymarocco import PyMarocco
        with self.assertRaisesRegex(ValueError, "tau_rec"):
            pynn.TsodyksMarkramMechanism(U=0.4, tau_rec=-1.0, tau_facil=200.0)
        m = _mapping_only()
        m.backend = PyMarocco.ESS
        pynn.setup(marocco=m)
        try:
            n = pynn.Population(1, pynn.IF_cond_exp, {"v_thresh": 0.0, "tau_syn_E": 2.0})
            s = pynn.Population(1, pynn.SpikeSourceArray, {"spike_times": [10.0 + 10 * k for k in range(6)]})
            fac = pynn.SynapseDynamics(fast=pynn.TsodyksMarkramMechanism(U=0.2, tau_rec=0.0, tau_facil=200.0))
            pynn.Projection(s, n, pynn.AllToAllConnector(weights=0.01), target="excitatory", synapse_dynamics=fac)
            n.record_v()
            pynn.run(80.0)
            v = n.get_v()
        finally:
            pynn.end()
        t, vm = v[:, 1], v[:, 2]
        peaks = [vm[(t > 10.0 + 10 * k) & (t < 19.0 + 10 * k)].max() - vm[(t > 8.0 + 10 * k) & (t < 10.0 + 10 * k)].min()
                 for k in range(6)]
        self.assertGreater(peaks[-1], 1.5 * peaks[0], "PSPs %s do not facilitate" % peaks)

    def test_population_view(self):
        """PopulationView (and a population's slice, which is one in PyNN 0.7):
        manual placement by mask, spike times of some sources, recording."""
        import pyhmf as pynn
        import Coordinate as C
        from pymarocco import PyMarocco
        from pymarocco.results import Marocco
        h = C.HICANNOnWafer(C.Enum(100))
        with tempfile.TemporaryDirectory() as tmp:
            m = _mapping_only()
            m.backend = PyMarocco.ESS
            m.persist = os.path.join(tmp, "results.bin")
            pynn.setup(marocco=m)
            try:
                pop = pynn.Population(4, pynn.IF_cond_exp, {"v_thresh": -60.0, "v_rest": -50.0})
                view = pynn.PopulationView(pop, [1, 3])
                self.assertIsInstance(pop[0:2], pynn.PopulationView)
                m.manual_placement.on_hicann(view, h)
                view.record()
                src = pynn.Population(3, pynn.SpikeSourceArray, {"spike_times": [5.0]})
                src[1:2].set("spike_times", [7.0, 9.0])
                pynn.run(50.0)
                spikes = view.getSpikes()
            finally:
                pynn.end()
            res = Marocco.from_file(m.persist)
        placed = {i: res.placement.find((pop.euter_id(), i))[0].toHICANNOnWafer() for i in range(4)}
        self.assertEqual([placed[1], placed[3]], [h, h])
        self.assertNotEqual(placed[0], h)
        self.assertTrue(len(spikes) > 0)
        self.assertEqual(set(spikes[:, 0].astype(int)), {1, 3})  # v_rest above threshold: all fire, only the view is recorded
        self.assertEqual([res.spike_times.get(src[i]) for i in range(3)], [[5.0], [7.0, 9.0], [5.0]])
        with self.assertRaises(IndexError):
            pynn.PopulationView(pop, [4])
