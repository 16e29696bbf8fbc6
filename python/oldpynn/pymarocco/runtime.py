"""pymarocco.runtime: a wafer's configuration and mapping results that
persist between runs, so that low-level changes apply without remapping."""

import Coordinate as C


class Runtime(object):
    def __init__(self, wafer=None):
        import pysthal
        from .results import Marocco
        self._wafer_id = C.Wafer(33 if wafer is None else wafer)
        self._wafer = pysthal.Wafer(self._wafer_id)
        self._results = Marocco(owner=self)
        self._spike_times = {}

    def wafer(self):
        return self._wafer

    def results(self):
        return self._results

    def _spike_times_changed(self, key, times):
        self._spike_times[key] = times

    def _mapped(self, info):
        """Take a new mapping's results (the translation's configuration
        replaces the user's low-level changes, as marocco's does)."""
        from .results import Marocco
        st = self._results.spike_times
        self._results = Marocco(info, owner=self)
        self._results.spike_times = st
        self._wafer.clear()
        self._wafer._allocated = [C.HICANNOnWafer(C.Enum(h)) for h in info.get("hicanns", [])]
        mapped = {}
        for p in info.get("projections", []):
            hw = p.get("hardware_synapses") or []
            for j in range(0, len(hw), 5):
                mapped[(hw[j + 1], hw[j + 2], hw[j + 3])] = hw[j + 4]
        self._wafer._mapped = mapped
