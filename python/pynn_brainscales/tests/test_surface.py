"""The parts of pynn-brainscales' API that its users' test suites and
examples touch beyond the tutorial: run() semantics (one run per reset,
APPEND and EXECUTE), an empty network, get_backend_statistics,
neuronPermutation's checks, halco coordinates and a lola.Chip as
initial_config, spike trains given per source, the module surface."""

import unittest

import numpy as np

import pynn_brainscales
import pynn_brainscales.brainscales2 as pynn
from dlens_vx_v3 import halco, lola, logger, sta

LOT = dict(leak_v_leak=1000, leak_i_bias=200, threshold_v_threshold=300, reset_v_reset=400,
           membrane_capacitance_capacitance=63, refractory_period_refractory_time=120,
           threshold_enable=True, reset_i_bias=1022, reset_enable_multiplication=True)


class Runs(unittest.TestCase):

    def tearDown(self):
        pynn.end()

    def test_one_run_per_reset(self):
        pynn.setup(rng_seed=1)
        pop = pynn.Population(1, pynn.cells.HXNeuron(**LOT))
        pop.record("spikes")
        pynn.run(0.05)
        with self.assertRaisesRegex(RuntimeError, "call pynn.reset"):
            pynn.run(0.05)
        pynn.reset()
        pynn.run(0.05)
        segs = pop.get_data().segments
        self.assertEqual(len(segs), 2)
        self.assertTrue(all(len(s.spiketrains[0]) > 3 for s in segs))

    def test_clear_between_repetitions(self):
        """get_data(clear=True) returns the runs since the last clear, every
        time (each run after a clear is kept at the next reset)."""
        pynn.setup(enable_neuron_bypass=True, rng_seed=1)
        pop = pynn.Population(1, pynn.cells.HXNeuron())
        pop.record("spikes")
        src = pynn.Population(1, pynn.cells.SpikeSourceArray())
        pynn.Projection(src, pop, pynn.AllToAllConnector(), synapse_type=pynn.synapses.StaticSynapse(weight=63))
        for n in range(3):
            src.set(spike_times=np.linspace(0.01, 0.18, n))
            for _ in range(2):
                pynn.run(0.2)
                pynn.reset()
            segments = pop.get_data(clear=True).segments
            self.assertEqual([len(s.spiketrains[0]) for s in segments], [n, n])
        pynn.run(0.2)
        self.assertEqual(len(pop.get_data(clear=True).segments[0].spiketrains), 1)
        self.assertEqual(len(pop.get_data().segments[0].spiketrains), 0)   # cleared, not run since: no trains

    def test_append_then_execute(self):
        pynn.setup(rng_seed=1)
        pop = pynn.Population(1, pynn.cells.HXNeuron(**LOT))
        pop.record("spikes")
        with self.assertRaisesRegex(ValueError, "no experiment scheduled"):
            pynn.run(None)
        with self.assertRaisesRegex(ValueError, "no time is forbidden"):
            pynn.run(None, pynn.RunCommand.APPEND)
        pynn.run(0.05, pynn.RunCommand.APPEND)
        pynn.run(0.05, pynn.RunCommand.APPEND)
        self.assertAlmostEqual(pynn.run(None), 0.1, places=6)
        with self.assertRaises(RuntimeError):
            pynn.run(0.05, pynn.RunCommand.APPEND)
        trains = pop.get_data().segments[0].spiketrains       # one per snippet, as pynn-brainscales
        self.assertEqual([(float(t.t_start), float(t.t_stop)) for t in trains], [(0.0, 0.05), (0.05, 0.1)])
        self.assertTrue(all(len(t) > 3 for t in trains))
        self.assertTrue(np.all((np.asarray(trains[1]) >= 0.05) & (np.asarray(trains[1]) < 0.1)))

    def test_recording_switched_between_snippets(self):
        """Signals and spike trains only of the snippets that recorded them."""
        pynn.setup(rng_seed=1)
        pop = pynn.Population(1, pynn.cells.HXNeuron(**LOT))
        pop.record(["v", "spikes"])
        pynn.run(0.02, pynn.RunCommand.APPEND)
        pop.record(None)
        pynn.run(0.02, pynn.RunCommand.APPEND)
        pop.record("v")
        pynn.run(0.02)
        seg = pop.get_data().segments[0]
        signals = seg.irregularlysampledsignals
        self.assertEqual(len(signals), 2)
        self.assertLess(float(signals[0].times.max()), 0.02)
        self.assertGreaterEqual(float(signals[1].times.min()), 0.04)
        self.assertEqual(len(seg.spiketrains), 1)              # spikes: the first snippet only
        self.assertEqual(float(seg.spiketrains[0].t_stop), 0.02)

    def test_weight_beyond_one_synapse_after_reset(self):
        """After reset(), a weight needing more parallel synapses than the
        network was placed with places it again (the first run's data stay)."""
        pynn.setup(rng_seed=2)
        pop = pynn.Population(1, pynn.cells.HXNeuron(
            threshold_enable=False, leak_v_leak=400, leak_i_bias=200, excitatory_input_enable=True,
            excitatory_input_i_bias_gm=1022, excitatory_input_i_bias_tau=200, excitatory_input_i_shift_reference=300))
        pop.record("v")
        stim = pynn.Population(1, pynn.cells.SpikeSourceArray(spike_times=[0.02]))
        proj = pynn.Projection(stim, pop, pynn.AllToAllConnector(),
                               synapse_type=pynn.synapses.StaticSynapse(weight=20))
        heights, synapses = [], []
        for w in (20, 120):
            proj.set(weight=w)
            pynn.run(0.06)
            v = np.asarray(pop.get_data().segments[-1].irregularlysampledsignals[0]).ravel()
            heights.append(v.max() - np.median(v[:200]))
            synapses.append(pynn.get_mapping()["synapse_arrays"][0]["synapses"])
            pynn.reset()
        self.assertEqual(len(pop.get_data().segments), 2)
        self.assertGreater(heights[1], 2.5 * heights[0], heights)    # two synapses, 120 instead of 20
        self.assertEqual(synapses, [1, 2])

    def test_empty_network(self):
        pynn.setup()
        self.assertEqual(pynn.run(0.2), 0.2)
        self.assertEqual(pynn.get_current_time(), 0.2)
        with self.assertRaises(RuntimeError):
            pynn.run(0.2)

    def test_backend_statistics(self):
        pynn.end()
        with self.assertRaisesRegex(RuntimeError, "setup"):
            pynn.get_backend_statistics()
        pynn.setup()
        pynn.Projection(pynn.Population(2, pynn.cells.HXNeuron()), pynn.Population(3, pynn.cells.HXNeuron()),
                        pynn.AllToAllConnector())
        with self.assertRaisesRegex(RuntimeError, "not mapped yet"):
            pynn.get_backend_statistics()
        pynn.run(None, pynn.RunCommand.PREPARE)
        stats = pynn.get_backend_statistics()
        self.assertIn("MappedTopologyStatistics", str(stats))
        self.assertEqual(stats["neuron_circuits_used"], 5)

    def test_connection(self):
        from dlens_vx_v3 import hxcomm
        with hxcomm.ManagedConnection(chip="nmp-virtual-hx-2") as conn:
            pynn.setup(connection=conn)
            self.assertEqual(pynn.simulator.state.chip, "nmp-virtual-hx-2")
        with self.assertRaisesRegex(RuntimeError, "closed"):
            pynn.setup(connection=conn)
        with self.assertRaisesRegex(TypeError, "ManagedConnection"):
            pynn.setup(connection=object())

    def test_neuron_permutation_checks(self):
        with self.assertRaisesRegex(ValueError, "circuit 8 appears more than once"):
            pynn.setup(neuronPermutation=[8, 3, 8])
        with self.assertRaises(OverflowError):
            pynn.setup(neuronPermutation=range(513))
        with self.assertRaisesRegex(OverflowError, "513"):
            pynn.setup(neuronPermutation=[513])
        with self.assertRaisesRegex(TypeError, "-1 is negative"):
            pynn.setup(neuronPermutation=[-1])
        with self.assertRaisesRegex(NotImplementedError, "injected_config"):
            pynn.setup(injected_config=pynn.InjectedConfiguration(pre_realtime={}))
        pynn.setup(neuronPermutation=[halco.AtomicNeuronOnDLS(7), 3])
        pop = pynn.Population(2, pynn.cells.HXNeuron())
        pynn.run(None, pynn.RunCommand.PREPARE)
        self.assertEqual(pynn.get_mapping()["neurons"][0]["circuits"], [7, 3])
        del pop


