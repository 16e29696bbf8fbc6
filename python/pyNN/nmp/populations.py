"""Population, PopulationView and Assembly for nmp.

A population's parameters and initial values live here, evaluated to one
value per neuron (so that `get` answers without a round trip); every change
is also sent to the engine once the network is built there.
"""

import numpy as np
from pyNN import common, errors
from pyNN.parameters import LazyArray, ParameterSpace, Sequence, simplify
from pyNN.standardmodels import StandardCellType

from nmp.description import Ragged, Sequence1

from . import simulator
from .recording import Recorder


def selection_of(cells):
    """The selection (list of (population index, local indices or None)) of
    a Population, PopulationView, Assembly, ID or list of IDs, in its order."""
    if isinstance(cells, common.Assembly):
        parts = []
        for p in cells.populations:
            parts.extend(selection_of(p))
        return parts
    if isinstance(cells, common.PopulationView):
        pop = cells.grandparent
        idx = np.asarray(cells.index_in_grandparent(np.arange(cells.size)), dtype=np.int64)
        if len(idx) == pop.size and np.array_equal(idx, np.arange(pop.size)):
            return [(pop._index, None)]
        return [(pop._index, idx)]
    if isinstance(cells, common.Population):
        return [(cells._index, None)]
    if isinstance(cells, common.IDMixin):
        return [(cells.parent._index, np.array([cells.parent.id_to_index(cells)]))]
    parts = []
    for cell in cells:
        if not isinstance(cell, common.IDMixin):
            raise TypeError("expected a Population, PopulationView, Assembly or IDs, got %r" % (cell,))
        pop = cell.parent._index
        i = cell.parent.id_to_index(cell)
        if parts and parts[-1][0] == pop:
            parts[-1][1].append(i)
        else:
            parts.append((pop, [i]))
    return [(pop, np.asarray(idx, dtype=np.int64)) for pop, idx in parts]


def _is_sequence_parameter(values):
    return isinstance(values, np.ndarray) and values.dtype == object


def off_grid_stamps(times, dt):
    """With spike_precision="off_grid", a spike source's spike at time t is
    emitted at the end of the step that contains it, k = ceil(t/dt) (at
    least 1), and reported at t (recording.Recorder._precise_times)."""
    return np.maximum(1, np.ceil(np.asarray(times, dtype=float) / dt - 1e-9)) * dt


def encode_parameter(values, off_grid_dt=None):
    """The description value of per-neuron parameter values: one number when
    all are equal, else an array; for sequence parameters (spike times) one
    shared sequence or one per neuron. With off_grid_dt (the timestep), the
    sequences are spike times to be stamped off the grid."""
    if _is_sequence_parameter(values):
        seqs = [np.asarray(getattr(s, "value", s), dtype=float) for s in values]
        if off_grid_dt is not None:
            seqs = [off_grid_stamps(s, off_grid_dt) for s in seqs]
        first = seqs[0]
        if all(len(s) == len(first) and np.array_equal(s, first) for s in seqs[1:]):
            return Sequence1(first)
        return Ragged(seqs)
    values = np.asarray(values, dtype=float)
    if values.size and np.all(values == values[0]):
        return float(values[0])
    return values


def _evaluate(parameter_space, size):
    """Evaluate a ParameterSpace of shape (size,) to {name: array}."""
    parameter_space.shape = (size,)
    parameter_space.evaluate(simplify=False)
    out = {}
    for name, value in parameter_space.items():
        if isinstance(value, Sequence):
            arr = np.empty(size, dtype=object)
            for i in range(size):
                arr[i] = value
            value = arr
        elif isinstance(value, np.ndarray) and value.dtype != object:
            value = value.astype(float, copy=False)
            if value.shape != (size,):
                value = np.broadcast_to(value, (size,)).copy()
        elif not isinstance(value, np.ndarray):
            value = np.full(size, float(value))
        out[name] = value
    return out


