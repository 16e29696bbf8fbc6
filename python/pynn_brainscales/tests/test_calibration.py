"""Calibration: calix's API on the emulated chip (targets, units, errors,
the cache, files), pynn_brainscales' CalibHXNeuronCuba/Coba, chip_from_file
and the nightly calibration. Each calibration of the whole chip takes about
two seconds; the tests share one calix cache so that equal targets
calibrate once."""

import dataclasses
import os
import shutil
import subprocess
import tempfile
import unittest
import warnings

import numpy as np
import quantities as pq

import calix
from calix import files
from calix.common import cadc
from calix.spiking import SpikingCalibTarget, neuron
from dlens_vx_v3 import hxcomm
import pynn_brainscales.brainscales2 as pynn
from pynn_brainscales.brainscales2.standardmodels.cells import CalibHXNeuronCoba, CalibHXNeuronCuba
from pynn_brainscales.brainscales2.standardmodels.synapses import StaticSynapse
from nmp.simclient import find_binary

_TMP = None


def setUpModule():
    global _TMP
    _TMP = tempfile.mkdtemp(prefix="nmp-calib-test-")
    os.environ["XDG_CACHE_HOME"] = os.path.join(_TMP, "cache")
    os.environ["HOME"] = os.path.join(_TMP, "home")
    os.environ.pop("NMP_BSS2_CALIBRATION_DIR", None)
    os.environ.pop("NMP_BSS2_CHIP", None)


def tearDownModule():
    shutil.rmtree(_TMP, ignore_errors=True)


@dataclasses.dataclass
class _CountingResult(calix.common.base.CalibResult):
    level: int = 0
    fresh: bool = False

    def apply(self, connection):
        pass

    def __getstate__(self):
        return {"level": self.level}      # `fresh` is not cached


class _CountingTarget(calix.common.base.TopLevelCalibTarget):
    calls = 0

    def __init__(self, level):
        self.level = level

    def calibrate(self, connection, options=None):
        _CountingTarget.calls += 1
        return _CountingResult(level=self.level, fresh=True, target=self, options=options)