class Coordinates(unittest.TestCase):

    def test_halco(self):
        self.assertEqual(halco.AtomicNeuronOnDLS.size, 512)
        self.assertEqual(len(list(halco.iter_all(halco.CommonNeuronBackendConfigOnDLS))), 2)
        self.assertEqual(len(list(halco.iter_all(halco.CrossbarOutputOnDLS))), 12)
        n = halco.AtomicNeuronOnDLS(halco.common.Enum(300))
        self.assertEqual(int(n.toEnum()), 300)
        self.assertEqual(n.toNeuronColumnOnDLS(), halco.NeuronColumnOnDLS(44))
        self.assertEqual(n.toNeuronRowOnDLS(), halco.NeuronRowOnDLS(1))
        self.assertEqual(halco.AtomicNeuronOnDLS(), halco.AtomicNeuronOnDLS(0))
        self.assertNotEqual(halco.AtomicNeuronOnDLS(1), halco.CrossbarOutputOnDLS(1))
        with self.assertRaises(OverflowError):
            halco.AtomicNeuronOnDLS(512)
        with self.assertRaises(TypeError):
            halco.AtomicNeuronOnDLS(-1)
        with self.assertRaisesRegex(NotImplementedError, "playback programs are not emulated"):
            sta.PlaybackProgramBuilder()

    def test_lola_chip_as_initial_config(self):
        config = lola.Chip()
        neurons = config.neuron_block.atomic_neurons
        self.assertEqual(neurons[halco.AtomicNeuronOnDLS(5)].leak.i_bias,
                         pynn.cells.HXNeuron.default_parameters["leak_i_bias"])
        neurons[halco.AtomicNeuronOnDLS(halco.common.Enum(0))].leak.i_bias = 666
        neurons[halco.AtomicNeuronOnDLS(1)].leak.i_bias = 420
        with self.assertRaisesRegex(AttributeError, "no group 'leek'"):
            neurons[halco.AtomicNeuronOnDLS(1)].leek
        for coord in halco.iter_all(halco.CommonNeuronBackendConfigOnDLS):
            config.neuron_block.backends[coord].clock_scale_fast = 2
        with self.assertRaisesRegex(AttributeError, "not emulated"):
            config.neuron_block.backends[0].no_such_switch = 1
        pynn.setup(initial_config=config)
        try:
            pop = pynn.Population(2, pynn.cells.HXNeuron())
            pynn.run(None, pynn.RunCommand.PREPARE)
            self.assertEqual(list(pop.get("leak_i_bias")), [666, 420])
            self.assertIs(pynn.simulator.state.initial_config, config)
            self.assertEqual(pynn.simulator.state.options["clock_scale_fast"], 2)
        finally:
            pynn.end()
        config.neuron_block.backends[halco.CommonNeuronBackendConfigOnDLS(1)].clock_scale_fast = 3
        pynn.setup(initial_config=config)
        try:
            self.assertEqual(pynn.simulator.state.options["neuron_backends"],
                             [{"clock_scale_slow": 0, "clock_scale_fast": 2},
                              {"clock_scale_slow": 0, "clock_scale_fast": 3}])
        finally:
            pynn.end()
        config.neuron_block.backends[halco.CommonNeuronBackendConfigOnDLS(1)].clock_scale_adaptation_pulse = 1
        with self.assertRaisesRegex(ValueError, "clock_scale_adaptation_pulse must be the same for both"):
            pynn.setup(initial_config=config)


