"""pyNN.hardware.spikey on the emulated Spikey chip: the Spikey school's
lessons (examples/spikey/, run as a user runs them, Python 2 ones converted
with lib2to3 as the platform does) show what the guidebook says they show,
and the chip's limits give the hardware's errors. Each test prints its
numbers; the runs' seeds are fixed by rng_seeds or $NMP_SPIKEY_SEED."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
EXAMPLES = os.path.join(os.path.dirname(PYDIR), "examples", "spikey")
SEED = "5"


def run_script(path, timeout=300):
    """Run a script in a fresh directory as a job would: converted to Python 3
    when it does not compile, with the finder registered. Returns (returncode,
    stdout, stderr, directory)."""
    work = tempfile.mkdtemp(prefix="spikey-test-")
    dst = os.path.join(work, os.path.basename(path))
    shutil.copy(path, dst)
    with open(dst) as f:
        src = f.read()
    try:
        compile(src, dst, "exec")
    except SyntaxError:
        subprocess.run([PY, "-W", "ignore", "-m", "lib2to3", "-w", "-n", dst], capture_output=True, check=True)
    env = dict(os.environ, PYTHONPATH=PYDIR, NMP_SPIKEY_SEED=SEED, MPLBACKEND="Agg")
    out = subprocess.run([PY, "-c", "import _nmp_pynn_finder, runpy, sys; sys.argv=[%r]; runpy.run_path(%r, run_name='__main__')" % (dst, dst)],
                         capture_output=True, text=True, env=env, cwd=work, timeout=timeout)
    return out.returncode, out.stdout, out.stderr, work


def results(stdout):
    return [l[len("RESULT "):] for l in stdout.splitlines() if l.startswith("RESULT ")]


@unittest.skipUnless(os.environ.get("NMP_BINARY") or shutil.which("nmp"), "needs the nmp binary")
class LessonsTest(unittest.TestCase):

    def lesson(self, name):
        code, out, err, work = run_script(os.path.join(EXAMPLES, name))
        self.addCleanup(shutil.rmtree, work, True)
        self.assertEqual(code, 0, err[-3000:])
        res = results(out)
        print("\n%s (NMP_SPIKEY_SEED=%s):\n  %s" % (name, SEED, "\n  ".join(res)))
        return res, work

    def test_lesson1_rate_over_gleak(self):
        res, work = self.lesson("lesson1_rate_over_gleak.py")
        rates = [float(re.search(r": ([\d.]+) spikes/s", r).group(1)) for r in res if r.startswith("g_leak")]
        self.assertEqual(len(rates), 5)
        self.assertTrue(all(a > b for a, b in zip(rates, rates[1:])), rates)
        self.assertGreater(rates[0], 5 * rates[-1])
        # every run writes the configuration and its picture
        self.assertTrue(os.path.getsize(os.path.join(work, "spikeyconfig.out")) > 0)
        with open(os.path.join(work, "spikeyconfig.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_lesson1_epsp(self):
        res, _ = self.lesson("lesson1_epsp.py")
        self.assertIn("shape follows drivers True", res)

    def test_lesson2_noise(self):
        res, _ = self.lesson("lesson2_noise.py")
        self.assertIn("fixed-pattern dominates True", res)

    def test_lesson3_synfire(self):
        res, _ = self.lesson("lesson3_synfire.py")
        self.assertIn("propagates True", res)
        spread = float(res[-1].split()[-2])
        self.assertLess(spread, 1.0)  # a link fires together

    def test_lesson4_decorrelation(self):
        res, _ = self.lesson("lesson4_decorr.py")
        rates = [float(re.search(r"rate ([\d.]+)", r).group(1)) for r in res]
        cvs = [float(re.search(r"mean CV ([\d.]+)", r).group(1)) for r in res]
        self.assertTrue(rates[0] > rates[1] > rates[2] > 0, rates)   # more inhibitory inputs, lower rates
        self.assertTrue(all(0.3 < c < 1.5 for c in cvs), cvs)        # irregular firing

    def test_lesson5_stp(self):
        res, _ = self.lesson("lesson5_stp.py")
        ratio = {r.split(":")[0]: [float(x) for x in re.findall(r"/ first ([\d.]+)", r)] for r in res}
        self.assertLess(ratio["depression"][0], 0.8)
        self.assertGreater(ratio["depression"][1], ratio["depression"][0])  # recovers after the pause
        self.assertGreater(ratio["facilitation"][0], 1.15)
        self.assertAlmostEqual(ratio["static"][0], 1.0, delta=0.2)

    def test_lesson6_stdp(self):
        res, _ = self.lesson("lesson6_stdp.py")
        ns = [int(re.search(r"N = (\d+)", r).group(1)) for r in res]
        self.assertTrue(all(a < b for a, b in zip(ns, ns[1:])), ns)  # 1/N falls with the time between the spikes
        for r in res:
            m = re.search(r"\((\d+) postsynaptic spikes for (\d+) pairs\)", r)
            self.assertEqual(m.group(1), m.group(2), r)


SNIPPET = """
import pyNN.hardware.spikey as pynn
pynn.setup()
%s
"""


@unittest.skipUnless(os.environ.get("NMP_BINARY") or shutil.which("nmp"), "needs the nmp binary")
class LimitsTest(unittest.TestCase):

    def run_snippet(self, body):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.py")
            with open(path, "w") as f:
                f.write(SNIPPET % body)
            code, out, err, work = run_script(path)
            shutil.rmtree(work, True)
        return code, out, err

    def test_385_neurons(self):
        code, _, err = self.run_snippet("p = pynn.Population(385, pynn.IF_facets_hardware1)\npynn.run(10.0)")
        self.assertNotEqual(code, 0)
        self.assertIn("Network is larger than chip size", err)

    def test_weight_beyond_15_lsb(self):
        code, _, err = self.run_snippet(
            "n = pynn.Population(1, pynn.IF_facets_hardware1)\n"
            "s = pynn.Population(1, pynn.SpikeSourceArray, {'spike_times': [1.0]})\n"
            "prj = pynn.Projection(s, n, pynn.AllToAllConnector(weights=16 * pynn.minExcWeight()), target='excitatory')\n"
            "pynn.run(10.0)\nprint('digital', prj.getWeights()[0] / pynn.minExcWeight())")
        # PyNN 0.6's hardware module clips at 15 LSB (discretizeWeight): so does nmp, with a warning
        self.assertEqual(code, 0, err)
        self.assertIn("were clipped to 15 LSB", err)
        self.assertIn("projection0", err)

    def test_second_membrane_replaces_the_first(self):
        code, out, err = self.run_snippet(
            "n = pynn.Population(2, pynn.IF_facets_hardware1)\n"
            "pynn.record_v(n[0], '')\npynn.record_v(n[1], '')\npynn.run(10.0)\n"
            "print('samples', len(pynn.membraneOutput))")
        self.assertEqual(code, 0, err)
        self.assertIn("only the recording of one membrane potential at a time", err)
        self.assertIn("samples 101", out)  # t = 0 to 10 ms every 0.1 ms, one neuron

    def test_chip_version_and_index_maps(self):
        # As PyNN 0.6's Spikey tests read them: with mappingOffset and a neuronPermutation,
        # network neuron i sits on hardware neuron permutation[i + offset].
        perm = [192, 195, 193, 196, 194, 197] + list(range(198, 384)) + list(range(192))
        code, out, err = self.run_snippet(
            "pynn.end()\npynn.setup(mappingOffset=2, neuronPermutation=%r)\n"
            "print('version', pynn.getChipVersion())\n"
            "a = pynn.Population(6, pynn.IF_facets_hardware1)\n"
            "b = pynn.Population(10, pynn.SpikeSourcePoisson)\n"
            "pynn.Projection(b, a, method=pynn.AllToAllConnector())\n"
            "pynn.run(1.0)\n"
            "print('hw', list(pynn.hardware.hwa.hardwareIndexMap[:7]))\n"
            "m = pynn.hardware.hwa.neuronIndexMap\n"
            "print('net', list(m[192:199]), int((m >= 0).sum()))\n"
            "pynn.getInputSpikes()" % perm)
        self.assertIn("version 5", out)
        self.assertIn("hw [193, 196, 194, 197, 198, 199, -1]", out)
        self.assertIn("net [-1, 0, 2, -1, 1, 3, 4] 6", out)
        self.assertNotEqual(code, 0)  # getInputSpikes is refused, naming what is not emulated
        self.assertIn("input loss are not emulated", err)

    def test_projection_rng(self):
        # pynn.random.NumpyRNG as PyNN 0.6's module exposes it: the same seed draws the same connections
        code, out, err = self.run_snippet(
            "n = pynn.Population(40, pynn.IF_facets_hardware1)\n"
            "c = [sorted(pynn.Projection(n, n, pynn.FixedProbabilityConnector(0.2, weights=pynn.minExcWeight()),\n"
            "      target='inhibitory', rng=pynn.random.NumpyRNG(seed=s)).connections()) for s in (3, 3, 4)]\n"
            "print('same', c[0] == c[1], 'other', c[0] == c[2], len(c[0]) > 0)")
        self.assertEqual(code, 0, err)
        self.assertIn("same True other False True", out)

    def test_avoid_spikes(self):
        body = ("pynn.end()\npynn.setup(avoidSpikes=%s)\n"
                "n = pynn.Population(2, pynn.IF_facets_hardware1, {'v_rest': -45.0, 'v_thresh': -55.0})\n"
                "n.record()\npynn.run(200.0)\nprint('spikes', len(n.getSpikes()))")
        counts = []
        for avoid in (False, True):
            code, out, err = self.run_snippet(body % avoid)
            self.assertEqual(code, 0, err)
            counts.append(int(re.search(r"spikes (\d+)", out).group(1)))
        self.assertGreater(counts[0], 10)
        self.assertEqual(counts[1], 0)

    def test_mixed_stp(self):
        code, _, err = self.run_snippet("pynn.TsodyksMarkramMechanism(U=0.5, tau_rec=100.0, tau_facil=50.0)")
        self.assertNotEqual(code, 0)
        self.assertIn("only facilitation OR depression", err)

    def test_multiplicative_stdp(self):
        code, _, err = self.run_snippet("pynn.MultiplicativeWeightDependence()")
        self.assertNotEqual(code, 0)
        self.assertIn("not available", err)

    def test_stage1_alias_and_station(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.py")
            with open(path, "w") as f:
                f.write("import pyNN.hardware.stage1 as pynn\npynn.setup()\n"
                        "n = pynn.Population(3, pynn.IF_facets_hardware1)\nn.record()\npynn.run(100.0)\n"
                        "import json\nprint(json.loads(open('spikeyconfig.out').readline())['station'])\n")
            os.environ["NMP_SPIKEY_STATION"] = "station500"
            try:
                code, out, err, work = run_script(path)
            finally:
                del os.environ["NMP_SPIKEY_STATION"]
            shutil.rmtree(work, True)
        self.assertEqual(code, 0, err)
        self.assertIn("station500", out)


if __name__ == "__main__":
    unittest.main()


API06 = """
import os
import numpy
import pyNN.hardware.spikey as pynn
from pyNN.random import RandomDistribution, NumpyRNG

