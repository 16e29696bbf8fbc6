"""dlens_vx_v3's logger (`logger.get(name)`, `logger.set_loglevel(...)`,
`logger.LogLevel`): the same loggers as pynn_brainscales.brainscales2.logger."""

from pynn_brainscales.brainscales2.logger import *  # noqa: F401,F403
from pynn_brainscales.brainscales2.logger import __all__  # noqa: F401
