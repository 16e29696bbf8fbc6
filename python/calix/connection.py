"""Connections to a (virtual) chip, as the demos open them:

    from dlens_vx_v3 import hxcomm
    with hxcomm.ManagedConnection() as connection:
        cadc_result = calix.common.cadc.calibrate(connection)

A connection is stateful, as calix's StatefulConnection: it remembers what
was calibrated and applied on it, since every calibration step needs the
CADC calibrated and the neuron steps after the first need the neurons'
configuration."""

import os

#: The environment variable naming the chip (as pynn_brainscales reads it).
CHIP_ENV = "NMP_BSS2_CHIP"
DEFAULT_CHIP = "nmp-virtual-hx-0"


class Connection(object):
    """A connection to one virtual chip."""

    def __init__(self, chip=None, seed=1):
        self.chip = str(chip or os.environ.get(CHIP_ENV) or DEFAULT_CHIP)
        self.seed = int(seed)
        #: The CADC calibration applied (a CADCCalibResult), or None.
        self.cadc_result = None
        #: The neuron calibration applied (a NeuronCalibResult), or None.
        self.neuron_result = None
        self.closed = False

    def get_unique_identifier(self):
        """The chip's identity (hxcomm's name for it)."""
        return self.chip

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _check(self):
        if self.closed:
            raise RuntimeError("the connection to chip %s is closed" % self.chip)


def ManagedConnection(chip=None, seed=1):
    """A connection to the chip $NMP_BSS2_CHIP names (or the default
    virtual chip), as a context manager."""
    return Connection(chip, seed)
