"""PyNN's current sources for nmp.

The engine injects the current of each source (docs/models.md: the value in
a step is the source's value at the step's start; start inclusive, stop
exclusive). A recorded source reports, at every grid point of the current
segment, the value it had there, computed here from its parameters with the
engine's conventions; python/tests hold the two against each other through
the membrane potential of a neuron.

A recorded NoisyCurrentSource has its noise drawn here instead of in the
engine, so that what is recorded is exactly what was injected: it is sent to
the engine as one StepCurrentSource per target, extended before every run.
"""

import numpy as np
from pyNN import errors
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import StandardCurrentSource, electrodes
from pyNN.random import NumpyRNG

from nmp.data import grid_times

from . import simulator


class NmpCurrentSource(StandardCurrentSource):
    """Base class of nmp's current sources."""

    translations = {}
    _simulator = simulator

    def __init__(self, **parameters):
        StandardCurrentSource.__init__(self, **parameters)
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_parts", [])        # [(population index, local indices)]
        object.__setattr__(self, "_index", None)      # first description index
        object.__setattr__(self, "_recorded", False)
        object.__setattr__(self, "_history", [])      # [(from step, params)]
        ps = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        ps.update(**parameters)
        self.set_native_parameters(self.translate(ps))

    # -- parameters ----------------------------------------------------------

    def _check(self, params):
        pass

    def set_native_parameters(self, parameters):
        state = self._simulator.state
        parameters.evaluate(simplify=True)
        new = dict(self._params)
        for name, value in parameters.items():
            if isinstance(value, Sequence):
                value = np.array(value.value, dtype=float)
            elif isinstance(value, np.ndarray) and value.dtype == object:
                value = np.array(value[0].value, dtype=float)
            elif isinstance(value, np.ndarray):
                value = float(value.ravel()[0])
            else:
                value = float(value)
            new[name] = value
        self._check(new)
        object.__setattr__(self, "_params", new)
        step = state.step if state.built else 0
        hist = [h for h in self._history if h[0] < step]
        hist.append((step, dict(new)))
        object.__setattr__(self, "_history", hist)
        if self._index is not None:
            state.current_source_changed(self)

    def get_native_parameters(self):
        ps = ParameterSpace({k: (Sequence(v) if isinstance(v, np.ndarray) else v)
                             for k, v in self._params.items()}, self.get_schema(), shape=(1,))
        return ps

    def get_parameters(self):
        """The source's parameters: numbers, and arrays for times and amplitudes."""
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._params.items()}

    # -- targets -------------------------------------------------------------

    def inject_into(self, cells):
        """Inject the current of this source into `cells`: a Population,
        PopulationView, Assembly or a list of IDs."""
        state = self._simulator.state
        from .populations import selection_of
        parts = selection_of(cells)
        for pop, indices in parts:
            celltype = state.populations[pop].celltype
            if not celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
        merged = {}
        for pop, indices in self._parts + parts:
            size = state.populations[pop].size
            idx = np.arange(size) if indices is None else np.asarray(indices)
            merged.setdefault(pop, []).append(idx)
        new_parts = []
        for pop in sorted(merged):
            idx = np.unique(np.concatenate(merged[pop]))
            size = state.populations[pop].size
            new_parts.append((pop, None if len(idx) == size else idx))
        object.__setattr__(self, "_parts", new_parts)
        state.register_current_source(self)

    @property
    def targets(self):
        """The number of neurons this source feeds."""
        state = self._simulator.state
        n = 0
        for pop, idx in self._parts:
            n += state.populations[pop].size if idx is None else len(idx)
        return n

    def _describe(self, desc):
        """Add this source to a nmp.description.Description."""
        object.__setattr__(self, "_index", len(desc.current_sources))
        desc.add_current_source(self.nmp_name, self._params, self._parts)

    def _server_parameters(self):
        """[(description index, parameters)] to send after a change."""
        return [(self._index, self._params)]

    def _before_run(self, t_end):
        """Called before every run of the engine up to t_end (ms)."""

    # -- recording -----------------------------------------------------------

    def record(self):
        """Record the current injected by this source."""
        if not self._recorded:
            object.__setattr__(self, "_recorded", True)
            self._recording_changed()

    def _recording_changed(self):
        pass

    def _reset(self):
        """Back to t = 0: the parameters now in force hold from the start."""
        object.__setattr__(self, "_history", [(0, dict(self._params))])

    def _values(self, params, t, dt):
        """The current at grid times t (ms) under params, one value per time."""
        raise NotImplementedError

    def _get_data(self):
        state = self._simulator.state
        if not self._recorded:
            raise errors.RecordingError("current", self.__class__.__name__ + " (call record() first)")
        dt = state.dt
        n = state.step
        steps = np.arange(n + 1)
        t = grid_times(steps * dt, dt)
        i = np.zeros((n + 1, max(self.targets, 1)))
        hist = sorted(self._history, key=lambda h: h[0])
        for k, (start, params) in enumerate(hist):
            stop = hist[k + 1][0] if k + 1 < len(hist) else n + 1
            if stop <= start:
                continue
            sel = slice(start, stop)
            i[sel] = self._target_values(params, t[sel], dt)
        if i.shape[1] == 1:
            i = i[:, 0]
        return t, i

    def _target_values(self, params, t, dt):
        return self._values(params, t, dt)[:, None]


