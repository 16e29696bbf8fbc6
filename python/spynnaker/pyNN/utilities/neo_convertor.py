"""sPyNNaker's helpers that turn the neo data get_data returns into plain
numpy arrays, as its example scripts use them: spikes as rows of
(neuron id, time in ms), analog signals as rows of (neuron id, time in ms,
value)."""

import numpy as np


def _segment(neo, run):
    if hasattr(neo, "segments"):
        return neo.segments[run]
    return neo


def convert_spiketrains(spiketrains):
    """Rows of (neuron id, time in ms) for a list of spike trains, by
    neuron (its source_id annotation, else its position), then time."""
    rows = []
    for k, st in enumerate(spiketrains):
        nid = st.annotations.get("source_index", st.annotations.get("source_id", k))
        for t in np.asarray(st.rescale("ms")):
            rows.append((float(nid), float(t)))
    return np.array(rows, dtype=float).reshape(-1, 2)


def convert_spikes(neo, run=0):
    """The spikes of one run (segment) of a neo Block as (id, time) rows."""
    return convert_spiketrains(_segment(neo, run).spiketrains)


def count_spikes(neo):
    """The number of spikes over all runs of a neo Block."""
    return sum(len(st) for seg in neo.segments for st in seg.spiketrains)


def convert_analog_signal(signal_array, time_unit="ms"):
    """Rows of (neuron id, time, value) for an analog signal."""
    values = np.asarray(signal_array)
    times = np.asarray(signal_array.times.rescale(time_unit))
    ids = signal_array.array_annotations.get("channel_index", np.arange(values.shape[1]))
    return np.array([(float(i), t, values[k, j]) for j, i in enumerate(ids) for k, t in enumerate(times)],
                    dtype=float).reshape(-1, 3)


def convert_data(data, name, run=0):
    """The recorded variable `name` of one run of a neo Block as rows of
    (id, time, value)."""
    sigs = _segment(data, run).filter(name=name)
    if not sigs:
        raise ValueError("neo_convertor: no variable %r was recorded" % name)
    return convert_analog_signal(sigs[0])


def convert_data_list(data, name, runs=None):
    """convert_data for several runs (all by default)."""
    runs = range(len(data.segments)) if runs is None else runs
    return [convert_data(data, name, run=r) for r in runs]


def convert_v_list(data, runs=None):
    return convert_data_list(data, "v", runs=runs)


def convert_gsyn_exc_list(data, runs=None):
    return convert_data_list(data, "gsyn_exc", runs=runs)


def convert_gsyn_inh_list(data, runs=None):
    return convert_data_list(data, "gsyn_inh", runs=runs)
