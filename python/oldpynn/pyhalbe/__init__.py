"""halbe's names the seed's scripts use: HICANN (shared floating-gate
parameters, SynapseWeight) and Coordinate (halco's, see Coordinate)."""

from . import HICANN, Coordinate  # noqa: F401
