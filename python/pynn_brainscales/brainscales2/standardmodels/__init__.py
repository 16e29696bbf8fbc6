"""The cell and synapse types of pynn_brainscales.brainscales2."""

from . import cells, synapses  # noqa: F401
