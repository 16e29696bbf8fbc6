"""nmp's Python client: the parts of a front end that talk to the Go side.

- :mod:`nmp.simclient`: a handle on one `nmp simserver` process (docs/simserver.md)
- :mod:`nmp.description`: building network descriptions and action values
  (docs/network-description.md)
- :mod:`nmp.data`: recorded data pulled from the engine (docs/results.md)
- :mod:`nmp.neoconv`: that data as neo spike trains and analog signals

The PyNN backend built on these is ``pyNN.nmp``; a hardware front end can
reuse them, and pyNN.nmp's classes, directly. Importing the package itself
imports nothing heavy.
"""
