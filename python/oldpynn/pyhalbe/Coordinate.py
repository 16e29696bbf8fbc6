"""pyhalbe.Coordinate: the same coordinates as the top-level Coordinate module."""
from Coordinate import *  # noqa: F401,F403
from Coordinate import iter_all, left, right, top, bottom  # noqa: F401
