"""Tests of nmp's Python front end; python/test runs them with PYTHONPATH=python."""

import _nmp_pynn_finder

_nmp_pynn_finder.install()
