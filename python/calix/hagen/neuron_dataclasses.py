"""calix.hagen.neuron_dataclasses: the neuron result's home in calix."""
from calix.spiking.neuron import NeuronCalibResult  # noqa: F401
