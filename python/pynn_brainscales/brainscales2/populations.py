"""Population, PopulationView and Assembly on the emulated chip: pyNN.nmp's,
with recording devices (record(..., device="madc"|"cadc")), HXNeuron's
hardware ranges checked at once, and an initial configuration (a
calibration) that gives the circuits every parameter the script does not
set."""

import numpy as np
from pyNN import common

from pyNN.nmp import populations as _nmp

from . import simulator
from .recording import Recorder
from .simulator import state
from .standardmodels import cells


class Assembly(_nmp.Assembly):
    _simulator = simulator


def _record(self, variables, to_file=None, sampling_interval=None, locations=None, device="madc"):
    if sampling_interval is not None:
        raise NotImplementedError("Sampling interval not implemented.")
    if variables is None:
        self.recorder.reset()
    else:
        cells_ = self.all_cells if self._record_filter is None else self._record_filter
        self.recorder.record(variables, cells_, None, device=device)
    if isinstance(to_file, str):
        self.recorder.file = to_file
        self._simulator.state.write_on_end.append((self, variables, self.recorder.file))


def _calib_attr(population, what):
    celltype = population.celltype
    if not getattr(celltype, "calibrated", False):
        raise AttributeError("%s not available for celltype %s (only for CalibHXNeuronCuba and "
                             "CalibHXNeuronCoba)" % (what, type(celltype).__name__))
    return getattr(celltype, what)


class PopulationView(_nmp.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _in_root(self):
        return [int(i) for i in self.index_in_grandparent(np.arange(self.size))]

    @property
    def calib_target(self):
        """The calibration's targets of this view's neurons (after run() or
        run(None, RunCommand.PREPARE); AttributeError before)."""
        target = _calib_attr(self.grandparent, "calib_target")
        idx = self._in_root()
        return {k: np.asarray(v)[..., idx] for k, v in target.items()}

    @property
    def calib_hwparams(self):
        """The calibrated circuit configuration of this view's neurons, one
        AtomicNeuron each."""
        hw = _calib_attr(self.grandparent, "calib_hwparams")
        return tuple(hw[i] for i in self._in_root())

    @property
    def actual_hwparams(self):
        """The configuration this view's neurons run with, one AtomicNeuron
        each, shared with the population: a change is applied at the next
        run()."""
        hw = _calib_attr(self.grandparent, "actual_hwparams")
        return tuple(hw[i] for i in self._in_root())

    def record(self, variables, to_file=None, sampling_interval=None, locations=None, *, device="madc"):
        """Record `variables` of this view's neurons: "spikes", and one of
        "v", "exc_synin", "inh_synin", "adaptation" per neuron through the
        device "madc" (default) or "cadc"."""
        _record(self, variables, to_file, sampling_interval, locations, device)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(_nmp.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        if isinstance(self.celltype, cells.HXNeuron):
            for name, value in self.celltype._user_provided_parameters.items():
                cells.check_range(name, np.asarray(getattr(value, "base_value", value), dtype=float)
                                  if not callable(value) else 0)
        _nmp.Population._create_cells(self)
        self._user_set = set(getattr(self.celltype, "_user_provided_parameters", {}))

    def record(self, variables, to_file=None, sampling_interval=None, locations=None, *, device="madc"):
        """Record `variables`: "spikes", and one of "v", "exc_synin",
        "inh_synin", "adaptation" per neuron through the device "madc"
        (default; at most one even and one odd circuit per run) or "cadc"."""
        _record(self, variables, to_file, sampling_interval, locations, device)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    @property
    def calib_target(self):
        """CalibHXNeuron populations: the calibration's targets (after run()
        or run(None, RunCommand.PREPARE); AttributeError before)."""
        return _calib_attr(self, "calib_target")

    @property
    def calib_hwparams(self):
        """CalibHXNeuron populations: the calibrated circuit configuration,
        one AtomicNeuron per neuron."""
        return _calib_attr(self, "calib_hwparams")

    @property
    def actual_hwparams(self):
        """CalibHXNeuron populations: the configuration the neurons run
        with, one AtomicNeuron per neuron; a change is applied at the next
        run()."""
        return _calib_attr(self, "actual_hwparams")

    def _assign_parameters(self, values, idx):
        if getattr(self.celltype, "calibrated", False):
            # Calibration targets: the next build calibrates for them.
            for name, v in values.items():
                if name not in self._parameters:
                    from pyNN import errors
                    raise errors.NonExistentParameterError(name, type(self.celltype).__name__,
                                                           self.celltype.get_parameter_names())
                cells.check_calib_range(type(self.celltype).__name__, name, v)
                if idx is None:
                    self._parameters[name] = np.array(v, dtype=float, copy=True)
                else:
                    self._parameters[name] = np.array(np.broadcast_to(self._parameters[name], (self.size,)), dtype=float)
                    self._parameters[name][idx] = v
            state.structure_changed()
            return
        if isinstance(self.celltype, cells.HXNeuron):
            for name, v in values.items():
                if name in cells.RANGES:
                    cells.check_range(name, v)
            self._user_set |= set(values)
        _nmp.Population._assign_parameters(self, values, idx)

    def _configured(self):
        hx = isinstance(self.celltype, cells.HXNeuron) or getattr(self.celltype, "calibrated", False)
        return hx and "initial_config" in state.options

    def _get_parameters(self, *names):
        from_config = [n for n in names if n not in self._user_set] \
            if self._configured() and isinstance(self.celltype, cells.HXNeuron) else []
        if from_config:
            # The circuits' configuration decides these; it is applied when
            # the network is mapped.
            if not (state.built and not state.dirty):
                raise RuntimeError(
                    "Initial config not yet applied. Parameters are not yet set (and will be "
                    "overwritten during mapping). Perform `pynn.run(None, command=pynn.RunCommand.PREPARE)` "
                    "to apply the initial config or run an experiment.")
            self._parameters.update(state.population_state(self._index, from_config))
            self._user_set |= set(from_config)
        return _nmp.Population._get_parameters(self, *names)

    def _describe(self, desc):
        if self._configured():
            # The calibration gives the circuits what the script leaves open.
            params = {name: _nmp.encode_parameter(v) for name, v in self._parameters.items()
                      if name in self._user_set and isinstance(self.celltype, cells.HXNeuron)}
            return desc.add_population(self.size, self.celltype.nmp_name, params, {}, label=self.label)
        return _nmp.Population._describe(self, desc)
