"""The run reports a job's simulations leave for nmp worker's provenance."""

import json
import os
import tempfile
import unittest

import pyNN.nmp as sim
from nmp.simclient import REPORT_ENV


class RunReportTest(unittest.TestCase):

    def test_each_run_is_reported_with_system_and_seed(self):
        with tempfile.TemporaryDirectory() as report:
            os.environ[REPORT_ENV] = report
            try:
                sim.setup(timestep=0.1, rng_seed=1234)
                p = sim.Population(2, sim.IF_curr_exp(i_offset=0.5))
                p.record("spikes")
                sim.run(20)
                sim.run(5)
                sim.end()
            finally:
                del os.environ[REPORT_ENV]
            with open(os.path.join(report, "runs.jsonl")) as f:
                runs = [json.loads(line) for line in f]
        self.assertEqual(len(runs), 2)
        self.assertEqual(runs[0]["system"], "reference")
        self.assertEqual([r["biological_time_ms"] for r in runs], [20.0, 5.0])
        self.assertEqual(runs[1]["t_ms"], 25.0)
        self.assertIn("seed", runs[0])
        self.assertEqual(runs[0]["seed"], runs[1]["seed"])

    def test_no_report_without_the_variable(self):
        os.environ.pop(REPORT_ENV, None)
        sim.setup(timestep=0.1)
        sim.Population(1, sim.IF_curr_exp())
        sim.run(1)
        sim.end()  # nothing to check but that it runs: no directory to write to


if __name__ == "__main__":
    unittest.main()
