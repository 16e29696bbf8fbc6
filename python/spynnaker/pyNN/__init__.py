"""sPyNNaker's pyNN subpackage: only its utilities are provided here;
scripts import the PyNN API itself as pyNN.spiNNaker."""