def _window(params, t, dt):
    return (t >= params["start"] - dt / 2) & (t < params["stop"] - dt / 2)


class DCSource(NmpCurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    nmp_name = "DCSource"
    translations = {k: {"translated_name": k, "forward_transform": k, "reverse_transform": k}
                    for k in electrodes.DCSource.default_parameters}

    def _values(self, params, t, dt):
        return np.where(_window(params, t, dt), params["amplitude"], 0.0)


class ACSource(NmpCurrentSource, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    nmp_name = "ACSource"
    translations = {k: {"translated_name": k, "forward_transform": k, "reverse_transform": k}
                    for k in electrodes.ACSource.default_parameters}

    def _values(self, params, t, dt):
        wave = params["offset"] + params["amplitude"] * np.sin(
            2 * np.pi * params["frequency"] * (t - params["start"]) / 1000.0
            + params["phase"] * np.pi / 180.0)
        return np.where(_window(params, t, dt), wave, 0.0)


class StepCurrentSource(NmpCurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    nmp_name = "StepCurrentSource"
    translations = {k: {"translated_name": k, "forward_transform": k, "reverse_transform": k}
                    for k in electrodes.StepCurrentSource.default_parameters}

    def _check(self, params):
        state = self._simulator.state
        times = np.asarray(params.get("times", []), dtype=float)
        amps = np.asarray(params.get("amplitudes", []), dtype=float)
        if times.shape != amps.shape:
            raise errors.InvalidParameterValueError(
                "StepCurrentSource: %d times but %d amplitudes" % (times.size, amps.size))
        if times.size == 0:
            return
        if np.any(times < 0):
            raise ValueError("StepCurrentSource: times must not be negative, got %s" % times)
        if np.any(np.diff(times) <= 0):
            raise ValueError("StepCurrentSource: times must increase strictly, got %s" % times)
        # The engine changes the current on the grid: round the times to it
        # and keep, of the times that fall on one grid point, the last.
        rounded = grid_times(times, state.dt)
        keep = np.append(rounded[1:] != rounded[:-1], True)
        params["times"] = rounded[keep]
        params["amplitudes"] = amps[keep]

    def _values(self, params, t, dt):
        times = params["times"]
        if times.size == 0:
            return np.zeros_like(t)
        k = np.searchsorted(times, t + dt / 2, side="right")
        amps = np.concatenate([[0.0], params["amplitudes"]])
        return amps[k]


class NoisyCurrentSource(NmpCurrentSource, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    nmp_name = "NoisyCurrentSource"
    translations = {k: {"translated_name": k, "forward_transform": k, "reverse_transform": k}
                    for k in electrodes.NoisyCurrentSource.default_parameters}

    def __init__(self, **parameters):
        object.__setattr__(self, "_noise", None)
        NmpCurrentSource.__init__(self, **parameters)

    def _check(self, params):
        state = self._simulator.state
        dt = state.dt
        ratio = params["dt"] / dt
        if abs(ratio - round(ratio)) > 1e-9 * max(ratio, 1) or round(ratio) < 1:
            raise errors.InvalidParameterValueError(
                "NoisyCurrentSource: dt (%g ms) must be a multiple of the timestep (%g ms)"
                % (params["dt"], dt))

    # While recorded, the noise is drawn here: per target, the values of the
    # noise intervals since start, drawn in order from one stream.
    def _recording_changed(self):
        state = self._simulator.state
        state.structure_changed()

    def _noise_state(self):
        state = self._simulator.state
        if self._noise is None:
            serial = state.current_sources.index(self) if self in state.current_sources else 0
            seed = (int(state.seed) * 1000003 + 7919 * (serial + 1)) % (2 ** 32)
            object.__setattr__(self, "_noise", {"rng": NumpyRNG(seed=seed), "values": None})
        return self._noise

    def _intervals(self, params, t_end):
        """Number of noise intervals that start before t_end."""
        span = min(t_end, params["stop"]) - params["start"]
        if span <= 0:
            return 0
        return int(np.ceil(span / params["dt"] - 1e-9))

    def _draw(self, params, count):
        """The values of the first `count` noise intervals, one column per
        target; values already drawn (and injected) are kept."""
        ns = self._noise_state()
        n = max(self.targets, 1)
        values = ns["values"]
        have = 0 if values is None else values.shape[0]
        if count > have:
            z = ns["rng"].next(n=(count - have) * n, distribution="normal",
                               parameters={"mu": 0.0, "sigma": 1.0})
            extra = params["mean"] + params["stdev"] * np.asarray(z).reshape(count - have, n)
            values = extra if values is None else np.vstack([values, extra])
            ns["values"] = values
        if values is None:
            return np.zeros((0, n))
        return values[:count]

    def _step_parameters(self, params, t_end):
        """Per target, the times and amplitudes of the equivalent step source."""
        count = self._intervals(params, t_end)
        values = self._draw(params, count)
        times = params["start"] + params["dt"] * np.arange(count)
        out = []
        for j in range(max(self.targets, 1)):
            tj, aj = times, values[:, j]
            if count and params["stop"] < 1e11:
                tj = np.append(tj, params["stop"])
                aj = np.append(aj, 0.0)
            out.append({"times": tj, "amplitudes": aj})
        return out

    def _describe(self, desc):
        state = self._simulator.state
        if not self._recorded:
            NmpCurrentSource._describe(self, desc)
            return
        object.__setattr__(self, "_index", len(desc.current_sources))
        object.__setattr__(self, "_horizon", state.t)
        for j, sp in enumerate(self._step_parameters(self._params, state.t)):
            idx = self._target_part(j)
            desc.add_current_source("StepCurrentSource", sp, [idx])

    def _target_part(self, j):
        state = self._simulator.state
        k = j
        for pop, idx in self._parts:
            size = state.populations[pop].size if idx is None else len(idx)
            if k < size:
                return (pop, np.array([k if idx is None else idx[k]]))
            k -= size
        raise IndexError(j)

    def _server_parameters(self):
        if not self._recorded:
            return NmpCurrentSource._server_parameters(self)
        return [(self._index + j, sp) for j, sp in
                enumerate(self._step_parameters(self._params, getattr(self, "_horizon", 0.0)))]

    def _before_run(self, t_end):
        state = self._simulator.state
        if not self._recorded or self._index is None:
            return
        if t_end <= getattr(self, "_horizon", 0.0):
            return
        object.__setattr__(self, "_horizon", t_end)
        for j, sp in enumerate(self._step_parameters(self._params, t_end)):
            state.set_current_source(self._index + j, sp)

    def _reset(self):
        NmpCurrentSource._reset(self)
        object.__setattr__(self, "_horizon", 0.0)
        if self._noise is not None:
            self._noise["values"] = None

    def _values(self, params, t, dt):
        raise NotImplementedError

    def _target_values(self, params, t, dt):
        if not self._recorded:
            raise errors.RecordingError("current", "NoisyCurrentSource")
        out = np.zeros((len(t), max(self.targets, 1)))
        inside = _window(params, t, dt)
        k = np.floor((t - params["start"] + dt / 2) / params["dt"]).astype(int)
        count = int(k[inside].max()) + 1 if inside.any() else 0
        values = self._draw(params, count)
        out[inside] = values[k[inside]]
        return out


__all__ = ["DCSource", "ACSource", "StepCurrentSource", "NoisyCurrentSource"]