class Surface(unittest.TestCase):

    def tearDown(self):
        pynn.end()

    def test_spike_trains_per_source(self):
        from pynn_brainscales import parameters
        pynn.setup()
        times = [0.01, 0.02, 0.03]
        for given in ([times] * 2, [np.array(times)] * 2, [parameters.Sequence(times)] * 2):
            pop = pynn.Population(2, pynn.cells.SpikeSourceArray(spike_times=given))
            self.assertEqual(pop.get("spike_times"), parameters.Sequence(times))
        pop = pynn.Population(2, pynn.cells.SpikeSourceArray(spike_times=[times, [0.5]]))
        self.assertEqual(list(pop.get("spike_times")), [parameters.Sequence(times), parameters.Sequence([0.5])])

    def test_modules(self):
        self.assertTrue(hasattr(pynn_brainscales, "errors") and hasattr(pynn_brainscales, "parameters"))
        log = logger.get("test_surface")
        logger.set_loglevel(log, logger.LogLevel.INFO)
        self.assertIs(logger.get, pynn.logger.get)
        with self.assertLogs("pynn_brainscales.test_surface", level="INFO") as got:
            log.info("value=", 3)
            log.debug("not shown")
            log.WARN("upper case too")
        self.assertEqual([r.getMessage() for r in got.records], ["value=3", "upper case too"])


if __name__ == "__main__":
    unittest.main()
