"""pymarocco_runtime: marocco's Runtime under the module name newer marocco
scripts import; see pymarocco.runtime."""
from pymarocco.runtime import Runtime  # noqa: F401