pynn.setup(rng_seeds=[3], mappingOffset=10)
# the procedural API
cells = pynn.create(pynn.IF_facets_hardware1, {'g_leak': 10.0, 'v_rest': -50.0}, n=4)
src = pynn.create(pynn.SpikeSourceArray, {'spike_times': [10.0, 50.0]})
made = pynn.connect(src, cells, weight=10 * pynn.minExcWeight(), synapse_type='excitatory')
print('RESULT connect made', len(made))
pynn.record(cells, 'cells.spk')
pynn.record_v(cells[0], 'v.dat')
cells[1].g_leak = 5.0
pynn.set(cells[2:], pynn.IF_facets_hardware1, 'tau_refrac', 2.0)
print('RESULT id attributes', cells[1].g_leak, cells[3].tau_refrac)
# populations on a grid and the connectors of PyNN 0.6
grid = pynn.Population((4, 4), pynn.IF_facets_hardware1, label='grid')
stim = pynn.Population(8, pynn.SpikeSourcePoisson, {'rate': 40.0}, label='stim')
dd = pynn.DistanceDependentProbabilityConnector('exp(-d/2.0)', weights=5 * pynn.minExcWeight())
prj = pynn.Projection(stim, grid, dd, target='excitatory')
prj.randomizeWeights(RandomDistribution('uniform', (0.002, 0.012), rng=NumpyRNG(seed=1)))
prj.saveConnections('grid.conn')
other = pynn.Population((4, 4), pynn.IF_facets_hardware1, label='other')
again = pynn.Projection(stim, other, pynn.FromFileConnector('grid.conn'), target='excitatory')
print('RESULT file connector', len(prj), len(again), numpy.allclose(prj.getWeights(), again.getWeights()))
lst = pynn.Projection(grid, other, pynn.FromListConnector([((0, 0), (0, 3), 0.004, 1.0), ((1, 2), (1, 1), 0.004, 1.0)]), target='inhibitory')
print('RESULT list connector', len(lst), [(int(a), int(b)) for a, b in lst.connections()])
grid.rset('g_leak', RandomDistribution('uniform', (10.0, 30.0), rng=NumpyRNG(seed=2)))
grid.randomInit(RandomDistribution('uniform', (-70.0, -60.0)))
grid.record()
prj.setDelays(2.0)
pynn.run(500.0)
grid.printSpikes('grid.spk')
print('RESULT grid mean spike count', grid.meanSpikeCount())
print('RESULT delays', set(prj.getDelays()))
counts, edges = prj.weightHistogram(nbins=4)
print('RESULT histogram', int(counts.sum()) == len(prj))
print('RESULT files', all(os.path.getsize(f) > 0 for f in ('cells.spk', 'v.dat', 'grid.spk', 'grid.conn')))
print('RESULT current time', pynn.get_current_time())
try:
    pynn.Population(2, pynn.IF_cond_exp)
