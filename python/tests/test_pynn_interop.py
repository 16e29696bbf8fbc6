"""PyNN scripts written for other backends, run unchanged on pyNN.nmp (and
so on the backends built on it): clipped normal distributions with an
infinite bound, the default receptor of a Projection onto an Assembly, and
Debian's PyNN 0.10.1 spike-raster plots."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import matplotlib
matplotlib.use("Agg")

import neo  # noqa: E402
import quantities as pq  # noqa: E402

import pyNN.nmp as sim  # noqa: E402
from pyNN.random import RandomDistribution  # noqa: E402
from nmp import description  # noqa: E402

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def run_script(code, **env):
    e = dict(os.environ, PYTHONPATH=os.path.dirname(HERE), **env)
    out = subprocess.run([PY, "-c", "import _nmp_pynn_finder\n" + code],
                         capture_output=True, text=True, env=e, timeout=120)
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return out.stdout.strip()


class Case(unittest.TestCase):
    def setUp(self):
        sim.setup(timestep=0.1, min_delay=0.1)

    def tearDown(self):
        sim.end()


class InfiniteBoundTest(Case):
    """PyNN's and sPyNNaker's balanced-network scripts draw from
    normal_clipped with low=-inf or high=numpy.inf."""

    def test_written_as_strings(self):
        enc = description.Encoder()
        v = enc.value(description.Distribution(
            "normal_clipped", {"mu": 0.0, "sigma": 1.0, "low": -np.inf, "high": np.inf}))
        self.assertEqual(json.loads(json.dumps(v, allow_nan=False))["parameters"],
                         {"mu": 0.0, "sigma": 1.0, "low": "-inf", "high": "inf"})

    def test_runs_and_draws_inside_the_bounds(self):
        pre = sim.Population(20, sim.SpikeSourcePoisson(rate=20.0), label="pre")
        post = sim.Population(20, sim.IF_curr_exp(v_thresh=-50.0), label="post")
        post.initialize(v=RandomDistribution("normal_clipped", mu=-65.0, sigma=5.0,
                                             low=-np.inf, high=-55.0))
        prj = sim.Projection(pre, post, sim.FixedProbabilityConnector(0.5),
                             sim.StaticSynapse(weight=RandomDistribution(
                                 "normal_clipped", mu=0.1, sigma=0.2, low=0.0, high=np.inf),
                                 delay=1.0))
        post.record("v")
        sim.run(10.0)
        v0 = post.get_data().segments[0].filter(name="v")[0].magnitude[0]
        self.assertTrue(np.all(v0 <= -55.0), v0)
        self.assertGreater(len(set(np.round(v0, 9))), 10)   # drawn, not all the same
        w = np.array(prj.get("weight", format="list", with_address=False), dtype=float)
        self.assertGreater(len(w), 0)
        self.assertTrue(np.all(w >= 0.0) and np.all(np.isfinite(w)), w)
        self.assertLess(w.min(), 0.1)   # the lower half of the normal is there


class AssemblyReceptorTest(unittest.TestCase):
    """PyNN 0.10's Assembly.receptor_types is a set's order, which follows
    Python's hash seed; Projection takes the first for positive weights."""

    CODE = ("import pyNN.nmp as sim\n"
            "sim.setup()\n"
            "a = sim.Population(2, sim.IF_cond_exp()); b = sim.Population(2, sim.IF_cond_exp())\n"
            "src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))\n"
            "exc = sim.Projection(src, a + b, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01))\n"
            "cur = sim.Population(2, sim.IF_curr_exp())\n"
            "cur2 = sim.Population(2, sim.IF_curr_exp())\n"
            "inh = sim.Projection(src, cur + cur2, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.01))\n"
            "print((a + b).receptor_types, exc.receptor_type, inh.receptor_type)\n")

    def test_same_for_every_hash_seed(self):
        # Before the fix, seeds 0 to 3 gave "inhibitory" for positive weights.
        for seed in range(6):
            out = run_script(self.CODE, PYTHONHASHSEED=str(seed))
            self.assertEqual(out, "['excitatory', 'inhibitory'] excitatory inhibitory",
                             "PYTHONHASHSEED=%d" % seed)


class RasterPlotTest(Case):
    """pyNN.utility.plotting's Figure and Panel with a Segment's spike trains."""

    def test_figure_with_spike_trains(self):
        from pyNN.utility.plotting import Figure, Panel
        src = sim.Population(5, sim.SpikeSourceArray(
            spike_times=[[10.0, 30.0], [20.0], [], [40.0, 50.0, 60.0], [90.0]]), label="src")
        post = sim.Population(3, sim.IF_curr_exp(), label="post")
        src.record("spikes")
        post.record(["spikes", "v"])
        sim.run(100.0)
        seg = src.get_data().segments[0]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "raster.png")
            fig = Figure(Panel(seg.spiketrains, yticks=True, markersize=2),
                         Panel(post.get_data().segments[0].spiketrains),
                         Panel(post.get_data().segments[0].filter(name="v")[0], xticks=True,
                               xlabel="Time (ms)"))
            fig.save(path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        ax = fig.fig.axes[0]
        self.assertEqual(ax.get_xlim(), (0.0, 100.0))
        line = ax.lines[0]
        # Times on x, the neurons' IDs on y, one point per spike.
        ids = [int(i) for i in src.all_cells]
        want = sorted((t, ids[i]) for i, ts in enumerate([[10, 30], [20], [], [40, 50, 60], [90]])
                      for t in ts)
        got = sorted(zip(np.asarray(line.get_xdata(), dtype=float),
                         np.asarray(line.get_ydata(), dtype=int)))
        self.assertEqual(got, [(float(t), i) for t, i in want])
        self.assertEqual(ax.get_ylim(), (ids[0] - 0.5, ids[-1] + 0.5))

    def test_list_of_spike_trains(self):
        # Panel's other raster (a list of SpikeTrains) with times in ms.
        from pyNN.utility import plotting
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        trains = [neo.SpikeTrain([5.0, 7.0], units="ms", t_start=0 * pq.ms, t_stop=0.05 * pq.s,
                                 source_index=i) for i in range(2)]
        plotting.plot_spiketrains(ax, trains)
        self.assertEqual(ax.get_xlim(), (0.0, 50.0))
        plt.close(fig)

    def test_spinnaker_raster(self):
        # The backends built on pyNN.nmp get the same mend (sPyNNaker's
        # examples plot this way).
        out = run_script(
            "import matplotlib; matplotlib.use('Agg')\n"
            "import pyNN.spiNNaker as sim\n"
            "from pyNN.utility.plotting import Figure, Panel\n"
            "sim.setup(timestep=1.0)\n"
            "src = sim.Population(4, sim.SpikeSourceArray(spike_times=[[5.0], [10.0], [15.0, 25.0], []]))\n"
            "src.record('spikes')\n"
            "sim.run(50.0)\n"
            "fig = Figure(Panel(src.get_data().segments[0].spiketrains, xlabel='Time (ms)'))\n"
            "ax = fig.fig.axes[0]\n"
            "print(ax.get_xlim(), sorted(float(x) for x in ax.lines[0].get_xdata()))\n"
            "sim.end()\n", NMP_SPINNAKER_SEED="7")
        self.assertEqual(out, "(0.0, 50.0) [5.0, 10.0, 15.0, 25.0]")

    def test_importing_the_backend_does_not_import_matplotlib(self):
        out = run_script("import sys\nimport pyNN.nmp\nprint('matplotlib' in sys.modules)")
        self.assertEqual(out, "False")


if __name__ == "__main__":
    unittest.main()
