"""pyhalco_common: halco's common coordinate parts under the name newer
marocco scripts and tests import them by (X, Y, Enum, the sides, iter_all);
the same objects as the Coordinate module's."""
from Coordinate import X, Y, Enum, top, bottom, left, right, SideHorizontal, SideVertical, iter_all  # noqa: F401
