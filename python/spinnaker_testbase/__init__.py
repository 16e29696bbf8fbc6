"""The test base sPyNNaker's integration tests and PyNNExamples' script
checks import (`from spinnaker_testbase import BaseTestCase`,
`ScriptChecker`), for nmp's emulated SpiNNaker, so that those suites run
unchanged against `pyNN.spiNNaker` (docs/spinnaker.md, "Users' suites").

What differs from the machine's test base, and why:

- runsafe(method) runs the method once. On a real machine it retries after
  a lost board (spalloc's JobDestroyedError, SpiNNMan's errors); the
  emulation has no board to lose, so every exception is the test's own and
  propagates, never turned into a skip.
- assert_not_spin_three() skips the test only when the script's machine is
  the 4-chip board (version 3 in spynnaker.cfg or setup()), as on hardware.
- report() appends to a file in $GLOBAL_REPORTS when that is set, and
  writes nothing otherwise (there is no run directory of timestamps).
- The helpers that read PACMAN's and SpiNNMan's report files and
  provenance databases (get_placements, get_provenance_files, ...) raise
  NotImplementedError naming themselves: those files are the machine
  tool chain's internals; pyNN.spiNNaker.get_machine() gives placements.
"""

import os
import runpy

import numpy as np
import sys
import time
import unittest

__all__ = ["BaseTestCase", "ScriptChecker", "RootTestCase", "calculate_stdp_times",
           "calculate_spike_pair_additive_stdp_weight", "calculate_spike_pair_multiplicative_stdp_weight"]


def calculate_stdp_times(pre_spikes, post_spikes, plastic_delay):
    """The spike-time differences a pair rule sees, as the machine's test
    base reckons them: postsynaptic spikes (arriving back at the synapse
    plastic_delay later) before the last presynaptic spike's delayed
    arrival count; against every presynaptic spike but the last (which the
    machine processes only when a later one comes) they potentiate, with
    the negative differences post + delay − pre > 0 negated; against every
    presynaptic spike they depress where post + delay − pre < 0. Returns
    (potentiation times, depression times), both ≤ 0."""
    pre = np.asarray(pre_spikes, dtype=float)
    post = np.asarray(post_spikes, dtype=float)
    if len(post) == 0 or len(pre) == 0:
        return np.zeros(0), np.zeros(0)
    post = post[post < pre[-1] - plastic_delay]
    if len(post) == 0:
        return np.zeros(0), np.zeros(0)
    arrive = post + plastic_delay
    pot = np.ravel(arrive[:, None] - pre[None, :-1])
    dep = np.ravel(arrive[:, None] - pre[None, :])
    return -pot[pot > 0], dep[dep < 0]


def calculate_spike_pair_additive_stdp_weight(pre_spikes, post_spikes, initial_weight, plastic_delay,
                                              max_weight, a_plus, a_minus, tau_plus, tau_minus):
    """The weight the additive pair rule gives in exact arithmetic."""
    pot, dep = calculate_stdp_times(pre_spikes, post_spikes, plastic_delay)
    return (initial_weight + np.sum(max_weight * a_plus * np.exp(pot / tau_plus))
            - np.sum(max_weight * a_minus * np.exp(dep / tau_minus)))


def calculate_spike_pair_multiplicative_stdp_weight(pre_spikes, post_spikes, initial_weight, plastic_delay,
                                                    min_weight, max_weight, a_plus, a_minus, tau_plus, tau_minus):
    """The weight the multiplicative pair rule gives in exact arithmetic
    (the changes scaled by the initial weight's distance to the bounds)."""
    pot, dep = calculate_stdp_times(pre_spikes, post_spikes, plastic_delay)
    return (initial_weight + np.sum((max_weight - initial_weight) * a_plus * np.exp(pot / tau_plus))
            - np.sum((initial_weight - min_weight) * a_minus * np.exp(dep / tau_minus)))


