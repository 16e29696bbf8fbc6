"""hxcomm's managed connection, to nmp's virtual chips."""

from calix.connection import ManagedConnection, Connection as ConnectionHandle  # noqa: F401
