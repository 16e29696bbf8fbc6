"""The parts of the real stack's dlens_vx_v3 that PyNN and calix scripts
use: `hxcomm` (a connection to a chip: on nmp a virtual chip,
calix.connection), `halco` (coordinates), `lola` (the neuron circuits'
configuration, for initial_config), `logger`, `sta` (playback programs: not emulated,
building one raises NotImplementedError)."""

from . import hxcomm, halco, sta  # noqa: F401


def __getattr__(name):
    # lola builds on pynn_brainscales (and so on PyNN): imported when asked
    # for, so that calix scripts that only connect stay quick to start.
    if name in ("lola", "logger"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError("module 'dlens_vx_v3' has no attribute %r" % name)
