"""Two PyNN backends in one process: pyNN.nmp and
pynn_brainscales.brainscales2 each keep a state of their own, so that
setting up one does not change the other's network or system."""

import json
import os
import tempfile
import unittest

import pyNN.nmp as sim
import pynn_brainscales.brainscales2 as pynn
from nmp.simclient import REPORT_ENV

LOT = dict(leak_v_leak=1000, leak_i_bias=200, threshold_v_threshold=300, reset_v_reset=400,
           membrane_capacitance_capacitance=63, refractory_period_refractory_time=120,
           threshold_enable=True, reset_i_bias=1022, reset_enable_multiplication=True)


class TwoBackendsTest(unittest.TestCase):

    def test_each_backend_runs_on_its_own_system(self):
        self.assertIsNot(pynn.simulator.state, sim.simulator.state)
        with tempfile.TemporaryDirectory() as report:
            os.environ[REPORT_ENV] = report
            try:
                pynn.setup(chip="nmp-virtual-hx-3", rng_seed=7)
                hx = pynn.Population(2, pynn.cells.HXNeuron(**LOT))
                hx.record("spikes")
                sim.setup(timestep=0.1, rng_seed=11)
                cells = sim.Population(3, sim.IF_curr_exp(i_offset=1.0))
                cells.record("spikes")
                pynn.run(0.1, pynn.RunCommand.APPEND)   # snippets continue; a second EXECUTE needs reset()
                sim.run(50.0)
                pynn.run(0.1, pynn.RunCommand.APPEND)   # snippets continue; a second EXECUTE needs reset()
                pynn.end()
                sim.end()
            finally:
                del os.environ[REPORT_ENV]
            with open(os.path.join(report, "runs.jsonl")) as f:
                runs = [json.loads(line) for line in f]
        self.assertEqual([r["system"] for r in runs], ["brainscales2", "reference", "brainscales2"])
        self.assertEqual([r["seed"] for r in runs], [7, 11, 7])
        self.assertEqual(runs[0].get("chip"), "nmp-virtual-hx-3")
        self.assertEqual(runs[2]["t_ms"], 0.2)
        self.assertEqual(runs[1]["t_ms"], 50.0)
        # Each network is its own: one population each, read from its own store.
        self.assertEqual(len(sim.simulator.state.populations), 1)
        self.assertEqual(len(pynn.simulator.state.populations), 1)
        self.assertEqual(len(cells.get_data().segments[0].spiketrains), 3)
        self.assertTrue(all(len(st) > 0 for st in cells.get_data().segments[0].spiketrains))
        self.assertEqual(len(hx.get_data().segments[0].spiketrains), 4)   # 2 neurons x 2 snippets (APPEND)
        self.assertIsNone(sim.simulator.state.system())
        self.assertEqual(pynn.simulator.state.system()["name"], "brainscales2")


if __name__ == "__main__":
    unittest.main()
