"""pymarocco_coordinates: marocco's coordinates (LogicalNeuron) under the
module name newer marocco scripts import; see pymarocco.coordinates."""
from pymarocco.coordinates import *  # noqa: F401,F403
