"""Makes nmp's PyNN backend importable as ``pyNN.nmp`` without touching the
pyNN package Debian installs: a meta-path finder that answers for the one
module name "pyNN.nmp" with the directory pyNN/nmp next to this file.

`python/install` puts a .pth file in site-packages that imports this module
at start-up; it imports nothing else (not even pyNN), so start-up stays fast.
"""

import importlib.util
import os
import sys

NAME = "pyNN.nmp"


class _Finder(object):
    def __init__(self, directory):
        self.directory = directory

    def find_spec(self, fullname, path=None, target=None):
        if fullname != NAME:
            return None
        init = os.path.join(self.directory, "__init__.py")
        if not os.path.isfile(init):
            return None
        return importlib.util.spec_from_file_location(
            fullname, init, submodule_search_locations=[self.directory])


def install(directory=None):
    """Register the finder for pyNN/nmp under `directory` (default: next to
    this file), replacing any earlier registration."""
    if directory is None:
        directory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyNN", "nmp")
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)
                        and type(f).__name__ != "_Finder"]
    sys.meta_path.insert(0, _Finder(directory))


install()