except Exception as err:
    print('RESULT other cell', err)
pynn.end()
"""


@unittest.skipUnless(os.environ.get("NMP_BINARY") or shutil.which("nmp"), "needs the nmp binary")
class Api06Test(unittest.TestCase):
    """PyNN 0.6's API beyond the school's scripts: the procedural API, IDs'
    parameters, the grid and file connectors, the projections' methods."""

    def test_api06(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "api06.py")
            with open(path, "w") as f:
                f.write(API06)
            code, out, err, work = run_script(path)
            self.addCleanup(shutil.rmtree, work, True)
        self.assertEqual(code, 0, err[-3000:])
        res = results(out)
        print("\napi06:\n  " + "\n  ".join(res))
        got = dict(r.split(" ", 1) for r in res)
        self.assertIn("connect made 4", res)
        self.assertIn("id attributes 5.0 2.0", res)
        n, m, same = got["file"].split()[1:]
        self.assertEqual((n, same), (m, "True"))
        self.assertGreater(int(n), 8)  # the near pairs of a 4x4 grid
        self.assertIn("list connector 2 [(4, 23), (10, 25)]", res)  # IDs: cells 0-3, grid 4-19, other 20-35
        self.assertGreater(float(got["grid"].split()[-1]), 0)
        self.assertIn("delays {1.0}", res)
        self.assertIn("histogram True", res)
        self.assertIn("files True", res)
        self.assertIn("IF_cond_exp is not available on Spikey", got["other"])
        self.assertIn("randomInit", err)
        self.assertIn("setDelays is ignored", err)