class RootTestCase(unittest.TestCase):
    """What the test cases and the script checker share."""

    def _setUp(self, script):
        # The machine's test base fixes this seed for tests that read it.
        self._test_seed = 1
        os.chdir(os.path.dirname(os.path.abspath(script)))

    _setup = _setUp

    @staticmethod
    def assert_not_spin_three():
        """Skip (unittest.SkipTest) on a 4-chip board, as the machine's
        test base does; any other machine runs the test."""
        from pyNN.spiNNaker.simulator import state
        if state.options.get("version") == 3:
            raise unittest.SkipTest("This test will not run on a spinn-3 board")

    def error_file(self):
        """Where a failed attempt would be noted before a retry (never
        written here: nothing is retried)."""
        return os.path.join(os.getcwd(), "ErrorFile.txt")

    def report(self, message, file_name):
        """Append message to file_name in $GLOBAL_REPORTS, if set."""
        directory = os.environ.get("GLOBAL_REPORTS")
        if not directory:
            return
        os.makedirs(directory, exist_ok=True)
        if not message.endswith("\n"):
            message += "\n"
        with open(os.path.join(directory, file_name), "a", encoding="utf-8") as f:
            f.write(message)

    def check_binaries_used(self, binaries):
        """Refused: it reads which machine binaries (.aplx) the tool chain
        loaded, and nmp's emulation loads none."""
        raise NotImplementedError("check_binaries_used(%s): nmp's emulated SpiNNaker loads no .aplx binaries; the "
                                  "script itself ran" % (binaries,))

    def runsafe(self, method, retry_delay=3.0, skip_exceptions=None):
        """Run method once; its exceptions are the test's (see the module's
        doc: there is no lost board to retry after)."""
        method()


class BaseTestCase(RootTestCase):
    """sPyNNaker's integration test case."""

    def setUp(self):
        self._setUp(sys.modules[self.__module__].__file__)

    def assert_logs_messages(self, log_records, sub_message, log_level="ERROR", count=1, allow_more=False):
        """Fail unless sub_message is in exactly count records of log_level
        (at least count with allow_more)."""
        seen = sum(1 for r in log_records if r.levelname == log_level and sub_message in str(r.msg))
        if allow_more and seen > count:
            return
        if seen != count:
            raise self.failureException('"%s" not found in any %s logs %d times, was found %d times'
                                        % (sub_message, log_level, count, seen))

    def _internal(self, name):
        raise NotImplementedError("%s reads the machine tool chain's report files and provenance, which nmp's "
                                  "emulated SpiNNaker does not write; pyNN.spiNNaker.get_machine() gives the "
                                  "mapping" % name)

    def get_provenance_files(self):
        self._internal("get_provenance_files")

    def get_system_iobuf_files(self):
        self._internal("get_system_iobuf_files")

    def get_app_iobuf_files(self):
        self._internal("get_app_iobuf_files")

    def get_placements(self, label):
        self._internal("get_placements")


_shown = False


def _mock_show(*args, **kwargs):
    global _shown
    _shown = True


class ScriptChecker(RootTestCase):
    """PyNNExamples' way of testing its scripts: check_script runs one (as
    runpy.run_path does, not as __main__), with matplotlib's show() replaced by a mark that it was
    called (a plotting script must reach it)."""

    def check_script(self, script, broken_msg=None):
        global _shown
        tests_dir = os.path.dirname(os.path.abspath(sys.modules[self.__module__].__file__))
        path = os.path.join(os.path.dirname(tests_dir), script)
        self._setUp(path)
        with open(path, encoding="utf-8") as f:
            plotting = "import matplotlib.pyplot" in f.read()
        if plotting:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as pyplot
            _shown = False
            pyplot.show = _mock_show
        try:
            start = time.time()
            self.runsafe(lambda: runpy.run_path(path))
            self.report("%s for %s" % (time.time() - start, script), "scripts_ran_successfully")
            if plotting:
                self.assertTrue(_shown, "%s imports matplotlib.pyplot and never called show()" % script)
        except Exception:
            if broken_msg:
                self.report(script, broken_msg)
            else:
                print("Error on %s" % script)
                raise