class Calix(unittest.TestCase):

    def test_target_errors(self):
        with hxcomm.ManagedConnection() as conn:
            with self.assertRaisesRegex(RuntimeError, "CADC .* not calibrated"):
                neuron.calibrate(conn)
            conn.cadc_result = object()   # the checks come before any use of it
            cases = [(dict(tau_mem=10), TypeError, "tau_mem.*quantities"),
                     (dict(leak=200), ValueError, "leak: 200 .* 50 to 160"),
                     (dict(threshold=np.full(3, 100)), ValueError, r"threshold: shape \(3,\)"),
                     (dict(tau_syn=100 * pq.us), ValueError, "tau_syn: 100 .* 0.3 to 30"),
                     (dict(tau_mem=70 * pq.us), ValueError, "tau_mem: 70 .* 0.5 to 60"),
                     (dict(i_synin_gm=900), ValueError, "i_synin_gm: 900 .* 30 to 800"),
                     (dict(refractory_time=1 * pq.mV), TypeError, "refractory_time.*not a unit of time"),
                     (dict(synapse_dac_bias=5), ValueError, "synapse_dac_bias: 5 .* 30 to 1022"),
                     (dict(e_coba_reversal=np.array([120, np.nan]), e_coba_reference=100), ValueError,
                      r"e_coba_reversal \(excitatory\): the reference 100 and the reversal 120 .* no room"),
                     (dict(leak=50, threshold=60, e_coba_reversal=np.array([np.nan, 0])), ValueError,
                      "e_coba_reference: 55 .* 60 to 165")]
            for kw, exc, msg in cases:
                with self.assertRaisesRegex(exc, msg):
                    neuron.calibrate(conn, neuron.NeuronCalibTarget(**kw))
        with self.assertRaisesRegex(ValueError, "70 seems like a feasible value"):
            cadc.CADCCalibTarget(dynamic_range=(10, 550)).check()

    def test_step_by_step_and_cache(self):
        with hxcomm.ManagedConnection() as conn:
            c = cadc.calibrate(conn)
            self.assertLess(c.statistics["after"]["std"], 3)
            r = neuron.calibrate(conn, neuron.NeuronCalibTarget(leak=110, reset=60, tau_mem=8 * pq.us))
            self.assertGreater(r.success.sum(), 500)
            self.assertEqual(len(r.neurons["leak_v_leak"]), 512)
            before = r.neurons["threshold_v_threshold"].copy()
            neuron.calibrate_leak_over_threshold(conn, r, 100 * pq.kHz)
            self.assertFalse(np.array_equal(before, r.neurons["threshold_v_threshold"]))
            with self.assertRaises(TypeError):
                neuron.calibrate_leak_over_threshold(conn, r, 100)
            neuron.refine_potentials(conn, r)
            chip = r.to_chip()
            self.assertEqual(chip.chip, "nmp-virtual-hx-0")
        # The top level, with its cache: the second call reads the file.
        cache = os.path.join(_TMP, "calix-cache")
        target = SpikingCalibTarget(neuron_target=neuron.NeuronCalibTarget(leak=90))
        first = calix.calibrate(target, cache_paths=[cache])
        self.assertEqual(first.raw["algorithm"], calix._backend.ALGORITHM)
        cached = os.listdir(cache)
        self.assertEqual(len(cached), 1)
        os.chmod(cache, 0o555)
        try:
            second = calix.calibrate(target, cache_paths=[cache])
        finally:
            os.chmod(cache, 0o755)
        self.assertEqual(second.raw["created"], first.raw["created"])   # the same calibration, not a new one
        # Another chip, another key; a failing calibration writes nothing.
        with hxcomm.ManagedConnection(chip="nmp-virtual-hx-2") as conn:
            self.assertNotEqual(calix.cache_key(target, calix.spiking.SpikingCalibOptions(), conn.chip),
                                calix.cache_key(target, calix.spiking.SpikingCalibOptions(), "nmp-virtual-hx-0"))
        with self.assertRaises(ValueError):
            calix.calibrate(SpikingCalibTarget(neuron_target=neuron.NeuronCalibTarget(reset=10)), cache_paths=[cache])
        self.assertEqual(os.listdir(cache), cached)

    def test_own_top_level_target_is_cached(self):
        """A script's own TopLevelCalibTarget: calix.calibrate runs its
        calibrate() once per target, options and chip, then answers from
        the cache; without cache paths it runs every time."""
        calls = _CountingTarget.calls
        with tempfile.TemporaryDirectory() as tmp:
            first = calix.calibrate(_CountingTarget(level=3), cache_paths=[tmp])
            self.assertEqual((first.level, first.fresh), (3, True))
            again = calix.calibrate(_CountingTarget(level=3), cache_paths=[tmp])
            self.assertEqual((again.level, again.fresh), (3, False))   # unpickled: fresh is not kept
            other = calix.calibrate(_CountingTarget(level=4), cache_paths=[tmp])
            self.assertTrue(other.fresh)
            with hxcomm.ManagedConnection(chip="nmp-virtual-hx-2") as conn:
                self.assertTrue(calix.calibrate(_CountingTarget(level=3), cache_paths=[tmp], connection=conn).fresh)
        self.assertEqual(_CountingTarget.calls - calls, 3)
        calix.calibrate(_CountingTarget(level=3), cache_paths=[])
        calix.calibrate(_CountingTarget(level=3), cache_paths=[])
        self.assertEqual(_CountingTarget.calls - calls, 5)

    def test_files_between_go_and_python(self):
        out = os.path.join(_TMP, "files")
        subprocess.run([find_binary(), "calib", "run", "-chip", "nmp-virtual-hx-3", "-o", out], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        a = files.read(os.path.join(out, "spiking_cocolist.pbin"))
        b = files.read(os.path.join(out, "spiking_cocolist.json"))
        self.assertEqual(a["neuron"]["neurons"], b["neuron"]["neurons"])
        self.assertEqual(a["cadc"]["channel_offset"], b["cadc"]["channel_offset"])
        # What Python writes, Go reads.
        mine = os.path.join(out, "mine.pbin")
        files.write(a, mine)
        shown = subprocess.run([find_binary(), "calib", "show", mine], check=True, stdout=subprocess.PIPE).stdout
        self.assertIn(b"chip nmp-virtual-hx-3", shown)
        with open(mine, "rb") as f:
            damaged = bytearray(f.read())
        damaged[100] ^= 0xFF
        with self.assertRaisesRegex(ValueError, "checksum"):
            files.loads(bytes(damaged))
        chip = pynn.helper.chip_from_file(os.path.join(out, "spiking_cocolist.pbin"))
        self.assertEqual(chip.chip, "nmp-virtual-hx-3")
        self.assertEqual(len(chip.cadc["channel_offset"]), 1024)
        # Applied to another chip it warns.
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            pynn.setup(initial_config=chip, chip="nmp-virtual-hx-4")
            pynn.end()
        self.assertTrue(any("made for chip nmp-virtual-hx-3" in str(x.message) for x in w))


class CalibratedCells(unittest.TestCase):

    def tearDown(self):
        pynn.end()

    def test_seed_usage_coba(self):
        """The seed's usage: CalibHXNeuronCoba populations recording spikes
        and v, calibrated on run()."""
        pynn.setup(rng_seed=3)
        pop1 = pynn.Population(8, CalibHXNeuronCoba(v_rest=120, v_reset=80, v_thresh=140, tau_m=8))
        pop2 = pynn.Population(4, CalibHXNeuronCoba(v_rest=110))
        with self.assertRaises(AttributeError):
            pop1.celltype.calib_target
        stim = pynn.Population(4, pynn.cells.SpikeSourceArray(spike_times=[0.01, 0.012, 0.014, 0.03]))
        pynn.Projection(stim, pop1, pynn.AllToAllConnector(), StaticSynapse(weight=63), receptor_type="excitatory")
        pynn.Projection(stim, pop2, pynn.AllToAllConnector(), StaticSynapse(weight=30), receptor_type="inhibitory")
        pop1.record(["spikes"])
        pop1[0:1].record(["v"])
        pop2.record(["spikes", "v"], device="cadc")
        pynn.run(0.1)
        self.assertTrue(np.all(pop1.celltype.calib_target["leak"] == 120))
        self.assertTrue(np.all(pop2.celltype.calib_target["leak"] == 110))
        hw1 = np.mean([n["leak_v_leak"] for n in pop1.celltype.calib_hwparams])
        hw2 = np.mean([n["leak_v_leak"] for n in pop2.celltype.calib_hwparams])
        self.assertGreater(hw1, hw2)                 # a higher target needs a higher CapMem code
        self.assertEqual(len(pop1.celltype.actual_hwparams), 8)
        seg = pop1.get_data().segments[0]
        self.assertGreater(sum(len(s) for s in seg.spiketrains), 0)
        v = np.asarray(seg.irregularlysampledsignals[0]).ravel()
        self.assertGreater(len(v), 1000)
        rest = pop2.get_data().segments[0].irregularlysampledsignals
        early = np.mean([np.asarray(s).ravel()[2:5].mean() for s in rest])
        self.assertLess(abs(early - 110), 6, early)   # calibrated resting potential, CADC reads
        self.assertIn("calibration", pynn.get_mapping())

    def test_prepare_cuba_and_constraints(self):
        pynn.setup(rng_seed=3)
        pop = pynn.Population(3, CalibHXNeuronCuba(tau_m=12))
        pynn.run(None, pynn.RunCommand.PREPARE)
        self.assertTrue(np.all(pop.celltype.calib_target["tau_mem"] == 12))
        pynn.end()
        pynn.setup()
        pynn.Population(2, CalibHXNeuronCuba(i_synin_gm_E=400))
        pynn.Population(2, CalibHXNeuronCuba(i_synin_gm_E=500))
        with self.assertRaisesRegex(RuntimeError, "i_synin_gm_E needs to be same for all populations"):
            pynn.run(0.01)
        with self.assertRaisesRegex(ValueError, "v_rest: 200 .* 50 to 160"):
            CalibHXNeuronCuba(v_rest=200)
        with self.assertRaisesRegex(NotImplementedError, "plasticity_rule: not emulated yet"):
            CalibHXNeuronCuba(plasticity_rule=object())

    def test_actual_hwparams_change_the_circuits(self):
        """actual_hwparams: AttributeError before the calibration, then one
        AtomicNeuron per neuron (lola's grouped fields), views share them
        with their population, and a change is what the circuit runs with:
        the leak above the calibrated threshold makes the neuron fire."""
        pynn.setup(rng_seed=4)
        pop = pynn.Population(3, CalibHXNeuronCuba())
        pop.record("spikes")
        for what in ("calib_target", "calib_hwparams", "actual_hwparams"):
            with self.assertRaisesRegex(AttributeError, "not calibrated yet"):
                getattr(pop, what)
        with self.assertRaisesRegex(AttributeError, "only for CalibHXNeuron"):
            pynn.Population(1, pynn.cells.HXNeuron()).actual_hwparams
        pynn.run(None, pynn.RunCommand.PREPARE)
        hw = pop.actual_hwparams
        self.assertEqual(len(hw), 3)
        self.assertEqual(hw[1].leak.v_leak, pop.calib_hwparams[1]["leak_v_leak"])
        self.assertEqual(pop[1:3].calib_target["leak"].shape, (2,))
        pop[[1, 2]].actual_hwparams[1].leak.v_leak = 1022
        self.assertEqual(pop.actual_hwparams[2].leak.v_leak, 1022)
        self.assertNotEqual(pop.actual_hwparams[1].leak.v_leak, 1022)
        self.assertNotEqual(pop.calib_hwparams[2].leak.v_leak, 1022)   # the calibration itself stays
        with self.assertRaisesRegex(AttributeError, "has no field 'v_leek'"):
            pop.actual_hwparams[0].leak.v_leek = 3
        with self.assertRaises(Exception):
            pop.actual_hwparams[0].leak.v_leak = 1023                  # beyond the CapMem
        pynn.run(0.1)
        counts = [len(s) for s in pop.get_data("spikes").segments[0].spiketrains]
        self.assertEqual(counts[0], 0, counts)                     # calibrated: silent without input
        self.assertEqual(counts[1], 0, counts)
        self.assertGreater(counts[2], 5, counts)                   # its leak now above threshold

    def test_global_parameters_differing_within_a_population(self):
        pynn.setup()
        pop = pynn.Population(3, CalibHXNeuronCuba())
        pop.set(synapse_dac_bias=[400, 500, 500])
        with self.assertRaisesRegex(RuntimeError, "synapse_dac_bias needs to be same for all neurons"):
            pynn.run(0.01)

    def test_nightly(self):
        path = pynn.helper.nightly_calib_path()
        self.assertTrue(str(path).endswith("nmp-virtual-hx-0/stable/latest/spiking_cocolist.pbin"))
        chip = pynn.helper.chip_from_nightly()      # made once outside the platform
        self.assertTrue(path.exists())
        pynn.setup(initial_config=chip)
        pop = pynn.Population(4, pynn.cells.HXNeuron())
        pop.record("v", device="cadc")
        pynn.run(0.1)
        late = [np.asarray(s).ravel()[20:].mean() for s in pop.get_data().segments[0].irregularlysampledsignals]
        for x in late:
            self.assertLess(abs(x - 80), 3, late)   # the nightly "spiking" calibration's leak target
        os.environ["NMP_BSS2_CALIBRATION_DIR"] = os.path.join(_TMP, "empty")
        try:
            with self.assertRaisesRegex(RuntimeError, "Could not find a nightly calibration"):
                pynn.helper.chip_from_nightly()
        finally:
            del os.environ["NMP_BSS2_CALIBRATION_DIR"]


if __name__ == "__main__":
    unittest.main()
