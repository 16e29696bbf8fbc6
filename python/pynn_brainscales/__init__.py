"""pynn_brainscales: the BrainScaleS-2 front end of nmp.

`import pynn_brainscales.brainscales2 as pynn` gives the PyNN API of the real
system's pynn-brainscales, running on nmp's emulated chip (the Go system
`brainscales2`, docs/brainscales2.md) instead of the hardware.
"""

# PyNN's modules under this package's name, as pynn-brainscales offers them
# (`from pynn_brainscales import errors, parameters`).
from pyNN import common, random, recording, errors, space, descriptions, standardmodels, \
    parameters, core, serialization  # noqa: E402,F401
