"""The import finder's table (python/_nmp_pynn_finder.py): a dotted module
name maps to its directory, a parent no package provides becomes an empty
namespace, and a parent that exists (pyNN) is left alone."""

import os
import subprocess
import tempfile
import unittest

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def run(code):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=env, cwd="/")
    return out.returncode, out.stdout.strip(), out.stderr


class FinderTest(unittest.TestCase):

    def test_table_names_existing_directories(self):
        import _nmp_pynn_finder as finder
        base = os.path.dirname(HERE)
        for name, rel in finder.MODULES.items():
            self.assertTrue(os.path.isfile(os.path.join(base, rel, "__init__.py")), (name, rel))

    def test_new_row_with_a_missing_parent(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, "rooms", "spikey"))
            with open(os.path.join(tmp, "rooms", "spikey", "__init__.py"), "w") as f:
                f.write("WHO = 'spikey'\n")
            code, out, err = run(
                "import _nmp_pynn_finder as f\n"
                "f.install(%r, {'pyNN.hardware.spikey': 'rooms/spikey', 'pyNN.nmp': 'pyNN/nmp'})\n"
                "import pyNN.hardware.spikey as s, pyNN, pyNN.hardware\n"
                "print(s.WHO, pyNN.__file__.startswith('/usr/lib/python3/'), list(pyNN.hardware.__path__))\n"
                "import pyNN.hardware.stage1\n" % tmp)
        self.assertIn("spikey True []", out)
        self.assertNotEqual(code, 0)                       # no row, no module
        self.assertIn("No module named 'pyNN.hardware.stage1'", err)

    def test_names_outside_the_table_are_not_answered(self):
        # Front ends not written yet fail plainly (python/oldpynn/README.md).
        for name in ("pyNN.spiNNaker2", "pyNN.hardware.facets"):
            code, out, err = run("import _nmp_pynn_finder\nimport %s\n" % name)
            self.assertNotEqual(code, 0, name)
            self.assertIn("ModuleNotFoundError: No module named", err)

    def test_top_level_names_in_other_directories(self):
        # pyhmf and its companions live in oldpynn/, not on sys.path.
        code, out, err = run("import _nmp_pynn_finder\nimport pyhmf, pymarocco, Coordinate\n"
                             "print(pyhmf.__file__.endswith('oldpynn/pyhmf/__init__.py'), Coordinate.HICANNOnWafer(Coordinate.Enum(297)))\n")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "True HICANNOnWafer(X(9), Y(11))")

    def test_brainscales1_rows(self):
        # The platform rows' {system} names are pyhmf itself.
        code, out, err = run("import _nmp_pynn_finder, sys\n"
                             "exec('import pyNN.%s as sim' % 'hardware.hbp_pm')\n"
                             "import pyNN.hardware.brainscales as b, pyhmf\n"
                             "print(sim is pyhmf, b is pyhmf, sim.IF_cond_exp.__name__)\n")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "True True IF_cond_exp")

    def test_spikey_rows(self):
        # pyNN.hardware.spikey and its alias stage1 import from oldpynn/spikey,
        # inside a pyNN.hardware that the finder supplies.
        code, out, err = run("import _nmp_pynn_finder\nimport pyNN.hardware.spikey as a, pyNN.hardware.stage1 as b, pyNN.hardware\n"
                             "print(a.__file__.endswith('oldpynn/spikey/__init__.py'), b.__file__ == a.__file__, list(pyNN.hardware.__path__))\n")
        self.assertEqual(code, 0, err)
        self.assertIn("True True []", out)


if __name__ == "__main__":
    unittest.main()