class Assembly(common.Assembly):
    _simulator = simulator

    @property
    def receptor_types(self):
        """The receptor types common to all populations of the assembly, in
        the order of the first population's cell type. PyNN 0.10 returns a
        set's order here, which follows Python's hash seed; Projection takes
        the first type for positive weights and the second for negative ones,
        so the order decides the receptor ("excitatory" first, as on a
        Population)."""
        common_types = set(self.populations[0].celltype.receptor_types)
        for p in self.populations[1:]:
            common_types &= set(p.celltype.receptor_types)
        return [rt for rt in self.populations[0].celltype.receptor_types if rt in common_types]


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        parent = self.grandparent
        idx = self.index_in_grandparent(np.arange(self.size))
        return ParameterSpace({name: simplify(parent._parameters[name][idx]) for name in names},
                              shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parent = self.grandparent
        idx = np.asarray(self.index_in_grandparent(np.arange(self.size)))
        parent._assign_parameters(_evaluate(parameter_space, self.size), idx)

    def _set_initial_value_array(self, variable, initial_values):
        parent = self.grandparent
        idx = np.asarray(self.index_in_grandparent(np.arange(self.size)))
        parent._assign_initial_values(variable, initial_values, idx)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    @property
    def initial_values(self):
        return _ViewInitialValues(self)


class _ViewInitialValues(object):
    """The initial values of a view's neurons: reads the parent's; writes
    are already done by _set_initial_value_array."""

    def __init__(self, view):
        self._view = view

    def __getitem__(self, variable):
        parent = self._view.grandparent
        idx = self._view.index_in_grandparent(np.arange(self._view.size))
        return LazyArray(parent.initial_values[variable].evaluate(simplify=False)[idx],
                         shape=(self._view.size,))

    def __setitem__(self, variable, value):
        pass

    def __contains__(self, variable):
        return variable in self._view.grandparent.initial_values

    def keys(self):
        return self._view.grandparent.initial_values.keys()


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        state = self._simulator.state
        if not isinstance(self.celltype, StandardCellType) or not hasattr(self.celltype, "nmp_name"):
            raise errors.InvalidModelError(
                "nmp runs PyNN's standard cell types (pyNN.nmp.list_standard_models()); "
                "%s is not one of them" % type(self.celltype).__name__)
        first = state.id_counter
        ID = self._simulator.ID
        self.all_cells = np.array([ID(i) for i in range(first, first + self.size)], dtype=ID)
        self._mask_local = np.ones((self.size,), bool)
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        self._parameters = _evaluate(self.celltype.native_parameters, self.size)
        if "spike_times" in self._parameters:
            self.celltype.check_spike_times(self._parameters["spike_times"])
        self._initial = {}
        self._index = state.register_population(self)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        return ParameterSpace({name: simplify(self._parameters[name]) for name in names},
                              shape=(self.size,))

    def _set_parameters(self, parameter_space):
        self._assign_parameters(_evaluate(parameter_space, self.size), None)

    def _set_initial_value_array(self, variable, initial_values):
        self._assign_initial_values(variable, initial_values, None)

    # -- changes, applied here and sent to the engine -------------------------

    def _assign_parameters(self, values, idx):
        """Set parameters of the neurons at positions idx (None: all)."""
        state = self._simulator.state
        if "spike_times" in values:
            self.celltype.check_spike_times(values["spike_times"])
        for name, v in values.items():
            if name not in self._parameters:
                raise errors.NonExistentParameterError(name, self.celltype.__class__.__name__,
                                                       self.celltype.get_parameter_names())
            if idx is None:
                self._parameters[name] = v.copy()
            else:
                self._parameters[name][idx] = v
        state.population_parameters_changed(self, values, idx)

    def _assign_initial_values(self, variable, initial_values, idx):
        state = self._simulator.state
        n = self.size if idx is None else len(idx)
        if hasattr(initial_values, "evaluate"):
            initial_values.shape = (n,)
            v = initial_values.evaluate(simplify=False)
        else:
            v = initial_values
        v = np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
        current = self._initial.get(variable)
        if current is None:
            default = self.celltype.default_initial_values.get(variable, 0.0)
            current = np.full(self.size, float(default))
        if idx is None:
            current = v
        else:
            current = current.copy()
            current[idx] = v
        self._initial[variable] = current
        if idx is not None and hasattr(self, "initial_values"):
            self.initial_values[variable] = LazyArray(current.copy(), shape=(self.size,))
        state.population_initial_values_changed(self, variable, v, idx)

    def _encode(self, name, values):
        """The description value of a parameter's per-neuron values."""
        state = self._simulator.state
        off_grid = name == "spike_times" and state.spike_precision == "off_grid"
        return encode_parameter(values, state.dt if off_grid else None)

    def _describe(self, desc):
        """Add this population to a nmp.description.Description."""
        params = {name: self._encode(name, v) for name, v in self._parameters.items()}
        initial = {name: encode_parameter(v) for name, v in self._initial.items()}
        return desc.add_population(self.size, self.celltype.nmp_name, params, initial,
                                   label=self.label)
