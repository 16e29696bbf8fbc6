"""The part of the real stack's dlens_vx_v3 that calix scripts use to reach
a chip: `from dlens_vx_v3 import hxcomm; with hxcomm.ManagedConnection() as
connection: ...` (on nmp: a connection to a virtual chip, calix.connection)."""

from . import hxcomm  # noqa: F401
