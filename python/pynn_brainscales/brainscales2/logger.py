"""The logging module pynn-brainscales scripts call (`pynn.logger`), after
the interface of the real stack's pylogging, on Python's logging:

    pynn.logger.default_config(level=pynn.logger.LogLevel.INFO)
    log = pynn.logger.get("single_neuron_demo")
    log.INFO("message")
"""

import enum
import logging
import sys

__all__ = ["LogLevel", "default_config", "get", "set_loglevel", "reset", "append_to_cout",
           "append_to_file", "Logger"]


class LogLevel(enum.IntEnum):
    """pylogging's levels, mapped onto Python's."""
    ALL = 1
    TRACE = 5
    DEBUG = logging.DEBUG
    INFO = logging.INFO
    WARN = logging.WARNING
    ERROR = logging.ERROR
    FATAL = logging.CRITICAL
    OFF = logging.CRITICAL + 10


logging.addLevelName(LogLevel.TRACE, "TRACE")

_ROOT = "pynn_brainscales"
_FORMAT = "%(levelname)-5s %(name)s %(message)s"


def _level(level):
    return int(level.value if isinstance(level, LogLevel) else level)


def reset():
    """Remove every handler this module configured."""
    root = logging.getLogger(_ROOT)
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.NOTSET)


def default_config(level=LogLevel.WARN, fname="", print_location=False, color=None,
                   date_format="NULL"):
    """Log at `level` and above to standard error (and to `fname` if given)."""
    reset()
    root = logging.getLogger(_ROOT)
    root.setLevel(_level(level))
    root.propagate = False
    fmt = _FORMAT
    if print_location:
        fmt += " (%(pathname)s:%(lineno)d)"
    if date_format not in (None, "NULL"):
        fmt = "%(asctime)s " + fmt
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
    if fname:
        append_to_file(fname)


def append_to_cout(logger=None):
    target = logging.getLogger(_ROOT) if logger is None else logger._log
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(_FORMAT))
    target.addHandler(handler)


def append_to_file(fname, logger=None):
    target = logging.getLogger(_ROOT) if logger is None else logger._log
    handler = logging.FileHandler(fname)
    handler.setFormatter(logging.Formatter(_FORMAT))
    target.addHandler(handler)


class Logger(object):
    """A named logger with pylogging's methods (INFO, WARN, ...)."""

    def __init__(self, name):
        self._log = logging.getLogger(_ROOT + "." + name) if name else logging.getLogger(_ROOT)
        self.name = name

    def _emit(self, level, *parts):
        if self._log.isEnabledFor(level):
            self._log.log(level, "".join(str(p) for p in parts))

    def TRACE(self, *parts):
        self._emit(LogLevel.TRACE, *parts)

    def DEBUG(self, *parts):
        self._emit(logging.DEBUG, *parts)

    def INFO(self, *parts):
        self._emit(logging.INFO, *parts)

    def WARN(self, *parts):
        self._emit(logging.WARNING, *parts)

    def ERROR(self, *parts):
        self._emit(logging.ERROR, *parts)

    def FATAL(self, *parts):
        self._emit(logging.CRITICAL, *parts)

    # The same in lower case, as the real logger also offers them
    # (log.info(...) in the demos).
    trace, debug, info, warn, error, fatal = TRACE, DEBUG, INFO, WARN, ERROR, FATAL


def get(name=""):
    """The logger of that name."""
    return Logger(name)


def set_loglevel(logger, level):
    logger._log.setLevel(_level(level))
