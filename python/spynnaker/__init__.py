"""The parts of sPyNNaker's own package that its users' scripts import
beside pyNN.spiNNaker (nmp's emulated SpiNNaker, docs/spinnaker.md):
spynnaker.pyNN.utilities.neo_convertor."""
