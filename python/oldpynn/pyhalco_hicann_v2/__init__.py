"""pyhalco_hicann_v2: halco's BrainScaleS-1 coordinates under the name newer
marocco scripts and tests import them by; the same objects as the
Coordinate module's (see Coordinate for what is modelled)."""
from Coordinate import *  # noqa: F401,F403
from Coordinate import iter_all, left, right, top, bottom  # noqa: F401
