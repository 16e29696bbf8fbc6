"""The pynn-brainscales API on the emulated chip: what it refuses and how,
the CADC, the placement, changes between runs."""

import unittest

import numpy as np
from pyNN import errors

import pynn_brainscales.brainscales2 as pynn
from pynn_brainscales.brainscales2.standardmodels.synapses import StaticSynapse
from nmp.simclient import SimServerError

LOT = dict(leak_v_leak=1000, leak_i_bias=200, threshold_v_threshold=300, reset_v_reset=400,
           membrane_capacitance_capacitance=63, refractory_period_refractory_time=120,
           threshold_enable=True, reset_i_bias=1022, reset_enable_multiplication=True)


class API(unittest.TestCase):

    def setUp(self):
        pynn.setup(rng_seed=5)

    def tearDown(self):
        pynn.end()

    def test_hxneuron_parameters(self):
        names = pynn.cells.HXNeuron.default_parameters
        self.assertEqual(len(names), 72)   # 70 circuit fields and 2 for the plasticity processor
        self.assertIn("leak_v_leak", names)
        self.assertIn("refractory_period_reset_holdoff", names)
        self.assertEqual(names["refractory_period_reset_holdoff"], 15)
        self.assertIs(names["excitatory_input_enable_small_capacitance"], True)
        with self.assertRaises(errors.InvalidParameterValueError):
            pynn.Population(1, pynn.cells.HXNeuron(leak_v_leak=1023))
        pop = pynn.Population(2, pynn.cells.HXNeuron(**LOT))
        with self.assertRaises(errors.InvalidParameterValueError):
            pop.set(membrane_capacitance_capacitance=64)

    def test_setup_refuses_unknown_extras(self):
        with self.assertRaises(KeyError):
            pynn.setup(no_such_option=1)
        pynn.setup()

    def test_three_neurons_on_the_madc(self):
        pop = pynn.Population(3, pynn.cells.HXNeuron(**LOT), label="trio")
        pop.record(["v"])
        with self.assertRaises(SimServerError) as cm:
            pynn.run(0.01)
        self.assertIn("one on an even and one on an odd circuit", str(cm.exception))
        self.assertIn('"trio"', str(cm.exception))

    def test_cadc_records_many_neurons(self):
        pop = pynn.Population(20, pynn.cells.HXNeuron(**LOT))
        pop.record(["v", "spikes"], device="cadc")
        pynn.run(0.1)
        seg = pop.get_data().segments[0]
        self.assertEqual(len(seg.irregularlysampledsignals), 20)
        sig = seg.irregularlysampledsignals[0]
        self.assertEqual(sig.annotations["device"], "cadc")
        v = np.asarray(sig)
        self.assertTrue(np.all((v >= 0) & (v <= 255)))
        self.assertEqual(len(seg.spiketrains), 20)
        self.assertTrue(all(len(st) > 5 for st in seg.spiketrains))

    def test_weights_and_delays(self):
        src = pynn.Population(1, pynn.cells.SpikeSourceArray(spike_times=[0.01]))
        pop = pynn.Population(1, pynn.cells.HXNeuron(**LOT))
        with self.assertRaises(errors.ConnectionError):
            pynn.Projection(src, pop, pynn.AllToAllConnector(), StaticSynapse(weight=5), receptor_type="inhibitory")
        with self.assertRaises(ValueError):
            StaticSynapse(weight=5, delay=1)
        prj = pynn.Projection(src, pop, pynn.AllToAllConnector(), StaticSynapse(weight=100.4), receptor_type="excitatory")
        pynn.run(0.02)
        self.assertEqual(prj.get("weight", format="list")[0][2], 100.0)
        self.assertEqual(prj.get("delay", format="array")[0, 0], 0.0)
        prj.set(weight=120)
        self.assertEqual(prj.get("weight", format="array")[0, 0], 120.0)
        with self.assertRaises(SimServerError):
            prj.set(weight=20)       # one synapse instead of two: a new placement
        mapping = pynn.get_mapping()
        self.assertEqual(mapping["projections"][0]["synapses"], 2)
        self.assertEqual(mapping["neurons"][0]["circuits"], [0])

    def test_neuron_permutation_and_views(self):
        pynn.setup(neuronPermutation=[7, 3, 200])
        pop = pynn.Population(3, pynn.cells.HXNeuron(**LOT))
        view = pynn.PopulationView(pop, [1, 2])     # circuits 3 and 200: odd and even
        view.record(["v"])
        pynn.run(0.02)
        self.assertEqual(pynn.get_mapping()["neurons"][0]["circuits"], [7, 3, 200])
        segs = pop.get_data().segments
        self.assertEqual(len(segs[0].irregularlysampledsignals), 2)

    def test_poisson_sources(self):
        pop = pynn.Population(1, pynn.cells.HXNeuron(**LOT))
        ext = pynn.Population(5, pynn.cells.SpikeSourcePoisson(rate=50e3, start=0, duration=1))
        onchip = pynn.Population(5, pynn.cells.SpikeSourcePoissonOnChip(rate=50e3, seed=3))
        pynn.Projection(ext, pop, pynn.AllToAllConnector(), StaticSynapse(weight=5))
        pynn.Projection(onchip, pop, pynn.AllToAllConnector(), StaticSynapse(weight=5))
        ext.record("spikes")
        onchip.record("spikes")
        pynn.run(0.2)
        n_ext = sum(len(s) for s in ext.get_data().segments[0].spiketrains)
        n_bg = sum(len(s) for s in onchip.get_data().segments[0].spiketrains)
        self.assertTrue(30 < n_ext < 80, n_ext)      # 5 x 50 kHz x 0.2 ms = 50
        self.assertTrue(25 < n_bg < 90, n_bg)

    def test_mapping_is_the_plans_info(self):
        # get_mapping() answers from the build reply and the data pulled
        # since; it must equal what the whole results archive records.
        from nmp.data import parse_results
        src = pynn.Population(4, pynn.cells.SpikeSourceArray(spike_times=[0.001 * k for k in range(1, 40)]))
        pop = pynn.Population(2, pynn.cells.HXNeuron(**LOT))
        pynn.Projection(src, pop, pynn.AllToAllConnector(), StaticSynapse(weight=63))
        pop.record("spikes")
        pynn.run(None, pynn.RunCommand.PREPARE)
        self.assertEqual(pynn.get_mapping()["neurons"][0]["circuits"], [0, 1])
        for _ in range(2):
            pynn.run(0.05, pynn.RunCommand.APPEND)   # snippets continue; a second EXECUTE needs reset()
            meta, _ = parse_results(pynn.simulator.state.server.data(clear=False))
            self.assertEqual(pynn.get_mapping(), meta["provenance"]["extra"])
        self.assertGreater(pynn.get_mapping()["crossbar"]["events"], 0)

    def test_initial_config(self):
        import os
        import tempfile
        leak = np.full(512, 500.0)
        leak[1] = 900.0
        chip = pynn.Chip({"leak_v_leak": leak, "leak_i_bias": np.full(512, 1022.0)})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "calib.json")
            pynn.helper.chip_to_file(chip, path)
            chip = pynn.helper.chip_from_file(path)
        pynn.setup(initial_config=chip, rng_seed=2)
        pop = pynn.Population(2, pynn.cells.HXNeuron())          # all from the configuration
        other = pynn.Population(1, pynn.cells.HXNeuron(leak_v_leak=900))   # circuit 2, set here
        pop.record("v", device="cadc")
        other.record("v", device="cadc")
        with self.assertRaises(RuntimeError):
            pop.get("leak_v_leak")                               # not yet applied
        pynn.run(None, pynn.RunCommand.PREPARE)
        self.assertEqual(list(pop.get("leak_v_leak")), [500.0, 900.0])
        self.assertEqual(other.get("leak_v_leak"), 900.0)
        pynn.run(0.01)
        means = [float(np.asarray(s).mean()) for p in (pop, other)
                 for s in p.get_data().segments[0].irregularlysampledsignals]
        self.assertGreater(means[1] - means[0], 100, means)     # CADC LSB: circuit 1 at 900, 0 at 500
        self.assertGreater(means[2] - means[0], 100, means)

    def test_logger(self):
        pynn.logger.default_config(level=pynn.logger.LogLevel.WARN)
        log = pynn.logger.get("test")
        log.INFO("not shown")
        log.WARN("shown")


if __name__ == "__main__":
    unittest.main()
