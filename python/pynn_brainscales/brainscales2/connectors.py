"""PyNN's connectors; on the chip every one of them is expanded by the front
end and its connections placed onto synapses."""

from pyNN.connectors import (AllToAllConnector, OneToOneConnector, FixedProbabilityConnector,  # noqa: F401
                             DistanceDependentProbabilityConnector,
                             DisplacementDependentProbabilityConnector, IndexBasedProbabilityConnector,
                             FromListConnector, FromFileConnector, FixedNumberPreConnector,
                             FixedNumberPostConnector, SmallWorldConnector, CSAConnector, CloneConnector,
                             ArrayConnector, FixedTotalNumberConnector)
