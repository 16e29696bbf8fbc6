"""The engine handle (nmp.simclient) and description builder (nmp.description)
against a real `nmp simserver` process."""

import json
import os
import signal
import subprocess
import tempfile
import unittest

import numpy as np

from nmp import message
from nmp.description import Description, Distribution, Encoder, Ragged
from nmp.simclient import SimServer, SimServerError, find_binary


def build(engine, desc):
    return engine.request({"op": "build"}, arrays=desc.enc.arrays,
                          members={"network.json": json.dumps(desc.document())})


class EngineTest(unittest.TestCase):

    def setUp(self):
        self.engine = SimServer()
        self.addCleanup(self.engine.close)

    def test_error_names_population_and_parameter_and_session_goes_on(self):
        d = Description(0.1)
        d.add_population(3, "IF_cond_exp", {"tau_m": np.array([20.0, -5.0, 10.0])}, label="cortex")
        with self.assertRaises(SimServerError) as cm:
            build(self.engine, d)
        msg = str(cm.exception)
        self.assertIn("cortex", msg)
        self.assertIn("tau_m", msg)
        # The session survives the error.
        d = Description(0.1)
        d.add_population(3, "IF_cond_exp", {"tau_m": 15.0}, label="cortex")
        reply = build(self.engine, d)
        self.assertEqual(reply.info["neurons"], 3)

    def test_lost_process_is_reported(self):
        os.kill(self.engine._proc.pid, signal.SIGKILL)
        self.engine._proc.wait()
        with self.assertRaises(SimServerError) as cm:
            self.engine.request({"op": "version"})
        self.assertIn("exited unexpectedly", str(cm.exception))

    def test_binary_from_environment(self):
        old = os.environ.get("NMP_BINARY")
        os.environ["NMP_BINARY"] = "/nonexistent/nmp"
        try:
            with self.assertRaises(SimServerError) as cm:
                find_binary()
            self.assertIn("NMP_BINARY", str(cm.exception))
        finally:
            if old is None:
                del os.environ["NMP_BINARY"]
            else:
                os.environ["NMP_BINARY"] = old


class DescriptionTest(unittest.TestCase):

    def test_values(self):
        enc = Encoder()
        self.assertEqual(enc.value(2), 2.0)
        self.assertEqual(enc.value(float("inf")), "inf")
        self.assertEqual(enc.value(np.arange(3.0)), [0.0, 1.0, 2.0])
        ref = enc.value(np.arange(100.0))
        self.assertEqual(set(ref), {"array"})
        np.testing.assert_array_equal(enc.arrays[ref["array"]], np.arange(100.0))
        r = enc.value(Ragged([[1, 2], [], [3]]))
        self.assertEqual(r, {"ragged": {"values": [1.0, 2.0, 3.0], "offsets": [0, 2, 2, 3]}})
        self.assertEqual(enc.value(Distribution("normal", {"mu": 1, "sigma": 2})),
                         {"distribution": "normal", "parameters": {"mu": 1.0, "sigma": 2.0}})

    def test_archive_is_valid_for_nmp_simulate(self):
        d = Description(0.1, seed=3)
        src = d.add_population(2, "SpikeSourceArray", {"spike_times": Ragged([[1.0, 5.0], [2.0]])})
        cells = d.add_population(50, "IF_curr_exp", {"tau_m": np.linspace(10, 20, 50)},
                                 {"v": Distribution("uniform", {"low": -70, "high": -60})})
        d.add_projection([(src, None)], [(cells, np.arange(0, 50, 2))], "StaticSynapse",
                         {"weight": 0.5, "delay": 1.0}, connector={"type": "AllToAllConnector"})
        d.add_projection([(cells, None)], [(cells, None)], "StaticSynapse",
                         connections=(np.arange(40), np.arange(1, 41), {"weight": np.full(40, 0.1)}))
        d.add_recording([(cells, None)], ["spikes", "v"])
        doc = d.document()
        doc["schedule"] = [{"run": 10}]
        body = message.encode("network.json", doc, d.enc.arrays)
        with tempfile.NamedTemporaryFile(suffix=".npz") as f:
            f.write(body)
            f.flush()
            out = subprocess.run([find_binary(), "simulate", "-validate", f.name],
                                 capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)


if __name__ == "__main__":
    unittest.main()
