"""pysthal.command_line_util: the scripts' logger set-up."""

import pylogging


def init_logger(default_level="WARN", levels=()):
    """Log at default_level, and at the given level for each (domain, level)."""
    pylogging.default_config(pylogging.level_of(default_level))
    for domain, level in levels:
        pylogging.set_loglevel(pylogging.get(domain), pylogging.level_of(level))
