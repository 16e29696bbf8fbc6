"""The table of nmp's Python modules, and the import hook that makes those
living inside another distribution's package (Debian's pyNN) importable
without touching that package.

MODULES maps each module name a front end provides to its directory,
relative to this file. `python/install` copies every directory the table
names to its prefix and puts the prefix on sys.path: top-level names (nmp,
pynn_brainscales) are found there as usual; for dotted names (pyNN.nmp) the
finder below answers, and for their parents that no package provides (a
future pyNN.hardware) it answers with an empty namespace package.

Adding a front end is one row here (e.g. "pyNN.spiNNaker": "pyNN/spiNNaker",
"pyNN.hardware.spikey": "oldpynn/spikey", "pyhmf": "oldpynn/pyhmf").

A .pth file in site-packages imports this module at start-up; it imports
nothing else (not even pyNN, nor importlib.util, which alone would take
milliseconds), so start-up stays fast.
"""

import importlib.machinery
import os
import sys

MODULES = {
    "nmp": "nmp",
    "pynn_brainscales": "pynn_brainscales",
    "pyNN.nmp": "pyNN/nmp",
    # BrainScaleS-1's PyNN 0.7 front end and the modules its scripts import.
    "pyhmf": "oldpynn/pyhmf",
    "pymarocco": "oldpynn/pymarocco",
    "pysthal": "oldpynn/pysthal",
    "pyhalbe": "oldpynn/pyhalbe",
    "pylogging": "oldpynn/pylogging",
    "Coordinate": "oldpynn/Coordinate",
    # The {system} names of the BrainScaleS and BrainScaleS-ESS rows: pyhmf.
    "pyNN.hardware.hbp_pm": "oldpynn/hbp_pm",
    "pyNN.hardware.brainscales": "oldpynn/hbp_pm",
    # Spikey's PyNN 0.6 front end, under both of its names.
    "pyNN.hardware.spikey": "oldpynn/spikey",
    "pyNN.hardware.stage1": "oldpynn/spikey",
    # BrainScaleS-2's calibration library and the connection its scripts open.
    "calix": "calix",
    "dlens_vx_v3": "dlens_vx_v3",
    "pyNN.spiNNaker": "pyNN/spiNNaker",
    # sPyNNaker's own package, for the utilities its scripts import.
    "spynnaker": "spynnaker",
    # The test base sPyNNaker's integration tests and PyNNExamples import.
    "spinnaker_testbase": "spinnaker_testbase",
}


class _Finder(object):
    def __init__(self, base, modules):
        # Dotted names, and top-level names living elsewhere than their
        # name (pyhmf in oldpynn/pyhmf); other top-level packages are found
        # on sys.path.
        self.dirs = {name: os.path.join(base, rel) for name, rel in modules.items() if "." in name or rel != name}
        self.parents = set()
        for name in self.dirs:
            parts = name.split(".")
            for k in range(2, len(parts)):
                self.parents.add(".".join(parts[:k]))

    def find_spec(self, fullname, path=None, target=None):
        directory = self.dirs.get(fullname)
        if directory is not None:
            init = os.path.join(directory, "__init__.py")
            if not os.path.isfile(init):
                return None
            loader = importlib.machinery.SourceFileLoader(fullname, init)
            spec = importlib.machinery.ModuleSpec(fullname, loader, origin=init, is_package=True)
            spec.submodule_search_locations = [directory]
            spec.has_location = True
            return spec
        if fullname in self.parents and path is not None:
            # A parent that exists on its own (e.g. in Debian's pyNN) wins.
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                if finder.find_spec(fullname, path, target) is not None:
                    return None
            spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = []
            return spec
        return None


def install(directory=None, modules=None):
    """Register the finder for the table's modules under `directory`
    (default: next to this file), replacing any earlier registration.
    `modules` replaces the table (tests)."""
    if directory is None:
        directory = os.path.dirname(os.path.abspath(__file__))
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)
                        and type(f).__name__ != "_Finder"]
    sys.meta_path.insert(0, _Finder(directory, MODULES if modules is None else modules))


install()
