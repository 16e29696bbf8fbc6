"""pylogging's API (log4cxx's Python face in the BrainScaleS-1 stack) on
Python's logging: loggers by domain, levels, a default configuration to the
terminal or a file."""

import logging
import sys


class LogLevel(object):
    ALL = logging.NOTSET
    TRACE = 5
    DEBUG = logging.DEBUG
    INFO = logging.INFO
    WARN = logging.WARNING
    ERROR = logging.ERROR
    FATAL = logging.CRITICAL
    OFF = logging.CRITICAL + 10


logging.addLevelName(LogLevel.TRACE, "TRACE")
_ROOT = "pylogging"


def _name(domain):
    return _ROOT if not domain else _ROOT + "." + domain


def get(domain):
    """The logger of a domain ("" is the root)."""
    return logging.getLogger(_name(domain))


def get_root():
    return get("")


def set_loglevel(logger, level):
    logger.setLevel(level)


def level_of(name):
    """A level from its name ("WARN", "DEBUG", ...)."""
    try:
        return getattr(LogLevel, str(name).upper())
    except AttributeError:
        raise ValueError("unknown log level %r (ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF)" % (name,))


def reset():
    """Remove every handler and level set so far."""
    root = get_root()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(LogLevel.WARN)


def default_config(level=LogLevel.WARN, fname="", print_location=False, color=False, dual=False):
    """Log at `level` and above to stderr, or to the file `fname` (and to
    stderr as well with dual=True)."""
    reset()
    root = get_root()
    root.setLevel(level)
    root.propagate = False
    fmt = logging.Formatter("%(levelname)s %(name)s %(message)s")
    handlers = []
    if fname:
        handlers.append(logging.FileHandler(fname, mode="w"))
        if dual:
            handlers.append(logging.StreamHandler(sys.stderr))
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)


if not get_root().handlers:
    default_config()
