"""nmp's Python client: everything a front end needs to talk to the Go side,
shared by every front end (PyNN 0.10's pyNN.nmp and pynn_brainscales, and the
older PyNN APIs to come; python/README.md).

- :mod:`nmp.simclient`: a handle on one `nmp simserver` process, with one
  method per request of its protocol (docs/simserver.md)
- :mod:`nmp.message`: the protocol's messages (.npz archives)
- :mod:`nmp.description`: building network descriptions and action values
  (docs/network-description.md)
- :mod:`nmp.data`: recorded data pulled from the server (docs/results.md)
- :mod:`nmp.neoconv`: that data as neo spike trains and analog signals

A front end holds no protocol code of its own. Importing the package itself
imports nothing heavy.
"""
