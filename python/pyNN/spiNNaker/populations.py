"""Population, PopulationView and Assembly on the emulated SpiNNaker
machine: pyNN.nmp's, with sPyNNaker's partitioning controls
(set_max_atoms_per_core, add_constraint with a
PartitionerMaximumSizeConstraint) and its additional parameters
(spikes_per_second, ring_buffer_sigma)."""

import numpy as np
from pyNN import common

from pyNN.nmp import populations as _nmp

from . import simulator
from .external_devices import _Refused
from .recording import Recorder

#: sPyNNaker's limit of neurons per core (a synaptic row indexes 256).
MAX_ATOMS_PER_CORE = 256


class PartitionerMaximumSizeConstraint(object):
    """At most `size` neurons of the population on one core (the guidebook's
    partitioning constraint)."""

    def __init__(self, size):
        size = int(size)
        if size < 1 or size > MAX_ATOMS_PER_CORE:
            raise ValueError("PartitionerMaximumSizeConstraint(%d): a core holds 1 to %d neurons"
                             % (size, MAX_ATOMS_PER_CORE))
        self.size = size

    @property
    def max_size(self):
        return self.size


def _all(self, variables):
    # sPyNNaker's record("all"): every variable the cell type records.
    if isinstance(variables, str) and variables == "all":
        return list(self.celltype.recordable)
    return variables


class Assembly(_nmp.Assembly):
    _simulator = simulator


class PopulationView(_nmp.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def record(self, variables, to_file=None, sampling_interval=None):
        return _nmp.PopulationView.record(self, _all(self, variables), to_file, sampling_interval)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(_nmp.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def __init__(self, size, cellclass, cellparams=None, structure=None, initial_values={},
                 label=None, additional_parameters=None, **kwargs):
        self._max_atoms = None
        self._additional = {}
        # sPyNNaker takes its additional parameters as a dict or as keywords.
        extra = dict(additional_parameters or {})
        extra.update(kwargs)
        for key, value in extra.items():
            if key in ("max_atoms_per_core", "neurons_per_core"):
                self._max_atoms = self._checked_atoms(value)
            elif key in ("spikes_per_second", "ring_buffer_sigma"):
                self._additional[key] = float(value)
            elif key in ("seed", "incoming_spike_buffer_size", "drop_late_spikes", "splitter",
                         "n_colour_bits", "n_steps_per_timestep", "rb_left_shifts", "max_rate", "n_synapse_cores"):
                continue  # accepted; nmp's machine has no use for them (docs/spinnaker.md)
            else:
                raise TypeError("Population() got an unexpected argument %r" % (key,))
        if isinstance(cellclass, _Refused):
            cellclass()  # a device of external_devices: refused by its name
        if isinstance(size, (float, np.floating)):
            # sPyNNaker takes a whole number given as a float (N / 4), as
            # its round_n_atoms does; PyNN's base class would refuse it.
            if not float(size).is_integer():
                raise ValueError("Population %s: size %r is not a whole number of neurons" % (label or "", size))
            size = int(size)
        if isinstance(cellclass, type) and cellparams is None:
            cellparams = {}  # sPyNNaker takes a cell class without parameters: its defaults
        _nmp.Population.__init__(self, size, cellclass, cellparams, structure, initial_values, label)
        given = getattr(self.celltype, "_spinnaker_initial", None)
        if given:
            self.initialize(**given)

    @staticmethod
    def _checked_atoms(n):
        n = int(n)
        if n < 1 or n > MAX_ATOMS_PER_CORE:
            raise ValueError("max_atoms_per_core: %d is outside 1..%d" % (n, MAX_ATOMS_PER_CORE))
        return n

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def record(self, variables, to_file=None, sampling_interval=None):
        return _nmp.Population.record(self, _all(self, variables), to_file, sampling_interval)

    # -- sPyNNaker's partitioning -------------------------------------------------

    def spinnaker_get_data(self, variable, as_matrix=False, view_indexes=None):
        """sPyNNaker's data as a numpy array instead of neo: for "spikes"
        rows of (neuron id, time in ms) sorted by neuron, then time; for
        another variable rows of (neuron id, time, value), or with
        as_matrix a (times × neurons) matrix of the values."""
        if isinstance(variable, (list, tuple)):
            if len(variable) != 1:
                raise ValueError("spinnaker_get_data: one variable at a time (sPyNNaker's rule), got %s" % (variable,))
            variable = variable[0]
        seg = self.get_data(variable).segments[-1]
        ids = np.arange(self.size) if view_indexes is None else np.asarray(view_indexes, dtype=int)
        if variable == "spikes":
            rows = [(i, float(t)) for i in ids for t in np.asarray(seg.spiketrains[i].rescale("ms"))]
            return np.array(rows, dtype=float).reshape(-1, 2)
        sig = seg.filter(name=variable)
        if not sig:
            raise ValueError("spinnaker_get_data: %s was not recorded on %s" % (variable, self.label))
        sig = sig[0]
        values = np.asarray(sig)[:, ids]
        if as_matrix:
            return values
        times = np.asarray(sig.times.rescale("ms"))
        return np.array([(i, t, values[k, j]) for j, i in enumerate(ids) for k, t in enumerate(times)],
                        dtype=float).reshape(-1, 3)

    def set_max_atoms_per_core(self, max_atoms_per_core):
        """At most this many neurons of the population on one core."""
        self._max_atoms = self._checked_atoms(max_atoms_per_core)
        self._simulator.state.structure_changed()

    def get_max_atoms_per_core(self):
        if self._max_atoms is not None:
            return self._max_atoms
        return self._simulator.state.atoms_per_type.get(self.celltype.__class__.__name__, MAX_ATOMS_PER_CORE)

    def add_constraint(self, constraint):
        """The guidebook's way: add_constraint(PartitionerMaximumSizeConstraint(n))."""
        if not isinstance(constraint, PartitionerMaximumSizeConstraint):
            raise NotImplementedError("%s: nmp's SpiNNaker takes PartitionerMaximumSizeConstraint; "
                                      "placement constraints are not built" % type(constraint).__name__)
        self.set_max_atoms_per_core(constraint.size)

    def _spinnaker_options(self):
        out = dict(self._additional)
        if self._max_atoms is not None:
            out["max_atoms_per_core"] = self._max_atoms
        return out
