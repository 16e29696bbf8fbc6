"""nmp's Python client: the parts of a front end that talk to the Go side.

- :mod:`nmp.engine`: a handle on one `nmp engine` process (docs/session.md)
- :mod:`nmp.description`: building network descriptions and action values
  (docs/network-description.md)
- :mod:`nmp.data`: recorded data pulled from the engine (docs/results.md)

The PyNN backend built on these is ``pyNN.nmp``. This package imports
nothing heavy, so that it can be loaded at interpreter start-up.
"""
