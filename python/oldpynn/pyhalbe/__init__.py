"""halbe's names the seed's scripts use: HICANN (shared floating-gate
parameters, SynapseWeight) and Coordinate (halco's, see Coordinate)."""

from . import HICANN, Coordinate  # noqa: F401


class Debug(object):
    """halbe's log level switch; nmp's modules log through pylogging."""

    @staticmethod
    def change_loglevel(level):
        import logging
        import numbers
        if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not 0 <= level <= 4:
            raise ValueError("pyhalbe.Debug.change_loglevel(%r): a level 0 (errors) .. 4 (everything)" % (level,))
        logging.getLogger("pylogging.halbe").setLevel([logging.ERROR, logging.WARNING, logging.INFO,
                                                        logging.DEBUG, logging.NOTSET][level])
